"""Split a keyframe description into clauses: the units the learned grounding reads one at a time.

A clause ends at sentence punctuation (``. ! ? ; :`` and their CJK forms; a point inside a number such as ``0.7``
does not count), at a comma, or before a joining word that starts a new action (``and``, ``while``, ``as``,
``then``, ``but``, ``whereas``, ``before``, ``after``). Each clause keeps its
character offset in the description, so what is grounded from it is ordered with what the rule parser found.
Whitespace-only pieces are dropped. The split is deliberately simple and deterministic; it never loses text:
concatenating the clauses in order gives the description's words in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Clause", "split_clauses"]

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
