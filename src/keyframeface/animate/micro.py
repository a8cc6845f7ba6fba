"""Life layer: micro-motion, so a held expression keeps living.

Real faces never hold still: between keyframes a capture wanders around its keyframe interpolation by a few
thousandths. This layer adds that residual as fitted from real takes (:mod:`keyframeface.models.motion`): per
region an AR(2) process (its spectrum, synthesised by FFT from white noise), per channel a standard deviation that
depends on the channel's level (three bins), left/right pairs correlated as measured (so both sides move together
but never identically: a small asymmetry), and MouthClose following JawOpen by the fitted regression (lips stay
together as the jaw drifts). Every non-eye blendshape, plus squint and wide of the lids, moves; gaze, EyeBlink and
the tongue are left to the other layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from .. import rig

__all__ = ["MICRO_FPS", "SYNTH_FPS", "add_micro_motion", "ar2_amplitude", "ar2_noise", "colored_noise", "synth_length",
           "upsample"]

#: The AR(2) coefficients were fitted on 60 fps captures; other rates evaluate the same spectrum in Hz.
MICRO_FPS: Final[float] = 60.0
#: The noise is synthesised at this rate and linearly resampled to the frames: the fitted spectra hold under 1 % of
#: their power above 10 Hz (AR(2) poles near 0.6-0.85), and it makes an hour at 60 fps three times cheaper.
SYNTH_FPS: Final[float] = 20.0
_SKIP: Final[frozenset[str]] = frozenset({"EyeBlinkLeft", "EyeBlinkRight", "TongueOut"})


def colored_noise(count: int, amplitude: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(count, C) float32 noise, each column with unit variance and the amplitude spectrum ``amplitude`` (F, C)
    given on ``np.fft.rfftfreq(count)``'s F bins (its DC bin is ignored): random complex spectrum, one inverse FFT
    for every column."""
    f_bins, columns = amplitude.shape
    if count < 2 or f_bins != count // 2 + 1:
        return np.zeros((max(count, 0), columns), dtype=np.float32)
    amp = np.array(amplitude, dtype=np.float32, copy=True)
    amp[0] = 0.0
    spec = np.empty((f_bins, columns), dtype=np.complex64)
    spec.real = rng.standard_normal((f_bins, columns), dtype=np.float32)
    spec.imag = rng.standard_normal((f_bins, columns), dtype=np.float32)
    spec *= amp
    # variance of irfft(X): sum over bins of weight * |amp|^2 * 2 / n^2 (interior bins count twice)
    weight = np.full(f_bins, 2.0, dtype=np.float64)
    weight[0] = 1.0
    if count % 2 == 0:
        weight[-1] = 1.0
    var = (weight[:, None] * amp.astype(np.float64) ** 2).sum(axis=0) * 2.0 / (count * count)
    x = np.fft.irfft(spec, n=count, axis=0)
    return np.asarray(x / np.sqrt(np.maximum(var, 1e-20)), dtype=np.float32)


def ar2_amplitude(freq_hz: np.ndarray, a1: float, a2: float) -> np.ndarray:
    """Amplitude response (F,) of the AR(2) process (a1, a2) fitted at :data:`MICRO_FPS`, 0 above its Nyquist."""
    w = 2.0 * np.pi * np.minimum(freq_hz, MICRO_FPS / 2.0) / MICRO_FPS
    z = np.exp(-1j * w)
    amp = 1.0 / np.abs(1.0 - a1 * z - a2 * z * z)
    amp[freq_hz > MICRO_FPS / 2.0] = 0.0
    return np.asarray(amp)


def ar2_noise(count: int, columns: int, fps: float, a1: float, a2: float, rng: np.random.Generator) -> np.ndarray:
    """(count, columns) float32 unit-variance noise with the spectrum of AR(2) (a1, a2) at 60 fps, sampled at
    ``fps``."""
    n = max(count, 2)
    amp = ar2_amplitude(np.fft.rfftfreq(n, d=1.0 / fps), a1, a2)
    return colored_noise(n, np.repeat(amp[:, None], columns, axis=1), rng)[:count]


