"""Fréchet distance between real and generated motion on 1 s windows, relative to a real-vs-real floor.

Each valid 1 s window of a take becomes a 10-dimensional feature vector describing *how* the face moves, not which
expression it holds (the scripts and the captures show different expressions): for each of five regions (brows,
lids, gaze, jaw, mouth), ``log10`` of the RMS over its channels of the detrended standard deviation (+1e-4) and
``log10`` of the mean absolute speed (central differences, units/s, +1e-3). Head channels are left out: most real
captures hold zeros there (no head tracking), which is missing data rather than stillness. Features are z-scored
with the real windows' mean and standard deviation.

The distance is the Fréchet distance between Gaussians fitted to two window sets
(:func:`keyframeface.evaluate.metrics.frechet_distance`, as in FID). The floor: the real takes are split at random
into two halves by take (:data:`SPLITS` splits, seed 0) and the distance between the halves averaged; the
generated windows are compared with each of the same halves, averaged, so both sides of the ratio use real sets of
the same size. ``ratio`` = generated distance / floor; 1 means as far from the captures as captures are from each
other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from ... import rig
from ..metrics import frechet_distance
from .signals import MotionTake

__all__ = ["FEATURE_NAMES", "SPLITS", "FrechetResult", "motion_frechet", "window_features"]

WINDOW_S: Final[float] = 1.0
SPLITS: Final[int] = 20
_REGIONS: Final[dict[str, tuple[str, ...]]] = {
    "brows": rig.GROUPS["brows"],
    "lids": ("EyeBlinkLeft", "EyeBlinkRight"),
    "gaze": ("LeftEyeYaw", "LeftEyePitch", "RightEyeYaw", "RightEyePitch"),
    "jaw": ("JawOpen",),
    "mouth": rig.GROUPS["mouth"],
}
FEATURE_NAMES: Final[tuple[str, ...]] = tuple(f"{r}_{k}" for r in _REGIONS for k in ("log_std", "log_speed"))
_IDX: Final[list[np.ndarray]] = [np.array([rig.CHANNEL_INDEX[c] for c in names]) for names in _REGIONS.values()]


def window_features(take: MotionTake, *, window_s: float = WINDOW_S) -> np.ndarray:
    """(W, 10) float64 features of the take's valid, non-overlapping ``window_s`` windows (see the module
    docstring); (0, 10) when the take is shorter than one window."""
    n = round(window_s * take.fps)
    rows = []
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    for s in range(0, take.num_frames - n + 1, n):
        if not take.valid[s : s + n].all():
            continue
        feats = []
        for idx in _IDX:
            x = take.values[s : s + n, idx]
            xc = x - x.mean(axis=0)
            slope = (t[:, None] * xc).sum(axis=0) / float((t * t).sum())
            sd = (xc - t[:, None] * slope).std(axis=0)
            speed = np.abs(np.gradient(x, axis=0)).mean(axis=0) * take.fps
            feats += [math.log10(float(np.sqrt((sd**2).mean())) + 1e-4), math.log10(float(speed.mean()) + 1e-3)]
        rows.append(feats)
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURE_NAMES))


@dataclass(frozen=True)
class FrechetResult:
    """``generated``: mean distance of the generated windows to a real half; ``floor``: mean distance between
    the real halves; ``ratio`` = generated / floor (``nan`` when there are too few windows or takes);
    ``real_windows`` / ``generated_windows``: counts; ``splits``: how many random splits were averaged."""

    generated: float
    floor: float
    ratio: float
    real_windows: int
    generated_windows: int
    splits: int

    def to_dict(self) -> dict[str, float | int | None]:
        def clean(v: float) -> float | None:
            return None if math.isnan(v) else v

        return {"generated": clean(self.generated), "floor": clean(self.floor), "ratio": clean(self.ratio),
                "real_windows": self.real_windows, "generated_windows": self.generated_windows,
                "splits": self.splits}


def motion_frechet(real: Sequence[MotionTake], generated: Sequence[MotionTake], *, splits: int = SPLITS,
                   seed: int = 0) -> FrechetResult:
    """Fréchet distance of ``generated`` windows to ``real`` ones, relative to the real-vs-real floor (module
    docstring). Needs at least 2 real takes and 2 windows on every side; otherwise the values are ``nan``."""
    real_f = [window_features(t) for t in real]
    gen = np.concatenate([window_features(t) for t in generated]) if generated else np.zeros((0, 10))
    n_real = int(sum(len(f) for f in real_f))
    nan = FrechetResult(math.nan, math.nan, math.nan, n_real, len(gen), 0)
    usable = [f for f in real_f if len(f)]
    if len(usable) < 2 or len(gen) < 2:
        return nan
    allr = np.concatenate(usable)
    mu, sd = allr.mean(axis=0), np.maximum(allr.std(axis=0), 1e-6)
    z = [(f - mu) / sd for f in usable]
    g = (gen - mu) / sd
    rng = np.random.default_rng(seed)
    floors, gens = [], []
    for _ in range(splits):
        order = rng.permutation(len(z))
        half = len(z) // 2
        a = np.concatenate([z[i] for i in order[:half]])
        b = np.concatenate([z[i] for i in order[half:]])
        if len(a) < 2 or len(b) < 2:
            continue
        floors.append(frechet_distance(a, b))
        gens.append((frechet_distance(g, a) + frechet_distance(g, b)) / 2.0)
    if not floors:
        return nan
    floor, dist = float(np.mean(floors)), float(np.mean(gens))
    ratio = dist / floor if floor > 0 else math.inf
    return FrechetResult(dist, floor, ratio, n_real, len(gen), len(floors))
