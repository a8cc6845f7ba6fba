"""Keyframes -> dense curves: several interpolation methods behind one function and a registry by name.

Contract of :func:`interpolate` (kept stable; other stages call it with the default method)::

    interpolate(times_s (K,), values (K, C), t_out (T,), *, method="pchip") -> (T, C) float32

* Every method passes through every knot exactly: ``interpolate(x, y, x)[k] == y[k]`` (as float32).
* Outside ``[times_s[0], times_s[-1]]`` the curve holds the first / last value (no extrapolation).
* Vectorised over all frames and channels at once (frames go in blocks only to bound memory).

Methods (see :func:`interpolators`):

* ``step``: the previous keyframe's value until the next keyframe (a pose-to-pose blocking pass).
* ``linear``: straight lines; bounded by the two neighbouring keyframes.
* ``cubic``: cubic Hermite with zero tangents (smoothstep ease-in / ease-out per segment): every segment
  starts and ends at rest; bounded by the two neighbouring keyframes.
* ``pchip``: shape-preserving monotone cubic (Fritsch & Carlson 1980, "Monotone piecewise cubic
  interpolation", SIAM J. Numer. Anal. 17(2); tangents as in SciPy's ``PchipInterpolator``: weighted harmonic
  mean inside, the three-point shape-preserving formula at the ends). Never overshoots the two neighbouring
  keyframes and is flat between two equal keyframes, so it never leaves a channel's range: the default.
* ``akima``: modified Akima ("makima": Akima 1970 with the weights of Moler 2019, as SciPy's
  ``method="makima"``). Smooth, little overshoot, but it *can* overshoot at local extrema; its output is
  therefore clipped to each channel's keyframe min/max (so it never leaves the range of the data, hence of the
  channel). One change from plain makima: the tangent is zero at both ends of a segment whose keyframes are
  equal, so holds and repeated poses stay flat (plain makima rings there).

Holds (a keyframe pose that lasts) are expressed as duplicate knots: :func:`expand_holds` adds a knot with the
same values at ``t + hold``. With every method above the curve is exactly flat between the two (pchip, cubic
and akima give both knots a zero tangent), so the motion leaves a held pose with an ease-out and enters the
next with an ease-in.

Per-channel timing offsets (``offsets_s=``) evaluate channel ``c`` at ``t - offsets_s[c]``: a negative offset
makes that channel *lead* (reach each keyframe earlier). The pass-through property then holds per channel at
the shifted time ``times_s[k] + offsets_s[c]``; with no offsets (the default) it holds at ``times_s[k]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ScriptError
from ..registry import Registry

__all__ = [
    "DEFAULT_METHOD",
    "INTERPOLATORS",
    "Interpolator",
    "expand_holds",
    "get_interpolator",
    "interpolate",
    "interpolators",
    "register_interpolator",
]

DEFAULT_METHOD = "pchip"

# Frames per evaluation block: keeps each (block, C) float32 temporary near 8 MB for C = 61, so an hour at 60
# fps (216,000 frames) never needs more than a few tens of MB of scratch memory.
_BLOCK = 32_768

#: Tangent rule of a "hermite" method: (times (K,) float64, values (K, C) float64) -> tangents (K, C) float64.
TangentFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Interpolator:
    """One interpolation method.

    ``kind`` is ``"step"``, ``"linear"`` or ``"hermite"`` (cubic Hermite with tangents from ``tangents``).
    ``bounded``: each segment stays between its two keyframes' values (output is clipped to them, which only
    removes float rounding for these methods). Otherwise ``clip_to_data``: output is clipped to each channel's
    keyframe min/max (methods that can overshoot).
    """

    name: str
    kind: str
    description: str
    tangents: TangentFn | None = None
    bounded: bool = True
    clip_to_data: bool = False


# --------------------------------------------------------------------------------------------- tangent rules
def _slopes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.diff(x)  # (K-1,)
    m = np.diff(y, axis=0) / h[:, None]  # (K-1, C)
    return h, m


def _zero_tangents(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.zeros_like(y)


def _pchip_end(h0: float, h1: float, m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    # Three-point end formula with Fritsch-Carlson's shape-preserving fix-ups (as SciPy's PchipInterpolator).
    d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    d = np.where(np.sign(d) != np.sign(m0), 0.0, d)
    too_big = (np.sign(m0) != np.sign(m1)) & (np.abs(d) > 3.0 * np.abs(m0))
    return np.where(too_big, 3.0 * m0, d)


def _pchip_tangents(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    k = x.shape[0]
    h, m = _slopes(x, y)
    if k == 2:
        return np.vstack([m, m])  # two knots: a straight line (SciPy does the same)
    d = np.zeros_like(y)
    w1 = (2.0 * h[1:] + h[:-1])[:, None]
    w2 = (h[1:] + 2.0 * h[:-1])[:, None]
    m_prev, m_next = m[:-1], m[1:]
    same_sign = (m_prev * m_next) > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / m_prev + w2 / m_next)
    d[1:-1] = np.where(same_sign, harmonic, 0.0)
    d[0] = _pchip_end(float(h[0]), float(h[1]), m[0], m[1])
    d[-1] = _pchip_end(float(h[-1]), float(h[-2]), m[-1], m[-2])
    return d


def _makima_tangents(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    k = x.shape[0]
    _, m = _slopes(x, y)
    if k == 2:
        return np.vstack([m, m])
    # Two extra slopes at each end by linear extrapolation of the slopes (Akima 1970).
    first = np.stack([3.0 * m[0] - 2.0 * m[1], 2.0 * m[0] - m[1]])
    last = np.stack([2.0 * m[-1] - m[-2], 3.0 * m[-1] - 2.0 * m[-2]])
    me = np.concatenate([first, m, last])  # (K+3, C): me[i + 2] is the slope of segment i
    dm = np.abs(np.diff(me, axis=0))
    pm = np.abs(me[1:] + me[:-1])
    w_right = dm[2:] + 0.5 * pm[2:]  # weight of the left slope (m_{i-1})
    w_left = dm[:-2] + 0.5 * pm[:-2]  # weight of the right slope (m_i)
    m_left, m_right = me[1:-2], me[2:-1]
    total = w_right + w_left
    scale = np.max(total, axis=0, keepdims=True)
    ok = total > 1e-9 * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(
            ok, (w_right * m_left + w_left * m_right) / np.where(ok, total, 1.0), 0.5 * (m_left + m_right)
        )
    # Our addition: a flat segment (equal keyframes, e.g. a hold) gets zero tangents at both of its ends.
    flat = m == 0.0
    d[:-1][flat] = 0.0
    d[1:][flat] = 0.0
    return np.asarray(d)


# ------------------------------------------------------------------------------------------------ registry
#: Interpolation methods by name; third-party packages may also add them through the
#: ``keyframeface.interpolators`` entry-point group (``name = "pkg.module:INTERPOLATOR"``).
INTERPOLATORS: Registry[Interpolator] = Registry(
    "interpolation method", entry_point_group="keyframeface.interpolators", entry_points="eager"
)
_REGISTRY = INTERPOLATORS.entries


def register_interpolator(method: Interpolator) -> None:
    """Add (or replace) a method in the registry under ``method.name``."""
    if not method.name or not method.name.isidentifier():
        raise ValueError(f"interpolator names are identifiers, got {method.name!r}")
    if method.kind not in ("step", "linear", "hermite"):
        raise ValueError(f"interpolator kind must be 'step', 'linear' or 'hermite', got {method.kind!r}")
    if method.kind == "hermite" and method.tangents is None:
        raise ValueError("a 'hermite' interpolator needs a tangents function")
    INTERPOLATORS.register(method.name, method)


def interpolators() -> tuple[str, ...]:
    """Names of the registered methods, sorted."""
    return tuple(sorted(INTERPOLATORS.names()))


def get_interpolator(name: str) -> Interpolator:
    """The method registered as ``name``; :class:`ScriptError` listing the valid names otherwise."""
    found = INTERPOLATORS.target(name) if isinstance(name, str) else None
    if not isinstance(found, Interpolator):
        raise ScriptError(
            f"unknown interpolation method {str(name)[:40]!r}; expected one of {', '.join(interpolators())}"
            f"{INTERPOLATORS.suggestion(name)}",
            field="method",
        )
    return found


register_interpolator(Interpolator("step", "step", "hold each keyframe until the next one"))
register_interpolator(Interpolator("linear", "linear", "straight lines between keyframes"))
register_interpolator(
    Interpolator("cubic", "hermite", "ease-in/ease-out cubic (zero tangents, smoothstep)", _zero_tangents)
)
register_interpolator(
    Interpolator(
        "pchip",
        "hermite",
        "shape-preserving monotone cubic (Fritsch-Carlson); never overshoots",
        _pchip_tangents,
    )
)
register_interpolator(
    Interpolator(
        "akima",
        "hermite",
        "modified Akima (makima); clipped to the keyframes' range",
        _makima_tangents,
        bounded=False,
        clip_to_data=True,
    )
)


# ---------------------------------------------------------------------------------------------- validation
def _check_inputs(times_s: np.ndarray, values: np.ndarray, t_out: np.ndarray) -> tuple[np.ndarray, ...]:
    x = np.asarray(times_s, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    t = np.asarray(t_out, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] < 1:
        raise ScriptError(f"times_s must have shape (K,) with K >= 1, got {x.shape}")
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ScriptError(
            f"values must have shape (K, C) = ({x.shape[0]}, C) to match times_s, got {y.shape}"
        )
    if t.ndim != 1:
        raise ScriptError(f"t_out must have shape (T,), got {t.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(t).all()):
        raise ScriptError("times_s, values and t_out must be finite numbers (NaN/inf found)")
    if x.shape[0] > 1 and not (np.diff(x) > 0).all():
        i = int(np.argmax(np.diff(x) <= 0)) + 1
        raise ScriptError(
            f"keyframe times must strictly increase; time {x[i]:g} at index {i} is not after {x[i - 1]:g} "
            "(express a hold with expand_holds, not a repeated time)"
        )
    return x, y, t


# ---------------------------------------------------------------------------------------------- evaluation
def _evaluate(
    method: Interpolator,
    x: np.ndarray,
    y: np.ndarray,
    d: np.ndarray | None,
    y32: np.ndarray,
    t: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (T, C) float32 with the curve at times ``t`` (T,) float64."""
    k = x.shape[0]
    if k == 1:
        out[:] = y32[0]
        return
    d32 = None if d is None else d.astype(np.float32)
    lo_data = y32.min(axis=0) if method.clip_to_data else None
    hi_data = y32.max(axis=0) if method.clip_to_data else None
    for start in range(0, t.shape[0], _BLOCK):
        tb = t[start : start + _BLOCK]
        ob = out[start : start + _BLOCK]
        idx = np.clip(np.searchsorted(x, tb, side="right") - 1, 0, k - 2)
        if method.kind == "step":
            # At or after the last knot the last value holds; before the first, the first value.
            last = tb >= x[-1]
            np.take(y32, np.where(last, k - 1, idx), axis=0, out=ob)
            continue
        h = x[idx + 1] - x[idx]
        s = np.clip((tb - x[idx]) / h, 0.0, 1.0).astype(np.float32)[:, None]
        y0 = np.take(y32, idx, axis=0)
        y1 = np.take(y32, idx + 1, axis=0)
        # Written as y0 + w (y1 - y0) + ...: exactly y0 at s = 0 (every interior knot is evaluated there, as
        # the start of its segment) and exactly flat where y0 == y1 with zero tangents (holds, repeated
        # poses).
        if method.kind == "linear":
            np.subtract(y1, y0, out=ob)
            ob *= s
            ob += y0
        else:
            if d32 is None:  # unreachable: hermite methods get tangents (checked at registration)
                raise RuntimeError(f"interpolator {method.name!r} produced no tangents")
            s2 = s * s
            hf = h.astype(np.float32)[:, None]
            np.subtract(y1, y0, out=ob)
            ob *= s2 * (3.0 - 2.0 * s)
            ob += y0
            ob += (hf * s * (1.0 - s) * (1.0 - s)) * np.take(d32, idx, axis=0)
            ob += (hf * s2 * (s - 1.0)) * np.take(d32, idx + 1, axis=0)
        # The last knot (and beyond) is exactly the last value.
        end = tb >= x[-1]
        if end.any():
            ob[end] = y32[-1]
        if method.bounded:
            np.clip(ob, np.minimum(y0, y1), np.maximum(y0, y1), out=ob)
        elif lo_data is not None and hi_data is not None:
            np.clip(ob, lo_data, hi_data, out=ob)


