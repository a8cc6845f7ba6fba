"""Life layers drawn from the motion model fitted on real captures: blinks, saccades, head motion.

* **blinks**: inter-blink intervals from a gamma distribution with the fitted shape (real CV ~0.9) and a mean set by
  the fitted rate times an emotion factor (:data:`BLINK_RATE_WORDS`); duration and amplitude (partial closures)
  drawn from the fitted quantiles; the shape is the median real blink. During a blink the eyes turn down by the
  fitted pitch per unit of closure (Bell's phenomenon; real takes: +0.28 rig pitch at full closure).
* **saccades**: inter-saccade intervals and amplitudes from the fitted quantiles, direction weighted by the fitted
  horizontal share, kept within :data:`MAX_GAZE_OFFSET` of the keyed gaze; each jump follows the fitted main
  sequence (peak velocity ``v0 + v1 x amplitude``); between them the gaze drifts (fitted AR(2) residual of both
  eyes together), so a fixation is never frozen. The lids follow the vertical part (fitted EyeBlink per pitch).
* **head**: per axis, noise with the fitted amplitude spectrum (Welch PSD of a real speech take), synthesised by FFT.

Quantile tables are sampled by inverse CDF (linear between the 21 stored quantiles).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from .. import rig
from .gaze import _DOWNWARD, _RIGHTWARD, _shift
from .micro import MICRO_FPS, ar2_amplitude, colored_noise, synth_length, upsample

__all__ = ["BLINK_RATE_WORDS", "HEAD_SYNTH_FPS", "MAX_GAZE_OFFSET", "add_fitted_blinks", "add_fitted_head", "add_fitted_saccades",
           "blink_rate_factor"]

#: Head noise is made at this rate and resampled: the fitted spectrum stops at 8 Hz (its Nyquist is 15 Hz).
HEAD_SYNTH_FPS: Final[float] = 30.0
#: Gaze stays within this distance of the keyed gaze (eye-rotation units; real saccade amplitudes: 95 % < 0.35).
MAX_GAZE_OFFSET: Final[float] = 0.25
#: Words of the emotion / background -> factor on the blink rate. Blink rate rises with anxiety and stress
#: (Harrigan & O'Connell 1996, Pers. Individ. Dif. 21:205-212) and in conversation (Bentivoglio et al. 1997, Mov.
#: Disord. 12:1028-1034: 17/min at rest, 26/min talking, 4.5/min reading); it falls with concentrated attention
#: (reading, Bentivoglio 1997) and rises with fatigue (Stern et al. 1994, Hum. Factors 36:285-297).
BLINK_RATE_WORDS: Final[tuple[tuple[str, float], ...]] = (
    (r"anx\w*|nerv\w*|fear\w*|afraid|scared|panic\w*|stress\w*|tense|worr\w*|uneas\w*", 1.4),
    (r"talk\w*|speak\w*|say\w*|tell\w*|conversation|chat\w*|explain\w*|argu\w*", 1.35),
    (r"tired|exhaust\w*|weary|sleepy|drows\w*|fatigue\w*", 1.2),
    (r"read\w*|concentrat\w*|focus\w*|stare\w*|staring|intent\w*|absorb\w*|study\w*", 0.45),
)
_RATE_RES = tuple((re.compile(rf"\b(?:{p})\b", re.IGNORECASE), f) for p, f in BLINK_RATE_WORDS)
_I = rig.CHANNEL_INDEX
_BLINK = np.array([_I["EyeBlinkLeft"], _I["EyeBlinkRight"]])
_WIDE = np.array([_I["EyeWideLeft"], _I["EyeWideRight"]])
_SQUINT = np.array([_I["EyeSquintLeft"], _I["EyeSquintRight"]])
_HEAD = np.array([_I["HeadYaw"], _I["HeadPitch"], _I["HeadRoll"]])


def blink_rate_factor(text: str) -> float:
    """Factor on the fitted blink rate from the emotion / background words (1.0 when none), in [0.3, 2.5]."""
    f = 1.0
    for pattern, factor in _RATE_RES:
        if text and pattern.search(text):
            f *= factor
    return float(np.clip(f, 0.3, 2.5))


def _sample(q: list[float], u: np.ndarray) -> np.ndarray:
    table = np.asarray(q, dtype=np.float64)
    return np.asarray(np.interp(u, np.linspace(0.0, 1.0, table.shape[0]), table))


def add_fitted_blinks(
    frames: np.ndarray, t: np.ndarray, *, model: Mapping[str, Any], rng: np.random.Generator, rate_factor: float = 1.0,
    eyes_down: bool = True,
) -> tuple[np.ndarray, int]:
    """Blinks on ``frames`` (T, 61) at ``t`` (T,) seconds; returns (float32 copy, blinks added). Blinks are skipped
    where the keyed lids are already mostly closed (>= 0.5) or squinting hard (>= 0.7)."""
    out = np.array(frames, dtype=np.float32, copy=True)
    if t.shape[0] == 0:
        return out, 0
    bl = model["blinks"]
    shape = float(bl["interval_gamma_shape"])
    mean = 60.0 / (float(bl["rate_per_min"]) * rate_factor)
    span = float(t[-1] - t[0])
    n = int(span / mean * 3) + 8
    gaps = np.maximum(rng.gamma(shape, mean / shape, n), 0.3)  # no blink within 0.3 s of the last one
    first = rng.uniform(0.2, 1.0) * min(mean, 3.0)
    onsets = t[0] + first + np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    onsets = onsets[onsets < t[-1]]
    m = onsets.shape[0]
    if m == 0:
        return out, 0
    dur = _sample(bl["duration_s_quantiles"], rng.uniform(size=m))
    amp = _sample(bl["amplitude_quantiles"], rng.uniform(size=m))
    grid = np.asarray(bl["template_grid"], dtype=np.float64)
    tmpl = np.clip(np.asarray(bl["template"], dtype=np.float64), 0.0, None)
    tmpl = tmpl / max(tmpl.max(), 1e-9)
    tmpl[0] = tmpl[-1] = 0.0
    lead = -grid[0]  # the template starts this many durations before the 10 % onset
    starts = onsets - lead * dur
    lengths = (grid[-1] - grid[0]) * dur
    probe = np.clip(np.searchsorted(t, starts[:, None] + np.array([0.0, 0.5, 1.0]) * lengths[:, None]), 0,
                    t.shape[0] - 1)
    lids = out[probe]
    keep = ~((lids[..., _BLINK].max(axis=(1, 2)) >= 0.5) | (lids[..., _SQUINT].max(axis=(1, 2)) >= 0.7))
    starts, lengths, amp = starts[keep], lengths[keep], amp[keep]
    if starts.shape[0] == 0:
        return out, 0
    j = np.searchsorted(starts, t, side="right") - 1
    jj = np.maximum(j, 0)
    u = (t - starts[jj]) / lengths[jj]
    inside = (j >= 0) & (u >= 0.0) & (u <= 1.0)
    b = np.where(inside, np.interp(u, (grid - grid[0]) / (grid[-1] - grid[0]), tmpl) * amp[jj], 0.0)
    b32 = b.astype(np.float32)[:, None]
    base = out[:, _BLINK]
    # the fitted amplitude is the excursion above the lid's own level (fit.py), so it is added, up to closed lids
    out[:, _BLINK] = np.minimum(base + b32, np.maximum(base, 1.0))
    out[:, _WIDE] = out[:, _WIDE] * (1.0 - b32)
    if eyes_down:
        down = (float(bl["pitch_per_closure"]) / rig.EYE_PITCH_GAIN) * b
        for pos, neg in _DOWNWARD:
            _shift(out, pos, neg, down.astype(np.float32))
    return out, int(starts.shape[0])


def add_fitted_saccades(
    frames: np.ndarray, t: np.ndarray, *, model: Mapping[str, Any], rng: np.random.Generator, lids: bool = True,
) -> tuple[np.ndarray, int]:
    """Saccades around the keyed gaze on ``frames`` (T, 61) at ``t`` (T,) evenly spaced seconds, with the fitted
    fixational drift between them (AR(2) noise of both eyes together, ``model["micro"]["gaze_drift"]``); returns
    (float32 copy, saccades). Only eyeLook channels (and, with ``lids``, EyeBlink following the vertical offset)
    change; rotations are synced by the caller."""
    out = np.array(frames, dtype=np.float32, copy=True)
    if t.shape[0] == 0:
        return out, 0
    sc = model["saccades"]
    span = float(t[-1] - t[0])
    q = np.asarray(sc["interval_s_quantiles"], dtype=np.float64)
    n = int(span / max(float(np.median(q)), 0.05)) * 2 + 8
    gaps = np.maximum(_sample(sc["interval_s_quantiles"], rng.uniform(size=n)), 0.1)
    onsets = t[0] + np.cumsum(gaps)
    onsets = onsets[onsets < t[-1]]
    m = onsets.shape[0]
    off = _saccade_offsets(t, onsets, sc, rng) if m else np.zeros((t.shape[0], 2))
    off += _gaze_drift(t, model["micro"].get("gaze_drift"), rng)
    for pos, neg in _RIGHTWARD:
        _shift(out, pos, neg, (off[:, 0] / rig.EYE_YAW_GAIN).astype(np.float32))
    for pos, neg in _DOWNWARD:
        _shift(out, pos, neg, (off[:, 1] / rig.EYE_PITCH_GAIN).astype(np.float32))
    if lids:
        gain = float(model["lids"]["blink_per_pitch"])
        out[:, _BLINK] += (gain * off[:, 1]).astype(np.float32)[:, None]
    np.clip(out[:, : rig.NUM_BLENDSHAPES], 0.0, 1.0, out=out[:, : rig.NUM_BLENDSHAPES])
    return out, m


def _gaze_drift(t: np.ndarray, drift: Mapping[str, float] | None, rng: np.random.Generator) -> np.ndarray:
    """(T, 2) fixational drift (yaw, pitch; rotation units) at ``t``: zeros without fitted parameters."""
    n = t.shape[0]
    if not drift or n < 2:
        return np.zeros((n, 2))
    fps = float((n - 1) / max(t[-1] - t[0], 1e-9))
    rate = min(fps, MICRO_FPS)  # 2 columns: made at the capture rate, so its speed is the real one
    m = synth_length(t, rate)
    amp = ar2_amplitude(np.fft.rfftfreq(m, d=1.0 / rate), float(drift["a1"]), float(drift["a2"]))
    low = colored_noise(m, np.stack([amp, amp], axis=1), rng)
    low *= np.array([float(drift["std_yaw"]), float(drift["std_pitch"])], dtype=np.float32)
    return np.asarray(upsample(low, t, rate), dtype=np.float64)


def _saccade_offsets(
    t: np.ndarray, onsets: np.ndarray, sc: Mapping[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """(T, 2) gaze offset (yaw, pitch; rotation units) of the saccades starting at ``onsets`` (M,) >= 1."""
    m = onsets.shape[0]
    amps = _sample(sc["amplitude_quantiles"], np.asarray(rng.uniform(size=m)))
    share = float(sc["horizontal_share"])
    ang = rng.uniform(0.0, 2.0 * np.pi, m)
    dirs = np.stack([np.cos(ang) * share, np.sin(ang) * (1.0 - share)], axis=1)
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    targets = np.zeros((m + 1, 2))
    for k in range(m):  # a walk that turns back toward the keyed gaze when it would stray too far
        step = dirs[k] * amps[k]
        nxt = targets[k] + step
        if np.linalg.norm(nxt) > MAX_GAZE_OFFSET:
            nxt = targets[k] - step
            if np.linalg.norm(nxt) > MAX_GAZE_OFFSET:
                nxt = nxt * (MAX_GAZE_OFFSET / np.linalg.norm(nxt))
        targets[k + 1] = nxt
    amp = np.linalg.norm(np.diff(targets, axis=0), axis=1)
    peak = float(sc["peak_velocity"]["intercept"]) + float(sc["peak_velocity"]["per_unit"]) * amp
    dur = np.clip(1.875 * amp / np.maximum(peak, 1e-3), 1.0 / 120.0, 0.3)
    j = np.searchsorted(onsets, t, side="right")
    jj = np.maximum(j - 1, 0)
    u = np.where(j > 0, np.clip((t - onsets[jj]) / dur[jj], 0.0, 1.0), 1.0)
    s = (u * u * u * (10.0 - 15.0 * u + 6.0 * u * u))[:, None]  # minimum jerk (Flash & Hogan 1985)
    prev = targets[jj]
    prev = np.where((j > 0)[:, None], prev, 0.0)
    return np.asarray(prev + (targets[j] - prev) * s)


def add_fitted_head(frames: np.ndarray, t: np.ndarray, *, model: Mapping[str, Any],
                    rng: np.random.Generator) -> np.ndarray:
    """Head motion with the fitted per-axis spectrum and standard deviation on ``frames`` (T, 61) at ``t`` (T,)
    evenly spaced seconds. The three axes are made at :data:`HEAD_SYNTH_FPS` in one inverse FFT and resampled to
    the frames once."""
    out = np.array(frames, dtype=np.float32, copy=True)
    n = t.shape[0]
    head = model.get("head", {})
    if n < 2 or not head.get("segments"):
        return out
    fps = float((n - 1) / max(t[-1] - t[0], 1e-9))
    rate = min(fps, HEAD_SYNTH_FPS)
    m = synth_length(t, rate)
    f = np.fft.rfftfreq(m, d=1.0 / rate)
    grid = np.asarray(head["freq_hz"], dtype=np.float64)
    axes = ("HeadYaw", "HeadPitch", "HeadRoll")
    amps = []
    for axis in axes:
        psd = np.asarray(head["psd"][axis], dtype=np.float64)
        # below the lowest resolved band keep its level (a slow drift), above the fitted band nothing
        amps.append(np.sqrt(np.interp(f, grid[1:], psd[1:], left=psd[1], right=0.0)))
    low = colored_noise(m, np.stack(amps, axis=1), rng)
    low *= np.array([float(head["std"][a]) for a in axes], dtype=np.float32)
    out[:, _HEAD] += upsample(low, t, rate)
    np.clip(out[:, _HEAD], -1.0, 1.0, out=out[:, _HEAD])
    return out
