"""Keyframes from dense captures: the fewest keyframes whose interpolation reconstructs a take.

This is how a KeyframeFace-style dataset gets keyframes from real Live Link Face captures::

    anim = read_livelink_csv("take.csv")
    keys = extract(anim, max_error=0.05)     # fewest keys within the bound
    keys = extract(anim, count=12)           # exactly 12 keys, as accurate as the method can make them

**Error metric.** The reference is the capture clamped into each channel's range (:func:`keyframeface.rig.clamp`;
captured blendshapes exceed 1 slightly). The reconstruction is the keyframes interpolated with ``interpolation``
(the project's default, ``pchip``) at every frame time. A frame's error is, with ``metric="max_abs"`` (the
default), the largest absolute error over the measured channels, each multiplied by its weight; with
``metric="rmse"`` the weighted root-mean-square error over them. ``max_error`` bounds the largest frame error over
the take: with the default metric, no measured channel is ever off by more than ``max_error`` at any frame.
Frames where tracking was lost (``anim.valid == False``) are ignored, both as keyframe candidates and in the error;
so are frames whose time does not increase (duplicated timecodes).

**Times.** ``time_s`` of each keyframe is seconds from the take's first row (valid or not), so keyframes stay
aligned with audio recorded with the take; ``meta.start_s`` keeps the absolute start. The first and the last valid
frames are always keyframes.

Methods live in :mod:`keyframeface.extract_methods` (``greedy``, ``dp``, ``rdp``, ``uniform``); more can be
registered with :func:`keyframeface.extract_methods.register_method`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from . import rig
from ._version import __version__
from .errors import ScriptError
from .extract_methods import METRICS, SPAN_MODELS, Fit, Interpolator, available_methods, get_method
from .script import (
    EXTRACTED_BY,
    MAX_KEYFRAMES,
    MAX_KEYFRAMES_PER_S,
    Animation,
    Keyframes,
    capture_keyframe_limit,
)

__all__ = [
    "DEFAULT_MAX_ERROR",
    "DEFAULT_METRIC",
    "MAX_KEYFRAMES_PER_S",
    "Selection",
    "available_methods",
    "capture_keyframe_limit",
    "extract",
    "select_keyframes",
]

logger = logging.getLogger(__name__)

#: Default bound on the largest per-frame error (``max_abs``: no channel off by more than 0.1 of its [0, 1]
#: range). Measured on the 13 real captures in shared/realdata with pchip and greedy (benchmarks/bench_extract.py):
#: 4.1 keyframes per second overall (1.8 on an idle take to 8.4 on speech); 0.05 needs 6.6 and 0.2 needs 2.4,
#: because blinks and tracking jitter must be followed. Use ``count`` for sparse, KeyframeFace-like keys.
DEFAULT_MAX_ERROR = 0.1
DEFAULT_METRIC = "max_abs"

# How many keys on each side of an inserted key can see their curve change, per interpolation method of
# keyframeface.animate.interpolate: step, linear and cubic (zero tangents) segments depend on their two keys only;
# pchip tangents use one neighbour on each side, so two segments on each side change. Others (akima: wider
# tangents and a clip to the keys' global min/max) are treated as global: slower, equally correct.
_LOCALITY: dict[str, int] = {"step": 1, "linear": 1, "cubic": 1, "pchip": 2}
# The dp span model that is exact for each method (extract_methods.Fit); "hermite" (the take's own tangents) is
# exact for pchip only on keyed content, and the default for everything else.
_SPAN_MODEL: dict[str, str] = {"step": "step", "linear": "linear", "cubic": "flat"}


@dataclass(frozen=True, eq=False)
class Selection:
    """The keyframes chosen from one take and how well they reconstruct it.

    ``indices``: (K,) int64 rows of ``anim.frames``. ``times_s``: (K,) float64 seconds from the take's first row.
    ``values``: (K, 61) float32, the captured rows clamped into range. ``max_frame_error``: the bounded quantity
    (largest per-frame error under ``metric`` and the weights). ``rmse`` / ``max_abs``: unweighted RMSE and largest
    absolute error over the valid frames and the measured channels. ``worst_channel``: where ``max_abs`` occurs.
    ``frames_total`` / ``frames_used``: rows in the take and valid rows considered. ``start_s``: absolute time of
    the take's first row.
    """

    indices: np.ndarray
    times_s: np.ndarray
    values: np.ndarray
    method: str
    interpolation: str
    metric: str
    max_frame_error: float
    rmse: float
    max_abs: float
    worst_channel: str
    frames_total: int
    frames_used: int
    start_s: float

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def error_dict(self) -> dict[str, Any]:
        """The achieved errors as plain JSON-ready values."""
        return {
            "metric": self.metric,
            "max_frame_error": round(self.max_frame_error, 6),
            "rmse": round(self.rmse, 6),
            "max_abs": round(self.max_abs, 6),
            "worst_channel": self.worst_channel,
        }


def extract(
    anim: Animation,
    *,
    max_error: float | None = None,
    count: int | None = None,
    method: str = "greedy",
    interpolation: str | Interpolator = "pchip",
    metric: str = DEFAULT_METRIC,
    channels: Iterable[str] | None = None,
    weights: Mapping[str, float] | None = None,
    source: str | None = None,
) -> Keyframes:
    """Keyframes from a dense capture (see the module docstring for the error metric and times).

    ``anim``: the take (frames (T, 61) float32, ``times_s``, ``valid``). Give at most one of ``max_error`` (the
    largest per-frame error allowed, >= 0; default :data:`DEFAULT_MAX_ERROR`) and ``count`` (exactly that many
    keyframes; at least 2 unless the take has one valid frame). ``method``: a registered selection method.
    ``interpolation``: a method name of :func:`keyframeface.animate.interpolate.interpolate` or a callable
    ``(times_s (K,), values (K, C), t_out (T,)) -> (T, C)``. ``channels``: channel or group names (``rig.GROUPS``)
    whose error counts (default all 61); every channel is keyframed regardless. ``weights``: per channel or group
    multipliers of the error (>= 0). ``source``: what to record as the take's origin (e.g. its path; default
    ``anim.meta["path"]`` or ``anim.meta["source"]``).

    Returns :class:`Keyframes` with empty descriptions, ``time_s`` from the take's first row and ``meta`` recording
    method, options, the achieved error (RMSE and max abs), frame counts and source. Raises :class:`ScriptError`
    for bad options, a take without valid frames, or more than :func:`capture_keyframe_limit` keyframes (a
    ``count`` above it is refused before any work; use :func:`select_keyframes` to go beyond).
    """
    channels = _channel_list(channels)
    cap = capture_keyframe_limit(anim.duration_s if isinstance(anim, Animation) else 0.0)
    if count is not None and _is_int(count) and count > cap:  # refused before any selection work
        raise ScriptError(
            f"count={count} exceeds the {cap} keyframes allowed for a {anim.duration_s:.1f} s take "
            f"({MAX_KEYFRAMES_PER_S:g} per second, at least {MAX_KEYFRAMES}); ask for fewer, or use "
            "select_keyframes() for frame indices without that limit",
            field="count",
        )
    sel = select_keyframes(
        anim, max_error=max_error, count=count, method=method, interpolation=interpolation, metric=metric,
        channels=channels, weights=weights,
    )  # fmt: skip
    if len(sel) > cap:
        raise ScriptError(
            f"this take needs {len(sel)} keyframes to stay within max_error={_requested_error(max_error):g}, more "
            f"than the {cap} allowed for {anim.duration_s:.1f} s ({MAX_KEYFRAMES_PER_S:g} per second); raise "
            "max_error or pass count (select_keyframes() has no limit)",
            field="max_error",
        )
    meta: dict[str, Any] = {
        "extractor": EXTRACTED_BY,
        "package": "keyframeface",
        "package_version": __version__,
        "method": sel.method,
        "interpolation": sel.interpolation,
        "options": {
            "max_error": None if count is not None else _requested_error(max_error),
            "count": None if count is None else int(count),
            "metric": sel.metric,
            "channels": channels,
            "weights": {str(k): float(v) for k, v in weights.items()} if weights is not None else None,
        },
        "error": sel.error_dict(),
        "frames": {"total": sel.frames_total, "used": sel.frames_used, "ignored": sel.frames_total - sel.frames_used},
        "frame_indices": [int(i) for i in sel.indices],
        "fps": anim.fps,
        "start_s": sel.start_s,
        "source": source if source is not None else _source(anim),
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    return Keyframes.from_array(sel.values, times_s=sel.times_s.tolist(), meta=meta)


def select_keyframes(
    anim: Animation,
    *,
    max_error: float | None = None,
    count: int | None = None,
    method: str = "greedy",
    interpolation: str | Interpolator = "pchip",
    metric: str = DEFAULT_METRIC,
    channels: Iterable[str] | None = None,
    weights: Mapping[str, float] | None = None,
) -> Selection:
    """The selection behind :func:`extract`, without the keyframes-document limit: indices, values and errors.

    Same arguments and errors as :func:`extract`.
    """
    if not isinstance(anim, Animation):
        raise ScriptError(f"expected an Animation (e.g. from read_livelink_csv), got {type(anim).__name__}")
    if max_error is not None and count is not None:
        raise ScriptError("give max_error or count, not both", field="count")
    bound = _check_max_error(max_error) if count is None else None
    select = get_method(method)
    if metric not in METRICS:
        raise ScriptError(f"unknown error metric {str(metric)[:40]!r}; choose one of: {', '.join(METRICS)}",
                          field="metric")
    interp, locality, interp_name, span_model = _resolve_interpolation(interpolation)
    w = _weights(channels, weights)

    times_abs = anim.frame_times()
    rows = _usable_rows(anim, times_abs)
    n = int(rows.shape[0])
    if n == 0:
        raise ScriptError("the take has no valid frames (tracking was lost throughout); nothing to extract")
    start_s = float(times_abs[np.isfinite(times_abs)][0])
    target, _ = rig.clamp(anim.frames[rows])
    fit = Fit(times_abs[rows] - start_s, target, w, metric, interp, locality, span_model)

    if count is not None:
        count = _check_count(count, n)
    if n <= 2:
        knots = np.arange(n, dtype=np.int64)
    else:
        knots = np.asarray(select(fit, max_error=bound, count=count), dtype=np.int64)
        _check_knots(knots, n, count, method)

    recon = np.asarray(interp(fit.times_s[knots], target[knots], fit.times_s), dtype=np.float64)
    diff = np.abs(recon - target)
    measured = w > 0
    diff_m = diff[:, measured]
    worst = np.unravel_index(int(np.argmax(diff_m)), diff_m.shape)
    worst_channel = rig.CHANNELS[int(np.nonzero(measured)[0][worst[1]])]
    max_frame_error = float(fit.frame_error(recon).max())
    if bound is not None and max_frame_error > bound + 1e-6:
        logger.warning("method %r left a frame error of %.4g above max_error=%g", method, max_frame_error, bound)
    return Selection(
        indices=rows[knots],
        times_s=fit.times_s[knots].copy(),
        values=target[knots].copy(),
        method=method,
        interpolation=interp_name,
        metric=metric,
        max_frame_error=max_frame_error,
        rmse=float(np.sqrt(np.mean(diff_m * diff_m))),
        max_abs=float(diff_m[worst]),
        worst_channel=worst_channel,
        frames_total=anim.num_frames,
        frames_used=n,
        start_s=start_s,
    )


# --------------------------------------------------------------------------------------------------- helpers
def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _requested_error(max_error: float | None) -> float:
    return DEFAULT_MAX_ERROR if max_error is None else float(max_error)


def _check_max_error(max_error: float | None) -> float:
    if isinstance(max_error, bool) or not isinstance(max_error, (int, float, np.floating, type(None))):
        raise ScriptError(f"expected a number, got {type(max_error).__name__}", field="max_error")
    value = _requested_error(max_error)
    if not math.isfinite(value) or value < 0:
        raise ScriptError(f"expected a finite number >= 0 (e.g. 0.05), got {max_error!r}", field="max_error")
    return value


def _check_count(count: object, n: int) -> int:
    """``count`` as an int in ``[2, n]`` (``1`` for a one-frame take), or :class:`ScriptError`."""
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool):
        raise ScriptError(f"expected a whole number of keyframes, got {type(count).__name__}", field="count")
    k = int(count)
    low = 1 if n == 1 else 2
    if k < low:
        raise ScriptError(
            f"count={k} cannot keep both the first and the last valid frame of a take with {n} valid frames; "
            "ask for at least 2",
            field="count",
        )
    if k > n:
        raise ScriptError(f"count={k} exceeds the {n} valid frames of this take; ask for at most {n}", field="count")
    return k


def _check_knots(knots: np.ndarray, n: int, count: int | None, method: str) -> None:
    """A registered method's answer must honour the contract; a broken plug-in fails loudly, not silently."""
    ok = (
        knots.ndim == 1
        and knots.shape[0] >= 2
        and knots[0] == 0
        and knots[-1] == n - 1
        and bool(np.all(np.diff(knots) > 0))
        and (count is None or knots.shape[0] == count)
    )
    if not ok:
        raise ScriptError(
            f"extraction method {method!r} returned an invalid selection (sorted unique frame indices from 0 to "
            f"{n - 1}{'' if count is None else f', exactly {count} of them'} expected); report this to its author",
            field="method",
        )


