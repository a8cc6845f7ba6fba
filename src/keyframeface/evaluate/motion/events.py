"""Motion events found in one take: expression movements, gaze shifts, blinks, and the runs they need.

Every detector works on a :class:`~keyframeface.evaluate.motion.signals.MotionTake` (a uniform grid) and skips
events that touch an invalid sample. Thresholds are named constants; ``docs/motion.md`` explains each.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from ... import rig
from .signals import MotionTake

__all__ = [
    "BLINK_CHANNELS",
    "NON_EYE_CHANNELS",
    "Blink",
    "GazeShift",
    "Movement",
    "blinks",
    "gaze_shifts",
    "gaze_signal",
    "movements",
    "runs",
    "zigzag_pivots",
]

#: The "non-eye face": every blendshape outside the eye groups (lids, squint, wide, eyeLook); head and eye
#: rotations excluded. A frame of it is frozen when none of these changes.
NON_EYE_CHANNELS: Final[tuple[str, ...]] = tuple(
    n for n in rig.BLENDSHAPES if rig.group_of(n) not in ("eyes", "gaze")
)
BLINK_CHANNELS: Final[tuple[str, str]] = ("EyeBlinkLeft", "EyeBlinkRight")
_YAW: Final[tuple[str, str]] = ("LeftEyeYaw", "RightEyeYaw")
_PITCH: Final[tuple[str, str]] = ("LeftEyePitch", "RightEyePitch")

#: Zigzag reversal: a turning point is confirmed once the signal has come back this much (blendshape units). Real
#: captures jitter by ~0.005-0.02 frame to frame, so smaller reversals are noise, not a new movement; larger ones
#: would merge an onset with the slow drift around it (the onset median moves ~40 ms per 0.01 here).
MOVEMENT_REVERSAL: Final[float] = 0.03
#: Smallest movement (trough to peak) counted as an expression onset.
MOVEMENT_MIN_AMPLITUDE: Final[float] = 0.1
#: A movement is "held" when, for this long after its peak, it stays above half its amplitude.
HOLD_S: Final[float] = 0.5
#: The settled level of a held movement: the median over this span after its peak.
SETTLE_SPAN_S: Final[tuple[float, float]] = (0.2, 0.5)

#: A gaze shift: a local maximum of gaze speed (units/s of the eye rotation channels) above this.
GAZE_PEAK_MIN: Final[float] = 0.3
#: Its extent: until the speed falls below this share of its peak (or the noise floor below).
GAZE_EXTENT_SHARE: Final[float] = 0.2
GAZE_SPEED_FLOOR: Final[float] = 0.15

#: A blink: a peak of the mean lid closure at least this prominent over both neighbouring minima within
#: :data:`BLINK_BASE_S`; its duration is measured at :data:`BLINK_LEVEL` of its amplitude above the higher base.
BLINK_PROMINENCE: Final[float] = 0.2
BLINK_BASE_S: Final[float] = 0.4
BLINK_LEVEL: Final[float] = 0.1
#: Closures wider than this (at :data:`BLINK_LEVEL`) are eye closing, not blinks.
BLINK_MAX_S: Final[float] = 0.6


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in a (T,) bool mask as (start, stop) index pairs, stop exclusive."""
    m = np.asarray(mask, bool).astype(np.int8)
    if m.size == 0:
        return []
    edges = np.diff(np.concatenate([[0], m, [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def zigzag_pivots(x: np.ndarray, reversal: float) -> list[int]:
    """Indices of the alternating extrema of ``x`` (T,): an extremum is confirmed once the signal has come back
    from it by more than ``reversal``; the last extremum (unconfirmed, where the take ends) is included. Of equal
    values the first is the pivot. A signal whose range never exceeds ``reversal`` has no pivots."""
    n = len(x)
    pivots: list[int] = []
    hi = lo = 0
    direction = 0  # +1: rising toward a peak, -1: falling toward a trough, 0: not yet known
    ext = 0
    for i in range(1, n):
        v = x[i]
        if direction == 0:
            if v > x[hi]:
                hi = i
            if v < x[lo]:
                lo = i
            if x[hi] - x[lo] > reversal:
                direction, first, ext = (1, lo, hi) if hi > lo else (-1, hi, lo)
                pivots.append(first)
        elif direction > 0:
            if v > x[ext]:
                ext = i
            elif x[ext] - v > reversal:
                pivots.append(ext)
                direction, ext = -1, i
        else:
            if v < x[ext]:
                ext = i
            elif v - x[ext] > reversal:
                pivots.append(ext)
                direction, ext = 1, i
    if direction != 0:
        pivots.append(ext)
    return pivots


def _crossing(x: np.ndarray, start: int, stop: int, level: float, rising: bool) -> float | None:
    """Fractional index of the first crossing of ``level`` in x[start:stop+1] (linear between samples)."""
    seg = x[start : stop + 1]
    hit = np.flatnonzero(seg >= level) if rising else np.flatnonzero(seg <= level)
    if hit.size == 0:
        return None
    k = int(hit[0])
    if k == 0:
        return float(start)
    a, b = seg[k - 1], seg[k]
    frac = 0.0 if b == a else (level - a) / (b - a)
    return start + k - 1 + float(np.clip(frac, 0.0, 1.0))


@dataclass(frozen=True)
class Movement:
    """One monotonic movement of a channel between two zigzag pivots.

    ``channel``; ``start`` / ``peak``: pivot indices; ``amplitude``: signed change (value units);
    ``t10_s`` / ``t90_s``: seconds at which it first passes 10 % and 90 % of the way; ``peak_velocity``: the
    largest frame-to-frame speed (units/s) between them; ``peak_share``: where that speed occurs, as a share of the
    10-90 % span (0 = at 10 %, 1 = at 90 %); ``overshoot``: for a held movement, how far the peak passes the
    settled level, as a share of the amplitude (None when not held).
    """

    channel: str
    start: int
    peak: int
    amplitude: float
    t10_s: float
    t90_s: float
    peak_velocity: float
    peak_share: float
    overshoot: float | None

    @property
    def rise_s(self) -> float:
        """10-90 % time in seconds."""
        return self.t90_s - self.t10_s

    @property
    def velocity_ratio(self) -> float:
        """Peak speed over the mean speed of the 10-90 % span (0.8 amplitude / rise time)."""
        mean = 0.8 * abs(self.amplitude) / self.rise_s if self.rise_s > 0 else math.inf
        return self.peak_velocity / mean if mean > 0 else math.nan


@functools.lru_cache(maxsize=4096)
def movements(
    take: MotionTake,
    channel: str,
    *,
    rising_only: bool = True,
    reversal: float = MOVEMENT_REVERSAL,
    min_amplitude: float = MOVEMENT_MIN_AMPLITUDE,
) -> tuple[Movement, ...]:
    """Monotonic movements of ``channel`` of at least ``min_amplitude`` between zigzag pivots (see
    :func:`zigzag_pivots`); only rising ones (an expression's onset) when ``rising_only``. Movements touching an
    invalid sample are skipped. Results are cached per take (takes compare by identity)."""
    x = take.channel(channel)
    fps = take.fps
    pivots = zigzag_pivots(x, reversal)
    out: list[Movement] = []
    hold_n = round(HOLD_S * fps)
    s0, s1 = (round(s * fps) for s in SETTLE_SPAN_S)
    for a, b in itertools.pairwise(pivots):
        amp = float(x[b] - x[a])
        if abs(amp) < min_amplitude or (rising_only and amp <= 0) or not take.valid[a : b + 1].all():
            continue
        rising = amp > 0
        i10 = _crossing(x, a, b, x[a] + 0.1 * amp, rising)
        i90 = _crossing(x, a, b, x[a] + 0.9 * amp, rising)
        if i10 is None or i90 is None or i90 - i10 <= 0:
            continue
        lo, hi = max(math.floor(i10), a), min(math.ceil(i90), b)
        # central differences (x[i+1] - x[i-1]) / 2: the speed at sample i, less sensitive to capture jitter
        ids = np.arange(max(lo, 1), min(hi, len(x) - 2) + 1)
        step = np.abs(x[ids + 1] - x[ids - 1]) * (fps / 2.0)
        k = int(np.argmax(step)) if step.size else 0
        share = float(np.clip((ids[k] - i10) / (i90 - i10), 0.0, 1.0)) if step.size else 0.5
        overshoot = None
        after = x[b : b + hold_n + 1]
        if (len(after) == hold_n + 1 and take.valid[b : b + hold_n + 1].all()
                and bool(np.all((after - x[a]) * np.sign(amp) > 0.5 * abs(amp)))):
            settled = float(np.median(x[b + s0 : b + s1 + 1]))
            overshoot = max(0.0, float((x[b] - settled) * np.sign(amp)) / abs(amp))
        out.append(Movement(channel, a, b, amp, i10 / fps, i90 / fps, float(step[k]) if step.size else 0.0,
                            share, overshoot))
    return tuple(out)


def gaze_signal(take: MotionTake) -> np.ndarray:
    """(T, 2) gaze: mean yaw and mean pitch of both eyes' rotation channels (pitch positive = down)."""
    return np.stack([take.mean_of(_YAW), take.mean_of(_PITCH)], axis=1)


@dataclass(frozen=True)
class GazeShift:
    """One gaze shift: ``start`` / ``stop`` indices of its extent, ``amplitude`` (units of the eye rotation
    channels, 2-D), ``peak_velocity`` (units/s), ``duration_s``."""

    start: int
    stop: int
    amplitude: float
    peak_velocity: float
    duration_s: float


@functools.lru_cache(maxsize=512)
def gaze_shifts(take: MotionTake) -> tuple[GazeShift, ...]:
    """Gaze shifts: local maxima of gaze speed above :data:`GAZE_PEAK_MIN`, each extended both ways until the
    speed falls below max(:data:`GAZE_EXTENT_SHARE` x peak, :data:`GAZE_SPEED_FLOOR`); amplitude = distance
    between the gaze at the two ends. A shift whose extent holds an invalid sample is skipped; a faster peak
    inside an extent absorbs slower ones."""
    g = gaze_signal(take)
    if len(g) < 3:
        return ()
    speed = np.linalg.norm(np.diff(g, axis=0), axis=1) * take.fps  # speed[i]: between samples i and i+1
    order = np.argsort(-speed, kind="stable")
    taken = np.zeros(len(speed), bool)
    out: list[GazeShift] = []
    for i in order:
        v = float(speed[i])
        if v < GAZE_PEAK_MIN:
            break
        if taken[i]:
            continue
        limit = max(GAZE_EXTENT_SHARE * v, GAZE_SPEED_FLOOR)
        lo = i
        while lo > 0 and speed[lo - 1] >= limit and not taken[lo - 1]:
            lo -= 1
        hi = i
        while hi < len(speed) - 1 and speed[hi + 1] >= limit and not taken[hi + 1]:
            hi += 1
        taken[lo : hi + 1] = True
        if not take.valid[lo : hi + 2].all():
            continue
        amp = float(np.linalg.norm(g[hi + 1] - g[lo]))
        out.append(GazeShift(int(lo), int(hi + 1), amp, v, (hi + 1 - lo) / take.fps))
    out.sort(key=lambda s: s.start)
    return tuple(out)


@dataclass(frozen=True)
class Blink:
    """One blink of the mean lid closure: ``index`` of its peak, ``peak`` (closure at the peak), ``amplitude``
    (peak over the higher neighbouring base), ``duration_s`` (width at :data:`BLINK_LEVEL` of the amplitude),
    ``start`` / ``stop`` (fractional indices of that width)."""

    index: int
    peak: float
    amplitude: float
    duration_s: float
    start: float
    stop: float

    def time_s(self, fps: float) -> float:
        return self.index / fps


@functools.lru_cache(maxsize=512)
def blinks(take: MotionTake, *, channels: tuple[str, ...] = BLINK_CHANNELS) -> tuple[Blink, ...]:
    """Blinks in the mean of ``channels``: peaks (the highest sample within +-100 ms) that rise at least
    :data:`BLINK_PROMINENCE` over the minima within :data:`BLINK_BASE_S` on both sides and are narrower than
    :data:`BLINK_MAX_S` at :data:`BLINK_LEVEL` of their amplitude. Blinks touching an invalid sample are skipped."""
    b = take.mean_of(channels)
    n, fps = len(b), take.fps
    half = max(1, round(0.1 * fps))
    base_n = round(BLINK_BASE_S * fps)
    out: list[Blink] = []
    last = -half - 1
    for i in range(1, n - 1):
        lo, hi = max(0, i - half), min(n, i + half + 1)
        if b[i] < b[lo:hi].max() or i - last <= half or not (b[i] > b[i - 1]):
            continue
        left = b[max(0, i - base_n) : i + 1]
        right = b[i : min(n, i + base_n + 1)]
        base = max(float(left.min()), float(right.min()))
        amp = float(b[i]) - base
        if amp < BLINK_PROMINENCE:
            continue
        level = base + BLINK_LEVEL * amp
        j0 = max(0, i - base_n) + int(np.flatnonzero(left <= level)[-1])  # last sample at or below, before
        j1 = i + int(np.flatnonzero(right <= level)[0])  # first sample at or below, after
        # fractional crossings, linear between samples
        start = j0 + (level - b[j0]) / (b[j0 + 1] - b[j0]) if b[j0 + 1] != b[j0] else float(j0)
        stop = j1 - 1 + (b[j1 - 1] - level) / (b[j1 - 1] - b[j1]) if b[j1 - 1] != b[j1] else float(j1)
        duration = (stop - start) / fps
        if duration > BLINK_MAX_S or not take.valid[j0 : j1 + 1].all():
            continue
        last = i
        out.append(Blink(i, float(b[i]), amp, float(duration), float(start), float(stop)))
    return tuple(out)
