"""Evaluation metrics: keyframe errors per face region, and the text-to-motion metrics of Guo et al. 2022.

KeyframeFace (arXiv 2512.11321) reports MSE/MAE on the 61 values; text-to-motion work (Guo et al. 2022,
"Generating Diverse and Natural 3D Human Motions from Text", the HumanML3D protocol) adds R-Precision, multimodal
distance, FID and diversity computed on a learned text/motion evaluator's embeddings, each as mean and 95%
confidence interval over repeated runs. Everything here is plain numpy (no scipy) so evaluation runs anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np

from .. import rig
from ..errors import KeyframeFaceError

__all__ = [
    "REGIONS",
    "diversity",
    "frechet_distance",
    "keyframe_errors",
    "mean_ci",
    "multimodal_distance",
    "r_precision",
    "region_indices",
]

#: Reporting regions, built from :data:`keyframeface.rig.GROUPS` (the tongue counts as mouth; cheeks and nose,
#: and head and eye rotations, are reported together as in the brief's region list).
REGIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "brows": ("brows",),
    "eyes": ("eyes",),
    "gaze": ("gaze",),
    "jaw": ("jaw",),
    "mouth": ("mouth", "tongue"),
    "cheeks_nose": ("cheeks", "nose"),
    "pose": ("head", "eye_rotation"),
}

#: Batch size of R-Precision: the true motion is ranked among 32 (Guo et al. 2022, Sec. 5; HumanML3D code).
R_PRECISION_BATCH: Final[int] = 32
#: Random pairs for diversity (HumanML3D uses 300; fewer when there are fewer samples).
DIVERSITY_PAIRS: Final[int] = 300
#: z for a two-sided 95% interval, the normal approximation HumanML3D and MDM use (1.96 * std / sqrt(n)).
_Z95: Final[float] = 1.96


def region_indices() -> dict[str, np.ndarray]:
    """Channel indices (int64 arrays into the 61) of each region of :data:`REGIONS`, plus ``"all"``."""
    out: dict[str, np.ndarray] = {}
    for region, groups in REGIONS.items():
        names = [n for g in groups for n in rig.GROUPS[g]]
        out[region] = np.array(sorted(rig.CHANNEL_INDEX[n] for n in names), dtype=np.int64)
    out["all"] = np.arange(rig.NUM_CHANNELS, dtype=np.int64)
    return out


def _pair(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(true, dtype=np.float64)
    if p.ndim == 1:
        p, t = p[None, :], t.reshape(1, -1)
    if p.shape != t.shape or p.ndim != 2 or p.shape[1] != rig.NUM_CHANNELS:
        raise KeyframeFaceError(f"expected two (N, {rig.NUM_CHANNELS}) arrays of the same shape, got {p.shape} "
                                f"and {t.shape}")
    return p, t


def keyframe_errors(pred: np.ndarray, true: np.ndarray) -> dict[str, dict[str, float]]:
    """MSE and MAE of predicted against ground-truth keyframe values, overall and per region.

    ``pred``, ``true``: (N, 61) float arrays (one row per keyframe, channels in :data:`rig.CHANNELS` order).
    Returns ``{"all": {"mse", "mae"}, "brows": {...}, ...}``: means over keyframes and the region's channels.
    An empty input gives NaN.
    """
    p, t = _pair(pred, true)
    diff = p - t
    out: dict[str, dict[str, float]] = {}
    for region, idx in region_indices().items():
        d = diff[:, idx]
        out[region] = {
            "mse": float(np.mean(d * d)) if d.size else math.nan,
            "mae": float(np.mean(np.abs(d))) if d.size else math.nan,
        }
    return {"all": out.pop("all"), **out}


def _emb(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise KeyframeFaceError(f"{name}: expected an (N, D) embedding array, got shape {a.shape}")
    return a


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix (N, M) between rows of ``a`` (N, D) and ``b`` (M, D)."""
    sq = np.sum(a * a, axis=1)[:, None] + np.sum(b * b, axis=1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def r_precision(
    text: np.ndarray,
    motion: np.ndarray,
    *,
    batch_size: int = R_PRECISION_BATCH,
    top_k: int = 3,
    seed: int = 0,
) -> tuple[float, ...]:
    """R-Precision top-1 .. top-``top_k`` (Guo et al. 2022): for each text, is its own motion among the ``k``
    nearest (Euclidean) motions of its batch of ``batch_size`` (text, motion) pairs?

    ``text``, ``motion``: (N, D) embeddings, row i of one matching row i of the other. Pairs are shuffled with
    ``seed`` and cut into batches of ``batch_size``; motions as close as the true one count as ranked before it
    (so constant output scores 0, not 1). The incomplete last batch is dropped as in the HumanML3D
    code, except when N < ``batch_size``, where the single batch of all N is used (note: chance is then higher).
    Returns ``top_k`` fractions in [0, 1]: top-1, top-2, ... (cumulative).
    """
    for name, value in (("batch_size", batch_size), ("top_k", top_k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise KeyframeFaceError(f"r_precision {name} must be an integer >= 1, got {value!r}")
    t, m = _emb(text, "text"), _emb(motion, "motion")
    if t.shape[0] != m.shape[0]:
        raise KeyframeFaceError(f"expected as many texts as motions, got {t.shape[0]} and {m.shape[0]}")
    for name, a in (("text", t), ("motion", m)):
        # NaN distances compare False, so a NaN embedding would rank its own motion first and score 1.0
        if not np.all(np.isfinite(a)):
            raise KeyframeFaceError(f"{name}: expected finite embeddings, got NaN or infinity; check the encoder "
                                    "or the values it was given")
    n = t.shape[0]
    if n == 0:
        return tuple(math.nan for _ in range(top_k))
    order = np.random.default_rng(seed).permutation(n)
    size = batch_size if n >= batch_size else n
    hits = np.zeros(top_k, dtype=np.float64)
    count = 0
    for start in range(0, n - size + 1, size):
        idx = order[start:start + size]
        d = _distances(t[idx], m[idx])
        # rank of the true motion: how many other motions are at least as close. Ties count against it, so a
        # generator that writes the same face for every script cannot score by tying with the truth.
        rank = np.sum(d <= np.diag(d)[:, None], axis=1) - 1
        for k in range(top_k):
            hits[k] += float(np.sum(rank <= k))
        count += size
    return tuple(float(h / count) for h in hits)


def multimodal_distance(text: np.ndarray, motion: np.ndarray) -> float:
    """Mean Euclidean distance between each text embedding and its own motion's (Guo et al. 2022, "MM Dist").

    ``text``, ``motion``: (N, D). Lower is better.
    """
    t, m = _emb(text, "text"), _emb(motion, "motion")
    if t.shape != m.shape:
        raise KeyframeFaceError(f"expected matching (N, D) arrays, got {t.shape} and {m.shape}")
    if t.shape[0] == 0:
        return math.nan
    return float(np.mean(np.linalg.norm(t - m, axis=1)))


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigendecomposition; negative noise clipped)."""
    w, v = np.linalg.eigh((a + a.T) / 2.0)
    return (v * np.sqrt(np.maximum(w, 0.0))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two embedding sets (FID; Heusel et al. 2017).

    ``a``: (N, D), ``b``: (M, D), N, M >= 2. ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)``;
    the matrix square roots use symmetric eigendecompositions, so no scipy is needed.
    """
    x, y = _emb(a, "a"), _emb(b, "b")
    if x.shape[1] != y.shape[1]:
        raise KeyframeFaceError(f"expected embeddings of the same width, got {x.shape[1]} and {y.shape[1]}")
    if x.shape[0] < 2 or y.shape[0] < 2:
        return math.nan
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    s1, s2 = np.atleast_2d(s1), np.atleast_2d(s2)
    r1 = _sqrt_psd(s1)
    inner = _sqrt_psd(r1 @ s2 @ r1)
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(inner))
    return max(value, 0.0)


def diversity(embeddings: np.ndarray, *, pairs: int = DIVERSITY_PAIRS, seed: int = 0) -> float:
    """Mean Euclidean distance between ``pairs`` random pairs of embeddings (Guo et al. 2022, "Diversity").

    ``embeddings``: (N, D). Two index sets of size min(pairs, N) are drawn without replacement with ``seed``
    (HumanML3D's procedure); NaN when N < 2.
    """
    x = _emb(embeddings, "embeddings")
    n = x.shape[0]
    if n < 2:
        return math.nan
    rng = np.random.default_rng(seed)
    k = min(pairs, n)
    first = rng.choice(n, k, replace=False)
    second = rng.choice(n, k, replace=False)
    return float(np.mean(np.linalg.norm(x[first] - x[second], axis=1)))


def mean_ci(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and 95% confidence half-width over repeated runs: ``1.96 * std / sqrt(n)`` with the population std,
    as in the HumanML3D / MDM evaluation code. One value gives a half-width of 0; NaNs are ignored."""
    a = np.asarray(values, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return math.nan, math.nan
    return float(a.mean()), float(_Z95 * a.std() / math.sqrt(a.size))
