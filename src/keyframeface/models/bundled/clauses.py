"""Split a keyframe description into clauses: the units the learned grounding reads one at a time.

A clause ends at sentence punctuation (``. ! ? ; :`` and their CJK forms; a point inside a number such as ``0.7``
does not count), at a comma, or before a joining word that starts a new action (``and``, ``while``, ``as``,
``then``, ``but``, ``whereas``, ``before``, ``after``). Each clause keeps its
character offset in the description, so what is grounded from it is ordered with what the rule parser found.
Whitespace-only pieces are dropped. The split is deliberately simple and deterministic; it never loses text:
concatenating the clauses in order gives the description's words in order.

:func:`inherit_subject` gives a clause that begins with its verb ("The inner brows rise **and pull together**") the
subject of the clause before it, as English coordination does (the second verb shares the first one's subject), so
the rule parser can read it without the learned grounding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Clause", "inherit_subject", "split_clauses"]

_BREAK = re.compile(
    r"(?:[!?;:,\u3002\uff01\uff1f\uff1b\uff1a\uff0c\u3001]|(?<!\d)\.|\.(?!\d))+"
    r"|\s+(?=(?:and|while|as|then|but|whereas|before|after)\b)",
    re.IGNORECASE,
)
_JOINER = re.compile(r"^(?:(?:and|while|as|then|but|whereas|before|after)\b\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """One clause: ``text`` without the joining word, and ``start`` (character offset in the description)."""

    text: str
    start: int


def split_clauses(description: str) -> list[Clause]:
    """The clauses of ``description`` in reading order (an empty list for empty or whitespace-only text)."""
    out: list[Clause] = []
    pos = 0
    for m in [*_BREAK.finditer(description), None]:
        end = m.start() if m is not None else len(description)
        piece = description[pos:end]
        stripped = piece.lstrip()
        offset = pos + (len(piece) - len(stripped))
        j = _JOINER.match(stripped)
        if j:
            offset += j.end()
            stripped = stripped[j.end():]
        stripped = stripped.rstrip()
        if stripped:
            out.append(Clause(stripped, offset))
        if m is not None:
            pos = m.end()
    return out


def inherit_subject(clause: Clause, before: Clause | None) -> str | None:
    """``clause``'s text with the subject of ``before`` in front, when ``clause`` has no subject of its own; else
    ``None``.

    A clause has no subject when its first tag is a facial verb (a ``pred``, "pull together", "turn down") at its
    very start and it names no face part anywhere. The subject of ``before`` is its first face part, when that part
    comes before its first verb ("the inner brows" in "the inner brows rise"; not "her eyes" in "she closes her
    eyes", which is an object). English text only (the tags are the English parser's).
    """
    if before is None or not clause.text.isascii():
        return None
    from ...semantics.parse import tag_text

    _n, _t, tags = tag_text(clause.text)
    if not tags or tags[0].kind != "pred" or tags[0].start != 0 or any(t.kind == "part" for t in tags):
        return None
    _n, _t, prev = tag_text(before.text)
    first_pred = next((t.start for t in prev if t.kind == "pred"), None)
    subject = next((t for t in prev if t.kind == "part"), None)
    if subject is None or first_pred is None or subject.start > first_pred:
        return None
    return f"{subject.text} {clause.text}"
