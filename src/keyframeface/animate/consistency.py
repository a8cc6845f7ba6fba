"""Consistency rules between channels, applied to dense curves without moving the keyframes.

Each channel is interpolated on its own, so between two keyframes that each obey a rule the curves can briefly
break it (pchip shapes differ per channel). The rules below repair that. A rule is applied only when *every*
keyframe already obeys it (within :data:`TOLERANCE`), so keyframe values are never changed by more than that
tolerance and keyframes that deliberately break a rule (e.g. files from another convention) pass through
untouched.

Rules (all hold on real Live Link Face captures: 27,256 frames of ``shared/realdata``, read by ``rig`` name):

* ``eye_rotation``: eye yaw / pitch follow the eyeLook channels (``rig.sync_eye_rotations``; the capture
  convention, r > 0.96, see ``rig``).
* ``opposing``: opposite channels are not active together (eyeLookIn/Out and Up/Down of one eye,
  JawLeft/Right, MouthLeft/Right): never both above 0.1 in the captures. Repaired by netting: the larger keeps
  the difference.
* ``mouth_close``: MouthClose <= JawOpen (ARKit's mouthClose closes the lips against an open jaw; 98% of
  captured frames obey it within 0.02, the largest excess is 0.07).
* ``wide_blink``: EyeWide <= 1 - EyeBlink per eye (a closing lid cannot be wide; no captured frame has blink >
  0.7 with wide > 0.2).
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np

from .. import rig

__all__ = ["OPPOSING_PAIRS", "RULES", "TOLERANCE", "enforce_consistency", "rules_obeyed"]

logger = logging.getLogger(__name__)

#: Keyframes count as obeying a rule when they break it by at most this much.
TOLERANCE: Final[float] = 0.01
RULES: Final[tuple[str, ...]] = ("eye_rotation", "opposing", "mouth_close", "wide_blink")

OPPOSING_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("EyeLookInLeft", "EyeLookOutLeft"),
    ("EyeLookUpLeft", "EyeLookDownLeft"),
    ("EyeLookInRight", "EyeLookOutRight"),
    ("EyeLookUpRight", "EyeLookDownRight"),
    ("JawLeft", "JawRight"),
    ("MouthLeft", "MouthRight"),
)
_I = rig.CHANNEL_INDEX
_OPP_A = np.array([_I[a] for a, _ in OPPOSING_PAIRS])
_OPP_B = np.array([_I[b] for _, b in OPPOSING_PAIRS])
_EYE_ROT = np.array([_I[n] for n in ("LeftEyeYaw", "LeftEyePitch", "RightEyeYaw", "RightEyePitch")])
_WIDE = np.array([_I["EyeWideLeft"], _I["EyeWideRight"]])
_BLINK = np.array([_I["EyeBlinkLeft"], _I["EyeBlinkRight"]])


def _violation(rule: str, v: np.ndarray) -> np.ndarray:
    """How much each row of (N, 61) values breaks ``rule``: (N,) >= 0."""
    if rule == "eye_rotation":
        implied = rig.eye_rotations_from_look(v)[:, [0, 1, 3, 4]]
        return np.asarray(np.abs(v[:, _EYE_ROT] - implied).max(axis=1))
    if rule == "opposing":
        return np.asarray(np.minimum(v[:, _OPP_A], v[:, _OPP_B]).max(axis=1))
    if rule == "mouth_close":
        return np.asarray(np.maximum(v[:, _I["MouthClose"]] - v[:, _I["JawOpen"]], 0.0))
    if rule == "wide_blink":
        return np.asarray(np.maximum(v[:, _WIDE] + v[:, _BLINK] - 1.0, 0.0).max(axis=1))
    raise KeyError(rule)


def rules_obeyed(keyframe_values: np.ndarray, *, tolerance: float = TOLERANCE) -> tuple[str, ...]:
    """The rules that every keyframe obeys. ``keyframe_values``: (K, 61)."""
    v = np.asarray(keyframe_values, dtype=np.float32).reshape(-1, rig.NUM_CHANNELS)
    return tuple(r for r in RULES if v.shape[0] == 0 or float(_violation(r, v).max()) <= tolerance)


def enforce_consistency(
    frames: np.ndarray, keyframe_values: np.ndarray, *, rules: tuple[str, ...] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Repair interpolated ``frames`` (T, 61) so they obey the rules the keyframes (K, 61) obey.

    ``rules``: restrict to these names (default: all of :data:`RULES`). Returns (frames (T, 61) float32 copy,
    the rules applied).
    """
    out = np.array(frames, dtype=np.float32, copy=True)
    applied = tuple(r for r in rules_obeyed(keyframe_values) if rules is None or r in rules)
    skipped = [r for r in (rules or RULES) if r not in applied]
    if skipped:
        logger.debug("keyframes break consistency rule(s) %s; left as keyed", ", ".join(skipped))
    for rule in applied:
        if rule == "opposing":
            a, b = out[:, _OPP_A], out[:, _OPP_B]
            both = np.minimum(a, b)
            out[:, _OPP_A] = a - both
            out[:, _OPP_B] = b - both
        elif rule == "mouth_close":
            np.minimum(out[:, _I["MouthClose"]], out[:, _I["JawOpen"]], out=out[:, _I["MouthClose"]])
        elif rule == "wide_blink":
            out[:, _WIDE] = np.minimum(out[:, _WIDE], 1.0 - out[:, _BLINK])
        # eye_rotation last: it reads the (netted) eyeLook channels.
    if "eye_rotation" in applied:
        out = rig.sync_eye_rotations(out)
    return out, applied
