"""Life layer: subtle head drift and breathing.

A still head looks like a photograph. This layer adds, on top of the keyframed head rotation:

* **drift**: per axis, a sum of three slow sinusoids (0.04-0.3 Hz, random phases) whose amplitudes add up to
  :data:`DRIFT_AMPLITUDE` (yaw 0.012, pitch 0.010, roll 0.006 in the rig's [-1, 1] units), so it is smooth and
  bounded by construction;
* **breathing**: a nod of :data:`BREATH_AMPLITUDE` (0.004) on HeadPitch at 12-18 breaths per minute (the
  resting adult rate is about 12-20 per minute).

The total offset is at most 0.016 on any axis: well under 0.05, and real captures with head tracking stay
under 0.2 (shared/reference/FACS.md). Only HeadYaw, HeadPitch and HeadRoll change.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from .. import rig

__all__ = ["BREATH_AMPLITUDE", "DRIFT_AMPLITUDE", "add_head_motion", "head_offsets"]

DRIFT_AMPLITUDE: Final[tuple[float, float, float]] = (0.012, 0.010, 0.006)  # yaw, pitch, roll
BREATH_AMPLITUDE: Final[float] = 0.004
_DRIFT_HZ: Final[tuple[float, float]] = (0.04, 0.3)
_BREATHS_PER_MIN: Final[tuple[float, float]] = (12.0, 18.0)
_TERMS: Final[int] = 3
_HEAD = np.array([rig.CHANNEL_INDEX[n] for n in ("HeadYaw", "HeadPitch", "HeadRoll")])


def head_offsets(times_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Head rotation offsets (T, 3) (yaw, pitch, roll) at ``times_s`` (T,) seconds; |offset| <= 0.016."""
    t = np.asarray(times_s, dtype=np.float64)
    freq = rng.uniform(*_DRIFT_HZ, (3, _TERMS))
    phase = rng.uniform(0.0, 2.0 * np.pi, (3, _TERMS))
    weight = (
        rng.dirichlet(np.ones(_TERMS), 3) * np.array(DRIFT_AMPLITUDE)[:, None]
    )  # each row sums to the amplitude
    out = np.zeros((t.shape[0], 3))
    for term in range(_TERMS):  # three terms: a loop over sinusoids, vectorised over frames and axes
        out += weight[:, term] * np.sin(2.0 * np.pi * t[:, None] * freq[:, term] + phase[:, term])
    breath_hz = rng.uniform(*_BREATHS_PER_MIN) / 60.0
    out[:, 1] += BREATH_AMPLITUDE * np.sin(2.0 * np.pi * breath_hz * t + rng.uniform(0.0, 2.0 * np.pi))
    return out


def add_head_motion(frames: np.ndarray, times_s: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """Add head drift and breathing to ``frames`` (T, 61); returns a float32 copy (head channels kept in
    range)."""
    out = np.array(frames, dtype=np.float32, copy=True)
    out[:, _HEAD] = np.clip(out[:, _HEAD] + head_offsets(times_s, rng), -1.0, 1.0)
    return out
