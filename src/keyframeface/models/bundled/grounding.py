"""Learned grounding: clauses the rule parser does not understand -> mentions it does.

For each clause of a description (:func:`keyframeface.models.bundled.clauses.split_clauses`) that the rule parser finds
nothing in, the clause's sentence embedding goes through the :class:`~keyframeface.models.bundled.head.GroundingHead`.
When the head names a label with enough probability, the clause is **rewritten** to that label's canonical
phrase plus the clause's own modifiers, and the rewrite is parsed by the rule parser, so intensity, side and
direction words keep their usual meaning:

* intensity words ("slight", "a little", "hard", "50 %") are kept as they are;
* a side ("left" / "right" anywhere in the clause, "the viewer's left" mirrored) becomes "on the left/right";
* direction words ("to the right", "upward") are kept;
* a clause with a negation or stop cue ("not", "without", "no longer", "stops") is not grounded: an unknown action that is
  negated asks nothing of the face we could safely write.

The emotion field gets the same treatment when it names no emotion the parser knows ("wistful", "sheepish"): its
embedding is classified among the emotion labels and replaced by that emotion's canonical word.

Every grounding is reported (:class:`Grounding`), so the backend's explanation says which clause was read as
what, with the head's probability.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...errors import FormatError
from ...semantics.languages import detect_language
from ...semantics.laterality import side_of_words
from ...semantics.mentions import Mention, Side
from ...semantics.parse import parse, tag_text
from .clauses import Clause, split_clauses
from .head import NONE_LABEL, GroundingHead

__all__ = ["Grounder", "Grounding"]

Encode = Callable[[Sequence[str]], np.ndarray]

#: Cached clause readings kept at most (the cache is emptied when full).
_CACHE_SIZE = 65536
#: Clauses longer than this are not grounded (a sentence encoder reads a clause, not a paragraph).
MAX_CLAUSE_CHARS = 300
_WORD = re.compile(r"[a-z']+")
_VIEWER = re.compile(r"\b(?:viewer'?s?|camera|screen|our|my)\s+(?:left|right)\b")
#: A side named as a side: "on her left", "to the viewer's right", "the left eye", "right-hand corner".
_SIDE = re.compile(
    r"\b(?:on|to|toward|towards|at|from|in)\s+(?:the|her|his|their|its|one|my|your|our)\s+"
    r"(?:(?:viewer'?s?|camera'?s?|screen)\s+)?(left|right)\b"
    r"|\b(left|right)(?:\s+|-)(?:hand\s+)?(?:side|eyes?|brows?|eyebrows?|cheeks?|corners?|half|nostrils?|"
    r"(?:eye)?lids?|ears?|lips?|mouth)\b")


@dataclass(frozen=True)
class Grounding:
    """One clause read by the head: ``clause`` and its ``start`` offset, the ``label`` chosen, its
    ``probability``, the ``rewrite`` that was parsed and the ``mentions`` it gave (positioned at the clause)."""

    clause: str
    start: int
    label: str
    probability: float
    rewrite: str
    mentions: tuple[Mention, ...]

    def record(self) -> dict[str, object]:
        """An explanation record (``phrase``, ``rule``, ``channels``: empty, the composer lists the values)."""
        return {"phrase": self.clause,
                "rule": f"learned grounding: read as {self.rewrite!r} ({self.label}, p={self.probability:.2f})",
                "channels": {}}


def _has_content(text: str) -> bool:
    return bool(re.search(r"[A-Za-z\u3400-\u9fff]", text))


def needs_grounding(clause: Clause) -> bool:
    """Whether the rule parser finds nothing in ``clause`` and the clause could name an action."""
    if len(clause.text) > MAX_CLAUSE_CHARS or not _has_content(clause.text):
        return False
    return not parse(clause.text)


def rewrite_clause(clause: str, canonical: str, *, bare: str | None = None, directional: bool = False) -> str | None:
    """``canonical`` plus the modifiers of ``clause`` (see the module docstring); ``None`` if the clause is negated.

    ``bare``: the same action's phrase without a direction, used instead of ``canonical`` when the clause names its
    own direction ("he swings his head round to the right" -> "the head turns" + "to the right"). Direction words
    are kept only for ``directional`` labels (gaze, head turns: actions with an axis). A side is added only when the
    clause names one as a side ("on her left", "the right eye", "the viewer's left"), not for a bare "right"
    ("right away") and not when a kept direction already says left or right.
    """
    _norm, _tokens, tags = tag_text(clause)
    if any(t.kind in ("neg", "stop") for t in tags):
        return None
    # "the viewer's left" is a direction tag that only mirrors the side: the side is added below instead
    dirs = [t.text for t in tags if t.kind == "dir" and t.value != "mirror"] if directional else []
    mods = [t.text for t in tags if t.kind == "int" or (t.kind == "dir" and t.text in dirs)]
    lowered = clause.lower()
    phrase = bare if (bare and dirs) else canonical
    parts = [phrase, *mods]
    if not any(w in ("left", "right") for d in dirs for w in _WORD.findall(d.lower())):
        named = [m.group(1) or m.group(2) for m in _SIDE.finditer(lowered)]
        side = side_of_words(named, mirror=bool(_VIEWER.search(lowered)))
        if side is Side.LEFT:
            parts.append("on the left")
        elif side is Side.RIGHT:
            parts.append("on the right")
    return " ".join(p for p in parts if p)


class Grounder:
    """Grounds clauses with ``head`` and ``encode`` (texts -> (N, D) unit-length embeddings).

    Thread-safe; results are cached per clause text. The encoder is called only for clauses that need it, so a
    description the rule parser fully understands costs no embedding at all.
    """

    def __init__(self, head: GroundingHead, encode: Encode) -> None:
        self.head = head
        self._encode = encode
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    def _classify(self, texts: Sequence[str], allowed: tuple[str, ...] | None) -> list[tuple[str, float]]:
        key = ",".join(allowed or ())
        with self._lock:
            found = {t: self._cache[(key, t)] for t in dict.fromkeys(texts) if (key, t) in self._cache}
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            emb = np.asarray(self._encode(todo), dtype=np.float32)
            if emb.ndim != 2 or emb.shape[1] != self.head.dim:
                raise FormatError(f"the grounding head reads {self.head.dim}-d embeddings but the encoder gives "
                                  f"shape {emb.shape}; use the encoder it was trained with or retrain it with "
                                  "`keyframeface train bundled`")
            preds = self.head.predict(emb, allowed=allowed)
            found.update(zip(todo, preds, strict=True))
            with self._lock:
                if len(self._cache) + len(todo) > _CACHE_SIZE:
                    self._cache.clear()
                self._cache.update({(key, t): p for t, p in zip(todo, preds, strict=True)})
        return [found[t] for t in texts]

    def ground_description(self, description: str) -> list[Grounding]:
        """Groundings for the clauses of ``description`` the rule parser does not understand (possibly none).
        None for a description in another language than English or Chinese: the encoder is English, and it
        read "Sie zieht die Augenbrauen hoch" as a beaming smile (p=0.42); :mod:`..semantics.languages` reads it."""
        if detect_language(description) not in ("en", "zh"):
            return []
        clauses = [c for c in split_clauses(description) if needs_grounding(c)]
        if not clauses:
            return []
        out: list[Grounding] = []
        for clause, (label, prob) in zip(clauses, self._classify([c.text for c in clauses], None), strict=True):
            if label == NONE_LABEL:
                continue
            rewrite = rewrite_clause(clause.text, self.head.phrase(label), bare=self._bare_phrase(label),
                                     directional=_directional(label))
            if rewrite is None:
                continue
            mentions = tuple(dataclasses.replace(m, position=clause.start, phrase=clause.text)
                             for m in _parse_rewrite(rewrite))
            if mentions:
                out.append(Grounding(clause.text, clause.start, label, prob, rewrite, mentions))
        return out

    def _bare_phrase(self, label: str) -> str | None:
        """The direction-free phrase of ``label``'s action (``action:NAME:`` in the head), if any."""
        kind, _, rest = label.partition(":")
        name, _, dirs = rest.partition(":")
        bare = f"{kind}:{name}:"
        if kind != "action" or not dirs or bare not in self.head.labels:
            return None
        return self.head.phrase(bare) or None

    def ground_emotion(self, emotion: str) -> Grounding | None:
        """The emotion field read as a known emotion, when the rule parser finds no emotion or action in it."""
        text = emotion.strip()
        if not text or len(text) > MAX_CLAUSE_CHARS or not _has_content(text) or parse(text):
            return None
        (label, prob), = self._classify([text], ("emotion:",))
        if label == NONE_LABEL:
            return None
        phrase = self.head.phrase(label)
        return Grounding(text, 0, label, prob, phrase, tuple(_parse_rewrite(phrase)))


@lru_cache(maxsize=4096)
def _parse_rewrite(text: str) -> tuple[Mention, ...]:
    return parse(text)


def _directional(label: str) -> bool:
    """Whether ``label`` is an action driven by a direction (gaze, head turns: the lexicon gives it an axis)."""
    from ...semantics.lexicon import ACTIONS

    kind, _, rest = label.partition(":")
    action = ACTIONS.get(rest.partition(":")[0]) if kind == "action" else None
    return action is not None and action.axis is not None
