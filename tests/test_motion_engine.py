"""The lifelike motion engine: fitted transitions, micro-motion, fitted life layers, content seeds, re-synthesis of
extracted keyframes and the duration-based keyframe cap of extracted documents."""

from __future__ import annotations

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.animate import animate, expand_holds, interpolate
from keyframeface.animate.engine import channel_offsets, frame_times
from keyframeface.animate.fitted_life import blink_rate_factor
from keyframeface.animate.micro import add_micro_motion, colored_noise, upsample
from keyframeface.animate.seeding import content_seed, is_extracted
from keyframeface.animate.transitions import group_transitions
from keyframeface.errors import ScriptError
from keyframeface.evaluate.motion import stats
from keyframeface.evaluate.motion.events import blinks as find_blinks
from keyframeface.evaluate.motion.signals import take_from_animation
from keyframeface.extract import extract
from keyframeface.models.motion import load_motion
from keyframeface.script import (
    EXTRACTED_BY,
    MAX_KEYFRAMES,
    MAX_KEYFRAMES_PER_S,
    Animation,
    Keyframes,
    capture_keyframe_limit,
)

IDX = rig.CHANNEL_INDEX
MODEL = load_motion()
NON_EYE = np.array(
    [
        IDX[n]
        for g, names in rig.GROUPS.items()
        if g not in ("eyes", "gaze", "eye_rotation")
        for n in names
        if n != "TongueOut"
    ]
)
FACE = np.array([IDX[n] for g in ("brows", "cheeks", "nose", "jaw", "mouth") for n in rig.GROUPS[g]])


def pose(**channels: float) -> np.ndarray:
    v = rig.neutral()
    for name, value in channels.items():
        v[IDX[name]] = value
    return rig.sync_eye_rotations(v)


def two_keys(a: np.ndarray, b: np.ndarray, *, at: float = 1.0, **kw: object) -> Keyframes:
    return Keyframes.from_array(np.stack([a, b]), times_s=[0.0, at], **kw)  # type: ignore[arg-type]


def rise_1090(x: np.ndarray, fps: float) -> float:
    """10-90 % time (s) of a monotone-ish rise from x[0] to x[-1]."""
    y = (x - x[0]) / (x[-1] - x[0])
    t10 = np.flatnonzero(y >= 0.1)[0]
    t90 = np.flatnonzero(y >= 0.9)[0]
    return float((t90 - t10) / fps)


# ------------------------------------------------------------------------------------------------- transitions
def test_transitions_hit_keyframe_values_at_keyframe_times() -> None:
    rng = np.random.default_rng(0)
    k = 7
    values = rig.sync_eye_rotations(
        (rig.LOW + (rig.HIGH - rig.LOW) * rng.uniform(size=(k, 61)) ** 2).astype(np.float32) * 0.7
    )
    times = np.array([0.0, 0.4, 1.0, 1.2, 2.5, 2.6, 4.0])
    holds = np.array([0.1, 0.0, 0.05, 0.0, 0.0, 0.3, 0.0])
    fps = 100.0  # every keyframe time falls on a frame
    t = frame_times(5.0, fps)
    frames, info = group_transitions(times, holds, values, t, model=MODEL, rng=np.random.default_rng(1))
    assert frames.shape == (t.shape[0], 61) and frames.dtype == np.float32
    rows = np.round(times * fps).astype(int)
    np.testing.assert_allclose(frames[rows], values, atol=1e-5)
    np.testing.assert_allclose(
        frames[t >= times[-1]], np.broadcast_to(values[-1], frames[t >= times[-1]].shape), atol=1e-6
    )
    assert set(info["durations_s"]) == set(rig.GROUPS)
    # through the engine: with life off, every keyframe value at its time (consistency off: no repair)
    keys = Keyframes.from_array(values, times_s=list(times))
    anim = animate(keys, fps=fps, life=False, consistency=False, tail_s=0.5)
    np.testing.assert_allclose(anim.frames[rows], values, atol=1e-5)