def interpolate(
    times_s: np.ndarray,
    values: np.ndarray,
    t_out: np.ndarray,
    *,
    method: str = DEFAULT_METHOD,
    offsets_s: np.ndarray | None = None,
) -> np.ndarray:
    """Dense curves through keyframes.

    ``times_s``: (K,) strictly increasing seconds (K >= 1). ``values``: (K, C) numbers (C = 61 for the rig).
    ``t_out``: (T,) seconds to evaluate at (any order, any spacing, so any fps works). ``method``: a name from
    :func:`interpolators` (default ``"pchip"``: never overshoots, flat between equal keyframes).
    ``offsets_s``: optional (C,) per-channel time offsets in seconds; channel ``c`` is evaluated at
    ``t_out - offsets_s[c]`` (negative = leads). Returns (T, C) float32.

    Raises :class:`ScriptError` for bad shapes, non-finite numbers, non-increasing times or an unknown method.
    """
    interp = get_interpolator(method)
    x, y, t = _check_inputs(times_s, values, t_out)
    c = y.shape[1]
    out = np.empty((t.shape[0], c), dtype=np.float32)
    if t.shape[0] == 0 or c == 0:
        return out
    y32 = y.astype(np.float32)
    d = (
        interp.tangents(x, y)
        if (interp.kind == "hermite" and interp.tangents is not None and x.shape[0] > 1)
        else None
    )
    if offsets_s is None:
        _evaluate(interp, x, y, d, y32, t, out)
        return out
    off = np.asarray(offsets_s, dtype=np.float64)
    if off.shape != (c,) or not np.isfinite(off).all():
        raise ScriptError(f"offsets_s must be ({c},) finite seconds, one per channel, got shape {off.shape}")
    # One pass per distinct offset (a handful of channel groups), each vectorised over its channels and all
    # frames.
    for value in np.unique(off):
        cols = np.flatnonzero(off == value)
        sub = np.empty((t.shape[0], cols.shape[0]), dtype=np.float32)
        _evaluate(interp, x, y[:, cols], None if d is None else d[:, cols], y32[:, cols], t - value, sub)
        out[:, cols] = sub
    return out


