"""Life layer: saccades and micro-gaze around the keyframed gaze.

Eyes do not glide: they hold a fixation, then jump. This layer draws fixations (log-normal durations, median
0.8 s, clipped to [0.25, 3] s) and, for each, a small gaze offset around the keyframed gaze (about 40% of the
time back on the keyed target, otherwise normal with sigma 0.05 horizontally and 0.035 vertically in eyeLook
units, clipped to +/- 0.12). Each jump takes ``0.025 s + 0.25 s x amplitude`` (a few frames; short,
amplitude-dependent saccades as in the "main sequence", Bahill, Clark & Stark 1975, Math. Biosci. 24:191-204),
shaped by smoothstep. Both eyes move together (conjugate gaze).

The offset is applied to the eyeLook channels of each eye as a change of *net* gaze: a move toward the
subject's right first reduces the opposing channel (EyeLookOutLeft for the left eye) and then raises the other
one, so a keyframe's channels are changed as little as possible. The eye rotations are then recomputed from
the eyeLook channels (``rig.sync_eye_rotations``), or, when the keyframes follow another convention, shifted
by the same change so they stay as consistent as the keyframes were.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from .. import rig

__all__ = ["add_saccades", "fixations", "gaze_offsets"]

_FIX_MEDIAN_S: Final[float] = 0.8
_FIX_SIGMA: Final[float] = 0.5
_FIX_RANGE: Final[tuple[float, float]] = (0.25, 3.0)
_CENTER_P: Final[float] = 0.4
_SIGMA: Final[tuple[float, float]] = (0.05, 0.035)  # (toward subject's right, down), eyeLook units
_MAX_OFFSET: Final[float] = 0.12
_JUMP_BASE_S: Final[float] = 0.025
_JUMP_PER_UNIT_S: Final[float] = 0.25

_I = rig.CHANNEL_INDEX
# (positive channel, negative channel) for each eye and axis: + = toward the subject's right / down.
_RIGHTWARD = (("EyeLookInLeft", "EyeLookOutLeft"), ("EyeLookOutRight", "EyeLookInRight"))
_DOWNWARD = (("EyeLookDownLeft", "EyeLookUpLeft"), ("EyeLookDownRight", "EyeLookUpRight"))
_EYE_ROT = np.array(
    [
        _I[n]
        for n in ("LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
    ]
)


def fixations(start_s: float, end_s: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fixation onsets (N,) float64 in [start_s, end_s) and their gaze offsets (N, 2) (rightward, down)."""
    span = max(end_s - start_s, 0.0)
    n = int(span / _FIX_RANGE[0]) + 2
    gaps = np.clip(_FIX_MEDIAN_S * np.exp(rng.normal(0.0, _FIX_SIGMA, n)), *_FIX_RANGE)
    onsets = start_s + np.cumsum(gaps)  # the keyed gaze holds for the first fixation
    offsets = np.clip(rng.normal(0.0, 1.0, (n, 2)) * np.array(_SIGMA), -_MAX_OFFSET, _MAX_OFFSET)
    offsets[rng.uniform(size=n) < _CENTER_P] = 0.0
    keep = onsets < end_s
    return np.asarray(onsets[keep]), np.asarray(offsets[keep])


def gaze_offsets(times_s: np.ndarray, onsets: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Gaze offset (T, 2) at ``times_s`` (T,): each fixation's offset, reached by a quick smoothstep jump."""
    t = np.asarray(times_s, dtype=np.float64)
    if onsets.shape[0] == 0:
        return np.zeros((t.shape[0], 2))
    targets = np.vstack([np.zeros((1, 2)), offsets])  # index 0: before the first jump, on the keyed gaze
    amp = np.linalg.norm(np.diff(targets, axis=0), axis=1)
    duration = _JUMP_BASE_S + _JUMP_PER_UNIT_S * amp  # (N,)
    j = np.searchsorted(onsets, t, side="right")  # index into targets of the fixation in progress
    jj = np.maximum(j - 1, 0)
    u = np.where(j > 0, np.clip((t - onsets[jj]) / duration[jj], 0.0, 1.0), 1.0)
    s = (u * u * (3.0 - 2.0 * u))[:, None]
    prev = targets[np.maximum(j - 1, 0)]
    return np.asarray(prev + (targets[j] - prev) * s)


def _shift(out: np.ndarray, pos: str, neg: str, delta: np.ndarray) -> None:
    """Move the net value ``pos - neg`` by ``delta`` (T,), reducing the opposing channel first."""
    p, n = out[:, _I[pos]], out[:, _I[neg]]
    up = np.maximum(delta, 0.0)
    down = np.maximum(-delta, 0.0)
    take = np.minimum(up, n)
    n = n - take
    p = p + up - take
    take = np.minimum(down, p)
    p = p - take
    n = n + down - take
    out[:, _I[pos]] = p
    out[:, _I[neg]] = n


def add_saccades(
    frames: np.ndarray, times_s: np.ndarray, *, rng: np.random.Generator, sync_eyes: bool = True
) -> tuple[np.ndarray, int]:
    """Add saccades / micro-gaze to ``frames`` (T, 61) at ``times_s`` (T,) seconds, increasing.

    ``sync_eyes``: recompute the eye rotations from the eyeLook channels (``rig.sync_eye_rotations``); when
    False (keyframes that use another eye-rotation convention) the rotations are shifted by the change
    instead. Returns (a float32 copy, the number of fixations drawn). Only eyeLook and eye-rotation channels
    change.
    """
    out = np.array(frames, dtype=np.float32, copy=True)
    t = np.asarray(times_s, dtype=np.float64)
    if t.shape[0] == 0:
        return out, 0
    onsets, offsets = fixations(float(t[0]), float(t[-1]), rng)
    off = gaze_offsets(t, onsets, offsets).astype(np.float32)
    before = rig.eye_rotations_from_look(out) if not sync_eyes else None
    for pos, neg in _RIGHTWARD:
        _shift(out, pos, neg, off[:, 0])
    for pos, neg in _DOWNWARD:
        _shift(out, pos, neg, off[:, 1])
    np.clip(out[:, : rig.NUM_BLENDSHAPES], 0.0, 1.0, out=out[:, : rig.NUM_BLENDSHAPES])
    if sync_eyes:
        out = rig.sync_eye_rotations(out)
    elif before is not None:
        out[:, _EYE_ROT] += rig.eye_rotations_from_look(out) - before
    return out, int(onsets.shape[0])
