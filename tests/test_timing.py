"""Timing: given times kept, missing ones filled from changes and words, duration, holds, seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.animate.timing import MIN_TAIL_S, Timing, cue_factors, plan_timing, tempo_factors
from keyframeface.errors import ScriptError
from keyframeface.script import Keyframe, Keyframes

FAST = settings(max_examples=40, deadline=None)


def pose(**channels: float) -> np.ndarray:
    v = rig.neutral()
    for name, value in channels.items():
        v[rig.CHANNEL_INDEX[name]] = value
    return v


def keys(
    poses: list[np.ndarray],
    *,
    times: list[float | None] | None = None,
    descriptions: list[str] | None = None,
    emotion: str = "",
    background: str = "",
) -> Keyframes:
    return Keyframes.from_array(
        np.stack(poses), times_s=times, descriptions=descriptions, emotion=emotion, background=background
    )


def transition_into_last(kf: Keyframes) -> float:
    timing = plan_timing(kf)
    return timing.times_s[-1] - timing.times_s[-2] - timing.holds_s[-2]


def check_valid(timing: Timing, k: int) -> None:
    times, holds = np.array(timing.times_s), np.array(timing.holds_s)
    assert times.shape == (k,) and holds.shape == (k,)
    assert times[0] >= 0.0
    assert (np.diff(times) > 0).all()
    assert (holds >= 0).all()
    assert (times[:-1] + holds[:-1] < times[1:]).all()  # every hold ends before the next keyframe
    assert timing.duration_s == pytest.approx(times[-1] + holds[-1])


def test_no_times_start_at_zero_and_natural_total() -> None:
    kf = keys([pose(), pose(MouthSmileLeft=0.6, MouthSmileRight=0.6), pose(BrowInnerUp=0.5)])
    timing = plan_timing(kf)
    check_valid(timing, 3)
    assert timing.times_s[0] == 0.0
    assert timing.chosen == (True, True, True)
    assert 1.5 < timing.duration_s < 8.0  # a natural few seconds for three poses
    assert timing.holds_s[-1] >= MIN_TAIL_S
    assert plan_timing(kf) == timing  # deterministic


def test_given_times_are_kept() -> None:
    kf = keys([pose(), pose(JawOpen=0.5), pose()], times=[0.5, 1.5, 4.0])
    timing = plan_timing(kf)
    assert timing.times_s == (0.5, 1.5, 4.0)
    assert timing.chosen == (False, False, False)
    check_valid(timing, 3)
    timing = plan_timing(kf, duration_s=6.0)
    assert timing.duration_s == 6.0 and timing.holds_s[-1] == pytest.approx(2.0)


def test_missing_times_are_filled_in_order_between_given_ones() -> None:
    poses = [pose(), pose(JawOpen=0.3), pose(JawOpen=0.6), pose(), pose(BrowInnerUp=0.4)]
    kf = keys(poses, times=[None, 2.0, None, 5.0, None])
    timing = plan_timing(kf)
    check_valid(timing, 5)
    assert timing.times_s[0] == 0.0 and timing.times_s[1] == 2.0 and timing.times_s[3] == 5.0
    assert 2.0 < timing.times_s[2] < 5.0 and timing.times_s[4] > 5.0
    assert timing.chosen == (True, False, True, False, True)
    timed = plan_timing(kf, duration_s=9.0)
    assert timed.duration_s == 9.0 and timed.times_s[1] == 2.0 and 5.0 < timed.times_s[4] < 9.0


def test_duration_scales_the_natural_timeline() -> None:
    kf = keys([pose(), pose(MouthSmileLeft=0.5), pose(EyeBlinkLeft=1, EyeBlinkRight=1), pose()])
    natural = plan_timing(kf)
    for duration in (1.0, 10.0, 60.0):
        timing = plan_timing(kf, duration_s=duration)
        check_valid(timing, 4)
        assert timing.duration_s == pytest.approx(duration)
        ratio = np.array(timing.times_s[1:]) / np.array(natural.times_s[1:])
        np.testing.assert_allclose(ratio, duration / natural.duration_s, rtol=1e-9)


def test_bigger_and_slower_changes_take_longer() -> None:
    small = transition_into_last(keys([pose(), pose(MouthSmileLeft=0.2)]))
    big = transition_into_last(keys([pose(), pose(MouthSmileLeft=0.9)]))
    blink = transition_into_last(keys([pose(), pose(EyeBlinkLeft=0.9, EyeBlinkRight=0.9)]))
    head = transition_into_last(keys([pose(), pose(HeadYaw=0.4)]))
    assert blink < small < big < head


def test_words_change_the_pace() -> None:
    poses = [pose(), pose(MouthSmileLeft=0.6, MouthSmileRight=0.6)]
    plain = transition_into_last(keys(poses, descriptions=["", "a smile appears"]))
    sudden = transition_into_last(keys(poses, descriptions=["", "suddenly a smile appears"]))
    slow = transition_into_last(keys(poses, descriptions=["", "a smile slowly spreads"]))
    assert sudden < plain < slow
    three = [*poses, pose()]
    flash = plan_timing(keys(three, descriptions=["", "a flash of a smile", "gone"]))
    normal = plan_timing(keys(three, descriptions=["", "a smile", "gone"]))
    assert flash.holds_s[1] < normal.holds_s[1]
    grief = transition_into_last(keys(poses, emotion="Grief settles over her."))
    shock = transition_into_last(keys(poses, emotion="Shock and surprise."))
    assert shock < plain < grief


def test_cue_and_tempo_factors() -> None:
    assert cue_factors("") == (1.0, 1.0)
    assert cue_factors("Suddenly the brows lift")[0] < 1.0
    assert cue_factors("The gaze gradually lowers")[0] > 1.0
    assert cue_factors("The smile lingers")[1] > 1.0
    assert cue_factors("slowness is not a cue word: unsuddenly")[0] == 1.0  # whole words only
    assert tempo_factors("deep sadness")[0] > 1.0 > tempo_factors("fear")[0]


def test_seed_adds_reproducible_variation_only_when_asked() -> None:
    kf = keys([pose(), pose(JawOpen=0.4), pose(BrowInnerUp=0.6), pose()])
    plain = plan_timing(kf)
    a, b, c = plan_timing(kf, seed=1), plan_timing(kf, seed=1), plan_timing(kf, seed=2)
    assert a == b and a != plain and a != c
    check_valid(a, 4)
    ratio = np.array(a.times_s[1:]) / np.array(plain.times_s[1:])
    assert ((ratio > 0.7) & (ratio < 1.35)).all()
    given_times = keys([pose(), pose(JawOpen=0.4)], times=[0.0, 1.0])
    assert plan_timing(given_times, seed=5).times_s == (0.0, 1.0)


def test_values_not_needed_for_timing() -> None:
    kfs = [Keyframe(description="The brows lift."), Keyframe(description="Suddenly she smiles.", time_s=None)]
    timing = plan_timing(kfs)
    check_valid(timing, 2)


def test_single_keyframe() -> None:
    timing = plan_timing(keys([pose(JawOpen=0.2)]))
    assert timing.times_s == (0.0,) and timing.duration_s >= MIN_TAIL_S
    assert plan_timing(keys([pose()], times=[2.0]), duration_s=5.0).holds_s == (3.0,)


def test_errors() -> None:
    with pytest.raises(ScriptError, match="no keyframes"):
        plan_timing([])
    with pytest.raises(ScriptError, match="duration_s"):
        plan_timing(keys([pose(), pose()], times=[0.0, 3.0]), duration_s=2.0)
    with pytest.raises(ScriptError, match="duration_s"):
        plan_timing(keys([pose(), pose()], times=[0.0, None]), duration_s=0.0)
    with pytest.raises(ScriptError, match="without time_s come before"):
        plan_timing(keys([pose(), pose()], times=[None, 0.0]))
    with pytest.raises(ScriptError, match="duration_s"):
        plan_timing(keys([pose(), pose()], times=[0.0, 3.0]), duration_s=float("nan"))


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    pattern=st.lists(st.booleans(), min_size=1, max_size=8),
    duration=st.one_of(st.none(), st.floats(0.5, 120.0)),
    jitter=st.booleans(),
)
def test_timing_properties(seed: int, pattern: list[bool], duration: float | None, jitter: bool) -> None:
    rng = np.random.default_rng(seed)
    k = len(pattern)
    values = rig.LOW + (rig.HIGH - rig.LOW) * rng.uniform(size=(k, rig.NUM_CHANNELS))
    given_times = np.cumsum(rng.uniform(0.1, 3.0, k)) - (0.1 if rng.uniform() < 0.5 else 0.0)
    times: list[float | None] = [float(t) if g else None for t, g in zip(given_times, pattern, strict=True)]
    kf = Keyframes.from_array(values.astype(np.float32), times_s=times)
    last_given = max((t for t in times if t is not None), default=None)
    if duration is not None and last_given is not None and duration <= last_given:
        with pytest.raises(ScriptError):
            plan_timing(kf, duration_s=duration, seed=seed if jitter else None)
        return
    timing = plan_timing(kf, duration_s=duration, seed=seed if jitter else None)
    check_valid(timing, k)
    for i, t in enumerate(times):
        if t is not None:
            assert timing.times_s[i] == t
    if duration is not None:
        assert timing.duration_s == pytest.approx(duration)
