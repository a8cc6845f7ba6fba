"""``animate()``: keyframes -> a dense :class:`~keyframeface.script.Animation`.

Steps: timing (fill missing times, choose holds) -> knots with holds -> interpolation at every frame (with
per-group timing offsets) -> consistency rules -> life layers (head motion, saccades, blinks) -> clamp to
every channel's range. The chosen times are written back into ``anim.keyframes`` and every option, the seed
and the package version go into ``anim.meta``, so the file records how it was made.

Per-group timing offsets (``offsets=True``, the default): the upper face leads and the head lags, following
animation practice ("the eyes lead" a head turn, e.g. J. Osipa, *Stop Staring*) and what is measured for gaze
shifts, where the eyes start before the head (E. G. Freedman 2008, "Coordination of the eyes and head during
visual orienting", Exp. Brain Res. 190:369-387). Values are hand-set within the 40-80 ms lead the project
chose (:data:`GROUP_OFFSETS_S`). With offsets each group passes through every keyframe at
``time_s + offset``; with ``offsets=False`` (and ``life=False``) the curves pass through each keyframe exactly
at its ``time_s`` (or within the consistency tolerance, 0.01, when a consistency rule is repaired).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

import numpy as np

from .. import rig
from .._version import __version__
from ..errors import ScriptError
from ..options import AnimateOptions, meta_options
from ..script import Animation, Keyframes
from .consistency import enforce_consistency, rules_obeyed
from .interpolate import expand_holds, get_interpolator, interpolate
from .life import add_life, check_seed
from .timing import Timing, plan_timing

__all__ = ["GROUP_OFFSETS_S", "animate", "channel_offsets", "frame_times"]

#: Seconds each channel group is shifted (negative = leads, reaches each keyframe earlier; positive = lags).
#: eyeLook and eye rotations share one offset so they stay consistent.
GROUP_OFFSETS_S: Final[Mapping[str, float]] = {
    "gaze": -0.08,
    "eye_rotation": -0.08,
    "eyes": -0.05,
    "brows": -0.05,
    "cheeks": 0.0,
    "nose": 0.0,
    "jaw": 0.0,
    "mouth": 0.0,
    "tongue": 0.0,
    "head": 0.06,
}
# 12 hours at 60 fps (2.6 M frames, ~640 MB per (T, 61) float32 copy; animate() makes a few): beyond this the request
# is surely a mistake, and it would exhaust memory on an ordinary machine.
_MAX_FRAMES: Final[int] = 12 * 3600 * 60
#: The declared defaults (keyframeface.options.AnimateOptions): the signature below reads them, so they cannot drift.
_D: Final[AnimateOptions] = AnimateOptions()


def channel_offsets(group_offsets_s: Mapping[str, float] = GROUP_OFFSETS_S) -> np.ndarray:
    """Per-channel offsets (61,) float64 in seconds from per-group offsets (missing groups: 0)."""
    out = np.zeros(rig.NUM_CHANNELS)
    for group, names in rig.GROUPS.items():
        for name in names:
            out[rig.CHANNEL_INDEX[name]] = float(group_offsets_s.get(group, 0.0))
    return out


def frame_times(duration_s: float, fps: float) -> np.ndarray:
    """Frame times (T,) float64: ``arange(T) / fps`` with T = floor(duration_s x fps) + 1 (includes 0 and the
    end when it falls on a frame)."""
    count = math.floor(duration_s * fps + 1e-9) + 1
    if count > _MAX_FRAMES:
        raise ScriptError(
            f"{duration_s:g} s at {fps:g} fps is {count} frames; the limit is {_MAX_FRAMES} (use a shorter duration_s "
            "or a lower fps)"
        )
    return np.arange(count, dtype=np.float64) / fps


def _check_number(value: object, name: str, *, low: float, high: float, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScriptError(f"expected a number, got {value!r}", field=name)
    v = float(value)
    if not (low < v <= high or (allow_zero and v == 0.0)):
        raise ScriptError(f"expected a number in ({low:g}, {high:g}], got {value!r}", field=name)
    return v


def _with_tail(timing: Timing, tail_s: float) -> Timing:
    holds = (*timing.holds_s[:-1], tail_s)
    return replace(timing, holds_s=holds, duration_s=timing.times_s[-1] + tail_s)


def animate(
    keyframes: Keyframes,
    *,
    fps: float = _D.fps,
    duration_s: float | None = _D.duration_s,
    method: str = _D.method,
    life: bool = _D.life,
    blinks: bool = _D.blinks,
    saccades: bool = _D.saccades,
    head_motion: bool = _D.head_motion,
    offsets: bool = _D.offsets,
    consistency: bool = _D.consistency,
    seed: int = _D.seed,
    vary_timing: bool = _D.vary_timing,
    tail_s: float | None = _D.tail_s,
) -> Animation:
    """Turn keyframes into dense animation.

    ``keyframes``: generated or extracted :class:`Keyframes` (no script needed; all must have values).
    ``fps``: frames per second in [1, 1000], non-integer allowed (29.97). ``duration_s``: total length;
    ``None`` = natural (see :mod:`.timing`). ``method``: an interpolation method name (``step``, ``linear``,
    ``cubic``, ``pchip``, ``akima``). ``life``: master switch of the life layers; ``blinks``, ``saccades`` and
    ``head_motion`` switch each. ``offsets``: per-group timing offsets (:data:`GROUP_OFFSETS_S`).
    ``consistency``: repair the breaks of channel rules that interpolation makes between keyframes that obey
    them (:mod:`.consistency`). ``seed``: int >= 0 for the life layers (same seed, same motion).
    ``vary_timing``: small seeded human variation of the chosen times. ``tail_s``: how long the last pose is
    held after its keyframe (default: natural, or what ``duration_s`` leaves); give one of the two, not both.

    Returns an :class:`Animation`: ``frames`` (T, 61) float32 within every channel's range, frame ``i`` at
    ``i / fps`` seconds; ``keyframes`` with every ``time_s`` filled; ``meta`` with the options, seed, timing
    and package version. Raises :class:`ScriptError` for keyframes without values, no keyframes or invalid
    options.
    """
    if not isinstance(keyframes, Keyframes):
        raise ScriptError(
            f"expected Keyframes (from generate or extract), got {type(keyframes).__name__}; "
            "run keyframeface.generate(script) first"
        )
    if len(keyframes) == 0:
        raise ScriptError("there are no keyframes to animate; expected at least one", field="keyframes")
    if keyframes.missing:
        raise ScriptError(
            f"keyframes {keyframes.missing} have no values (their generation failed); "
            "regenerate them or remove them",
            field="keyframes",
        )
    # At least 1 fps: below that, keyframes between frames would silently vanish from the output.
    fps = _check_number(fps, "fps", low=0.0, high=1000.0)
    if fps < 1.0:
        raise ScriptError(f"expected at least 1 frame per second, got {fps!r}", field="fps")
    if duration_s is not None:
        duration_s = _check_number(duration_s, "duration_s", low=0.0, high=24 * 3600.0)
    if tail_s is not None:
        if duration_s is not None:
            raise ScriptError(
                "give duration_s or tail_s, not both (duration_s already fixes the tail)", field="tail_s"
            )
        tail_s = _check_number(tail_s, "tail_s", low=0.0, high=24 * 3600.0, allow_zero=True)
    get_interpolator(method)  # fail early, with the list of methods
    seed = check_seed(seed)

    timing = plan_timing(keyframes, duration_s=duration_s, seed=seed if vary_timing else None)
    if tail_s is not None:
        timing = _with_tail(timing, tail_s)
    values = keyframes.array()  # (K, 61)
    knot_t, knot_v = expand_holds(np.array(timing.times_s), values, np.array(timing.holds_s))
    t = frame_times(timing.duration_s, fps)
    frames = interpolate(knot_t, knot_v, t, method=method, offsets_s=channel_offsets() if offsets else None)

    applied: tuple[str, ...] = ()
    if consistency:
        frames, applied = enforce_consistency(frames, values)
    life_info: dict[str, Any] = {}
    any_life = life and (blinks or saccades or head_motion)
    if any_life:
        frames, life_info = add_life(
            frames,
            t,
            seed=seed,
            blinks=blinks,
            saccades=saccades,
            head_motion=head_motion,
            sync_eyes="eye_rotation" in rules_obeyed(values),
        )
    else:  # add_life clamps; interpolation stays within the keyframes' range, so this is a safety net
        frames, _ = rig.clamp(frames, max_reports=0)

    timed = Keyframes(
        keyframes=tuple(
            replace(kf, time_s=float(ts))
            for kf, ts in zip(keyframes.keyframes, timing.times_s, strict=True)
        ),
        background=keyframes.background,
        emotion=keyframes.emotion,
        meta=dict(keyframes.meta),
    )
    meta: dict[str, Any] = {
        "stage": "animate",
        "package": "keyframeface",
        "package_version": __version__,
        # Every declared option but the seed (recorded on its own), in declaration order.
        "options": meta_options(
            AnimateOptions(fps=fps, duration_s=duration_s, method=method, life=life, blinks=blinks, saccades=saccades,
                           head_motion=head_motion, offsets=offsets, consistency=consistency, seed=seed,
                           vary_timing=vary_timing, tail_s=tail_s)
        ),
        "seed": seed,
        "timing": timing.to_dict(),
        "offsets_s": dict(GROUP_OFFSETS_S) if offsets else {},
        "consistency_rules": list(applied),
        "life": life_info,
        "keyframes_meta": dict(keyframes.meta),
    }
    return Animation(frames=frames, fps=fps, keyframes=timed, meta=meta)