def upsample(low: np.ndarray, times_s: np.ndarray, rate: float) -> np.ndarray:
    """Linear interpolation of ``low`` (M, C), sampled every ``1 / rate`` s from ``times_s[0]``, at ``times_s``
    (T,): one gather and blend for every column. ``M`` must cover the span (``(t[-1] - t[0]) * rate + 2``)."""
    t = np.asarray(times_s, dtype=np.float64)
    pos = (t - t[0]) * rate
    lo = np.minimum(pos.astype(np.int64), low.shape[0] - 2)
    frac = (pos - lo).astype(np.float32)[:, None]
    a = low[lo]
    a += (low[lo + 1] - a) * frac
    return a


def synth_length(times_s: np.ndarray, rate: float) -> int:
    """Samples at ``rate`` that cover ``times_s`` (T,) for :func:`upsample`."""
    return int(np.ceil((float(times_s[-1]) - float(times_s[0])) * rate)) + 2


def add_micro_motion(
    frames: np.ndarray, times_s: np.ndarray, *, model: Mapping[str, Any], rng: np.random.Generator,
    scale: float = 1.0,
) -> np.ndarray:
    """Add micro-motion to ``frames`` (T, 61) at ``times_s`` (T,) evenly spaced seconds; returns a float32 copy
    with blendshapes kept in [0, 1]. ``scale`` multiplies every standard deviation.

    The noise of every channel is made at :data:`SYNTH_FPS` (one inverse FFT), mixed across mirror pairs there
    (a linear mix commutes with linear interpolation) and resampled to the frames once."""
    out = np.array(frames, dtype=np.float32, copy=True)
    t = np.asarray(times_s, dtype=np.float64)
    n = t.shape[0]
    if n < 2 or scale <= 0.0:
        return out
    fps = float((n - 1) / max(t[-1] - t[0], 1e-9))
    micro = model["micro"]
    bins = np.asarray(micro["level_bins"], dtype=np.float32)
    corr: Mapping[str, float] = micro["mirror_correlation"]
    rate = min(fps, SYNTH_FPS)
    m = synth_length(t, rate)
    freq = np.fft.rfftfreq(m, d=1.0 / rate)
    idx: list[int] = []
    amps: list[np.ndarray] = []
    for group, coef in micro["ar2"].items():
        amp = ar2_amplitude(freq, float(coef["a1"]), float(coef["a2"]))
        for name in rig.GROUPS[group]:
            if name not in _SKIP and name in micro["channel_std"]:
                idx.append(rig.CHANNEL_INDEX[name])
                amps.append(amp)
    nb = rig.NUM_BLENDSHAPES
    low = np.zeros((m, nb), dtype=np.float32)
    if not idx:
        return out
    low[:, idx] = colored_noise(m, np.stack(amps, axis=1), rng)
    for left, right in rig.MIRROR_PAIRS:
        rho = corr.get(left.replace("Left", ""))
        if rho is None or left in _SKIP or rig.CHANNEL_INDEX[left] >= nb:
            continue
        rho = float(np.clip(rho, 0.0, 0.98))
        li, ri = rig.CHANNEL_INDEX[left], rig.CHANNEL_INDEX[right]
        low[:, ri] = rho * low[:, li] + np.sqrt(1.0 - rho * rho) * low[:, ri]
    noise = upsample(low, t, rate)  # (T, 52)
    i = rig.CHANNEL_INDEX
    stds = np.zeros((nb, 3), dtype=np.float32)
    for name, s in micro["channel_std"].items():
        if name in i and i[name] < nb and name not in _SKIP:
            stds[i[name]] = s
    stds *= np.float32(scale)
    block = out[:, :nb]
    # level-dependent std: bin 0 below bins[1], bin 1 up to bins[2], bin 2 above (no per-frame loop)
    sigma = np.where(block >= bins[2], stds[:, 2], np.where(block >= bins[1], stds[:, 1], stds[:, 0]))
    noise *= sigma
    # MouthClose rides on JawOpen's drift (residual regression of real takes).
    noise[:, i["MouthClose"]] += np.float32(micro["jaw_mouth_close"]["beta"]) * noise[:, i["JawOpen"]]
    block += noise
    np.clip(block, 0.0, 1.0, out=block)
    return out
