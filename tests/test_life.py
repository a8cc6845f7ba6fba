"""Life layers: blinks, saccades / micro-gaze, head drift; ranges, consistency, suppression, seeds,
switches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.animate.blinks import BLINK_S, add_blinks, blink_onsets, blink_profile
from keyframeface.animate.consistency import enforce_consistency, rules_obeyed
from keyframeface.animate.gaze import add_saccades, fixations, gaze_offsets
from keyframeface.animate.head import add_head_motion, head_offsets
from keyframeface.animate.life import add_life, check_seed
from keyframeface.errors import ScriptError

FAST = settings(max_examples=25, deadline=None)
IDX = rig.CHANNEL_INDEX
FPS = 60.0
BLINK = [IDX["EyeBlinkLeft"], IDX["EyeBlinkRight"]]
GAZE = [IDX[n] for n in rig.GROUPS["gaze"]] + [IDX[n] for n in rig.GROUPS["eye_rotation"]]
HEAD = [IDX["HeadYaw"], IDX["HeadPitch"], IDX["HeadRoll"]]


def still(seconds: float, **channels: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * FPS) + 1) / FPS
    frames = np.tile(rig.neutral(), (t.shape[0], 1))
    for name, value in channels.items():
        frames[:, IDX[name]] = value
    return rig.sync_eye_rotations(frames), t


def random_frames(seed: int, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(n, rig.NUM_CHANNELS))
    u = np.where(rng.uniform(size=u.shape) < 0.2, np.round(u), u)  # values at the bounds too
    frames = (rig.LOW + (rig.HIGH - rig.LOW) * u).astype(np.float32)
    return frames, np.arange(n) / FPS


def test_blink_profile_shape() -> None:
    u = np.linspace(-0.1, 0.4, 5001)
    b = blink_profile(u)
    assert b.min() == 0.0 and b.max() == 1.0
    assert (b[(u < 0) | (u >= BLINK_S)] == 0).all()
    closing = u[np.argmax(b >= 1.0)]  # time to full closure
    opening = BLINK_S - u[len(b) - 1 - np.argmax(b[::-1] >= 1.0)]  # time from last closed instant to open
    assert closing < opening  # fast close, slower open


def test_blink_rate_is_natural() -> None:
    onsets = blink_onsets(0.0, 3600.0, np.random.default_rng(0))
    gaps = np.diff(onsets)
    assert gaps.min() >= 1.8 - 1e-9 and gaps.max() <= 8.0 + 1e-9
    assert 2.5 < gaps.mean() < 5.0
    assert np.mean((gaps >= 2.0) & (gaps <= 6.0)) > 0.8


def test_blinks_close_both_eyes_together_without_exceeding_one() -> None:
    frames, t = still(30.0, EyeBlinkLeft=0.3, EyeBlinkRight=0.1, EyeWideLeft=0.2)
    out, n = add_blinks(frames, t, rng=np.random.default_rng(1))
    assert 4 <= n <= 16
    assert out[:, BLINK].max() <= 1.0 and out[:, BLINK].max() > 0.9
    assert (out[:, BLINK] >= frames[:, BLINK] - 1e-7).all()
    # the closure b is the same for both eyes: (new - base) / (1 - base)
    b = (out[:, BLINK] - frames[:, BLINK]) / (1.0 - frames[:, BLINK])
    np.testing.assert_allclose(b[:, 0], b[:, 1], atol=1e-6)
    assert out[:, IDX["EyeWideLeft"]].min() < 0.05  # wide eyes close during a blink
    changed = np.flatnonzero(np.any(out != frames, axis=1))
    assert set(np.flatnonzero(np.any(out != frames, axis=0))) <= {
        *BLINK,
        IDX["EyeWideLeft"],
        IDX["EyeWideRight"],
    }
    assert changed.size < 0.15 * t.shape[0]  # blinks are brief


@pytest.mark.parametrize(
    "channels", [{"EyeBlinkLeft": 0.9, "EyeBlinkRight": 0.9}, {"EyeSquintLeft": 0.85, "EyeSquintRight": 0.8}]
)
def test_blinks_suppressed_when_eyes_closed_or_squinting(channels: dict[str, float]) -> None:
    frames, t = still(30.0, **channels)
    out, n = add_blinks(frames, t, rng=np.random.default_rng(2))
    assert n == 0
    np.testing.assert_array_equal(out, frames)


def test_saccades_stay_near_keyed_gaze_and_eye_rotations_follow() -> None:
    frames, t = still(20.0, EyeLookDownLeft=0.3, EyeLookDownRight=0.3, EyeLookInLeft=0.2, EyeLookOutRight=0.2)
    out, n = add_saccades(frames, t, rng=np.random.default_rng(3))
    assert n >= 8
    assert set(np.flatnonzero(np.any(out != frames, axis=0))) <= set(GAZE)
    rot = rig.eye_rotations_from_look(out)
    np.testing.assert_allclose(
        out[:, [IDX["LeftEyeYaw"], IDX["LeftEyePitch"], IDX["RightEyeYaw"], IDX["RightEyePitch"]]],
        rot[:, [0, 1, 3, 4]],
        atol=1e-6,
    )
    assert np.abs(out[:, GAZE[:8]] - frames[:, GAZE[:8]]).max() <= 0.12 + 1e-6
    # quick jumps with holds: most frames do not move
    speed = np.abs(np.diff(out[:, IDX["EyeLookInLeft"]]))
    assert np.mean(speed < 1e-6) > 0.8
    # both eyes move together: net horizontal gaze changes equally
    net_left = out[:, IDX["EyeLookInLeft"]] - out[:, IDX["EyeLookOutLeft"]]
    net_right = out[:, IDX["EyeLookOutRight"]] - out[:, IDX["EyeLookInRight"]]
    np.testing.assert_allclose(net_left - 0.2, net_right - 0.2, atol=1e-6)


def test_gaze_offsets_jump_then_hold() -> None:
    onsets, offsets = fixations(0.0, 60.0, np.random.default_rng(4))
    assert np.all(np.diff(onsets) >= 0.25 - 1e-9)
    off = gaze_offsets(np.arange(0, 60, 1 / 120), onsets, offsets)
    assert np.abs(off).max() <= 0.12 + 1e-9
    assert np.all(off[: int(onsets[0] * 120)] == 0.0)  # the keyed gaze until the first jump


def test_saccades_in_another_convention_shift_rotations_by_the_change() -> None:
    frames, t = still(10.0, EyeLookDownLeft=0.3, EyeLookDownRight=0.3)
    frames[:, IDX["LeftEyePitch"]] = -0.15  # release convention: pitch negative looking down
    frames[:, IDX["RightEyePitch"]] = -0.15
    out, _ = add_saccades(frames, t, rng=np.random.default_rng(5), sync_eyes=False)
    before, after = rig.eye_rotations_from_look(frames), rig.eye_rotations_from_look(out)
    np.testing.assert_allclose(out[:, IDX["LeftEyePitch"]], -0.15 + after[:, 1] - before[:, 1], atol=1e-6)


def test_head_motion_is_tiny_smooth_and_only_on_the_head() -> None:
    off = head_offsets(np.arange(0, 600, 1 / FPS), np.random.default_rng(6))
    assert np.abs(off).max() < 0.02
    assert np.abs(np.diff(off, axis=0)).max() < 0.001  # smooth at 60 fps
    assert off.std(axis=0).min() > 0.001  # but it moves
    frames, t = still(10.0, HeadYaw=0.999)
    out = add_head_motion(frames, t, rng=np.random.default_rng(6))
    assert set(np.flatnonzero(np.any(out != frames, axis=0))) <= set(HEAD)
    assert out[:, HEAD].max() <= 1.0


def test_add_life_is_deterministic_and_layers_are_independent() -> None:
    frames, t = still(20.0, JawOpen=0.2)
    a, info = add_life(frames, t, seed=7)
    b, _ = add_life(frames, t, seed=7)
    c, _ = add_life(frames, t, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert info["blinks"] > 0 and info["fixations"] > 0 and info["head_motion"]
    # switching one layer off leaves what the others do unchanged
    no_blinks, info2 = add_life(frames, t, seed=7, blinks=False)
    assert info2["blinks"] == 0
    np.testing.assert_array_equal(no_blinks[:, BLINK], frames[:, BLINK])
    np.testing.assert_array_equal(no_blinks[:, HEAD], a[:, HEAD])
    np.testing.assert_array_equal(no_blinks[:, GAZE], a[:, GAZE])
    no_gaze, _ = add_life(frames, t, seed=7, saccades=False)
    np.testing.assert_array_equal(no_gaze[:, GAZE], frames[:, GAZE])
    np.testing.assert_array_equal(no_gaze[:, BLINK], a[:, BLINK])
    no_head, _ = add_life(frames, t, seed=7, head_motion=False)
    np.testing.assert_array_equal(no_head[:, HEAD], frames[:, HEAD])
    nothing, _ = add_life(frames, t, seed=7, blinks=False, saccades=False, head_motion=False)
    np.testing.assert_array_equal(nothing, frames)


@FAST
@given(seed=st.integers(0, 2**32 - 1), blinks=st.booleans(), saccades=st.booleans(), head=st.booleans())
def test_life_keeps_every_channel_in_range(seed: int, blinks: bool, saccades: bool, head: bool) -> None:
    frames, t = random_frames(seed)
    frames = rig.sync_eye_rotations(frames)
    out, _ = add_life(frames, t, seed=seed, blinks=blinks, saccades=saccades, head_motion=head)
    assert out.dtype == np.float32 and out.shape == frames.shape
    assert (out >= rig.LOW).all() and (out <= rig.HIGH).all()
    if saccades:
        rot = rig.eye_rotations_from_look(out)
        np.testing.assert_allclose(
            out[:, [IDX["LeftEyeYaw"], IDX["LeftEyePitch"], IDX["RightEyeYaw"], IDX["RightEyePitch"]]],
            rot[:, [0, 1, 3, 4]],
            atol=1e-6,
        )


def test_check_seed() -> None:
    assert check_seed(3) == 3 and check_seed(np.int64(4)) == 4
    for bad in (-1, 1.5, True, "1", None):
        with pytest.raises(ScriptError, match="seed"):
            check_seed(bad)
    with pytest.raises(ScriptError):
        add_life(np.zeros((3, 61)), np.zeros(4))


def test_consistency_rules_repair_between_obeying_keyframes_only() -> None:
    kf = np.stack([rig.neutral(), rig.neutral()])
    kf[0, IDX["JawOpen"]], kf[0, IDX["MouthClose"]] = 0.5, 0.5
    kf = rig.sync_eye_rotations(kf)
    assert set(rules_obeyed(kf)) == {"eye_rotation", "opposing", "mouth_close", "wide_blink"}
    frames = np.tile(kf[0], (4, 1))
    frames[1, IDX["MouthClose"]] = 0.7  # interpolation made the lips close past the jaw
    frames[2, IDX["EyeLookInLeft"]], frames[2, IDX["EyeLookOutLeft"]] = 0.3, 0.1
    frames[3, IDX["EyeWideLeft"]], frames[3, IDX["EyeBlinkLeft"]] = 0.5, 0.8
    out, applied = enforce_consistency(frames, kf)
    assert len(applied) == 4
    assert out[1, IDX["MouthClose"]] == pytest.approx(0.5)
    assert out[2, IDX["EyeLookInLeft"]] == pytest.approx(0.2) and out[2, IDX["EyeLookOutLeft"]] == 0.0
    assert out[2, IDX["LeftEyeYaw"]] == pytest.approx(0.6 * 0.2)
    assert out[3, IDX["EyeWideLeft"]] == pytest.approx(0.2)
    # keyframes that break a rule are left as keyed
    kf[1, IDX["MouthClose"]] = 0.9
    out, applied = enforce_consistency(frames, kf)
    assert "mouth_close" not in applied and out[1, IDX["MouthClose"]] == pytest.approx(0.7)
