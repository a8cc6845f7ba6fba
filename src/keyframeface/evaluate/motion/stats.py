"""The realism statistics: one function per statistic, each over a set of takes (real captures or generated clips).

Every function takes a sequence of :class:`~keyframeface.evaluate.motion.signals.MotionTake` and returns a
:class:`Measured`: a number (``nan`` when the takes hold nothing to measure, e.g. no blinks), how many events or
frames it rests on, and a short display text. Events are pooled over takes (a median of all onsets, not a median of
per-take medians), so long takes weigh more. ``docs/motion.md`` describes each computation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from ... import rig
from .events import (
    NON_EYE_CHANNELS,
    Blink,
    Movement,
    blinks,
    gaze_shifts,
    gaze_signal,
    movements,
    runs,
)
from .signals import MotionTake

__all__ = [
    "FROZEN_MIN_S",
    "Measured",
    "blink_coincidence",
    "blink_duration",
    "blink_eye_pitch",
    "blink_interval_cv",
    "blink_rate",
    "frozen_share",
    "gaze_shift_duration",
    "gaze_shift_velocity",
    "head_high_frequency_share",
    "head_std",
    "jaw_lip_coupling",
    "lid_gaze_correlation",
    "onset_time",
    "overshoot",
    "overshoot_share",
    "partial_blink_share",
    "peak_time_share",
    "peak_velocity_ratio",
    "quiet_std",
    "saccade_amplitude",
    "symmetric_smile_share",
]

#: A frozen run: all non-eye channels exactly unchanged for at least this long.
FROZEN_MIN_S: Final[float] = 0.5
#: "Exactly unchanged": frame-to-frame change at most this (float32 rounding; captures change by >= 1e-4).
FROZEN_TOLERANCE: Final[float] = 1e-7
#: Gaze shifts of at least this amplitude (eye rotation units) count for the velocity/duration statistic.
GAZE_SHIFT_MIN: Final[float] = 0.1
#: Shifts below this are tracking jitter, not saccades, for the amplitude statistic.
SACCADE_MIN: Final[float] = 0.03
#: A blink with a peak closure below this is partial.
PARTIAL_BELOW: Final[float] = 0.8
#: Two blinks in different clips coincide when their peaks are at most this far apart.
COINCIDENCE_S: Final[float] = 0.1
#: Quiet windows: 1 s long; quiet when no non-eye channel moves more than QUIET_RANGE inside (detrended range).
WINDOW_S: Final[float] = 1.0
QUIET_RANGE: Final[float] = 0.1
#: A channel is engaged in a window (part of the held expression) when its mean there is at least this.
ENGAGED_ABOVE: Final[float] = 0.05
#: Smiling: mean of the two MouthSmile channels above this; symmetric: |left - right| at most SYMMETRIC_TOLERANCE.
SMILING_ABOVE: Final[float] = 0.1
SYMMETRIC_TOLERANCE: Final[float] = 1e-6
#: Head channels count only in takes where the head moves (captures without head tracking hold zeros).
HEAD_MOVES_STD: Final[float] = 1e-4
HEAD_HIGH_HZ: Final[float] = 1.0
#: Jaw/lip coupling: takes whose JawOpen varies at least this much.
JAW_MOVES_STD: Final[float] = 0.02
#: Lid-gaze correlation: takes whose vertical gaze varies at least this much outside blinks.
PITCH_MOVES_STD: Final[float] = 0.01

SMILE: Final[tuple[str, str]] = ("MouthSmileLeft", "MouthSmileRight")
BROWS: Final[tuple[str, ...]] = rig.GROUPS["brows"]
MOUTH: Final[tuple[str, ...]] = rig.GROUPS["mouth"]
HEAD: Final[tuple[str, str, str]] = ("HeadYaw", "HeadPitch", "HeadRoll")
_NON_EYE_IDX: Final[np.ndarray] = np.array([rig.CHANNEL_INDEX[n] for n in NON_EYE_CHANNELS])


@dataclass(frozen=True)
class Measured:
    """A statistic's value over a set of takes: ``value`` (``nan`` when nothing could be measured), ``n`` (events,
    windows, frames or takes it rests on) and ``text`` (the value as shown in the table)."""

    value: float
    n: int
    text: str

    def to_dict(self) -> dict[str, object]:
        return {"value": None if math.isnan(self.value) else self.value, "n": self.n, "text": self.text}


def _nan(n: int = 0) -> Measured:
    return Measured(math.nan, n, "n/a")


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}g}"


# ------------------------------------------------------------------------------------------------- frozen face
def frozen_share(takes: Sequence[MotionTake], *, min_run_s: float = FROZEN_MIN_S) -> Measured:
    """Share (%) of valid frames that lie in runs of at least ``min_run_s`` where every non-eye blendshape is
    exactly unchanged from frame to frame (:data:`FROZEN_TOLERANCE`)."""
    frozen = total = 0
    for take in takes:
        x = take.values[:, _NON_EYE_IDX]
        still = np.abs(np.diff(x, axis=0)).max(axis=1) <= FROZEN_TOLERANCE
        still &= take.valid[1:] & take.valid[:-1]
        for a, b in runs(still):  # transitions a..b-1: frames a..b are equal
            if (b - a) / take.fps >= min_run_s - 1e-9:
                frozen += b - a + 1
        total += int(take.valid.sum())
    if total == 0:
        return _nan()
    value = 100.0 * frozen / total
    return Measured(value, total, f"{value:.1f} %")


# ------------------------------------------------------------------------------------------------- onsets
def _onsets(takes: Sequence[MotionTake], channels: Sequence[str]) -> list[Movement]:
    return [m for take in takes for c in channels for m in movements(take, c)]


def onset_time(takes: Sequence[MotionTake], *, channels: Sequence[str] = NON_EYE_CHANNELS) -> Measured:
    """Median 10-90 % time (ms) of rising movements >= 0.1 of ``channels`` (default: every non-eye blendshape;
    pass the two MouthSmile channels for smiles)."""
    rise = [m.rise_s for m in _onsets(takes, channels)]
    if not rise:
        return _nan()
    value = 1000.0 * float(np.median(rise))
    return Measured(value, len(rise), f"{value:.0f} ms")


def peak_velocity_ratio(takes: Sequence[MotionTake], *, channels: Sequence[str] = NON_EYE_CHANNELS) -> Measured:
    """Median over onsets of peak speed / mean speed of the 10-90 % span (a symmetric smoothstep gives 1.5; a
    minimum-jerk movement 1.4; a linear ramp 1.0)."""
    ratio = [m.velocity_ratio for m in _onsets(takes, channels)]
    ratio = [r for r in ratio if math.isfinite(r)]
    if not ratio:
        return _nan()
    value = float(np.median(ratio))
    return Measured(value, len(ratio), f"{value:.2f}x")


def peak_time_share(takes: Sequence[MotionTake], *, channels: Sequence[str] = NON_EYE_CHANNELS) -> Measured:
    """Mean (and spread) of where the peak speed falls within the 10-90 % span (0.5 = a symmetric profile)."""
    share = [m.peak_share for m in _onsets(takes, channels)]
    if not share:
        return _nan()
    value, sd = float(np.mean(share)), float(np.std(share))
    return Measured(value, len(share), f"{value:.2f} +- {sd:.2f}")


def _overshoots(takes: Sequence[MotionTake], channels: Sequence[str]) -> list[float]:
    return [m.overshoot for m in _onsets(takes, channels) if m.overshoot is not None]


def overshoot(takes: Sequence[MotionTake], *, channels: Sequence[str] = NON_EYE_CHANNELS) -> Measured:
    """Median overshoot (%) of held onsets: (peak - settled level) / amplitude, where held means the channel stays
    above half the movement for 0.5 s after its peak and the settled level is the median 0.2-0.5 s after it."""
    values = _overshoots(takes, channels)
    if not values:
        return _nan()
    value = 100.0 * float(np.median(values))
    return Measured(value, len(values), f"{value:.1f} %")


def overshoot_share(takes: Sequence[MotionTake], *, channels: Sequence[str] = NON_EYE_CHANNELS,
                    above: float = 0.05) -> Measured:
    """Share (%) of held onsets whose overshoot exceeds ``above`` (5 %)."""
    values = _overshoots(takes, channels)
    if not values:
        return _nan()
    value = 100.0 * float(np.mean(np.asarray(values) > above))
    return Measured(value, len(values), f"{value:.0f} %")


# ------------------------------------------------------------------------------------------------- gaze
def gaze_shift_velocity(takes: Sequence[MotionTake], *, min_amplitude: float = GAZE_SHIFT_MIN) -> Measured:
    """Median peak speed (eye rotation units/s, both eyes' yaw and pitch averaged) of gaze shifts of at least
    ``min_amplitude``."""
    v = [s.peak_velocity for t in takes for s in gaze_shifts(t) if s.amplitude >= min_amplitude]
    if not v:
        return _nan()
    value = float(np.median(v))
    return Measured(value, len(v), f"{value:.2f} /s")


def gaze_shift_duration(takes: Sequence[MotionTake], *, min_amplitude: float = GAZE_SHIFT_MIN) -> Measured:
    """Median duration (ms) of gaze shifts of at least ``min_amplitude``."""
    d = [s.duration_s for t in takes for s in gaze_shifts(t) if s.amplitude >= min_amplitude]
    if not d:
        return _nan()
    value = 1000.0 * float(np.median(d))
    return Measured(value, len(d), f"{value:.0f} ms")


def saccade_amplitude(takes: Sequence[MotionTake], *, min_amplitude: float = SACCADE_MIN) -> Measured:
    """Mean +- std of gaze shift amplitudes of at least ``min_amplitude`` (eye rotation units)."""
    a = [s.amplitude for t in takes for s in gaze_shifts(t) if s.amplitude >= min_amplitude]
    if not a:
        return _nan()
    value, sd = float(np.mean(a)), float(np.std(a))
    return Measured(value, len(a), f"{value:.3f} +- {sd:.3f}")


# ------------------------------------------------------------------------------------------------- blinks
def _blinks(takes: Sequence[MotionTake]) -> list[tuple[MotionTake, tuple[Blink, ...]]]:
    return [(t, blinks(t)) for t in takes]


def blink_rate(takes: Sequence[MotionTake]) -> Measured:
    """Blinks per minute of valid time."""
    count = sum(len(b) for _, b in _blinks(takes))
    minutes = sum(float(t.valid.sum()) / t.fps for t in takes) / 60.0
    if minutes <= 0:
        return _nan()
    value = count / minutes
    return Measured(value, count, f"{value:.1f} /min")


def blink_duration(takes: Sequence[MotionTake]) -> Measured:
    """Mean blink duration (ms): width of the closure at 10 % of its amplitude."""
    d = [b.duration_s for _, bs in _blinks(takes) for b in bs]
    if not d:
        return _nan()
    value = 1000.0 * float(np.mean(d))
    return Measured(value, len(d), f"{value:.0f} ms")


def blink_interval_cv(takes: Sequence[MotionTake]) -> Measured:
    """Coefficient of variation (std / mean) of the intervals between consecutive blinks of a take (pooled over
    takes; an interval spanning invalid samples is left out). A metronome gives 0; a Poisson process 1."""
    intervals = []
    for take, bs in _blinks(takes):
        for a, b in itertools.pairwise(bs):
            if take.valid[a.index : b.index + 1].all():
                intervals.append((b.index - a.index) / take.fps)
    if len(intervals) < 2:
        return _nan(len(intervals))
    value = float(np.std(intervals) / np.mean(intervals))
    return Measured(value, len(intervals), f"{value:.2f}")


def partial_blink_share(takes: Sequence[MotionTake]) -> Measured:
    """Share (%) of blinks whose peak closure stays below 0.8."""
    peaks = [b.peak for _, bs in _blinks(takes) for b in bs]
    if not peaks:
        return _nan()
    value = 100.0 * float(np.mean(np.asarray(peaks) < PARTIAL_BELOW))
    return Measured(value, len(peaks), f"{value:.0f} %")


def blink_coincidence(takes: Sequence[MotionTake], *, within_s: float = COINCIDENCE_S) -> Measured:
    """Are blink times independent across clips? For every ordered pair of different takes, the share of the first
    one's blinks (within the shorter take's length) that have a blink of the second within ``within_s``; divided by
    the share expected by chance for independent blinking at the pooled rate, 1 - exp(-2 x within_s x rate).
    1 = independent; identical blink times in every clip give 1 / chance (about 10 at 20 blinks/min)."""
    found = _blinks(takes)
    times = [np.array([b.index / t.fps for b in bs]) for t, bs in found]
    durations = [t.duration_s for t in takes]
    count = sum(len(x) for x in times)
    total_s = sum(float(t.valid.sum()) / t.fps for t in takes)
    if len(takes) < 2 or count == 0 or total_s <= 0:
        return _nan(count)
    matched = compared = 0
    for i, ta in enumerate(times):
        for j, tb in enumerate(times):
            if i == j:
                continue
            span = min(durations[i], durations[j])
            own = ta[ta < span]
            compared += len(own)
            if len(tb) and len(own):
                matched += int((np.abs(own[:, None] - tb[None, :]).min(axis=1) <= within_s).sum())
    if compared == 0:
        return _nan()
    rate = count / total_s
    chance = 1.0 - math.exp(-2.0 * within_s * rate)
    observed = matched / compared
    value = observed / chance
    return Measured(value, compared, f"{value:.1f}x chance ({observed:.2f} vs {chance:.2f})")


def blink_eye_pitch(takes: Sequence[MotionTake]) -> Measured:
    """Mean change of vertical gaze (eye pitch, + = down) from just before a blink (0.25-0.05 s before it starts)
    to its peak."""
    deltas = []
    for take, bs in _blinks(takes):
        pitch = gaze_signal(take)[:, 1]
        a, b = round(0.25 * take.fps), round(0.05 * take.fps)
        for bl in bs:
            s = math.floor(bl.start)
            if s - a < 0 or not take.valid[s - a : bl.index + 1].all():
                continue
            deltas.append(float(pitch[bl.index] - pitch[s - a : s - b + 1].mean()))
    if not deltas:
        return _nan()
    value = float(np.mean(deltas))
    return Measured(value, len(deltas), f"{value:+.3f}")


def lid_gaze_correlation(takes: Sequence[MotionTake]) -> Measured:
    """Do the lids follow vertical gaze? Median over takes of Pearson r between eye pitch (+ = down) and lid
    closure (mean EyeBlink) outside blinks (each blink +-0.1 s left out); only takes whose pitch varies there
    (std >= 0.01). Lids that never move while the eyes do count as r = 0."""
    values = []
    for take, bs in _blinks(takes):
        keep = take.valid.copy()
        pad = 0.1 * take.fps
        for bl in bs:
            keep[max(0, int(bl.start - pad)) : math.ceil(bl.stop + pad) + 1] = False
        pitch = gaze_signal(take)[keep, 1]
        lid = take.mean_of(("EyeBlinkLeft", "EyeBlinkRight"))[keep]
        if len(pitch) < 10 or pitch.std() < PITCH_MOVES_STD:
            continue
        values.append(0.0 if lid.std() == 0 else float(np.corrcoef(pitch, lid)[0, 1]))
    if not values:
        return _nan()
    value = float(np.median(values))
    return Measured(value, len(values), f"{value:+.2f}")


# ------------------------------------------------------------------------------------------------- quiet windows
def _windows(take: MotionTake, window_s: float = WINDOW_S) -> list[tuple[int, int]]:
    n = round(window_s * take.fps)
    return [(s, s + n) for s in range(0, take.num_frames - n + 1, n) if take.valid[s : s + n].all()]


def _detrend(x: np.ndarray) -> np.ndarray:
    """Remove the least-squares line from each column of x (n, k)."""
    n = x.shape[0]
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    slope = (t[:, None] * (x - x.mean(axis=0))).sum(axis=0) / max(float((t * t).sum()), 1e-12)
    return x - x.mean(axis=0) - t[:, None] * slope


def quiet_std(takes: Sequence[MotionTake], *, channels: Sequence[str] = BROWS) -> Measured:
    """How much a held expression keeps living: median over quiet 1 s windows of the mean standard deviation of
    the detrended engaged ``channels`` (window mean >= 0.05; windows where none is engaged are left out). A window
    is quiet when no non-eye blendshape has a detrended range above 0.1 in it."""
    idx = [rig.CHANNEL_INDEX[c] for c in channels]
    values = []
    for take in takes:
        for a, b in _windows(take):
            d = _detrend(take.values[a:b, _NON_EYE_IDX])
            if float((d.max(axis=0) - d.min(axis=0)).max()) > QUIET_RANGE:
                continue
            x = take.values[a:b, idx]
            engaged = x.mean(axis=0) >= ENGAGED_ABOVE
            if engaged.any():
                values.append(float(_detrend(x[:, engaged]).std(axis=0).mean()))
    if not values:
        return _nan()
    value = float(np.median(values))
    return Measured(value, len(values), f"{value:.4f}")


# ------------------------------------------------------------------------------------------------- head
def _head_takes(takes: Sequence[MotionTake]) -> list[tuple[float, np.ndarray]]:
    """(fps, (n, 3) head values of the valid samples) of each take whose head moves."""
    idx = [rig.CHANNEL_INDEX[c] for c in HEAD]
    out = []
    for take in takes:
        h = take.values[take.valid][:, idx]
        if len(h) > 1 and float(h.std(axis=0).max()) >= HEAD_MOVES_STD:
            out.append((take.fps, h))
    return out


def head_std(takes: Sequence[MotionTake], *, axis: str = "HeadYaw") -> Measured:
    """Median over takes whose head moves of the standard deviation of one head axis."""
    k = HEAD.index(axis)
    values = [float(h[:, k].std()) for _, h in _head_takes(takes)]
    if not values:
        return _nan()
    value = float(np.median(values))
    return Measured(value, len(values), f"{value:.4f}")


def head_high_frequency_share(takes: Sequence[MotionTake], *, above_hz: float = HEAD_HIGH_HZ) -> Measured:
    """Share (%) of head motion power (three axes, linear trend removed, periodogram) above ``above_hz``, median
    over takes whose head moves."""
    values = []
    for fps, h in _head_takes(takes):
        d = _detrend(h)
        power = (np.abs(np.fft.rfft(d, axis=0)) ** 2).sum(axis=1)
        freqs = np.fft.rfftfreq(len(d), d=1.0 / fps)
        total = float(power[1:].sum())
        if total > 0:
            values.append(float(power[1:][freqs[1:] > above_hz].sum()) / total)
    if not values:
        return _nan()
    value = 100.0 * float(np.median(values))
    return Measured(value, len(values), f"{value:.0f} %")


# ------------------------------------------------------------------------------------------------- coupling
def jaw_lip_coupling(takes: Sequence[MotionTake]) -> Measured:
    """Pearson r between JawOpen and MouthClose (the lips kept together while the jaw opens), pooled over the takes
    whose jaw moves (JawOpen std >= 0.02) after removing each take's means; a MouthClose that never moves gives
    r = 0."""
    jaws, closes = [], []
    for take in takes:
        jaw = take.channel("JawOpen")[take.valid]
        close = take.channel("MouthClose")[take.valid]
        if len(jaw) < 10 or jaw.std() < JAW_MOVES_STD:
            continue
        jaws.append(jaw - jaw.mean())
        closes.append(close - close.mean())
    if not jaws:
        return _nan()
    x, y = np.concatenate(jaws), np.concatenate(closes)
    value = 0.0 if y.std() == 0 else float(np.corrcoef(x, y)[0, 1])
    return Measured(value, len(jaws), f"{value:+.2f}")


def symmetric_smile_share(takes: Sequence[MotionTake]) -> Measured:
    """Share (%) of smiling frames (mean MouthSmile > 0.1) whose left and right smile are exactly equal."""
    smiling = symmetric = 0
    for take in takes:
        left, right = take.channel(SMILE[0])[take.valid], take.channel(SMILE[1])[take.valid]
        on = (left + right) / 2.0 > SMILING_ABOVE
        smiling += int(on.sum())
        symmetric += int((on & (np.abs(left - right) <= SYMMETRIC_TOLERANCE)).sum())
    if smiling == 0:
        return _nan()
    value = 100.0 * symmetric / smiling
    return Measured(value, smiling, f"{value:.0f} %")