def _usable_rows(anim: Animation, times_abs: np.ndarray) -> np.ndarray:
    """Rows that are valid, have a finite time, and come after every earlier row's time: (n,) int64."""
    finite = np.isfinite(times_abs)
    if not finite.any():
        return np.zeros(0, dtype=np.int64)
    t = np.where(finite, times_abs, -np.inf)
    earlier_max = np.concatenate([[-np.inf], np.maximum.accumulate(t)[:-1]])
    increasing = t > earlier_max
    valid = np.ones(anim.num_frames, dtype=bool) if anim.valid is None else anim.valid
    dropped = int(np.count_nonzero(valid & finite & ~increasing))
    if dropped:
        logger.warning("ignoring %d valid frame(s) whose time does not increase (duplicated timecodes)", dropped)
    return np.nonzero(valid & finite & increasing)[0].astype(np.int64)


def _channel_list(channels: Iterable[str] | None) -> list[str] | None:
    """``channels`` as a list (a single name is accepted); ``None`` stays ``None`` (all channels)."""
    if channels is None:
        return None
    if isinstance(channels, str):
        return [channels]
    return list(channels)


def _names_for(key: str, *, field: str) -> tuple[str, ...]:
    if not isinstance(key, str):
        raise ScriptError(f"expected a channel or group name, got {type(key).__name__}", field=field)
    if key in rig.GROUPS:
        return rig.GROUPS[key]
    return (rig.canonical_name(key, field=field),)


