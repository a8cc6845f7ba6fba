"""Life layer: spontaneous blinks.

People blink every 2-6 s at rest and a blink lasts about 0.23 s (7 frames at 30 fps);
shared/reference/FACS.md. The lid closes fast and opens more slowly (closing ~1/3 of the blink, opening ~2/3),
both eyes together.

A blink is added on top of the keyframed lids: ``blink' = base + (1 - base) x b(t)`` with ``b`` in [0, 1], so
it reaches full closure and never exceeds 1; EyeWide is scaled by ``1 - b`` (a closing lid is not wide). A
blink is skipped when the keyframed eyes are already mostly closed (EyeBlink >= :data:`CLOSED_AT`) or
squinting hard (EyeSquint >= :data:`SQUINT_AT`) at its start, middle or end.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from .. import rig

__all__ = ["BLINK_S", "CLOSED_AT", "SQUINT_AT", "add_blinks", "blink_onsets", "blink_profile"]

#: Blink length and its phases (FACS.md: ~0.23 s); closing is the fast phase.
BLINK_S: Final[float] = 0.23
_CLOSE_S: Final[float] = 0.07
_SHUT_S: Final[float] = 0.02
_OPEN_S: Final[float] = BLINK_S - _CLOSE_S - _SHUT_S
#: Inter-blink interval: log-normal with median 3.5 s, clipped to [1.8, 8] s, so most fall in the 2-6 s at
#: rest.
_INTERVAL_MEDIAN_S: Final[float] = 3.5
_INTERVAL_SIGMA: Final[float] = 0.35
_INTERVAL_RANGE: Final[tuple[float, float]] = (1.8, 8.0)
#: Amplitude of each blink (most spontaneous blinks close fully; a few stop just short).
_AMPLITUDE_RANGE: Final[tuple[float, float]] = (0.92, 1.0)
CLOSED_AT: Final[float] = 0.5
SQUINT_AT: Final[float] = 0.7

_I = rig.CHANNEL_INDEX
_BLINK = np.array([_I["EyeBlinkLeft"], _I["EyeBlinkRight"]])
_WIDE = np.array([_I["EyeWideLeft"], _I["EyeWideRight"]])
_SQUINT = np.array([_I["EyeSquintLeft"], _I["EyeSquintRight"]])


def blink_onsets(start_s: float, end_s: float, rng: np.random.Generator) -> np.ndarray:
    """Onset times (N,) float64 of spontaneous blinks in [start_s, end_s), drawn from ``rng``."""
    span = max(end_s - start_s, 0.0)
    n = int(span / _INTERVAL_RANGE[0]) + 2  # enough intervals to cover the span even at the shortest interval
    first = rng.uniform(0.4, 2.5)  # nobody blinks exactly at the first frame
    gaps = np.clip(_INTERVAL_MEDIAN_S * np.exp(rng.normal(0.0, _INTERVAL_SIGMA, n)), *_INTERVAL_RANGE)
    onsets = start_s + first + np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    return np.asarray(onsets[onsets < end_s])


def blink_profile(u_s: np.ndarray) -> np.ndarray:
    """Lid closure b in [0, 1] at ``u_s`` seconds after a blink's onset, any shape; 0 outside [0, BLINK_S)."""
    u = np.asarray(u_s, dtype=np.float64)
    close = 0.5 - 0.5 * np.cos(np.pi * np.clip(u / _CLOSE_S, 0.0, 1.0))
    opening = np.clip((u - _CLOSE_S - _SHUT_S) / _OPEN_S, 0.0, 1.0)
    open_part = (1.0 - opening) ** 2  # fast at first, easing out: the slow end of the opening
    b = np.where(u < _CLOSE_S, close, np.where(u < _CLOSE_S + _SHUT_S, 1.0, open_part))
    return np.where((u >= 0.0) & (u < BLINK_S), b, 0.0)


def add_blinks(
    frames: np.ndarray, times_s: np.ndarray, *, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Add spontaneous blinks to ``frames`` (T, 61) at ``times_s`` (T,) seconds, increasing.

    Returns (a float32 copy with blinks, the number of blinks added). Channels other than EyeBlink and EyeWide
    are untouched; nothing leaves its range.
    """
    out = np.array(frames, dtype=np.float32, copy=True)
    t = np.asarray(times_s, dtype=np.float64)
    if t.shape[0] == 0:
        return out, 0
    onsets = blink_onsets(float(t[0]), float(t[-1]), rng)
    amplitude = np.asarray(rng.uniform(_AMPLITUDE_RANGE[0], _AMPLITUDE_RANGE[1], size=onsets.shape[0]))
    if onsets.shape[0] == 0:
        return out, 0
    # Skip blinks where the keyed eyes are already closed or squinting hard (checked at start, middle and
    # end).
    probe = np.clip(
        np.searchsorted(t, onsets[:, None] + np.array([0.0, 0.5, 1.0]) * BLINK_S), 0, t.shape[0] - 1
    )
    lids = out[probe]  # (N, 3, 61)
    closed = lids[..., _BLINK].max(axis=(1, 2)) >= CLOSED_AT
    squint = lids[..., _SQUINT].max(axis=(1, 2)) >= SQUINT_AT
    keep = ~(closed | squint)
    onsets, amplitude = onsets[keep], amplitude[keep]
    if onsets.shape[0] == 0:
        return out, 0
    j = np.searchsorted(onsets, t, side="right") - 1
    active = j >= 0
    jj = np.where(active, j, 0)
    b = np.where(active, blink_profile(t - onsets[jj]) * amplitude[jj], 0.0).astype(np.float32)[:, None]
    base = out[:, _BLINK]
    out[:, _BLINK] = base + (1.0 - np.clip(base, 0.0, 1.0)) * b
    out[:, _WIDE] = out[:, _WIDE] * (1.0 - b)
    return out, int(onsets.shape[0])