def expand_holds(
    times_s: np.ndarray, values: np.ndarray, holds_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Turn keyframes with hold lengths into knots: a duplicate knot at ``t + hold`` for every ``hold > 0``.

    ``times_s``: (K,) strictly increasing; ``values``: (K, C); ``holds_s``: (K,) seconds >= 0, each shorter
    than the gap to the next keyframe (the last one may be any length). Returns (times (K',) float64, values
    (K', C) float64) with K <= K' <= 2K, ready for :func:`interpolate`; the curve is exactly flat over every
    hold.
    """
    x = np.asarray(times_s, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    hold = np.asarray(holds_s, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 2 or y.shape[0] != x.shape[0] or hold.shape != x.shape:
        raise ScriptError(
            f"expected times (K,), values (K, C), holds (K,); got {x.shape}, {y.shape}, {hold.shape}"
        )
    if not np.isfinite(hold).all() or (hold < 0).any():
        raise ScriptError("hold lengths must be finite seconds >= 0")
    ends = x + hold
    if x.shape[0] > 1 and (ends[:-1] >= x[1:]).any():
        i = int(np.argmax(ends[:-1] >= x[1:]))
        raise ScriptError(
            f"keyframe {i} is held {hold[i]:g} s from {x[i]:g} s, which reaches the next keyframe at "
            f"{x[i + 1]:g} s; "
            "a hold must end before the next keyframe"
        )
    held = hold > 0
    times = np.empty(x.shape[0] + int(held.sum()), dtype=np.float64)
    vals = np.empty((times.shape[0], y.shape[1]), dtype=np.float64)
    # Position of each keyframe in the expanded list: shifted by the number of holds before it.
    pos = np.arange(x.shape[0]) + np.concatenate([[0], np.cumsum(held)[:-1]])
    times[pos] = x
    vals[pos] = y
    times[pos[held] + 1] = ends[held]
    vals[pos[held] + 1] = y[held]
    return times, vals
