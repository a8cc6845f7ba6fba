"""animate(): orchestration, pass-through, ranges, fps, seeds, switches, offsets, timing written back,
errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keyframeface
from keyframeface import rig
from keyframeface._version import __version__
from keyframeface.animate import GROUP_OFFSETS_S, animate, interpolators
from keyframeface.errors import ScriptError
from keyframeface.script import Animation, Keyframe, Keyframes, Script

FAST = settings(max_examples=15, deadline=None)
IDX = rig.CHANNEL_INDEX
BLINK = [IDX["EyeBlinkLeft"], IDX["EyeBlinkRight"]]
EYE_ROT = [IDX["LeftEyeYaw"], IDX["LeftEyePitch"], IDX["RightEyeYaw"], IDX["RightEyePitch"]]


def pose(**channels: float) -> np.ndarray:
    v = rig.neutral()
    for name, value in channels.items():
        v[IDX[name]] = value
    return rig.sync_eye_rotations(v)


def scene(times: list[float | None] | None = None) -> Keyframes:
    poses = [
        pose(
            EyeLookDownLeft=0.3,
            EyeLookDownRight=0.3,
            BrowInnerUp=0.3,
            MouthPressLeft=0.4,
            MouthPressRight=0.4,
        ),
        pose(
            MouthSmileLeft=0.4,
            MouthSmileRight=0.4,
            CheekSquintLeft=0.1,
            CheekSquintRight=0.1,
            HeadPitch=-0.05,
        ),
        pose(EyeLookOutLeft=0.2, EyeLookInRight=0.2, JawOpen=0.2, MouthClose=0.1, BrowDownLeft=0.3),
    ]
    return Keyframes.from_array(
        np.stack(poses),
        times_s=times,
        descriptions=["The gaze is lowered.", "Suddenly a small smile.", "She slowly looks away."],
        background="A student waits outside an interview room.",
        emotion="Anxiety concealed by a smile.",
        meta={"backend": "test"},
    )


def random_keys(seed: int, k: int, *, fps: float = 60.0) -> Keyframes:
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(k, rig.NUM_CHANNELS))
    u = np.where(rng.uniform(size=u.shape) < 0.2, np.round(u), u)
    values = (rig.LOW + (rig.HIGH - rig.LOW) * u).astype(np.float32)
    frames_apart = rng.integers(6, 90, k)
    times = (np.cumsum(frames_apart) - frames_apart[0]) / fps  # on the frame grid, first at 0
    return Keyframes.from_array(values, times_s=[float(t) for t in times])


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 6))
def test_passes_through_every_keyframe_without_offsets_and_life(seed: int, k: int) -> None:
    kf = random_keys(seed, k)
    for consistency, tol in ((False, 1e-6), (True, 0.0101)):
        anim = animate(kf, life=False, offsets=False, consistency=consistency)
        for key in anim.keyframes.keyframes:  # type: ignore[union-attr]
            frame = round(key.time_s * 60.0)  # type: ignore[operator]
            np.testing.assert_allclose(anim.frames[frame], key.array, atol=tol)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 5),
    method=st.sampled_from(("step", "linear", "cubic", "pchip", "akima")),
)
def test_every_method_with_life_stays_in_range(seed: int, k: int, method: str) -> None:
    anim = animate(random_keys(seed, k), method=method, seed=seed % 1000, duration_s=6.0)
    assert anim.frames.dtype == np.float32
    assert (anim.frames >= rig.LOW).all() and (anim.frames <= rig.HIGH).all()


def test_defaults_make_a_lively_consistent_animation() -> None:
    kf = scene()
    anim = animate(kf)
    assert isinstance(anim, Animation) and anim.fps == 60.0
    times = [key.time_s for key in anim.keyframes.keyframes]  # type: ignore[union-attr]
    assert times[0] == 0.0 and all(t is not None for t in times)
    assert times == sorted(times)  # type: ignore[type-var]
    assert anim.num_frames == int(anim.meta["timing"]["duration_s"] * 60.0 + 1e-9) + 1
    # eye rotations follow eyeLook everywhere (the keyframes follow the capture convention)
    np.testing.assert_allclose(
        anim.frames[:, EYE_ROT], rig.eye_rotations_from_look(anim.frames)[:, [0, 1, 3, 4]], atol=1e-6
    )
    assert (anim.frames[:, IDX["MouthClose"]] <= anim.frames[:, IDX["JawOpen"]] + 1e-6).all()
    meta = anim.meta
    assert meta["package_version"] == __version__ and meta["seed_source"] == "content"
    assert meta["options"]["method"] == "pchip" and meta["options"]["fps"] == 60.0
    assert set(meta["options"]) >= {
        "fps",
        "duration_s",
        "method",
        "life",
        "blinks",
        "saccades",
        "head_motion",
        "offsets",
        "consistency",
        "vary_timing",
        "tail_s",
    }
    assert meta["keyframes_meta"] == {"backend": "test"}
    # the file records the chosen times and reads back
    back = Animation.from_dict(anim.to_dict())
    assert [k.time_s for k in back.keyframes.keyframes] == pytest.approx(times)  # type: ignore[union-attr]


def test_seed_determinism() -> None:
    kf = scene()
    a, b, c = animate(kf, seed=3), animate(kf, seed=3), animate(kf, seed=4)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    v1, v2 = animate(kf, vary_timing=True, seed=1), animate(kf, vary_timing=True, seed=2)
    assert v1.meta["timing"]["times_s"] != v2.meta["timing"]["times_s"]
    assert (
        animate(kf, seed=1).meta["timing"] == animate(kf, seed=2).meta["timing"]
    )  # timing varies only if asked


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0])
def test_any_fps(fps: float) -> None:
    anim = animate(scene([0.0, 1.0, 2.0]), fps=fps, duration_s=3.0)
    assert anim.fps == fps
    assert anim.num_frames == int(np.floor(3.0 * fps + 1e-9)) + 1
    assert anim.duration_s <= 3.0 + 1e-9 and anim.duration_s > 3.0 - 1.0 / fps
    assert (anim.frames >= rig.LOW).all() and (anim.frames <= rig.HIGH).all()


def test_single_keyframe_is_a_held_pose_with_life() -> None:
    kf = Keyframes.from_array(pose(MouthSmileLeft=0.3, MouthSmileRight=0.3)[None])
    anim = animate(kf, duration_s=12.0)
    assert anim.duration_s == pytest.approx(12.0)
    assert anim.meta["life"]["blinks"] >= 1
    smile = anim.frames[:, IDX["MouthSmileLeft"]]  # held, but alive: micro-motion around the pose
    assert abs(float(smile.mean()) - 0.3) < 0.03 and float(smile.std()) > 0.002
    still = animate(kf, duration_s=2.0, life=False)
    np.testing.assert_allclose(still.frames, np.tile(kf.array(), (still.num_frames, 1)), atol=1e-7)


def test_switches() -> None:
    kf = scene()
    base = animate(kf, life=False, duration_s=20.0)
    assert base.meta["life"] == {}
    for switch in ({"blinks": False}, {"saccades": False}, {"head_motion": False}):
        anim = animate(kf, duration_s=20.0, lids_follow_gaze=False, eyes_down=False, **switch)  # type: ignore[arg-type]
        if "blinks" in switch:
            np.testing.assert_array_equal(anim.frames[:, BLINK], base.frames[:, BLINK])
        if "saccades" in switch:
            cols = [IDX[n] for n in rig.GROUPS["gaze"]]
            np.testing.assert_array_equal(anim.frames[:, cols], base.frames[:, cols])
        if "head_motion" in switch:
            cols = [IDX[n] for n in rig.GROUPS["head"]]
            np.testing.assert_array_equal(anim.frames[:, cols], base.frames[:, cols])
    full = animate(kf, duration_s=20.0)
    assert not np.array_equal(full.frames, base.frames)
    off = animate(kf, duration_s=20.0, blinks=False, saccades=False, head_motion=False, micro_motion=False)
    np.testing.assert_array_equal(off.frames, base.frames)


def test_blinks_suppressed_when_eyes_closed() -> None:
    closed = pose(EyeBlinkLeft=0.95, EyeBlinkRight=0.95, BrowInnerUp=0.4)
    anim = animate(Keyframes.from_array(closed[None]), duration_s=20.0, lids_follow_gaze=False)
    assert anim.meta["life"]["blinks"] == 0
    np.testing.assert_allclose(anim.frames[:, BLINK], 0.95, atol=1e-6)


def test_offsets_lead_the_eyes_and_lag_the_head() -> None:
    a = pose()
    b = pose(EyeLookUpLeft=0.4, EyeLookUpRight=0.4, JawOpen=0.5, HeadYaw=0.2, BrowInnerUp=0.5)
    kf = Keyframes.from_array(np.stack([a, b]), times_s=[0.0, 1.0])
    fps = 100.0  # offsets of 50, 60 and 80 ms fall on frames
    anim = animate(kf, fps=fps, life=False, offsets=True, tail_s=1.0, transitions=False)
    f = anim.frames
    for group, name in (
        ("gaze", "EyeLookUpLeft"),
        ("brows", "BrowInnerUp"),
        ("jaw", "JawOpen"),
        ("head", "HeadYaw"),
    ):
        frame = round((1.0 + GROUP_OFFSETS_S[group]) * fps)
        assert f[frame, IDX[name]] == pytest.approx(b[IDX[name]], abs=1e-6)
        assert f[frame - 1, IDX[name]] < b[IDX[name]] - 1e-5  # it arrives exactly then, not before
    assert (
        GROUP_OFFSETS_S["gaze"]
        < GROUP_OFFSETS_S["brows"]
        < GROUP_OFFSETS_S["mouth"]
        < GROUP_OFFSETS_S["head"]
    )
    assert anim.meta["offsets_s"]["head"] == GROUP_OFFSETS_S["head"]


def test_duration_and_tail() -> None:
    kf = scene()
    assert animate(kf, duration_s=7.5, life=False).duration_s == pytest.approx(7.5, abs=1 / 60)
    anim = animate(scene([0.0, 1.0, 2.0]), tail_s=0.5, life=False)
    assert anim.duration_s == pytest.approx(2.5)
    assert animate(scene([0.0, 1.0, 2.0]), tail_s=0.0, life=False).duration_s == pytest.approx(2.0)
    with pytest.raises(ScriptError, match="not both"):
        animate(kf, duration_s=3.0, tail_s=1.0)


def test_all_methods_by_name() -> None:
    for method in interpolators():
        anim = animate(scene(), method=method, life=False)
        assert anim.meta["options"]["method"] == method


def test_errors() -> None:
    missing = Keyframes(
        keyframes=(Keyframe(description="a"), Keyframe(description="b", values=tuple([0.0] * 61)))
    )
    with pytest.raises(ScriptError, match=r"\[0\] have no values"):
        animate(missing)
    with pytest.raises(ScriptError, match="no keyframes"):
        animate(Keyframes(keyframes=()))
    with pytest.raises(ScriptError, match="generate"):
        animate(Script(keyframes=(Keyframe(description="a"),)))  # type: ignore[arg-type]
    for bad in (
        {"fps": 0},
        {"fps": float("nan")},
        {"fps": 5000},
        {"method": "bezier"},
        {"seed": -1},
        {"duration_s": -1.0},
        {"tail_s": -1.0},
    ):
        with pytest.raises(ScriptError):
            animate(scene(), **bad)
    with pytest.raises(ScriptError, match="duration_s"):
        animate(scene([0.0, 1.0, 5.0]), duration_s=2.0)


def test_top_level_api_is_callable_after_submodule_import() -> None:
    import importlib

    importlib.import_module("keyframeface.animate.engine")  # importing submodules must not shadow the function
    anim = keyframeface.animate(scene(), life=False)
    assert isinstance(anim, Animation)