def _weights(channels: Iterable[str] | None, weights: Mapping[str, float] | None) -> np.ndarray:
    """(61,) float64 error weights: 1 for the selected channels (all by default), overridden by ``weights``."""
    channels = _channel_list(channels)
    w = np.ones(rig.NUM_CHANNELS) if channels is None else np.zeros(rig.NUM_CHANNELS)
    for key in channels or ():
        for name in _names_for(key, field="channels"):
            w[rig.CHANNEL_INDEX[name]] = 1.0
    if weights is not None:
        if not isinstance(weights, Mapping):
            raise ScriptError(f"expected an object of channel: weight, got {type(weights).__name__}", field="weights")
        for key, value in weights.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ScriptError(f"expected a finite number >= 0, got {value!r}", field=f"weights.{key}")
            for name in _names_for(key, field="weights"):
                w[rig.CHANNEL_INDEX[name]] = float(value)
    if not (w > 0).any():
        raise ScriptError("no channel is measured: select at least one channel with a positive weight",
                          field="channels")
    return w


def _resolve_interpolation(interpolation: str | Interpolator) -> tuple[Interpolator, int | None, str, str]:
    """(callable, locality, name, span model) for a method name of the project's interpolate, or a callable.

    A callable may carry ``locality`` (int) and ``span_model`` attributes; without them it is treated as global
    (every insertion re-evaluates the whole take) and modelled as ``"hermite"`` by dp.
    """
    if callable(interpolation):
        locality = getattr(interpolation, "locality", None)
        model = getattr(interpolation, "span_model", "hermite")
        name = getattr(interpolation, "__name__", type(interpolation).__name__)
        return (
            interpolation,
            locality if isinstance(locality, int) and locality > 0 else None,
            str(name),
            model if model in SPAN_MODELS else "hermite",
        )
    if not isinstance(interpolation, str):
        raise ScriptError(f"expected an interpolation name such as 'pchip', got {type(interpolation).__name__}",
                          field="interpolation")
    from .animate.interpolate import interpolate, interpolators

    if interpolation not in interpolators():
        raise ScriptError(
            f"unknown interpolation {interpolation[:40]!r}; choose one of: {', '.join(interpolators())}",
            field="interpolation",
        )

    def run(times_s: np.ndarray, values: np.ndarray, t_out: np.ndarray) -> np.ndarray:
        return interpolate(times_s, values, t_out, method=interpolation)

    return run, _LOCALITY.get(interpolation), interpolation, _SPAN_MODEL.get(interpolation, "hermite")


def _source(anim: Animation) -> str | None:
    for key in ("path", "source"):
        value = anim.meta.get(key) if isinstance(anim.meta, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None