@pytest.mark.parametrize("seed", range(5))
def test_onset_of_a_typical_change_is_fast(seed: int) -> None:
    kf = two_keys(pose(), pose(MouthSmileLeft=0.5, MouthSmileRight=0.5, BrowInnerUp=0.4), at=1.5)
    anim = animate(kf, fps=240.0, life=False, overshoot=False, tail_s=0.2, seed=seed)
    for name in ("MouthSmileLeft", "BrowInnerUp"):
        d = rise_1090(anim.frames[:, IDX[name]].astype(np.float64), 240.0)
        assert 0.12 <= d <= 0.30, (name, d)


def test_overshoot_settles_before_the_keyframe() -> None:
    kf = two_keys(pose(), pose(JawOpen=0.4, BrowInnerUp=0.5), at=2.0)
    peaks = []
    for seed in range(12):
        anim = animate(kf, fps=120.0, life=False, tail_s=0.5, seed=seed)
        x = anim.frames[:, IDX["BrowInnerUp"]]
        peaks.append(float(x.max()))
        assert x[240] == pytest.approx(0.5, abs=1e-6)  # at the keyframe time, exactly
        flat = animate(kf, fps=120.0, life=False, tail_s=0.5, seed=seed, overshoot=False).frames[
            :, IDX["BrowInnerUp"]
        ]
        assert flat.max() <= 0.5 + 1e-6  # without overshoot the curve stays within the keys
    assert sum(p > 0.5 * 1.02 for p in peaks) >= 3  # some onsets overshoot visibly, as real ones do


def test_gaze_shift_is_a_fast_saccade() -> None:
    a = pose()
    b = pose(EyeLookOutLeft=0.2 / rig.EYE_YAW_GAIN, EyeLookInRight=0.2 / rig.EYE_YAW_GAIN)  # 0.2 units of yaw
    fps = 240.0
    anim = animate(two_keys(a, b, at=1.0), fps=fps, life=False, tail_s=0.3)
    yaw = anim.frames[:, IDX["LeftEyeYaw"]].astype(np.float64)
    assert abs(yaw[-1] - yaw[0]) == pytest.approx(0.2, abs=1e-3)
    peak = float(np.abs(np.diff(yaw)).max() * fps)
    assert peak >= 2.5
    moving = np.flatnonzero(np.abs(np.diff(yaw)) > 1e-6)
    assert (moving[-1] - moving[0] + 1) / fps <= 0.2  # a glance is quicker than the mouth
    mouth = two_keys(pose(), pose(JawOpen=0.2), at=1.0)
    jaw = animate(mouth, fps=fps, life=False, tail_s=0.3).frames[:, IDX["JawOpen"]]
    jaw_moving = np.flatnonzero(np.abs(np.diff(jaw)) > 1e-6)
    assert (jaw_moving[-1] - jaw_moving[0]) > (moving[-1] - moving[0])


# --------------------------------------------------------------------------------------------- living holds
def frozen_runs(frames: np.ndarray, cols: np.ndarray, fps: float, min_s: float = 0.5) -> int:
    same = np.all(np.diff(frames[:, cols], axis=0) == 0.0, axis=1)
    longest = run = 0
    for s in same:
        run = run + 1 if s else 0
        longest = max(longest, run)
    return int(longest >= round(min_s * fps))


