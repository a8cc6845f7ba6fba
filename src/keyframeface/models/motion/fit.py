"""Fit the motion model from a folder of real Live Link Face captures (``keyframeface train motion``).

What is measured (every statistic on the capture's own channels, read by name; takes split at tracking loss and
dropped-frame gaps into segments of at least :data:`MIN_SEGMENT_S`):

* **blinks**: mean EyeBlink of both eyes; peaks of prominence >= 0.15 above a running 20th-percentile baseline
  (1.5 s); each blink's amplitude is its excursion above its own base (the higher of the lowest levels within
  :data:`BLINK_BASE_S` on each side), onset / offset where the curve crosses 10 % of it; kept when 80-800 ms long. Shipped: quantiles of
  duration, relative amplitude (peak above baseline) and inter-blink interval, the gamma shape of the intervals, the
  median time-normalised blink template, and the eye pitch change per unit of closure (eyes turn down during a blink).
* **saccades**: mean eye yaw / pitch (rig units); speed above 1.0 unit/s, extended to where it falls below 0.35;
  amplitude >= 0.02. Shipped: main sequence (duration and peak velocity linear in amplitude, least squares),
  amplitude and inter-saccade interval quantiles, horizontal share of the displacement.
* **onsets**: monotone movements of >= 0.1 between successive extrema on brow, cheek, nose, jaw and mouth
  channels. Shipped: the median position template between the 10 % and 90 % crossings (extended by half that span
  on each side), 10-90 % duration = c0 + c1 x amplitude per group, and the overshoot of held onsets (extreme minus
  the mean 0.3-0.8 s later, over the amplitude).
* **micro-motion**: the residual between each segment and its keyframe interpolation (``select_keyframes`` at
  ``max_error`` 0.05, pchip). Shipped per region: AR(2) coefficients (Yule-Walker on 60 fps segments); per
  channel: residual std in three level bins; per mirror pair: correlation of the residuals; JawOpen -> MouthClose
  regression; for the gaze (mean eye yaw / pitch of the residual, both eyes together): AR(2) and std per axis
  (fixational drift and small saccades below the extraction bound).
* **head**: per-axis amplitude spectrum (Welch, 4 s windows) of head rotation on segments where it is tracked
  (std > 1e-4).
* **lids follow gaze**: slope and correlation of EyeBlink on eye pitch outside blinks.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ... import rig
from ...errors import FormatError

__all__ = ["MIN_SEGMENT_S", "Segment", "fit_motion", "load_segments"]

logger = logging.getLogger(__name__)

MIN_SEGMENT_S: Final[float] = 2.0
#: A blink's base is the higher of the lowest lid levels within this many seconds before and after its peak; its
#: duration is the width at 10 % of its excursion above that base (lid closure lasts 100-400 ms: VanderWerf et al.
#: 2003, J. Neurophysiol. 89:2784-2796, so 0.4 s on each side reaches the open lid).
BLINK_BASE_S: Final[float] = 0.4
QUANTILES: Final[tuple[float, ...]] = tuple(np.round(np.linspace(0.0, 1.0, 21), 3).tolist())
_I = rig.CHANNEL_INDEX
ONSET_GROUPS: Final[tuple[str, ...]] = ("brows", "cheeks", "nose", "jaw", "mouth")
MICRO_GROUPS: Final[tuple[str, ...]] = ("brows", "eyes", "cheeks", "nose", "jaw", "mouth")


@dataclass(frozen=True)
class Segment:
    """A contiguous stretch of one take: ``frames`` (T, 61) float64, clamped into range, at ``fps``."""

    take: str
    fps: float
    frames: np.ndarray


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_segments(folder: str | Path) -> tuple[list[Segment], list[dict[str, Any]]]:
    """Every ``*.csv`` take under ``folder`` (recursively, ``index.csv`` excepted) cut into valid segments.

    Returns (segments, inputs) where inputs lists ``{"file", "sha256", "frames", "fps"}`` per take. Raises
    :class:`FormatError` when no take is found.
    """
    import warnings

    from ...io.livelink_csv import read_livelink_csv

    root = Path(folder)
    paths = sorted(p for p in root.rglob("*.csv") if p.name != "index.csv")
    if not paths:
        raise FormatError(f"no Live Link Face CSV takes under {root}; expected *.csv captures")
    segments: list[Segment] = []
    inputs: list[dict[str, Any]] = []
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            anim = read_livelink_csv(path)
        frames, _ = rig.clamp(anim.frames, max_reports=0)
        valid = np.ones(anim.num_frames, bool) if anim.valid is None else np.asarray(anim.valid, bool)
        times = anim.frame_times()
        gap = np.concatenate([[True], np.diff(times) > 1.5 / anim.fps]) | ~valid
        start = None
        for i in range(anim.num_frames + 1):
            end_here = i == anim.num_frames or gap[i] or not valid[i]
            if end_here and start is not None:
                if (i - start) / anim.fps >= MIN_SEGMENT_S:
                    segments.append(Segment(str(path.relative_to(root)), float(anim.fps),
                                            np.asarray(frames[start:i], np.float64)))
                start = None
            if i < anim.num_frames and valid[i] and start is None:
                start = i
        inputs.append({"file": str(path.relative_to(root)), "sha256": _sha256(path), "frames": anim.num_frames,
                       "fps": float(anim.fps)})
    return segments, inputs


def _q(values: list[float] | np.ndarray) -> list[float]:
    v = np.asarray(values, dtype=np.float64)
    return [round(float(x), 5) for x in np.quantile(v, QUANTILES)] if v.size else []


# ------------------------------------------------------------------------------------------------------ blinks
def _blink_events(seg: Segment) -> list[dict[str, float]]:
    from scipy.ndimage import percentile_filter
    from scipy.signal import find_peaks

    f = seg.frames
    b = 0.5 * (f[:, _I["EyeBlinkLeft"]] + f[:, _I["EyeBlinkRight"]])
    base = percentile_filter(b, 20, size=max(3, int(1.5 * seg.fps)), mode="nearest")
    r = b - base
    peaks, _ = find_peaks(r, prominence=0.15, distance=max(1, int(0.15 * seg.fps)))
    out: list[dict[str, float]] = []
    t = np.arange(f.shape[0]) / seg.fps
    w = max(1, round(BLINK_BASE_S * seg.fps))
    for p in peaks:
        if out and p <= out[-1]["hi"]:  # a second peak inside the same closure
            continue
        # the blink's own excursion: above the higher of the lowest lid levels within BLINK_BASE_S on each side
        # (what the engine adds a blink on top of; the running baseline only finds the peaks)
        base = max(float(b[max(0, p - w) : p + 1].min()), float(b[p : p + w + 1].min()))
        y = b - base
        amp = y[p]
        lo = p
        while lo > 0 and y[lo] > 0.1 * amp:
            lo -= 1
        hi = p
        while hi < y.shape[0] - 1 and y[hi] > 0.1 * amp:
            hi += 1
        if lo == 0 or hi == y.shape[0] - 1:
            continue
        # linear crossing times of 10 % of the peak
        on = t[lo] + (0.1 * amp - y[lo]) / max(y[lo + 1] - y[lo], 1e-9) / seg.fps
        off = t[hi - 1] + (y[hi - 1] - 0.1 * amp) / max(y[hi - 1] - y[hi], 1e-9) / seg.fps
        dur = off - on
        if not 0.08 <= dur <= 0.8 or amp < 0.2:
            continue
        pitch = 0.5 * (f[:, _I["LeftEyePitch"]] + f[:, _I["RightEyePitch"]])
        pre = pitch[max(0, lo - int(0.1 * seg.fps)) : lo + 1].mean()
        out.append({"onset_s": float(on), "duration_s": float(dur), "amplitude": float(amp), "base": base,
                    "peak": float(b[p]), "peak_frac": float((t[p] - on) / dur), "dpitch": float(pitch[p] - pre),
                    "lo": int(lo), "hi": int(hi), "p": int(p)})
    return out


def fit_blinks(segments: list[Segment]) -> dict[str, Any]:
    durations, amps, peaks, intervals, dpitch, templates = [], [], [], [], [], []
    grid = np.linspace(-0.25, 1.25, 31)
    minutes = 0.0
    for seg in segments:
        events = _blink_events(seg)
        minutes += seg.frames.shape[0] / seg.fps / 60.0
        f = seg.frames
        b = 0.5 * (f[:, _I["EyeBlinkLeft"]] + f[:, _I["EyeBlinkRight"]])
        t = np.arange(f.shape[0]) / seg.fps
        for e in events:
            durations.append(e["duration_s"])
            amps.append(e["amplitude"])
            peaks.append(e["peak"])
            dpitch.append((e["amplitude"], e["dpitch"]))
            templates.append((np.interp(e["onset_s"] + grid * e["duration_s"], t, b) - e["base"]) / e["amplitude"])
        onsets = [e["onset_s"] for e in events]
        intervals.extend(np.diff(onsets).tolist())
    iv = np.asarray(intervals)
    mean, var = float(iv.mean()), float(iv.var())
    dp = np.asarray(dpitch)
    slope = float(np.sum(dp[:, 0] * dp[:, 1]) / np.sum(dp[:, 0] ** 2))
    tmpl = np.median(np.asarray(templates), axis=0)
    return {
        "count": len(durations),
        "rate_per_min": round(len(durations) / max(minutes, 1e-9), 3),
        "duration_s_quantiles": _q(durations),
        "amplitude_quantiles": _q(amps),
        "peak_quantiles": _q(peaks),
        "interval_s_quantiles": _q(intervals),
        "interval_mean_s": round(mean, 4),
        "interval_cv": round(float(np.sqrt(var) / mean), 4),
        "interval_gamma_shape": round(mean * mean / var, 4),
        "template_grid": [round(float(x), 4) for x in grid],
        "template": [round(float(x), 4) for x in tmpl],
        "pitch_per_closure": round(slope, 4),
    }


# ---------------------------------------------------------------------------------------------------- saccades
def _gaze(seg: Segment) -> np.ndarray:
    f = seg.frames
    yaw = 0.5 * (f[:, _I["LeftEyeYaw"]] + f[:, _I["RightEyeYaw"]])
    pitch = 0.5 * (f[:, _I["LeftEyePitch"]] + f[:, _I["RightEyePitch"]])
    return np.stack([yaw, pitch], axis=1)


def fit_saccades(segments: list[Segment], blink_masks: list[np.ndarray]) -> dict[str, Any]:
    amps, durs, peaks, intervals, hshare = [], [], [], [], []
    for seg, blinking in zip(segments, blink_masks, strict=True):
        g = _gaze(seg)
        v = np.diff(g, axis=0, prepend=g[:1]) * seg.fps  # frame-to-frame: a saccade lasts a few frames
        speed = np.linalg.norm(v, axis=1)
        fast = speed > 1.0
        onsets = []
        i = 0
        n = speed.shape[0]
        while i < n:
            if fast[i] and not blinking[i]:
                lo = i
                while lo > 0 and speed[lo - 1] > 0.35:
                    lo -= 1
                hi = i
                while hi < n - 1 and speed[hi + 1] > 0.35:
                    hi += 1
                d = g[hi] - g[lo]
                amp = float(np.linalg.norm(d))
                if amp >= 0.02 and not blinking[lo : hi + 1].any():
                    amps.append(amp)
                    durs.append((hi - lo) / seg.fps)
                    peaks.append(float(speed[lo : hi + 1].max()))
                    hshare.append(abs(d[0]) / (abs(d[0]) + abs(d[1]) + 1e-9))
                    onsets.append(lo / seg.fps)
                i = hi + 1
            else:
                i += 1
        intervals.extend(np.diff(onsets).tolist())
    a, d, p = np.asarray(amps), np.asarray(durs), np.asarray(peaks)
    big = a >= 0.05
    dur_fit = np.polyfit(a[big], d[big], 1) if big.sum() >= 5 else np.array([0.25, 0.1])
    vel_fit = np.polyfit(a[big], p[big], 1) if big.sum() >= 5 else np.array([15.0, 1.0])
    return {
        "count": int(a.size),
        "amplitude_quantiles": _q(amps),
        "interval_s_quantiles": _q(intervals),
        "duration_s": {"intercept": round(float(dur_fit[1]), 5), "per_unit": round(float(dur_fit[0]), 5)},
        "peak_velocity": {"intercept": round(float(vel_fit[1]), 5), "per_unit": round(float(vel_fit[0]), 5)},
        "horizontal_share": round(float(np.median(hshare)) if hshare else 0.5, 4),
        "large_median": {
            "duration_s": round(float(np.median(d[a >= 0.1])), 4) if (a >= 0.1).any() else None,
            "peak_velocity": round(float(np.median(p[a >= 0.1])), 4) if (a >= 0.1).any() else None,
        },
    }


# ------------------------------------------------------------------------------------------------------ onsets
def _velocity_beta(shape: np.ndarray) -> dict[str, float]:
    """Beta(a, b) velocity profile whose peak sits at the median peak time share and whose peak / mean velocity
    is the median ratio of the real onsets (between the 5 % and 95 % crossings)."""
    share = float(np.clip(np.median(shape[:, 0]), 0.2, 0.8))
    ratio = float(np.clip(np.median(shape[:, 1]), 1.3, 4.0))
    u = np.linspace(0.0, 1.0, 2001)
    best = (2.0, 2.0, 0.0)
    for a in np.arange(1.5, 12.0, 0.05):
        b = (a - 1.0) / share - a + 2.0
        pdf = u ** (a - 1.0) * (1.0 - u) ** (b - 1.0)
        r = float(pdf.max() / pdf.mean())
        if abs(r - ratio) < abs(best[2] - ratio):
            best = (float(a), float(b), r)
    return {"a": round(best[0], 4), "b": round(best[1], 4), "peak_share": round(share, 4), "peak_ratio": round(ratio, 4)}


def fit_onsets(segments: list[Segment]) -> dict[str, Any]:
    from scipy.signal import find_peaks

    grid = np.linspace(-0.5, 1.5, 41)
    templates: list[np.ndarray] = []
    per_group: dict[str, list[tuple[float, float]]] = {g: [] for g in ONSET_GROUPS}
    overshoot: list[float] = []
    settle: list[float] = []
    shape: list[tuple[float, float]] = []
    for seg in segments:
        t = np.arange(seg.frames.shape[0]) / seg.fps
        for group in ONSET_GROUPS:
            for name in rig.GROUPS[group]:
                x = seg.frames[:, _I[name]]
                if x.max() - x.min() < 0.1:
                    continue
                hi, _ = find_peaks(x, prominence=0.1)
                lo, _ = find_peaks(-x, prominence=0.1)
                ext = np.sort(np.concatenate([hi, lo, [0, x.shape[0] - 1]]))
                for a, b in itertools.pairwise(ext):
                    amp = x[b] - x[a]
                    if abs(amp) < 0.1 or b - a < 3:
                        continue
                    y = (x[a : b + 1] - x[a]) / amp
                    # first crossings of 10 % and 90 %, linearly interpolated
                    k10 = int(np.argmax(y >= 0.1))
                    k90 = int(np.argmax(y >= 0.9))
                    if k10 == 0 or k90 <= k10:
                        continue
                    t10 = t[a + k10 - 1] + (0.1 - y[k10 - 1]) / max(y[k10] - y[k10 - 1], 1e-9) / seg.fps
                    t90 = t[a + k90 - 1] + (0.9 - y[k90 - 1]) / max(y[k90] - y[k90 - 1], 1e-9) / seg.fps
                    d = t90 - t10
                    if not 0.02 <= d <= 1.5:
                        continue
                    per_group[group].append((abs(float(amp)), float(d)))
                    k05, k95 = int(np.argmax(y >= 0.05)), int(np.argmax(y >= 0.95))
                    vel = np.diff(y[max(k05 - 1, 0) : k95 + 1])
                    if vel.size >= 4 and vel.mean() > 0:
                        shape.append((float(np.argmax(vel) + 0.5) / vel.size, float(vel.max() / vel.mean())))
                    templates.append(np.interp(t10 + grid * d, t, (x - x[a]) / amp))
                    after = (t > t[b] + 0.3) & (t < t[b] + 0.8)
                    if after.sum() > 3 and np.std(x[after]) < 0.1 * abs(amp):
                        over = (x[b] - x[after].mean()) / amp
                        if not -0.1 <= over <= 0.3:  # not held: the face went on to another movement
                            continue
                        overshoot.append(float(over))
                        if over > 0.02:
                            rest = (x[b:] - x[after].mean()) / (x[b] - x[after].mean())
                            k = int(np.argmax(rest[: int(0.8 * seg.fps)] <= 0.5)) if (rest <= 0.5).any() else 0
                            if k > 0:
                                settle.append(k / seg.fps)
    tm = np.median(np.asarray(templates), axis=0)
    groups: dict[str, Any] = {}
    pooled = [p for g in ONSET_GROUPS for p in per_group[g]]
    for group in (*ONSET_GROUPS, "all"):
        pts = np.asarray(pooled if group == "all" else per_group[group])
        if pts.shape[0] < 20:
            continue
        c1, c0 = np.polyfit(pts[:, 0], pts[:, 1], 1)
        groups[group] = {"count": int(pts.shape[0]), "intercept_s": round(float(c0), 5),
                         "per_unit_s": round(float(c1), 5), "median_s": round(float(np.median(pts[:, 1])), 5)}
    return {
        "count": len(templates),
        "template_grid": [round(float(x), 4) for x in grid],
        "template": [round(float(x), 4) for x in tm],
        "duration_1090": groups,
        "velocity_beta": _velocity_beta(np.asarray(shape)),
        "overshoot_quantiles": _q(overshoot),
        "settle_half_s": round(float(np.median(settle)) if settle else 0.1, 4),
    }


# ------------------------------------------------------------------------------------------------ micro-motion
def _ar2(x: np.ndarray) -> tuple[float, float]:
    x = x - x.mean()
    r0 = float(np.dot(x, x)) / x.size
    r1 = float(np.dot(x[1:], x[:-1])) / x.size
    r2 = float(np.dot(x[2:], x[:-2])) / x.size
    m = np.array([[r0, r1], [r1, r0]])
    a = np.linalg.solve(m + 1e-12 * np.eye(2), np.array([r1, r2]))
    return float(a[0]), float(a[1])


def fit_micro(segments: list[Segment], blink_masks: list[np.ndarray], *, max_error: float) -> dict[str, Any]:
    from ...animate.interpolate import interpolate
    from ...extract import select_keyframes
    from ...script import Animation

    bins = (0.0, 0.05, 0.2, 1.01)
    resid_all: list[np.ndarray] = []
    level_all: list[np.ndarray] = []
    keep_all: list[np.ndarray] = []
    ar: dict[str, list[tuple[float, float, float]]] = {g: [] for g in MICRO_GROUPS}
    drift: list[np.ndarray] = []  # (n, 2) gaze residual (mean yaw, pitch) outside blinks, 60 fps segments
    drift_ar: list[tuple[float, float, float]] = []
    for seg, blinking in zip(segments, blink_masks, strict=True):
        anim = Animation(frames=seg.frames.astype(np.float32), fps=seg.fps)
        sel = select_keyframes(anim, max_error=max_error)
        t = np.arange(seg.frames.shape[0]) / seg.fps
        recon = interpolate(sel.times_s, sel.values, t, method="pchip").astype(np.float64)
        res = seg.frames - recon
        keep = ~blinking
        resid_all.append(res)
        level_all.append(recon)
        keep_all.append(keep)
        if abs(seg.fps - 60.0) < 1.0:
            g_res = _gaze(Segment(seg.take, seg.fps, res))[keep]
            if g_res.std(axis=0).min() > 1e-4:
                drift.append(g_res)
                for k in range(2):
                    a1, a2 = _ar2(g_res[:, k])
                    drift_ar.append((a1, a2, float(g_res.shape[0])))
            for group in MICRO_GROUPS:
                for name in rig.GROUPS[group]:
                    if group == "eyes" and "Blink" in name:
                        continue
                    x = res[keep, _I[name]]
                    if x.std() > 1e-4:
                        a1, a2 = _ar2(x)
                        ar[group].append((a1, a2, float(x.size)))
    res = np.concatenate(resid_all)
    lev = np.concatenate(level_all)
    keep = np.concatenate(keep_all)
    channels: dict[str, list[float]] = {}
    for name in rig.BLENDSHAPES:
        c = _I[name]
        stds = []
        for lo, hi in itertools.pairwise(bins):
            m = keep & (lev[:, c] >= lo) & (lev[:, c] < hi)
            stds.append(round(float(res[m, c].std()), 5) if m.sum() > 60 else None)
        filled = [s for s in stds if s is not None]
        fallback = float(np.median(filled)) if filled else 0.0
        channels[name] = [s if s is not None else round(fallback, 5) for s in stds]
    regions = {}
    for group, rows in ar.items():
        if rows:
            w = np.array([r[2] for r in rows])
            a1 = float(np.average([r[0] for r in rows], weights=w))
            a2 = float(np.average([r[1] for r in rows], weights=w))
            regions[group] = {"a1": round(a1, 5), "a2": round(a2, 5)}
    pairs = {}
    for left, right in rig.MIRROR_PAIRS:
        if left not in rig.BLENDSHAPES:
            continue
        x, y = res[keep, _I[left]], res[keep, _I[right]]
        if x.std() > 1e-5 and y.std() > 1e-5:
            pairs[left.replace("Left", "")] = round(float(np.corrcoef(x, y)[0, 1]), 4)
    gaze_drift: dict[str, float] = {}
    if drift:
        gd = np.concatenate(drift)
        w = np.array([r[2] for r in drift_ar])
        gaze_drift = {"a1": round(float(np.average([r[0] for r in drift_ar], weights=w)), 5),
                      "a2": round(float(np.average([r[1] for r in drift_ar], weights=w)), 5),
                      "std_yaw": round(float(gd[:, 0].std()), 5), "std_pitch": round(float(gd[:, 1].std()), 5)}
    jx, my = res[keep, _I["JawOpen"]], res[keep, _I["MouthClose"]]
    beta = float(np.dot(jx, my) / np.dot(jx, jx))
    return {
        "max_error": max_error,
        "level_bins": list(bins),
        "channel_std": channels,
        "ar2": regions,
        "mirror_correlation": pairs,
        "gaze_drift": gaze_drift,
        "jaw_mouth_close": {"beta": round(beta, 4), "r": round(float(np.corrcoef(jx, my)[0, 1]), 4),
                            "r_values": round(float(np.corrcoef(lev[:, _I["JawOpen"]] + res[:, _I["JawOpen"]],
                                                                lev[:, _I["MouthClose"]] + res[:, _I["MouthClose"]])[0, 1]), 4)},
    }


# ------------------------------------------------------------------------------------------------------ head
def fit_head(segments: list[Segment]) -> dict[str, Any]:
    from scipy.signal import welch

    axes = ("HeadYaw", "HeadPitch", "HeadRoll")
    spectra, stds, used = [], [], 0
    freqs = None
    for seg in segments:
        h = seg.frames[:, [_I[a] for a in axes]]
        if h.std(axis=0).min() < 1e-4 or abs(seg.fps - 60.0) > 1.0:
            continue
        f, p = welch(h, fs=seg.fps, nperseg=int(4 * seg.fps), axis=0, detrend="constant")
        freqs = f
        spectra.append(p)
        stds.append(h.std(axis=0))
        used += 1
    if not spectra or freqs is None:
        return {"segments": 0}
    psd = np.mean(spectra, axis=0)
    keep = freqs <= 8.0
    above = [float(psd[freqs > 1.0, k].sum() / psd[1:, k].sum()) for k in range(3)]
    return {
        "segments": used,
        "freq_hz": [round(float(x), 4) for x in freqs[keep]],
        "psd": {a: [float(f"{x:.4g}") for x in psd[keep, k]] for k, a in enumerate(axes)},
        "std": {a: round(float(np.mean([s[k] for s in stds])), 5) for k, a in enumerate(axes)},
        "power_above_1hz": {a: round(above[k], 4) for k, a in enumerate(axes)},
    }


# --------------------------------------------------------------------------------------------------------- lids
def fit_lids(segments: list[Segment], blink_masks: list[np.ndarray]) -> dict[str, Any]:
    xs, ys = [], []
    for seg, blinking in zip(segments, blink_masks, strict=True):
        f = seg.frames[~blinking]
        pitch = 0.5 * (f[:, _I["LeftEyePitch"]] + f[:, _I["RightEyePitch"]])
        lid = 0.5 * (f[:, _I["EyeBlinkLeft"]] + f[:, _I["EyeBlinkRight"]])
        xs.append(pitch - pitch.mean())
        ys.append(lid - lid.mean())
    x, y = np.concatenate(xs), np.concatenate(ys)
    return {"blink_per_pitch": round(float(np.dot(x, y) / np.dot(x, x)), 4),
            "r": round(float(np.corrcoef(x, y)[0, 1]), 4)}


def _blink_mask(seg: Segment) -> np.ndarray:
    mask = np.zeros(seg.frames.shape[0], bool)
    pad = int(0.1 * seg.fps)
    for e in _blink_events(seg):
        mask[max(0, e["lo"] - pad) : e["hi"] + pad + 1] = True
    return mask


def fit_motion(folder: str | Path, *, max_error: float = 0.05) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit every part of the motion model from the takes under ``folder``.

    Returns (parameters, recipe): parameters as JSON-ready data (see the module docstring); recipe with the inputs
    (file, sha256, frames, fps), the config and the command line. Needs scipy (the ``[train]`` tooling); raises
    :class:`FormatError` when no takes are found.
    """
    segments, inputs = load_segments(folder)
    if not segments:
        raise FormatError(f"no segment of {MIN_SEGMENT_S:g} s or more with valid frames under {folder}")
    masks = [_blink_mask(s) for s in segments]
    params = {
        "format": "keyframeface.motion",
        "version": 1,
        "blinks": fit_blinks(segments),
        "saccades": fit_saccades(segments, masks),
        "onsets": fit_onsets(segments),
        "micro": fit_micro(segments, masks, max_error=max_error),
        "head": fit_head(segments),
        "lids": fit_lids(segments, masks),
        "seconds": round(sum(s.frames.shape[0] / s.fps for s in segments), 2),
    }
    recipe = {
        "format": "keyframeface.motion.recipe",
        "inputs": inputs,
        "config": {"max_error": max_error, "min_segment_s": MIN_SEGMENT_S},
        "command": "keyframeface train motion --real DIR -o motion.json",
        "argv": [Path(sys.argv[0]).name, *sys.argv[1:]],
    }
    return params, recipe
