"""Animator notes relative to the keyframe before: hold, same, again, bigger, smaller, the other side, back to
neutral, relax, undo.

:func:`find_relative` looks for clauses that are nothing but such a note ("Hold.", "Again, but bigger.", "Now the
other eye.", "Tone it down a bit", "Back to neutral", "Undo that") and returns the operations with the rest of the
text; :func:`apply_relative` turns the previous keyframe's values into the starting point of the new keyframe.
A note inside a clause with facial words ("even more shocked") is left to the parser, which reads it as intensity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import rig

__all__ = ["OPS", "RelativeOp", "apply_relative", "find_relative"]

#: Operation -> clause patterns (after fillers are dropped). "bigger" grows like "the smile widens" does in the
#: composer (x1.35 + 0.12); "smaller" keeps 60% of the offset from the baseline ("half" 50%, "a little less" 75%).
OPS: dict[str, tuple[str, ...]] = {
    "hold": (r"hold(?: it| that| on that| there| this| the pose| still)?", r"(?:stay|stays|freeze|keep it|keep that|"
             r"keep this|keeps? (?:that|it) going)(?: there| like that| that way)?", r"same(?: as before| again| face| "
             r"expression| thing)?", r"as before", r"no change", r"(?:and )?(?:beat|pause)", r"still"),
    "again": (r"again", r"once more", r"one more time", r"repeat(?: that| it)?", r"do (?:it|that) again",
              r"another one"),
    "bigger": (r"bigger", r"more", r"much more", r"stronger", r"push it(?: further| more)?", r"further",
               r"go(?: all)? (?:out|for it)", r"really sell it", r"sell it", r"exaggerate(?: it)?", r"crank it(?: up)?",
               r"louder", r"even bigger", r"more of that", r"amp it up", r"turn it up", r"full on", r"go big(?:ger)?",
               r"max it(?: out)?", r"harder", r"more intense"),
    "smaller": (r"smaller", r"less", r"(?:a )?(?:little|bit|touch|tad) less", r"tone it down(?: a (?:bit|little|notch))?",
                r"dial it (?:back|down)", r"softer", r"subtler", r"more subtle", r"pull it back", r"not so much",
                r"(?:about )?half(?: of that| as much| that)?", r"take it down(?: a notch)?", r"gentler",
                r"turn it down", r"scale it back"),
    "other": (r"(?:now )?(?:the )?other (?:eye|side|one|brow|eyebrow|corner|cheek|way)", r"switch(?: sides| to the "
              r"other side| eyes)?", r"swap(?: sides)?", r"mirror(?: it| that)?", r"opposite side", r"flip it"),
    "neutral": (r"(?:back to |return to |go to )?(?:neutral|rest|normal)(?: face| pose| expression)?", r"reset",
                r"blank(?: face)?", r"default(?: face| pose)?"),
    "relax": (r"relax(?:es|ed)?(?: everything| it| the face)?", r"let it go", r"ease off", r"settle(?: down)?",
              r"let go"),
    "undo": (r"undo(?: that| it)?", r"go back", r"back to before", r"revert(?: that| it)?", r"scratch that",
             r"take (?:that|it) back", r"like before that"),
}
_FILLER = re.compile(r"\b(?:now|ok|okay|then|just|please|and|but|so|a bit|for a (?:beat|moment|second)|"
                     r"for a few frames|yeah|alright|good|great|nice|right|again but|let's|lets|even)\b",
                     re.IGNORECASE)
_COMPILED = {op: re.compile(r"^(?:" + "|".join(pats) + r")$", re.IGNORECASE) for op, pats in OPS.items()}
_CLAUSES = re.compile(r"[.;!?,]+|\s+but\s+|\s+and\s+")
_FACTORS = {"half": 0.5, "little less": 0.75, "bit less": 0.75, "touch less": 0.75, "tad less": 0.75}
_GROW_FACTOR, _GROW_STEP, _SHRINK = 1.35, 0.12, 0.6
_IDX = rig.CHANNEL_INDEX
_TRANSIENT = ("EyeBlinkLeft", "EyeBlinkRight")


@dataclass(frozen=True)
class RelativeOp:
    """One relative note: ``op`` (a key of :data:`OPS`), the ``phrase`` and, for "smaller", the ``factor``."""

    op: str
    phrase: str
    factor: float = 1.0


def find_relative(text: str) -> tuple[list[RelativeOp], str]:
    """The relative notes of ``text`` (clauses that are only a note) and the text without them."""
    ops: list[RelativeOp] = []
    kept: list[str] = []
    pos = 0
    for sep in [*_CLAUSES.finditer(text), None]:
        end = sep.start() if sep is not None else len(text)
        clause = text[pos:end]
        joiner = sep.group(0) if sep is not None else ""
        pos = sep.end() if sep is not None else len(text)
        core = " ".join(_FILLER.sub(" ", clause.lower()).split())
        hit = next((op for op, rx in _COMPILED.items() if core and rx.match(core)), None)
        if hit is None:
            kept.append(clause + joiner)
            continue
        factor = next((f for k, f in _FACTORS.items() if k in core), _SHRINK) if hit == "smaller" else 1.0
        if ops and ops[-1].op == hit == "smaller":  # "smaller, about half of that": one note, the precise one
            ops.pop()
        ops.append(RelativeOp(hit, clause.strip(), factor))
        kept.append(" " + (joiner if joiner.strip() in (".", ";", "!", "?") else " "))
    return ops, "".join(kept)


def _mirror(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for name in rig.BLENDSHAPES:
        if name.endswith("Left"):
            other = name[:-4] + "Right"
            if other in _IDX:
                out[_IDX[name]], out[_IDX[other]] = values[_IDX[other]], values[_IDX[name]]
    for a, b in (("MouthLeft", "MouthRight"), ("JawLeft", "JawRight")):
        out[_IDX[a]], out[_IDX[b]] = values[_IDX[b]], values[_IDX[a]]
    for ch in ("HeadYaw", "HeadRoll"):
        out[_IDX[ch]] = -values[_IDX[ch]]
    # horizontal gaze: looking to the subject's left becomes looking to the right
    for s, o in (("Left", "Right"), ("Right", "Left")):
        out[_IDX[f"EyeLookIn{s}"]] = values[_IDX[f"EyeLookOut{o}"]]
        out[_IDX[f"EyeLookOut{s}"]] = values[_IDX[f"EyeLookIn{o}"]]
    return out


def apply_relative(ops: Sequence[RelativeOp], previous: np.ndarray, base: np.ndarray,
                   before_previous: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The starting values (61,) float32 of a keyframe whose notes are ``ops``, and a rule text for the
    explanation. ``previous``: the keyframe before's values; ``base``: the emotion baseline; ``before_previous``:
    the keyframe two back (for "undo"; the baseline when ``None``)."""
    cur = previous.astype(np.float32).copy()
    rules: list[str] = []
    for op in ops:
        dev = cur - base
        if op.op in ("hold", "again"):
            rules.append(f"{op.op}: the previous expression is kept whole")
        elif op.op == "bigger":
            grown = np.where(np.abs(dev) > 0.02, np.sign(dev) * (np.abs(dev) * _GROW_FACTOR + _GROW_STEP), dev)
            cur = base + grown
            rules.append(f"bigger: offsets from the baseline x{_GROW_FACTOR} + {_GROW_STEP}")
        elif op.op == "smaller":
            cur = base + dev * op.factor
            rules.append(f"smaller: offsets from the baseline x{op.factor:.2f}")
        elif op.op == "other":
            cur = base + _mirror(dev)
            rules.append("the other side: left and right swapped")
        elif op.op == "neutral":
            cur = base.copy()
            rules.append("back to neutral: the emotion baseline")
        elif op.op == "relax":
            cur = base + dev * 0.25
            rules.append("relax: 25% of the offsets from the baseline remain")
        elif op.op == "undo":
            cur = (before_previous if before_previous is not None else base).astype(np.float32).copy()
            rules.append("undo: the keyframe before the previous one")
    return cur.astype(np.float32), "; ".join(rules)
