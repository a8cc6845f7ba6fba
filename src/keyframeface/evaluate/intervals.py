"""95% intervals for evaluation numbers: percentile bootstrap over clips (or cases), pooled over seeds.

Every number the evaluation reports with an interval is a *ratio of sums* over independent units: MAE is the sum of
absolute errors over all valid keyframes' values divided by how many values there are, summed clip by clip; the
semantic check score is checks passed over checks asked, summed case by case; the share of cases fully passed is
cases passed over cases (each case counting 1). The units (clips, cases) are what was sampled, so they are what is
resampled: a *cluster* bootstrap that draws whole clips (all their keyframes) or whole cases (all their checks)
with replacement and recomputes the ratio.

Contract of :func:`ratio_interval`:

* ``groups``: one ``(numerators, denominators)`` pair of equal-length 1-D arrays per generation (one per seed when
  sampling, a single one for deterministic backends or greedy decoding); each array entry is one unit.
* ``mean``: the mean over groups of each group's ratio ``sum(num) / sum(den)`` (the plain ratio for one group).
* ``low``, ``high``: the 2.5th and 97.5th percentiles of the pooled bootstrap replicates: ``resamples``
  replicates per group, each from its own draw of units with replacement, all groups' replicates pooled. The
  pooled distribution is the mixture of the per-seed bootstrap distributions, so its spread includes both the
  clip-to-clip variation (within each seed) and the seed-to-seed variation (between their centres). With one
  group this is the ordinary percentile bootstrap.
* Deterministic: the generator is ``numpy.random.default_rng(seed)`` and the draws happen in group order, so the
  same inputs and ``seed`` give the same interval. One unit gives ``low == high == mean``; no units (or a zero
  total denominator) gives NaN. Units with denominator 0 (a clip whose keyframes all failed) stay in the draw and
  add nothing; a replicate whose drawn denominators sum to 0 is dropped.

The defaults (:data:`RESAMPLES` = 1000, :data:`SEED` = 0) are what ``keyframeface eval`` uses; the JSON report
records them under ``"intervals"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from ..errors import FormatError

__all__ = ["LEVEL", "METHOD", "RESAMPLES", "SEED", "Interval", "format_interval", "ratio_interval"]

#: Bootstrap replicates per group (per seed).
RESAMPLES: Final[int] = 1000
#: Seed of the bootstrap's own random generator (fixed: the same report gives the same intervals).
SEED: Final[int] = 0
#: Two-sided coverage of the intervals.
LEVEL: Final[float] = 0.95
#: One line describing the method, recorded in reports.
METHOD: Final[str] = ("percentile cluster bootstrap over clips (MSE/MAE/validity) or cases (semantic), "
                      f"{RESAMPLES} resamples per seed, replicates pooled over seeds, bootstrap seed {SEED}")


@dataclass(frozen=True)
class Interval:
    """A point estimate with its interval: ``mean`` and ``[low, high]``; ``n``: units per group (clips, cases)."""

    mean: float
    low: float
    high: float
    n: int = 0

    def to_list(self) -> list[float]:
        """``[low, high]`` (what the JSON report stores next to the mean)."""
        return [self.low, self.high]


def _as_units(num: Sequence[float] | np.ndarray, den: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(num, dtype=np.float64).ravel()
    d = np.asarray(den, dtype=np.float64).ravel()
    if n.shape != d.shape:
        raise FormatError(f"expected as many numerators as denominators, got {n.size} and {d.size}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(d))) or np.any(d < 0):
        raise FormatError("bootstrap units must be finite with non-negative denominators")
    return n, d


def ratio_interval(
    groups: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> Interval:
    """Mean and percentile-bootstrap interval of ``sum(num) / sum(den)`` over units, pooled over ``groups``.

    See the module docstring for the exact contract. Raises :class:`FormatError` for mismatched or non-finite
    inputs, ``resamples < 1`` or ``level`` outside (0, 1).
    """
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 1:
        raise FormatError(f"resamples must be an integer >= 1, got {resamples!r}")
    if not 0.0 < float(level) < 1.0:
        raise FormatError(f"level must be between 0 and 1, got {level!r}")
    units = [_as_units(num, den) for num, den in groups]
    rng = np.random.default_rng(seed)
    means: list[float] = []
    pooled: list[np.ndarray] = []
    size = 0
    for num, den in units:
        total = float(den.sum())
        if num.size == 0 or total <= 0:
            continue
        size = max(size, num.size)
        means.append(float(num.sum()) / total)
        idx = rng.integers(0, num.size, size=(int(resamples), num.size))
        rn, rd = num[idx].sum(axis=1), den[idx].sum(axis=1)
        keep = rd > 0
        pooled.append(rn[keep] / rd[keep])
    if not means:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(np.mean(means))
    reps = np.concatenate(pooled)
    if reps.size == 0:
        return Interval(mean, math.nan, math.nan, size)
    tail = (1.0 - float(level)) / 2.0 * 100.0
    low, high = (float(v) for v in np.percentile(reps, [tail, 100.0 - tail]))
    # floating-point sums of identical draws can land a hair off the mean; an interval always contains its mean
    return Interval(mean, min(low, mean), max(high, mean), size)


def format_interval(mean: float, low: float | None, high: float | None, *, digits: int = 3) -> str:
    """``"0.0187 [0.0172, 0.0203]"``; the bare mean when the interval is missing or rounds to the mean; ``"-"``
    for a missing mean."""
    if mean is None or not math.isfinite(mean):
        return "-"
    text = f"{mean:.{digits}f}"
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return text
    lo, hi = f"{low:.{digits}f}", f"{high:.{digits}f}"
    if lo == text and hi == text:
        return text
    return f"{text} [{lo}, {hi}]"
