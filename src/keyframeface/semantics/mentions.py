"""What the description parsers find: the contract between the parsers and the composer.

A :class:`Mention` is one thing a description asks of the face ("a slight smile", "the left eye closes", "no longer
frowning", "she looks terrified"), with its modifiers already resolved: intensity level, side, directions, mode
(set, turn off, keep from the previous keyframe, reduce, increase) and the words that decided each of them, so the
composer can explain itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["Mention", "Mode", "Side"]


class Side(enum.Enum):
    """Which side of the face an action uses. Left/Right are always the subject's own side."""

    BOTH = "both"
    LEFT = "left"
    RIGHT = "right"
    ONE = "one"  # one side, not said which: the action's default side is used


class Mode(enum.Enum):
    """How a mention changes the channels it names."""

    SET = "set"  # this keyframe shows the action at the resolved level
    OFF = "off"  # negated or stopped: the action's channels go to 0 ("without smiling", "stops frowning")
    KEEP = "keep"  # carried from the previous keyframe ("still smiling", "the brows remain worried")
    REDUCE = "reduce"  # weakened relative to the previous keyframe ("the smile fades", "the brows relax")
    INCREASE = "increase"  # strengthened relative to the previous keyframe ("the smile widens")


@dataclass(frozen=True)
class Mention:
    """One request found in a description.

    ``kind``: ``"action"`` (``name`` is an action id of :mod:`keyframeface.semantics.lexicon`), ``"emotion"``
    (``name`` is an emotion id of :mod:`keyframeface.semantics.emotions`), ``"relax"`` (``regions`` relax toward
    rest) or ``"hold"`` (the whole previous expression is kept).
    ``level``: intensity in [0, 1] chosen by modifiers, or ``None`` for the action's default.
    ``factor``: for REDUCE, the share of the previous value that remains.
    ``regions``: rig group names an emotion or relax mention is limited to (``None`` = all it touches).
    ``quality``: factor on an action's secondary channels (a "forced" smile has no cheek raise).
    ``position``: character offset in the description, for ordering.
    """

    kind: str
    name: str
    phrase: str
    position: int = 0
    level: float | None = None
    level_words: tuple[str, ...] = ()
    side: Side | None = None
    side_words: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    mode: Mode = Mode.SET
    mode_words: tuple[str, ...] = ()
    factor: float = 1.0
    regions: tuple[str, ...] | None = None
    quality: float = 1.0
    notes: tuple[str, ...] = field(default=())
