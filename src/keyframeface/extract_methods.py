"""Keyframe selection algorithms behind :func:`keyframeface.extract.extract`, and their registry.

Every method solves the same problem, a :class:`Fit`: given ``n`` valid frames of one take, choose frame indices
(always including the first and the last) whose interpolation reconstructs every frame within ``max_error``, with
as few keyframes as possible, or choose exactly ``count`` of them with as small an error as possible. All methods
are deterministic (ties go to the earliest frame).

Methods (``n`` frames, ``K`` keyframes, ``C`` = 61 channels, ``M`` dp candidates); measured times and counts are
in ``benchmarks/bench_extract.py``:

* ``greedy``: error-driven insertion. Start from the first and last frame and repeatedly add the frame that is
  worst reconstructed. After an insertion only the frames whose curve can change are re-evaluated, from the few
  keys that shape them (one segment on each side for linear, two for pchip, whose tangents see one neighbour);
  a full evaluation at the end guards that assumption. Then (bound mode) one removal sweep drops keys that later
  insertions made redundant. About ``O(K * (n + s * C))`` for a mean affected span of ``s`` frames. With
  ``count`` it minimises the worst frame greedily; it is the method to use for a tight max error.
* ``dp``: optimal segmentation by dynamic programming over candidate frames. A pchip segment depends on its
  neighbouring keys, so no segment can be scored alone; dp scores each span with a model of its own (see
  :class:`Fit`: for pchip, a cubic Hermite segment with the take's own tangents, which is exact when the keys are
  those a pchip curve was made from, so keyed content is recovered). Candidates: a coarse-to-fine linear split
  hierarchy plus each channel's turning points (at most ``DP_MAX_CANDIDATES``). With ``max_error`` it finds the
  fewest keys whose modelled spans stay within the bound (ties: the smallest squared error), scanning each
  candidate's successors only until a chunk of infeasible spans (``O(M * w * L * C)`` for ``w`` successors
  scanned over ``L`` frames), then the greedy repair and sweep with the real interpolation restore the bound.
  With ``count`` it minimises the total squared error of *linear* spans (costs in ``O(C)`` per span from prefix
  sums, spans up to a band of candidates: ``O(count * M * band)``): the lowest RMSE of all methods, but not the
  lowest maximum error.
* ``rdp``: Ramer-Douglas-Peucker: split top-down at the frame farthest from the linear chord until the chords are
  within the bound, then the same greedy repair and sweep. With ``count``: the first ``count`` splits.
* ``uniform``: evenly spaced in time, the baseline. With ``max_error``: the smallest such count found by doubling
  and bisection, always one that was checked.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .errors import ScriptError
from .registry import Registry

__all__ = [
    "DP_MAX_CANDIDATES",
    "ENTRY_POINT_GROUP",
    "METHODS",
    "METRICS",
    "SPAN_MODELS",
    "Fit",
    "Interpolator",
    "SelectionMethod",
    "available_methods",
    "get_method",
    "linear_interpolate",
    "register_method",
]

logger = logging.getLogger(__name__)

#: ``interpolate(times_s (K,), values (K, C), t_out (T,)) -> (T, C) float32``.
Interpolator = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

#: Per-frame error metrics: the largest weighted absolute error over channels, or the weighted RMSE over channels.
METRICS: tuple[str, ...] = ("max_abs", "rmse")
#: How dp models one span on its own (see :class:`Fit`).
SPAN_MODELS: tuple[str, ...] = ("step", "linear", "flat", "hermite")

#: Upper bound on the dp candidate set (bounds its time and its M x band cost table).
DP_MAX_CANDIDATES = 1200
# dp (max_error mode) scans each candidate's successors in chunks of this many and stops after a chunk in which
# no span is feasible; spans are checked a chunk at a time to vectorise the work.
_DP_CHUNK = 8
# Numbers per (spans, frames, channels) temporary when scoring spans: 4M float64 = 32 MB.
_SPAN_BLOCK = 1 << 22


def linear_interpolate(times_s: np.ndarray, values: np.ndarray, t_out: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation of every channel: times_s (K,), values (K, C), t_out (T,) -> (T, C) float32.

    Outside ``[times_s[0], times_s[-1]]`` the end values are held. ``K`` may be 1 (a constant).
    """
    t = np.asarray(times_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    q = np.asarray(t_out, dtype=np.float64)
    if t.shape[0] == 1:
        return np.repeat(v.astype(np.float32), q.shape[0], axis=0)
    seg = np.clip(np.searchsorted(t, q, side="right") - 1, 0, t.shape[0] - 2)
    u = np.clip((q - t[seg]) / (t[seg + 1] - t[seg]), 0.0, 1.0)[:, None]
    return (v[seg] * (1.0 - u) + v[seg + 1] * u).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Fit:
    """One selection problem.

    ``times_s``: (n,) float64, strictly increasing (valid frames only). ``target``: (n, C) float32, the capture
    clamped into range. ``weights``: (C,) float64 >= 0 with a positive sum; a zero weight ignores the channel.
    ``metric``: one of :data:`METRICS`. ``interpolate``: the interpolation the keyframes will be played back with.
    ``locality``: how many keys on each side of an inserted key can see their curve change (1 for linear, 2 for
    pchip), or ``None`` when a key can change the whole curve. ``span_model``: how dp scores a span between two
    keys on its own (one of :data:`SPAN_MODELS`): ``"step"``, ``"linear"`` and ``"flat"`` (Hermite with zero
    tangents) are exact for the interpolations of those names; ``"hermite"`` uses the take's own tangents, exact
    for pchip when the keys are the ones a pchip curve was made from, and an approximation otherwise.
    """

    times_s: np.ndarray
    target: np.ndarray
    weights: np.ndarray
    metric: str
    interpolate: Interpolator
    locality: int | None
    span_model: str = "hermite"

    @property
    def n(self) -> int:
        return int(self.times_s.shape[0])

    def frame_error(self, recon: np.ndarray, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Per-frame error of ``recon`` (hi - lo, C) against frames ``lo:hi``: (hi - lo,) float64."""
        diff = np.abs(np.asarray(recon, dtype=np.float64) - self.target[lo:hi])
        return _frame_error(diff, self.weights, self.metric)

    def errors(self, knots: np.ndarray, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Per-frame error of frames ``lo:hi`` when ``knots`` (sorted frame indices) are the keyframes."""
        hi = self.n if hi is None else hi
        knots = np.asarray(knots, dtype=np.int64)
        recon = self.interpolate(self.times_s[knots], self.target[knots], self.times_s[lo:hi])
        return self.frame_error(recon, lo, hi)

    def with_interpolation(self, interpolate: Interpolator, locality: int | None, span_model: str) -> Fit:
        return Fit(self.times_s, self.target, self.weights, self.metric, interpolate, locality, span_model)


def _frame_error(diff: np.ndarray, weights: np.ndarray, metric: str) -> np.ndarray:
    """diff (..., C) absolute errors -> (...,) per-frame error under ``metric``."""
    if metric == "max_abs":
        return np.max(diff * weights, axis=-1)
    return np.sqrt((diff * diff) @ weights / float(weights.sum()))


class SelectionMethod(Protocol):
    """A selection method: returns sorted unique frame indices (int64) including 0 and ``fit.n - 1``.

    Exactly one of ``max_error`` / ``count`` is set; ``count`` is already checked to lie in ``[2, fit.n]`` and the
    caller handles takes of one or two frames.
    """

    def __call__(self, fit: Fit, *, max_error: float | None, count: int | None) -> np.ndarray: ...


# ------------------------------------------------------------------------------------------------------ greedy
def greedy(
    fit: Fit,
    *,
    max_error: float | None,
    count: int | None,
    initial: Sequence[int] | None = None,
    sweep: bool = True,
) -> np.ndarray:
    """Error-driven insertion, then (bound mode, ``sweep=True``) a removal sweep (see the module docstring).

    Stops inserting at ``count`` keys or once every frame is within ``max_error``, whichever comes first (either
    may be ``None``). ``initial`` seeds the keys (the repair pass of dp and rdp).
    """
    knots = _insert(fit, max_error=max_error, count=count, initial=initial or ())
    if max_error is None or not sweep or (count is not None and len(knots) >= count):
        return np.asarray(knots, dtype=np.int64)
    pruned = _sweep(fit, knots, float(max_error))
    if fit.locality is not None and len(pruned) < len(knots):
        full = fit.errors(np.asarray(pruned))
        full[pruned] = 0.0
        if float(full.max()) > max_error:  # the interpolator looks further than declared: insert again, globally
            logger.warning("interpolation is less local than declared (%s keys); re-checking whole takes",
                           fit.locality)
            pruned = _insert(fit.with_interpolation(fit.interpolate, None, fit.span_model), max_error=max_error, count=count,
                             initial=pruned)
    return np.asarray(pruned, dtype=np.int64)


def _insert(fit: Fit, *, max_error: float | None, count: int | None, initial: Sequence[int]) -> list[int]:
    n = fit.n
    bound = -1.0 if max_error is None else float(max_error)  # errors are >= 0, so -1 never stops the loop
    knots = sorted({0, n - 1, *(int(i) for i in initial)})
    locality = fit.locality
    err = fit.errors(np.asarray(knots))
    err[knots] = 0.0  # keys are reproduced (and must never be picked again, whatever the interpolator does)
    while True:
        while (count is None or len(knots) < count) and len(knots) < n:
            j = int(np.argmax(err))
            if err[j] <= bound:
                break
            if err[j] <= 0.0:  # reconstruction already exact but count asks for more keys: split the widest gap
                gaps = np.diff(knots)
                g = int(np.argmax(gaps))
                j = knots[g] + int(gaps[g]) // 2
            pos = bisect.bisect_left(knots, j)
            knots.insert(pos, j)
            lo, hi = _span(knots, pos, locality, n)
            near = _window(knots, pos, locality)
            err[lo:hi] = fit.errors(near, lo, hi)
            err[near[(near >= lo) & (near < hi)]] = 0.0
        if max_error is None or locality is None or (count is not None and len(knots) >= count):
            return knots
        # A full evaluation guards the locality assumption (an interpolator may look further than declared).
        full = fit.errors(np.asarray(knots))
        full[knots] = 0.0
        if float(full.max()) <= bound:
            return knots
        logger.warning("interpolation is less local than declared (%s keys); re-evaluating whole takes", locality)
        err, locality = full, None


def _span(knots: Sequence[int], pos: int, locality: int | None, n: int) -> tuple[int, int]:
    """Frames ``lo:hi`` whose curve can change when the key at position ``pos`` is added or removed."""
    if locality is None:
        return 0, n
    return knots[max(pos - locality, 0)], knots[min(pos + locality, len(knots) - 1)] + 1


def _window(knots: Sequence[int], pos: int, locality: int | None, *, skip: int | None = None) -> np.ndarray:
    """The keys that shape the curve over :func:`_span`: one more than ``locality`` on each side of ``pos``.

    Their tangents inside the span are then computed exactly as with all keys (a key's tangent only sees keys
    within ``locality - 1`` of it, or the real ends of the take), so each update costs O(locality), not O(K).
    ``skip`` leaves one key out (the removal sweep).
    """
    part = list(knots) if locality is None else list(knots[max(pos - locality - 1, 0) : pos + locality + 2])
    if skip is not None:
        part.remove(skip)
    return np.asarray(part, dtype=np.int64)


def _sweep(fit: Fit, knots: list[int], bound: float) -> list[int]:
    """One left-to-right pass removing every key whose removal keeps all frames within ``bound``.

    Insertion never revisits early keys that later ones made redundant; this pass drops them (about 8% fewer
    keys on the real captures in shared/realdata at the default bound).
    """
    knots = list(knots)
    p = 1
    while p < len(knots) - 1:
        lo, hi = _span(knots, p, fit.locality, fit.n)
        near = _window(knots, p, fit.locality, skip=knots[p])
        err = fit.errors(near, lo, hi)
        err[near[(near >= lo) & (near < hi)] - lo] = 0.0
        if float(err.max()) <= bound:
            del knots[p]
        else:
            p += 1
    return knots


# ----------------------------------------------------------------------------------------------------- uniform
def uniform_knots(times_s: np.ndarray, count: int) -> np.ndarray:
    """``count`` frame indices evenly spaced in time (nearest frames), first and last included, sorted unique.

    Falls back to evenly spaced frame indices when gaps in the take would make two picks coincide.
    """
    n = times_s.shape[0]
    targets = np.linspace(times_s[0], times_s[-1], count)
    idx = np.clip(np.searchsorted(times_s, targets), 1, n - 1)
    closer_left = (targets - times_s[idx - 1]) <= (times_s[idx] - targets)
    idx = np.where(closer_left, idx - 1, idx)
    idx[0], idx[-1] = 0, n - 1
    if np.unique(idx).shape[0] != count:
        idx = np.round(np.linspace(0, n - 1, count)).astype(np.int64)
    return idx.astype(np.int64)


def uniform(fit: Fit, *, max_error: float | None, count: int | None) -> np.ndarray:
    """Evenly spaced keys (see the module docstring)."""
    if count is not None:
        return uniform_knots(fit.times_s, count)
    bound = _bound(max_error)
    cache: dict[int, bool] = {}

    def ok(k: int) -> bool:
        if k not in cache:
            cache[k] = float(fit.errors(uniform_knots(fit.times_s, k)).max()) <= bound
        return cache[k]

    n = fit.n
    lo, hi = 1, 2  # invariant once found: ok(hi), and lo < hi is the last count seen failing (or 1)
    while not ok(hi):
        lo, hi = hi, min(2 * hi, n)
        if hi == n:
            break
    while hi - lo > 1:  # the error is not monotone in the count, so this finds a small checked count, not the least
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return uniform_knots(fit.times_s, hi)


# --------------------------------------------------------------------------------------------- linear surrogate
def _linear_fit(fit: Fit) -> Fit:
    return fit.with_interpolation(linear_interpolate, 1, "linear")


def split_hierarchy(fit: Fit, *, max_error: float | None, count: int | None) -> np.ndarray:
    """Top-down splitting at the frame farthest from the linear chord (Ramer-Douglas-Peucker, worst split first).

    Stops when the linear surrogate is within ``max_error`` or at ``count`` keys. Returns sorted indices.
    """
    return greedy(_linear_fit(fit), max_error=max_error, count=count, sweep=False)


def rdp(fit: Fit, *, max_error: float | None, count: int | None) -> np.ndarray:
    """Ramer-Douglas-Peucker, then a greedy repair with the real interpolation (see the module docstring)."""
    knots = split_hierarchy(fit, max_error=max_error, count=count)
    if count is not None:
        return knots
    return greedy(fit, max_error=max_error, count=None, initial=knots.tolist())


# ---------------------------------------------------------------------------------------------------------- dp
def turning_points(x: np.ndarray, delta: float) -> list[int]:
    """Indices of the extremes of ``x`` (n,) between which it moves by at least ``delta`` (a zigzag filter)."""
    n = x.shape[0]
    if n < 3 or float(x.max() - x.min()) < delta:
        return []
    out: list[int] = []
    direction = 0  # +1 rising, -1 falling, 0 unknown yet
    ext_i, ext_v = 0, float(x[0])
    lo_i, lo_v, hi_i, hi_v = 0, float(x[0]), 0, float(x[0])
    for i in range(1, n):
        v = float(x[i])
        if direction == 0:
            if v > hi_v:
                hi_i, hi_v = i, v
            if v < lo_v:
                lo_i, lo_v = i, v
            if hi_v - lo_v >= delta:
                direction = 1 if hi_i > lo_i else -1
                start, ext_i, ext_v = (lo_i, hi_i, hi_v) if direction == 1 else (hi_i, lo_i, lo_v)
                out.append(start)
        elif direction == 1:
            if v > ext_v:
                ext_i, ext_v = i, v
            elif ext_v - v >= delta:
                out.append(ext_i)
                direction, ext_i, ext_v = -1, i, v
        else:
            if v < ext_v:
                ext_i, ext_v = i, v
            elif v - ext_v >= delta:
                out.append(ext_i)
                direction, ext_i, ext_v = 1, i, v
    if direction != 0:
        out.append(ext_i)
    return out


def dp_candidates(fit: Fit, *, delta: float, hierarchy: np.ndarray, limit: int) -> np.ndarray:
    """Sorted candidate frames: the split hierarchy's keys plus each weighted channel's turning points.

    When there are more than ``limit``, turning points are thinned evenly (the hierarchy's keys are kept).
    """
    base = set(int(i) for i in hierarchy)
    extra: set[int] = set()
    for c in np.nonzero(fit.weights > 0)[0]:
        extra.update(turning_points(fit.target[:, c], delta / max(float(fit.weights[c]), 1e-12)))
    extra -= base
    room = max(limit - len(base), 0)
    picks = sorted(extra)
    if len(picks) > room:
        picks = [picks[i] for i in np.round(np.linspace(0, len(picks) - 1, room)).astype(int)] if room else []
    return np.asarray(sorted(base.union(picks)), dtype=np.int64)


class _Moments:
    """Prefix sums that give the weighted squared error of any linear span in O(C)."""

    def __init__(self, fit: Fit) -> None:
        t = fit.times_s - fit.times_s[0]
        x = fit.target.astype(np.float64)

        def cum(a: np.ndarray) -> np.ndarray:
            return np.concatenate([np.zeros((1, *a.shape[1:])), np.cumsum(a, axis=0)])

        self.t, self.x, self.w = t, x, fit.weights
        self.n0, self.t1, self.t2 = cum(np.ones_like(t)), cum(t), cum(t * t)
        self.x1, self.x2, self.tx = cum(x), cum(x * x), cum(t[:, None] * x)

    def sse(self, a: int, b: np.ndarray) -> np.ndarray:
        """Weighted sum of squared errors of the chords from frame ``a`` to each frame in ``b`` (m,): (m,)."""
        lo, hi = a, b + 1
        m = (self.n0[hi] - self.n0[lo])[:, None]
        st, st2 = (self.t1[hi] - self.t1[lo])[:, None], (self.t2[hi] - self.t2[lo])[:, None]
        sx, sx2, stx = self.x1[hi] - self.x1[lo], self.x2[hi] - self.x2[lo], self.tx[hi] - self.tx[lo]
        ta, xa = self.t[a], self.x[a]
        h = (self.t[b] - ta)[:, None]
        d = self.x[b] - xa
        dev2 = sx2 - 2.0 * xa * sx + m * xa * xa  # sum (x - xa)^2
        cross = (stx - ta * sx - xa * st + m * ta * xa) / h  # sum s (x - xa), s = (t - ta) / h
        s2 = (st2 - 2.0 * ta * st + m * ta * ta) / (h * h)  # sum s^2
        per_channel = np.maximum(dev2 - 2.0 * d * cross + d * d * s2, 0.0)
        return per_channel @ self.w


def data_tangents(times_s: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Tangents of the dense take itself, (n, C) float64: pchip's rule with every frame a key.

    Fritsch-Carlson weighted harmonic mean of the two neighbouring slopes, zero where the curve turns (as
    :mod:`keyframeface.animate.interpolate` does for keys); one-sided at the ends.
    """
    t = np.asarray(times_s, dtype=np.float64)
    x = np.asarray(target, dtype=np.float64)
    d = np.zeros_like(x)
    if t.shape[0] < 2:
        return d
    h = np.diff(t)[:, None]
    m = np.diff(x, axis=0) / h
    d[0], d[-1] = m[0], m[-1]
    if t.shape[0] > 2:
        w1, w2 = 2.0 * h[1:] + h[:-1], h[1:] + 2.0 * h[:-1]
        same = m[:-1] * m[1:] > 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            d[1:-1] = np.where(same, (w1 + w2) / (w1 / m[:-1] + w2 / m[1:]), 0.0)
    return d


def _span_errors(
    fit: Fit, a: int, ends: np.ndarray, tangents: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Largest and summed squared per-frame errors of the spans from frame ``a`` to each of ``ends``: 2 x (m,).

    A span is modelled by ``fit.span_model``; ``tangents`` (n, C) are the take's own (``"hermite"``). Long spans
    are evaluated a few at a time so the (ends, frames, C) temporaries stay near ``_SPAN_BLOCK`` numbers.
    """
    if ends.shape[0] > 1 and ends.shape[0] * (int(ends[-1]) - a + 1) * fit.target.shape[1] > _SPAN_BLOCK:
        half = ends.shape[0] // 2
        (w1, s1), (w2, s2) = _span_errors(fit, a, ends[:half], tangents), _span_errors(fit, a, ends[half:], tangents)
        return np.concatenate([w1, w2]), np.concatenate([s1, s2])
    last = int(ends[-1])
    t = fit.times_s[a : last + 1]
    x = fit.target[a : last + 1].astype(np.float64)
    h = (t[ends - a] - t[0])[:, None]  # (m, 1)
    u = (t[None, :] - t[0]) / h  # (m, L)
    inside = u <= 1.0
    uc = np.minimum(u, 1.0)[:, :, None]
    x0, x1 = x[0], x[ends - a][:, None, :]  # (C,), (m, 1, C)
    if fit.span_model == "step":
        curve = np.where(uc < 1.0, x0, x1)
    elif fit.span_model == "linear":
        curve = x0 + uc * (x1 - x0)
    elif fit.span_model == "flat" or tangents is None:
        curve = x0 + uc * uc * (3.0 - 2.0 * uc) * (x1 - x0)
    else:
        d0, d1 = tangents[a], tangents[ends][:, None, :]
        u2 = uc * uc
        h01 = u2 * (3.0 - 2.0 * uc)
        hh = h[:, :, None]
        curve = x0 + h01 * (x1 - x0) + hh * (uc * (1.0 - uc) ** 2 * d0 + u2 * (uc - 1.0) * d1)
    per_frame = np.where(inside, _frame_error(np.abs(curve - x[None]), fit.weights, fit.metric), 0.0)
    return per_frame.max(axis=1), (per_frame * per_frame).sum(axis=1)


def _dp_fewest(fit: Fit, cand: np.ndarray, max_error: float) -> np.ndarray:
    """Fewest candidates (ties: least squared error) whose modelled spans all stay within ``max_error``."""
    m = cand.shape[0]
    tangents = data_tangents(fit.times_s, fit.target) if fit.span_model == "hermite" else None
    big = m + 1
    best_count = np.full(m, np.inf)
    best_cost = np.full(m, np.inf)
    prev = np.full(m, -1, dtype=np.int64)
    best_count[0], best_cost[0] = 1.0, 0.0
    for i in range(m - 1):
        if not np.isfinite(best_count[i]):
            continue
        start = i + 1
        while start < m:
            js = np.arange(start, min(start + _DP_CHUNK, m))
            worst, sumsq = _span_errors(fit, int(cand[i]), cand[js], tangents)
            feasible = worst <= max_error
            keys = np.where(feasible, 1.0, np.inf)
            if start == i + 1 and not feasible[0]:
                # The span to the very next candidate is always allowed, as a last resort that keeps the end
                # reachable; it is charged as if it cost ``big`` keys, and the repair pass fixes it.
                keys[0] = float(big)
            cnt = best_count[i] + keys
            cost = best_cost[i] + sumsq
            better = (cnt < best_count[js]) | ((cnt == best_count[js]) & (cost < best_cost[js]))
            best_count[js] = np.where(better, cnt, best_count[js])
            best_cost[js] = np.where(better, cost, best_cost[js])
            prev[js] = np.where(better, i, prev[js])
            if not feasible.any():
                break
            start += _DP_CHUNK
    return _backtrack(cand, prev)


def _dp_count(fit: Fit, cand: np.ndarray, count: int) -> np.ndarray:
    """Exactly ``count`` candidates (first and last included) with the least total squared linear error.

    Spans reach at most ``band`` candidates ahead, four times what ``count`` keys need to cover the candidates,
    so the work is ``O(M * band * C)`` for the costs and ``O(count * M * band)`` for the recursion.
    """
    m = cand.shape[0]
    if count >= m:
        return cand
    band = min(m - 1, max(32, 4 * math.ceil((m - 1) / (count - 1))))
    moments = _Moments(fit)
    cost = np.full((m, band), np.inf)  # cost[i, w]: the span from candidate i to candidate i + 1 + w
    for i in range(m - 1):
        ends = cand[i + 1 : i + 1 + band]
        cost[i, : ends.shape[0]] = moments.sse(int(cand[i]), ends)
    layer = np.full(m, np.inf)  # least cost of reaching each candidate with k + 1 keys
    layer[0] = 0.0
    back = np.zeros((count, m), dtype=np.int32)
    for k in range(1, count):
        best = np.full(m, np.inf)
        arg = np.zeros(m, dtype=np.int32)
        for w in range(band):
            via = layer[: m - 1 - w] + cost[: m - 1 - w, w]  # from i = j - 1 - w to j
            better = via < best[1 + w :]
            best[1 + w :] = np.where(better, via, best[1 + w :])
            arg[1 + w :] = np.where(better, np.arange(m - 1 - w, dtype=np.int32), arg[1 + w :])
        layer, back[k] = best, arg
    path = [m - 1]
    for k in range(count - 1, 0, -1):
        path.append(int(back[k, path[-1]]))
    return cand[np.asarray(path[::-1], dtype=np.int64)]


def _backtrack(cand: np.ndarray, prev: np.ndarray) -> np.ndarray:
    path = [cand.shape[0] - 1]
    while prev[path[-1]] >= 0:
        path.append(int(prev[path[-1]]))
    return cand[np.asarray(path[::-1], dtype=np.int64)]


def dp(fit: Fit, *, max_error: float | None, count: int | None) -> np.ndarray:
    """Dynamic programming over candidates (see the module docstring)."""
    n = fit.n
    if count is not None:
        size = min(n, max(4 * count, 64), max(DP_MAX_CANDIDATES, count))
        # Half the candidates from the split hierarchy (at least count), the rest from turning points.
        hierarchy = split_hierarchy(fit, max_error=None, count=max(count, size // 2))
        # Turning points at the typical per-key error of a uniform pick of that size keep extremes available.
        scale = float(np.ptp(fit.target[:, fit.weights > 0], axis=0).max()) / max(count, 1)
        cand = dp_candidates(fit, delta=max(scale, 1e-6), hierarchy=hierarchy, limit=size)
        return _dp_count(fit, cand, count)
    bound = _bound(max_error)
    # A split hierarchy at a third of the bound is over-complete for the optimum at the bound.
    hierarchy = split_hierarchy(fit, max_error=bound / 3.0, count=DP_MAX_CANDIDATES // 2)
    cand = dp_candidates(fit, delta=max(bound, 1e-6), hierarchy=hierarchy, limit=DP_MAX_CANDIDATES)
    knots = _dp_fewest(fit, cand, bound)
    return greedy(fit, max_error=bound, count=None, initial=knots.tolist())


# ---------------------------------------------------------------------------------------------------- registry
#: Third-party packages add methods through this entry-point group (``name = "pkg.module:function"``).
ENTRY_POINT_GROUP = "keyframeface.extract_methods"
#: Selection methods by name (built in, registered, or from :data:`ENTRY_POINT_GROUP`, loaded when first listed).
METHODS: Registry[SelectionMethod] = Registry("extraction method", entry_point_group=ENTRY_POINT_GROUP,
                                              entry_points="eager")
for _name, _method in (("greedy", greedy), ("dp", dp), ("rdp", rdp), ("uniform", uniform)):
    METHODS.register(_name, _method)
_METHODS = METHODS.entries


def register_method(name: str, method: SelectionMethod) -> None:
    """Register a selection method under ``name`` (an identifier); replaces an existing one of that name."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ScriptError(f"method names are identifiers, got {name!r}", field="method")
    if not callable(method):
        raise ScriptError(f"a method must be callable, got {type(method).__name__}", field="method")
    METHODS.register(name, method)


def available_methods() -> tuple[str, ...]:
    """Names of the registered selection methods (built in and from entry points), sorted."""
    return tuple(sorted(METHODS.names()))


def get_method(name: str) -> SelectionMethod:
    """The method registered as ``name``; unknown names raise :class:`ScriptError` listing the valid ones."""
    found = METHODS.target(name) if isinstance(name, str) else None
    if found is None:
        raise ScriptError(
            f"unknown extraction method {str(name)[:40]!r}; choose one of: {', '.join(available_methods())}"
            f"{METHODS.suggestion(name)}",
            field="method",
        )
    return found


def _bound(max_error: float | None) -> float:
    """The error bound (methods get one only in max_error mode; infinity if misused without one)."""
    return math.inf if max_error is None else float(max_error)
