"""Couplings of real faces that the composer applies as its last step (after parsing, per keyframe, not per phrase).

Two couplings measured on real iPhone captures that a description rarely states but a face always shows:

* **The lids follow vertical gaze.** Looking down lowers the upper lids (``EyeBlink`` rises); looking up raises
  them (``EyeWide`` rises) and lifts the lower lids (``EyeSquint`` rises, as ARKit's tracker reports it).
  :func:`couple_lids` adds, per eye, ``LID_GAZE[channel] = (per unit of downward pitch, per unit of upward pitch)``
  to the lid channels of the sides whose lids the description did not set (closed, wide, narrowed, winking,
  drooping: those win). :func:`uncouple_lids` removes the same offsets, so the composer carries a previous
  keyframe's lids over without counting the coupling twice.
* **MouthClose is the lips closing against an open jaw.** ARKit's ``mouthClose`` has no meaning with the jaw shut,
  and real captures keep it at or below ``JawOpen`` (:data:`CLOSE_ABOVE_JAW_SHARE`); as the jaw opens the lips
  first stay together, then part (:data:`MOUTH_CLOSE_GIVEN_JAW`, the median MouthClose at each JawOpen).
  :func:`couple_mouth_close` raises ``MouthClose`` to that median when the description did not set it (``"the lips
  part"`` sets it to 0) and always limits it to ``JawOpen``; a pressed-lips description keeps its ``MouthPress`` /
  ``MouthRollLower``.

Measured with ``.venv/bin/python benchmarks/fit_couplings.py`` on the 13 takes of ``../shared/realdata`` (618 s;
``tests/test_couplings.py`` re-runs it and checks these constants):

* lids: within-take least squares of each lid channel on ``max(pitch, 0)`` and ``max(-pitch, 0)`` (eye pitch,
  + = down, rig units), outside blinks, 13 takes, 31,627 frames per side. Slopes (down / up): EyeBlink +0.885 /
  +0.011, EyeWide +0.029 / +1.257, EyeSquint -0.142 / +0.946 (per-take medians: EyeBlink +0.58 / +0.01, EyeWide
  -0.04 / +0.94, EyeSquint -0.01 / +1.54). Slopes under 0.15 in magnitude are kept at 0: they are within the
  spread between takes, and a negative offset would be clipped at 0 on a lid at rest.
* MouthClose: of 36,998 valid frames, 7.7 % exceed JawOpen by more than 0.01, 1.7 % by more than 0.02, the largest
  excess is 0.073 (tracking jitter around a shut jaw). Median MouthClose in JawOpen bins (median JawOpen ->
  median MouthClose; frames): 0.029 -> 0.030 (6,281), 0.074 -> 0.057 (5,349), 0.140 -> 0.068 (3,949), 0.242 ->
  0.118 (1,886), 0.341 -> 0.153 (1,087), 0.517 -> 0.153 (1,120), 0.679 -> 0.112 (1,121), 0.920 -> 0.087 (1,055).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np

from .. import rig

__all__ = [
    "CLOSE_ABOVE_JAW_SHARE",
    "LID_CHANNELS",
    "LID_GAZE",
    "MOUTH_CLOSE_GIVEN_JAW",
    "couple_lids",
    "couple_mouth_close",
    "lid_offsets",
    "typical_mouth_close",
    "uncouple_lids",
]

#: Lid offset per unit of eye pitch, ``(looking down, looking up)``, per lid channel (suffix Left/Right); see the
#: module docstring for how they were measured.
LID_GAZE: Final[Mapping[str, tuple[float, float]]] = {
    "EyeBlink": (0.89, 0.0),
    "EyeWide": (0.0, 1.26),
    "EyeSquint": (0.0, 0.95),
}
#: Share of real frames whose MouthClose exceeds JawOpen by more than 0.02 (module docstring).
CLOSE_ABOVE_JAW_SHARE: Final[float] = 0.017
#: ``(JawOpen, median MouthClose)`` knots of real captures (module docstring), linear between them, flat after
#: the last; the first knot is the shut jaw (the bin 0.02-0.05 has MouthClose = JawOpen, the cap).
MOUTH_CLOSE_GIVEN_JAW: Final[tuple[tuple[float, float], ...]] = (
    (0.0, 0.0), (0.029, 0.029), (0.074, 0.057), (0.14, 0.068), (0.242, 0.118), (0.341, 0.153), (0.517, 0.153),
    (0.679, 0.112), (0.92, 0.087),
)
#: The lid channels of each side: the description "set the lids" when it set one of them.
LID_CHANNELS: Final[Mapping[str, tuple[str, ...]]] = {
    side: tuple(f"{name}{side}" for name in LID_GAZE) for side in ("Left", "Right")
}

_I = rig.CHANNEL_INDEX
_PITCH = {"Left": 1, "Right": 4}  # columns of rig.eye_rotations_from_look
_SIDES = ("Left", "Right")


def lid_offsets(values: np.ndarray) -> dict[str, float]:
    """The lid offsets the gaze of ``values`` (61,) implies: ``{channel: offset >= 0}`` for the six lid channels.
    The eye pitch is the one the eyeLook channels give (:func:`keyframeface.rig.eye_rotations_from_look`)."""
    v = np.asarray(values, dtype=np.float32).reshape(1, rig.NUM_CHANNELS)
    rot = rig.eye_rotations_from_look(v)[0]
    out: dict[str, float] = {}
    for side in _SIDES:
        pitch = float(rot[_PITCH[side]])
        for name, (down, up) in LID_GAZE.items():
            out[f"{name}{side}"] = down * max(pitch, 0.0) + up * max(-pitch, 0.0)
    return out


def couple_lids(values: np.ndarray, *, sides: Iterable[str] = _SIDES) -> tuple[np.ndarray, dict[str, float]]:
    """``values`` (61,) with the lids of ``sides`` following the gaze: each lid channel plus its
    :func:`lid_offsets`, clipped to [0, 1], and ``EyeWide`` kept at or below ``1 - EyeBlink`` (a closing lid is
    not wide). Returns (a float32 copy, ``{channel: new value}`` of the channels that changed by more than 1e-4)."""
    out = np.array(values, dtype=np.float32, copy=True).reshape(rig.NUM_CHANNELS)
    offsets = lid_offsets(out)
    changed: dict[str, float] = {}
    for side in sides:
        before = {ch: float(out[_I[ch]]) for ch in LID_CHANNELS[side]}
        for ch in LID_CHANNELS[side]:
            out[_I[ch]] = min(1.0, max(0.0, before[ch] + offsets[ch]))
        wide, blink = _I[f"EyeWide{side}"], _I[f"EyeBlink{side}"]
        out[wide] = min(float(out[wide]), max(before[f"EyeWide{side}"], 1.0 - float(out[blink])))
        changed.update({ch: float(out[_I[ch]]) for ch in LID_CHANNELS[side] if abs(out[_I[ch]] - before[ch]) > 1e-4})
    return out, changed


def uncouple_lids(values: np.ndarray) -> np.ndarray:
    """``values`` (61,) without the lid offsets its gaze implies (clipped at 0): the lids as the description set
    them, before :func:`couple_lids`. Returns a float32 copy."""
    out = np.array(values, dtype=np.float32, copy=True).reshape(rig.NUM_CHANNELS)
    for ch, offset in lid_offsets(out).items():
        out[_I[ch]] = max(0.0, float(out[_I[ch]]) - offset)
    return out


def typical_mouth_close(jaw_open: float) -> float:
    """The median MouthClose of real captures at this JawOpen (:data:`MOUTH_CLOSE_GIVEN_JAW`), at most JawOpen."""
    jaw = max(0.0, float(jaw_open))
    xs, ys = zip(*MOUTH_CLOSE_GIVEN_JAW, strict=True)
    return min(jaw, float(np.interp(jaw, xs, ys)))


def couple_mouth_close(values: np.ndarray, *, fill: bool = True) -> tuple[np.ndarray, float | None]:
    """``values`` (61,) with ``MouthClose`` at least :func:`typical_mouth_close` of its ``JawOpen`` (only when
    ``fill``: the description did not set MouthClose) and at most ``JawOpen``. Returns (a float32 copy, the new
    MouthClose, or ``None`` when it did not change by more than 1e-4)."""
    out = np.array(values, dtype=np.float32, copy=True).reshape(rig.NUM_CHANNELS)
    close, jaw = _I["MouthClose"], _I["JawOpen"]
    before = float(out[close])
    value = max(before, typical_mouth_close(float(out[jaw]))) if fill else before
    value = min(value, max(float(out[jaw]), 0.0))
    if abs(value - before) <= 1e-4:
        return out, None
    out[close] = value
    return out, value
