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
from ..models.motion import load_motion
from ..options import AnimateOptions, meta_options
from ..script import Animation, Keyframes
from .consistency import enforce_consistency, rules_obeyed
from .fitted_life import blink_rate_factor
from .interpolate import DEFAULT_METHOD, expand_holds, get_interpolator, interpolate
from .life import add_fitted_life, check_seed
from .micro import add_micro_motion
from .seeding import content_seed, extracted_interpolation, is_extracted, resynthesis_timing
from .timing import Timing, plan_timing
from .transitions import group_transitions

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
_MOUTH_CLOSE: Final[int] = rig.CHANNEL_INDEX["MouthClose"]
_JAW_OPEN: Final[int] = rig.CHANNEL_INDEX["JawOpen"]
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
    method: str | None = _D.method,
    life: bool = _D.life,
    blinks: bool = _D.blinks,
    saccades: bool = _D.saccades,
    head_motion: bool = _D.head_motion,
    offsets: bool = _D.offsets,
    consistency: bool = _D.consistency,
    seed: int | None = _D.seed,
    vary_timing: bool = _D.vary_timing,
    tail_s: float | None = _D.tail_s,
    transitions: bool = _D.transitions,
    overshoot: bool = _D.overshoot,
    micro_motion: bool = _D.micro_motion,
    eyes_down: bool = _D.eyes_down,
    lids_follow_gaze: bool = _D.lids_follow_gaze,
    emotion_blink_rate: bool = _D.emotion_blink_rate,
    resynthesis: bool | None = _D.resynthesis,
    motion_model: str | None = _D.motion_model,
) -> Animation:
    """Turn keyframes into dense animation.

    ``keyframes``: generated or extracted :class:`Keyframes` (no script needed; all must have values).
    ``fps``: frames per second in [1, 1000], non-integer allowed (29.97). ``duration_s``: total length;
    ``None`` = natural (see :mod:`.timing`). ``method``: an interpolation method name (``step``, ``linear``,
    ``cubic``, ``pchip``, ``akima``); ``None``: ``pchip``, or in re-synthesis the interpolation the extractor
    fitted (``meta["interpolation"]``). ``life``: master switch of the life layers; ``blinks``, ``saccades`` and
    ``head_motion`` switch each. ``offsets``: per-group timing offsets (:data:`GROUP_OFFSETS_S`).
    ``consistency``: repair the breaks of channel rules that interpolation makes between keyframes that obey
    them (:mod:`.consistency`). ``seed``: int >= 0 for the life layers and the transition variation (same
    seed, same motion); ``None`` (default) derives one from the keyframes' content (:func:`.seeding.content_seed`),
    so the same script gives the same take and different scripts differ.
    ``vary_timing``: small seeded human variation of the chosen times. ``tail_s``: how long the last pose is
    held after its keyframe (default: natural, or what ``duration_s`` leaves); give one of the two, not both.

    Motion learned from real captures (:mod:`keyframeface.models.motion`; ``motion_model``: another motion.json):
    ``transitions``: per-group transitions with fitted speeds, staggered starts and the real onset profile
    (:mod:`.transitions`; ``False``: the ``method`` curve through every keyframe and hold, with ``offsets``);
    ``overshoot``: their fitted overshoot; ``micro_motion``: the fitted residual motion on every non-eye region
    (:mod:`.micro`); ``eyes_down``: the eyes turn down during blinks; ``lids_follow_gaze``: EyeBlink follows the
    vertical saccade offset; ``emotion_blink_rate``: the emotion / background words scale the blink rate.
    ``resynthesis``: animate keyframes extracted from a capture so as to reproduce it (the ``method`` curve
    through the keys at their times, no holds, no life layers: the take within the extraction error when ``method``
    is the extractor's); ``None`` = when the keyframes' ``meta`` says they came from ``extract``.

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
    if resynthesis is None:
        resynthesis = is_extracted(keyframes)
    if method is None:
        method = extracted_interpolation(keyframes) if resynthesis else None
        method = method or DEFAULT_METHOD
    get_interpolator(method)  # fail early, with the list of methods
    seed_source = "given" if seed is not None else "content"
    seed = content_seed(keyframes) if seed is None else check_seed(seed)
    model = load_motion(motion_model)

    values = keyframes.array()  # (K, 61)
    if resynthesis:
        timing = resynthesis_timing(keyframes, duration_s=duration_s, tail_s=tail_s)
    else:
        timing = plan_timing(keyframes, duration_s=duration_s, seed=seed if vary_timing else None)
        if tail_s is not None:
            timing = _with_tail(timing, tail_s)
    t = frame_times(timing.duration_s, fps)
    use_transitions = transitions and not resynthesis
    transition_info: dict[str, Any] = {}
    if use_transitions:
        frames, transition_info = group_transitions(
            np.array(timing.times_s), np.array(timing.holds_s), values, t, model=model,
            rng=np.random.default_rng([seed, 4]), overshoot=overshoot,
        )
    else:
        knot_t, knot_v = expand_holds(np.array(timing.times_s), values, np.array(timing.holds_s))
        frames = interpolate(
            knot_t, knot_v, t, method=method, offsets_s=channel_offsets() if offsets and not resynthesis else None
        )

    applied: tuple[str, ...] = ()
    if consistency:
        frames, applied = enforce_consistency(frames, values)
    life_info: dict[str, Any] = {}
    live = life and not resynthesis
    if live and micro_motion:
        frames = add_micro_motion(frames, t, model=model, rng=np.random.default_rng([seed, 5]))
        if consistency and "mouth_close" in applied:
            np.minimum(frames[:, _MOUTH_CLOSE], frames[:, _JAW_OPEN], out=frames[:, _MOUTH_CLOSE])
    rate = blink_rate_factor(f"{keyframes.emotion}\n{keyframes.background}") if emotion_blink_rate else 1.0
    if live and (blinks or saccades or head_motion):
        frames, life_info = add_fitted_life(
            frames, t, model=model, seed=seed, blinks=blinks, saccades=saccades, head_motion=head_motion,
            sync_eyes="eye_rotation" in rules_obeyed(values), eyes_down=eyes_down,
            lids_follow_gaze=lids_follow_gaze, blink_rate_factor=rate,
        )
    else:
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
                           vary_timing=vary_timing, tail_s=tail_s, transitions=transitions, overshoot=overshoot,
                           micro_motion=micro_motion, eyes_down=eyes_down, lids_follow_gaze=lids_follow_gaze,
                           emotion_blink_rate=emotion_blink_rate, resynthesis=resynthesis, motion_model=motion_model)
        ),
        "seed": seed,
        "seed_source": seed_source,
        "blink_rate_factor": rate if live and blinks else None,
        "transitions": transition_info,
        "timing": timing.to_dict(),
        "offsets_s": dict(GROUP_OFFSETS_S) if offsets and not use_transitions and not resynthesis else {},
        "consistency_rules": list(applied),
        "life": life_info,
        "keyframes_meta": dict(keyframes.meta),
    }
    return Animation(frames=frames, fps=fps, keyframes=timed, meta=meta)
