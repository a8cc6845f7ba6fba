"""Values -> words: how a left/right pair reads, and the short region-by-region description of a face.

One implementation for both places that turn coefficients into words, each passing its own thresholds:

* the ``semantic`` prompt representation (:mod:`keyframeface.prompt.representations.semantic`) writes
  :func:`describe_regions` lines before its values (``- mouth: smile moderate, left stronger``);
* the annotator (:mod:`keyframeface.semantics.annotate`) reads each pair with :func:`read_pair` to decide whether a
  movement is one-sided.

Pure numpy; no lexicon is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from .. import rig

__all__ = ["PairReading", "action_words", "describe_regions", "intensity_word", "read_pair"]

_CAMEL = re.compile(r"[A-Z][a-z]*")
_REGION_WORDS: Final[frozenset[str]] = frozenset({"brow", "eye", "jaw", "mouth", "cheek", "nose", "tongue", "head"})


@dataclass(frozen=True)
class PairReading:
    """A left/right pair (the subject's sides) read as one movement.

    ``peak``: the larger magnitude; ``mean``: ``(left + right) / 2``; ``stronger``: ``"left"`` or ``"right"``
    (the larger magnitude; ``"right"`` on a tie); ``balance``: ``"symmetric"`` (the sides differ by less than
    ``symmetric_within``), ``"one_sided"`` (the weaker side is below the one-sided threshold) or ``"uneven"``.
    """

    peak: float
    mean: float
    stronger: str
    balance: str


def read_pair(
    left: float,
    right: float,
    *,
    floor: float,
    symmetric_within: float,
    one_sided_below: float = 0.0,
    one_sided_share: float = 0.0,
) -> PairReading | None:
    """How ``left`` and ``right`` read together, or ``None`` when the larger magnitude is below ``floor``.

    Symmetric when ``|left - right| < symmetric_within``; otherwise one-sided when the weaker magnitude is below
    ``one_sided_below`` or below ``one_sided_share`` times the larger one; otherwise uneven. Callers pass their own
    thresholds (the prompt's description and the annotator use different ones, see their modules).
    """
    a, b = abs(left), abs(right)
    peak, weak = max(a, b), min(a, b)
    if peak < floor:
        return None
    stronger = "left" if a > b else "right"
    if abs(left - right) < symmetric_within:
        balance = "symmetric"
    elif weak < one_sided_below or weak < one_sided_share * peak:
        balance = "one_sided"
    else:
        balance = "uneven"
    return PairReading(peak, (left + right) / 2.0, stronger, balance)


def intensity_word(magnitude: float, words: Sequence[tuple[float, str]]) -> str:
    """The word of the first ``(upper bound, word)`` in ``words`` whose bound is above ``magnitude`` (the last
    bound should be infinity)."""
    return next(word for bound, word in words if magnitude < bound)


def action_words(name: str) -> str:
    """``MouthSmileLeft`` -> ``smile``, ``BrowInnerUp`` -> ``inner up``, ``HeadYaw`` -> ``yaw``: the channel
    name without its side and its region word, in lowercase words."""
    words = [w.lower() for w in _CAMEL.findall(name) if w not in ("Left", "Right")]
    kept = [w for i, w in enumerate(words) if not (i == 0 and w in _REGION_WORDS)]
    return " ".join(kept) or " ".join(words)


_SIDE_WORDS: Final[dict[tuple[str, str], str]] = {
    ("one_sided", "left"): "left only", ("one_sided", "right"): "right only",
    ("uneven", "left"): "left stronger", ("uneven", "right"): "right stronger",
}  # fmt: skip


def describe_regions(
    values: np.ndarray,
    *,
    min_magnitude: float,
    symmetry_tolerance: float,
    intensity_words: Sequence[tuple[float, str]],
) -> list[str]:
    """One line per active region of ``values`` ((61,) in CHANNELS order), in ``rig.GROUPS`` order:
    ``"- mouth: smile moderate, left stronger; jaw open slight"``. Empty for a neutral face.

    A channel (or a left/right pair, by its larger magnitude) below ``min_magnitude`` is left out; a pair whose
    sides differ by less than ``symmetry_tolerance`` is ``symmetric``, one whose weaker side is below
    ``min_magnitude`` is ``left only`` / ``right only``, any other ``left stronger`` / ``right stronger``. Head
    rotations get a sign word (``positive``: toward the subject's right for yaw, see rig.py). Magnitudes are
    worded with :func:`intensity_word` over ``intensity_words``. The eye-rotation channels are not described
    (they follow the gaze channels, rig.sync_eye_rotations).
    """
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    partner = {**{a: b for a, b in rig.MIRROR_PAIRS}, **{b: a for a, b in rig.MIRROR_PAIRS}}
    lines: list[str] = []
    for region, names in rig.GROUPS.items():
        if region == "eye_rotation":  # follows the gaze channels (rig.sync_eye_rotations); not described twice
            continue
        actions: list[str] = []
        done: set[str] = set()
        for name in names:
            if name in done:
                continue
            v = float(arr[rig.CHANNEL_INDEX[name]])
            other = partner.get(name)
            if other is not None and other in names:
                done.update((name, other))
                w = float(arr[rig.CHANNEL_INDEX[other]])
                left, right = (v, w) if "Left" in name else (w, v)
                reading = read_pair(left, right, floor=min_magnitude, symmetric_within=symmetry_tolerance,
                                    one_sided_below=min_magnitude)
                if reading is None:
                    continue
                side = _SIDE_WORDS.get((reading.balance, reading.stronger), "symmetric")
                actions.append(f"{action_words(name)} {intensity_word(reading.peak, intensity_words)}, {side}")
            else:
                done.add(name)
                if abs(v) < min_magnitude:
                    continue
                direction = ""
                if name in rig.POSE:  # sign words for head rotation (yaw + = toward the subject's right; rig.py)
                    direction = " positive" if v > 0 else " negative"
                actions.append(f"{action_words(name)}{direction} {intensity_word(abs(v), intensity_words)}")
        if actions:
            lines.append(f"- {region}: " + "; ".join(actions))
    return lines
