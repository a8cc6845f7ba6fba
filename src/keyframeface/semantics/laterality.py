"""Sides and directions: "left eye", "one corner", "to her left", "camera left", "up and to the left".

Conventions (see :mod:`keyframeface.rig`):

* Left/Right in channel names are the **subject's own** side, and so are the words of a description: "the left
  eye", "to her left", "his own right", "stage left". Words that name the **viewer's** side are mirrored: "camera
  left", "screen left", "frame left", "the viewer's left", "our left", "left of frame" mean the subject's right.
* One side without saying which ("one-sided", "a crooked grin", "raises an eyebrow", "winks") uses the subject's
  **left** (:data:`DEFAULT_ONE_SIDE`), except where an action's source says otherwise (EMFACS writes contempt as
  R14, the right side).
* A one-sided action keeps a little of itself on the other side (``spill``, per action; 0 for a wink), because real
  faces are rarely perfectly unilateral.
* Directions: x > 0 toward the subject's right, y > 0 up. "away", "aside", "sideways" without a side go to the
  subject's left (and "away" slightly down); "at the camera", "straight ahead", "into the distance" are centre.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from .. import rig
from .mentions import Side
from .tagger import Entry

__all__ = [
    "DEFAULT_ONE_SIDE", "SIDED_PAIRS", "apply_side", "direction_entries", "direction_labels", "direction_vector",
    "resolve_apposition", "resolve_side", "side_entries", "side_of_words",
]

#: The side used when a description asks for one side without saying which.
DEFAULT_ONE_SIDE = Side.LEFT

#: Left/right blendshape pairs that are sides of one action. JawLeft/JawRight and MouthLeft/MouthRight are
#: directions of motion, not sides, and the eyeLook pairs move together (both eyes look the same way), so they
#: are not in this list.
SIDED_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (left, right)
    for left, right in rig.MIRROR_PAIRS
    if left in rig.BLENDSHAPES and left not in ("JawLeft", "MouthLeft") and not left.startswith("EyeLook")
)

_VIEWER = "(camera|screen|frame|image|picture|shot|the viewer's|viewer's|viewers|our|the audience's|audience's|the camera's)"
_OWN = "(his|her|their|its|the subject's|subject's|the character's|character's|the actor's|actor's)"
_DET = "[the|her|his|their|its|one's]"


def side_entries() -> list[Entry]:
    """Tagger entries (kind ``side``) for words that choose a side without naming a direction."""
    return [
        # "to/at the viewer's left" without "side" is left to the direction entries (a look goes there); a
        # direction tag on an action without a direction still chooses its side (binding._attach_modifiers)
        Entry("side", "mirror", f"on {_VIEWER} (left|right) [side]", {"mirror": True}),
        Entry("side", "mirror", f"(at|to) {_VIEWER} (left|right) side", {"mirror": True}),
        Entry("side", "mirror", "on the (left|right) (side of the frame|side of the screen|of the frame)", {"mirror": True}),
        Entry("side", "own", f"(on|at) [{_OWN[1:-1]}] [own] (left|right) [side|hand side]", {}),
        Entry("side", "own", "(on|at) the (left|right) [side|hand side]", {}),
        Entry("side", "own", f"{_DET} (left|right) side [of] {_DET} [face]", {}),
        Entry("side", "one", "(one sided|on one side|lopsided|crooked|asymmetric|asymmetrical|uneven|unevenly|unilateral|unilaterally|wry|wryly|off center|half cocked|sideways smile|to one side)", {"side": "one"}),
        Entry("side", "both", "(both sides|on both sides|symmetric|symmetrical|symmetrically|bilateral|bilaterally|evenly|each side|on each side)", {"side": "both"}),
    ]


def direction_entries() -> list[Entry]:
    """Tagger entries (kind ``dir``) for directions of gaze, head, jaw and mouth motion."""
    floor = "(floor|ground|feet|shoes|hands|lap|table|desk|knees|phone|plate|paper|papers|book|letter|carpet|dirt|grave|drink|glass|cup|coffee|keyboard|screen below)"
    sky = "(ceiling|sky|heavens|stars|clouds|roof|rafters|moon|sun|treetops|top shelf|balcony)"
    viewer = "(camera|lens|viewer|viewers|audience|us|the camera|the lens|the viewer|the audience)"
    return [
        Entry("dir", "up", "(up|upward|upwards|upwardly|skyward|skywards|heavenward|heavenwards|overhead|aloft)", {}),
        Entry("dir", "up", f"[up] (at|to|toward|towards|into) {_DET} {sky}", {}),
        Entry("dir", "down", "(down|downward|downwards|downwardly|groundward|earthward)", {}),
        Entry("dir", "down", f"[down] (at|to|toward|towards|on|onto|into) {_DET} {floor}", {}),
        Entry("dir", "side", "(left|right|leftward|leftwards|rightward|rightwards)", {}),
        Entry("dir", "side", f"(to|toward|towards|into|at|over) {_DET} [own|far] (left|right) [side|shoulder]", {}),
        Entry("dir", "side", f"(to|toward|towards|over) {_OWN} [own|far] (left|right) [side|shoulder]", {}),
        Entry("dir", "side", "[to|toward|towards|at] stage (left|right)", {}),
        Entry("dir", "mirror", f"[to|toward|towards|at|into] {_VIEWER} (left|right)", {"mirror": True}),
        Entry("dir", "mirror", "[to|toward|towards|at] [the] (left|right) of [the] (frame|screen|image|picture|shot)", {"mirror": True}),
        Entry("dir", "mirror", "(left|right) of (frame|screen|camera)", {"mirror": True}),
        Entry("dir", "away", "(away|aside|askance|sideways|sidelong|elsewhere)", {}),
        Entry("dir", "away", "(to the side|off to the side|to one side)", {}),
        Entry("dir", "away", f"(out of the corner of|from the corner of) {_DET} (eye|eyes)", {}),
        Entry("dir", "away", f"over {_DET} shoulder", {}),
        Entry("dir", "center", f"(at|into|toward|towards|to|on|through) {viewer}", {}),
        Entry("dir", "center", f"(to face|facing) {viewer}", {}),
        Entry("dir", "center", f"(straight|directly|right) (at|into|toward|towards|to) {viewer}", {}),
        Entry("dir", "center", "(straight ahead|ahead|straight|straight on|dead ahead|to the front|at the front)", {}),
        Entry("dir", "center", "(into the distance|into space|at nothing|into the middle distance|off into space|at the horizon|into the void|blankly|vacantly|into nowhere)", {"unfocused": True}),
        Entry("dir", "center", "(back to the center|back to center|back to neutral|center|centre|back to the camera|back at the camera)", {}),
        Entry("dir", "forward", "(forward|forwards|frontward|out front)", {}),
        Entry("dir", "back", "(back|backward|backwards|backwardly)", {}),
        Entry("dir", "out", "(out|outward|outwards)", {}),
        Entry("dir", "in", "(inward|inwards|inside)", {}),
    ]


def side_of_words(words: Iterable[str], *, mirror: bool = False) -> Side | None:
    """The side named by a phrase's words: "left" / "right" (mirrored for viewer's-side phrases), "one" or
    "both"; ``None`` if the words name no side."""
    found: Side | None = None
    for w in words:
        if w == "left":
            found = Side.RIGHT if mirror else Side.LEFT
        elif w == "right":
            found = Side.LEFT if mirror else Side.RIGHT
        elif w in ("both", "each", "either", "bilateral", "symmetric", "symmetrical", "evenly") and found is None:
            found = Side.BOTH
    return found


def direction_labels(tag_value: str, words: Sequence[str], *, mirror: bool = False) -> tuple[str, ...]:
    """Direction labels of one direction tag: ``left``/``right`` (subject's side), ``up``, ``down``, ``away``,
    ``center``, ``forward``, ``back``, ``out``, ``in``."""
    if tag_value in ("side", "mirror"):
        side = side_of_words(words, mirror=mirror or tag_value == "mirror")
        if side is Side.LEFT:
            return ("left",)
        if side is Side.RIGHT:
            return ("right",)
        return ("away",)
    if tag_value == "away":
        side = side_of_words(words)
        if side is Side.LEFT:
            return ("left",)
        if side is Side.RIGHT:
            return ("right",)
    return (tag_value,)


def direction_vector(labels: Iterable[str]) -> tuple[float, float] | None:
    """(x, y) for direction labels: x > 0 toward the subject's right, y > 0 up; ``None`` when no label moves
    the eyes/head (for example only ``out``). Centre is ``(0, 0)``. Diagonals are scaled so neither component
    exceeds 0.8 of a straight look."""
    x = y = 0.0
    seen = False
    away = False
    for label in labels:
        if label == "left":
            x, seen = -1.0, True
        elif label == "right":
            x, seen = 1.0, True
        elif label == "up":
            y, seen = 1.0, True
        elif label == "down":
            y, seen = -1.0, True
        elif label == "away":
            away, seen = True, True
        elif label in ("center", "forward", "back"):
            seen = True
    if not seen:
        return None
    if away and x == 0.0:
        # "looks away" without a side: to the subject's left and a little down (an averted look).
        x = -1.0
        y = y if y != 0.0 else -0.3
    if x != 0.0 and abs(y) >= 0.99:
        x, y = 0.8 * x, 0.8 * y
    return x, y


def resolve_side(side: Side | None, default: Side) -> Side:
    """``None`` -> the action's default; ``ONE`` -> :data:`DEFAULT_ONE_SIDE`."""
    chosen = default if side is None else side
    return DEFAULT_ONE_SIDE if chosen is Side.ONE else chosen


def apply_side(values: Mapping[str, float], side: Side, *, spill: float) -> dict[str, float]:
    """Keep ``values`` on one ``side`` (LEFT/RIGHT); the other side of each sided pair keeps ``spill`` of it.

    Channels without a side (JawOpen, BrowInnerUp ...) are unchanged. BOTH returns the values unchanged.
    """
    out = dict(values)
    if side not in (Side.LEFT, Side.RIGHT):
        return out
    for left, right in SIDED_PAIRS:
        if left not in out and right not in out:
            continue
        value = max(out.get(left, 0.0), out.get(right, 0.0))
        keep, other = (left, right) if side is Side.LEFT else (right, left)
        out[keep] = value
        out[other] = value * spill
    return out


# "one eyebrow raised, the right one" / "raises one brow - the left": the side named in apposition at the end of
# the clause is the side of the "one" part before it (the appositive renames that noun phrase)
_APPOSITION = re.compile(
    r"\b(?:one|an?)\s+(?P<part>(?:eye|eyebrow|brow|cheek|nostril|corner|eyelid|lid)\b"
    r"(?:\s+of\s+(?:his|her|their|the|my|your)\s+mouth)?)(?P<mid>[^.;!?,\u2014\u2013]*?)"
    r"\s*(?:,|\u2014|\u2013|\s-+)\s*the\s+(?P<side>left|right)(?:\s+one)?\s*(?=[.;!?,]|\s+(?:and|while|as|but)\b|$)",
    re.IGNORECASE)


def resolve_apposition(text: str) -> str:
    """``text`` with a side given in apposition moved onto its part ("one eyebrow raised, the right one" ->
    "the right eyebrow raised"); other text is returned unchanged."""
    return _APPOSITION.sub(lambda m: f"the {m.group('side')} {m.group('part')}{m.group('mid')}", text)