def test_a_long_hold_never_freezes_and_stays_near_the_pose() -> None:
    keys = Keyframes.from_array(pose(MouthSmileLeft=0.3, MouthSmileRight=0.3, BrowInnerUp=0.2)[None])
    anim = animate(keys, duration_s=60.0)
    assert frozen_runs(anim.frames, NON_EYE, anim.fps) == 0
    smile = anim.frames[:, IDX["MouthSmileLeft"]]
    assert abs(float(smile.mean()) - 0.3) < 0.02 and 0.002 < float(smile.std()) < 0.03
    # a small left/right asymmetry: never exactly equal for long
    assert (
        float(np.mean(anim.frames[:, IDX["MouthSmileLeft"]] == anim.frames[:, IDX["MouthSmileRight"]])) < 0.05
    )
    gaze = np.array([IDX[n] for n in rig.GROUPS["gaze"]])
    assert frozen_runs(anim.frames, gaze, anim.fps) == 0  # fixations drift: the eyes never freeze either
    still = animate(keys, duration_s=5.0, life=False)
    assert frozen_runs(still.frames, NON_EYE, still.fps) == 1  # the old, frozen behaviour without life


def test_micro_motion_follows_the_fitted_levels() -> None:
    t = frame_times(300.0, 60.0)
    base = np.tile(pose(BrowInnerUp=0.3, JawOpen=0.1, MouthSmileLeft=0.5), (t.shape[0], 1))
    out = add_micro_motion(base, t, model=MODEL, rng=np.random.default_rng(3))
    resid = out - base
    std = MODEL["micro"]["channel_std"]
    for name, level_bin in (("BrowInnerUp", 2), ("JawOpen", 1), ("MouthSmileLeft", 2)):
        want = float(std[name][level_bin])
        got = float(resid[:, IDX[name]].std())
        assert want * 0.6 < got < want * 1.5, (name, got, want)
    for name in ("EyeBlinkLeft", "EyeLookUpLeft", "TongueOut", "HeadYaw", "LeftEyePitch"):
        assert np.all(resid[:, IDX[name]] == 0.0), name
    r = np.corrcoef(resid[:, IDX["JawOpen"]], resid[:, IDX["MouthClose"]])[0, 1]
    assert r > 0.2  # lips ride on the jaw's drift
    assert out[:, : rig.NUM_BLENDSHAPES].min() >= 0.0 and out[:, : rig.NUM_BLENDSHAPES].max() <= 1.0


def test_colored_noise_and_upsample() -> None:
    n = 4096
    amp = np.ones((n // 2 + 1, 3))
    x = colored_noise(n, amp, np.random.default_rng(0))
    assert x.shape == (n, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=0.06)
    low = np.arange(12, dtype=np.float32).reshape(6, 2)
    t = np.linspace(0.0, 0.4, 9)
    up = upsample(low, t, 10.0)
    np.testing.assert_allclose(up[:, 0], 2 * 10 * t, atol=1e-5)


# ----------------------------------------------------------------------------------------------------- blinks
def test_blinks_of_a_long_clip_are_real_like() -> None:
    keys = Keyframes.from_array(pose(BrowInnerUp=0.1)[None])
    anim = animate(keys, duration_s=600.0, fps=60.0)
    take = [take_from_animation(anim)]
    rate = stats.blink_rate(take).value
    fitted = float(MODEL["blinks"]["rate_per_min"])
    assert 0.75 * fitted <= rate <= 1.25 * fitted
    assert abs(anim.meta["life"]["blinks"] / 10.0 - fitted) / fitted < 0.25
    duration_ms = stats.blink_duration(take).value
    assert 200.0 <= duration_ms <= 320.0
    assert stats.blink_interval_cv(take).value >= 0.7
    assert stats.partial_blink_share(take).value > 20.0  # most blinks do not close the lids fully
    assert stats.blink_eye_pitch(take).value > 0.05  # the eyes turn down during blinks


def test_emotion_words_shape_the_blink_rate() -> None:
    assert blink_rate_factor("") == 1.0
    assert blink_rate_factor("Anxiety concealed by a smile.") > 1.0
    assert blink_rate_factor("She reads, concentrated.") < 1.0
    pose_ = pose()[None]
    calm = animate(Keyframes.from_array(pose_, emotion="Calm."), duration_s=300.0, seed=3)
    nervous = animate(Keyframes.from_array(pose_, emotion="Nervous and afraid."), duration_s=300.0, seed=3)
    assert nervous.meta["life"]["blinks"] > calm.meta["life"]["blinks"] * 1.2
    same = animate(
        Keyframes.from_array(pose_, emotion="Nervous and afraid."),
        duration_s=300.0,
        seed=3,
        emotion_blink_rate=False,
    )
    assert same.meta["life"]["blinks"] < nervous.meta["life"]["blinks"]
    assert same.meta["blink_rate_factor"] == 1.0


# ------------------------------------------------------------------------------------------------------ seeds
def scene(description: str) -> Keyframes:
    return Keyframes.from_array(
        np.stack([pose(), pose(MouthSmileLeft=0.4, MouthSmileRight=0.4)]),
        times_s=[0.0, 1.5],
        descriptions=["Neutral.", description],
        emotion="Quiet joy.",
    )


def blink_times(anim: Animation) -> np.ndarray:
    take = take_from_animation(anim)
    return np.array([b.time_s(take.fps) for b in find_blinks(take)])


def test_content_seed_same_script_same_take_different_scripts_differ() -> None:
    a1 = animate(scene("A small smile."), duration_s=30.0)
    a2 = animate(scene("A small smile."), duration_s=30.0)
    b = animate(scene("A small, warm smile."), duration_s=30.0)
    np.testing.assert_array_equal(a1.frames, a2.frames)
    assert a1.meta["seed_source"] == "content" and a1.meta["seed"] == content_seed(scene("A small smile."))
    assert a1.meta["seed"] != b.meta["seed"]
    ta, tb = blink_times(a1), blink_times(b)
    assert len(ta) > 3 and len(tb) > 3
    assert not (len(ta) == len(tb) and np.allclose(ta, tb, atol=0.05))
    # an explicit seed overrides the content: the same seed gives the same life on both scripts' poses
    s1 = animate(scene("A small smile."), duration_s=30.0, seed=7)
    s2 = animate(scene("A small, warm smile."), duration_s=30.0, seed=7)
    assert s1.meta["seed"] == 7 and s1.meta["seed_source"] == "given"
    np.testing.assert_array_equal(s1.frames, s2.frames)  # same values and times: only the descriptions differ
    again = animate(scene("A small smile."), duration_s=30.0, seed=a1.meta["seed"])
    np.testing.assert_array_equal(again.frames, a1.frames)


def test_cli_animate_uses_the_content_seed(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    from pathlib import Path

    from keyframeface.cli.main import main

    folder = Path(str(tmp_path))
    monkeypatch.chdir(folder)
    (folder / "k.json").write_text(json.dumps(scene("A small smile.").to_dict()))
    assert main(["animate", "k.json", "-o", "out"]) == 0
    meta = json.loads((folder / "out" / "k.json").read_text())["meta"]
    assert meta["seed_source"] == "content"
    assert main(["animate", "k.json", "-o", "out2", "--seed", "5"]) == 0
    assert json.loads((folder / "out2" / "k.json").read_text())["meta"]["seed"] == 5


# --------------------------------------------------------------------------------------------------- switches
def test_every_layer_off_is_the_old_engine() -> None:
    a = pose(EyeLookDownLeft=0.3, EyeLookDownRight=0.3, BrowInnerUp=0.3)
    b = pose(MouthSmileLeft=0.4, MouthSmileRight=0.4, JawOpen=0.2, HeadPitch=-0.05)
    keys = Keyframes.from_array(np.stack([a, b, a]), times_s=[0.0, 1.2, 2.5])
    anim = animate(keys, fps=60.0, life=False, transitions=False, consistency=False, tail_s=0.5)
    timing = anim.meta["timing"]
    knot_t, knot_v = expand_holds(np.array(timing["times_s"]), keys.array(), np.array(timing["holds_s"]))
    want = interpolate(knot_t, knot_v, anim.frame_times(), method="pchip", offsets_s=channel_offsets())
    np.testing.assert_allclose(anim.frames, want, atol=1e-6)
    assert anim.meta["offsets_s"] and anim.meta["life"] == {}


def test_each_switch_leaves_its_channels_alone() -> None:
    keys = Keyframes.from_array(pose(BrowInnerUp=0.3, MouthSmileLeft=0.3, MouthSmileRight=0.3)[None])
    base = animate(keys, duration_s=20.0, life=False)
    face = FACE[~np.isin(FACE, [IDX["MouthClose"]])]
    no_micro = animate(keys, duration_s=20.0, micro_motion=False)
    np.testing.assert_array_equal(no_micro.frames[:, face], base.frames[:, face])
    blink = [IDX["EyeBlinkLeft"], IDX["EyeBlinkRight"]]
    no_lids = animate(keys, duration_s=20.0, blinks=False, lids_follow_gaze=False)
    np.testing.assert_array_equal(no_lids.frames[:, blink], base.frames[:, blink])
    with_lids = animate(keys, duration_s=20.0, blinks=False)
    assert not np.array_equal(with_lids.frames[:, blink], base.frames[:, blink])  # lids follow the saccades
    gaze = [IDX[n] for n in rig.GROUPS["gaze"] + rig.GROUPS["eye_rotation"]]
    no_gaze = animate(keys, duration_s=20.0, saccades=False, eyes_down=False)
    np.testing.assert_array_equal(no_gaze.frames[:, gaze], base.frames[:, gaze])
    eyes_down = animate(keys, duration_s=20.0, saccades=False)
    assert eyes_down.frames[:, IDX["LeftEyePitch"]].max() > 0.05  # Bell's phenomenon during blinks
    head = [IDX[n] for n in rig.GROUPS["head"]]
    no_head = animate(keys, duration_s=20.0, head_motion=False)
    np.testing.assert_array_equal(no_head.frames[:, head], base.frames[:, head])
    options = animate(keys, duration_s=2.0).meta["options"]
    assert {
        "transitions",
        "overshoot",
        "micro_motion",
        "eyes_down",
        "lids_follow_gaze",
        "emotion_blink_rate",
        "resynthesis",
        "motion_model",
    } <= set(options)


@pytest.mark.parametrize("seed", range(4))
def test_channels_stay_in_range(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = 8
    u = rng.uniform(size=(k, 61))
    u[rng.uniform(size=u.shape) < 0.3] = 1.0  # many values at the very edges of their range
    u[rng.uniform(size=u.shape) < 0.3] = 0.0
    values = rig.LOW + (rig.HIGH - rig.LOW) * u
    keys = Keyframes.from_array(
        values.astype(np.float32), times_s=list(np.cumsum(rng.uniform(0.2, 1.5, k)) - 0.2)
    )
    anim = animate(keys, seed=seed)
    assert np.isfinite(anim.frames).all()
    assert (anim.frames >= rig.LOW - 1e-7).all() and (anim.frames <= rig.HIGH + 1e-7).all()


def test_another_motion_model_file(tmp_path: object) -> None:
    import json
    from pathlib import Path

    path = Path(str(tmp_path)) / "m.json"
    model = json.loads(json.dumps(MODEL))
    model["blinks"]["rate_per_min"] = 60.0
    path.write_text(json.dumps(model))
    keys = Keyframes.from_array(pose()[None])
    fast = animate(keys, duration_s=120.0, seed=1, motion_model=str(path))
    slow = animate(keys, duration_s=120.0, seed=1)
    assert fast.meta["life"]["blinks"] > 2 * slow.meta["life"]["blinks"]
    assert fast.meta["options"]["motion_model"] == str(path)


# ----------------------------------------------------------------------------------------------- re-synthesis
def synthetic_take(seconds: float = 40.0, fps: float = 60.0, seed: int = 0) -> Animation:
    """A take that moves all the time, with sharp blinks: a lifelike animation of many random keyframes."""
    rng = np.random.default_rng(seed)
    k = int(seconds / 1.5)
    u = rng.uniform(size=(k, 61)) ** 3 * 0.6
    values = rig.sync_eye_rotations((rig.LOW + (rig.HIGH - rig.LOW) * u).astype(np.float32) * 0.5)
    values[:, [IDX["EyeBlinkLeft"], IDX["EyeBlinkRight"]]] = 0.05
    keys = Keyframes.from_array(values, times_s=list(np.arange(k) * 1.5))
    anim = animate(keys, fps=fps, duration_s=seconds, seed=seed)
    return Animation(anim.frames, fps=fps)


def test_resynthesis_replays_the_take_without_adding_blinks_or_holds() -> None:
    take = synthetic_take(60.0)
    keys = extract(take, max_error=0.04)
    assert is_extracted(keys) and len(keys) > MAX_KEYFRAMES  # more than a plain document's cap
    out = animate(keys, fps=take.fps)
    assert out.meta["options"]["resynthesis"] is True and out.meta["life"] == {}
    assert out.num_frames == take.num_frames
    # the extractor's own curve (pchip through the keys) at the take's times: within the extraction error
    err = np.abs(out.frames - take.frames)
    assert float(err.max()) <= 0.04 + 1e-4
    assert float(np.sqrt(np.mean(err**2))) <= keys.meta["error"]["rmse"] + 1e-5
    real_blinks = len(find_blinks(take_from_animation(take)))
    replay_blinks = len(find_blinks(take_from_animation(out)))
    assert real_blinks >= 5 and abs(replay_blinks - real_blinks) <= max(1, round(0.1 * real_blinks))
    assert frozen_runs(out.frames, NON_EYE, out.fps) == 0  # no inserted holds
    lively = animate(keys, fps=take.fps, resynthesis=False)
    assert lively.meta["options"]["resynthesis"] is False and lively.meta["life"]["blinks"] > 0


# ------------------------------------------------------------------------------------------------------ the cap
def test_extracted_keyframes_may_exceed_256_up_to_a_duration_cap() -> None:
    meta = {"extractor": EXTRACTED_BY}
    n = 1000
    values = np.zeros((n, 61), dtype=np.float32)
    times = list(np.linspace(0.0, 100.0, n))  # 100 s: up to 1200 keyframes
    keys = Keyframes.from_array(values, times_s=times, meta=meta)
    assert len(Keyframes.from_dict(keys.to_dict())) == n
    assert capture_keyframe_limit(100.0) == int(100 * MAX_KEYFRAMES_PER_S)
    with pytest.raises(ScriptError, match="the limit is 256"):
        Keyframes.from_array(values, times_s=times)  # not from extract: the plain cap
    with pytest.raises(ScriptError, match="the limit is 256"):
        Keyframes.from_dict({**keys.to_dict(), "meta": {}})
    short = list(np.linspace(0.0, 50.0, n))  # 50 s: at most 600
    with pytest.raises(ScriptError, match=r"has 1000 keyframes; the limit is 600 \(12 per second"):
        Keyframes.from_array(values, times_s=short, meta=meta)
    doc = keys.to_dict()
    doc["keyframes"] = [{**kf, "time_s": float(t)} for kf, t in zip(doc["keyframes"], short, strict=True)]
    with pytest.raises(ScriptError, match="the limit is 600"):
        Keyframes.from_dict(doc)


def test_resynthesis_uses_the_extractors_curve() -> None:
    take = synthetic_take(20.0)
    keys = extract(take, max_error=0.05, interpolation="linear")
    out = animate(keys, fps=take.fps)
    assert out.meta["options"]["method"] == "linear"
    assert float(np.abs(out.frames - take.frames).max()) <= 0.05 + 1e-4
    assert animate(keys, fps=take.fps, method="pchip").meta["options"]["method"] == "pchip"  # explicit wins
    assert animate(scene("A smile."), duration_s=3.0).meta["options"]["method"] == "pchip"
