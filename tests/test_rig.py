"""The channel contract: order, ranges, groups, aliases, clamping, mirroring, eye-rotation convention."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from keyframeface import rig
from keyframeface.errors import ScriptError


def test_order_and_counts() -> None:
    assert rig.NUM_CHANNELS == 61 and rig.NUM_BLENDSHAPES == 52
    assert rig.CHANNELS[0] == "EyeBlinkLeft" and rig.CHANNELS[51] == "TongueOut" and rig.CHANNELS[-1] == "RightEyeRoll"
    # Live Link order quirks
    assert rig.CHANNEL_INDEX["JawRight"] < rig.CHANNEL_INDEX["JawLeft"]
    assert rig.CHANNEL_INDEX["MouthRight"] < rig.CHANNEL_INDEX["MouthLeft"]
    assert len(set(rig.CHANNELS)) == 61


def test_release_header_order(release_dir) -> None:  # type: ignore[no-untyped-def]
    header = (release_dir / "example_result.csv").read_text().splitlines()[0].split(",")
    assert tuple(header[2:]) == rig.CHANNELS


def test_ranges() -> None:
    assert (rig.LOW[:52] == 0).all() and (rig.LOW[52:] == -1).all() and (rig.HIGH == 1).all()
    with pytest.raises(ValueError):
        rig.LOW[0] = 3  # read-only


def test_groups_partition_channels() -> None:
    seen = [n for names in rig.GROUPS.values() for n in names]
    assert sorted(seen) == sorted(rig.CHANNELS)
    assert rig.group_of("browInnerUp") == "brows"
    assert rig.group_of("LeftEyePitch") == "eye_rotation"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("EyeBlinkLeft", "EyeBlinkLeft"),
        ("eyeBlinkLeft", "EyeBlinkLeft"),
        ("EYEBLINKLEFT", "EyeBlinkLeft"),
        ("eye_blink_left", "EyeBlinkLeft"),
        ("eyeBlink_L", "EyeBlinkLeft"),
        ("EyeBlink.R", "EyeBlinkRight"),
        ("L_eyeBlink", "EyeBlinkLeft"),
        ("mouthSmile_R", "MouthSmileRight"),
        ("browInnerUp", "BrowInnerUp"),
        ("jawOpen", "JawOpen"),
        ("headYaw", "HeadYaw"),
        ("eyeYaw_L", "LeftEyeYaw"),
        ("rightEyePitch", "RightEyePitch"),
        ("tongueOut", "TongueOut"),
    ],
)
def test_aliases(spelling: str, canonical: str) -> None:
    assert rig.try_canonical_name(spelling) == canonical


def test_unknown_and_ignored_names() -> None:
    assert rig.try_canonical_name("mouthSmileCenter") is None
    assert rig.try_canonical_name("x" * 1000) is None
    assert rig.is_ignored_name("_neutral")
    with pytest.raises(ScriptError, match="unknown channel"):
        rig.canonical_name("eyeBlinkMiddle")
    arr = rig.to_array({"_neutral": 0.5, "eyeBlink_L": 0.7})
    assert arr[rig.CHANNEL_INDEX["EyeBlinkLeft"]] == pytest.approx(0.7)


def test_mediapipe_names_all_map() -> None:
    # MediaPipe's blendshape categories are ARKit camelCase plus _neutral.
    for name in rig.BLENDSHAPES:
        camel = name[0].lower() + name[1:]
        assert rig.try_canonical_name(camel) == name


def test_clamp_reports() -> None:
    v = rig.neutral()
    v[rig.CHANNEL_INDEX["JawOpen"]] = 1.08
    v[rig.CHANNEL_INDEX["HeadYaw"]] = -1.5
    v[rig.CHANNEL_INDEX["MouthClose"]] = np.nan
    fixed, reports = rig.clamp(v)
    assert fixed[rig.CHANNEL_INDEX["JawOpen"]] == 1.0 and fixed[rig.CHANNEL_INDEX["HeadYaw"]] == -1.0
    assert fixed[rig.CHANNEL_INDEX["MouthClose"]] == 0.0
    assert {r.channel for r in reports} == {"JawOpen", "HeadYaw", "MouthClose"}


def test_mirror_swaps_sides() -> None:
    v = rig.neutral()
    v[rig.CHANNEL_INDEX["MouthSmileLeft"]] = 0.8
    v[rig.CHANNEL_INDEX["JawLeft"]] = 0.3
    v[rig.CHANNEL_INDEX["HeadYaw"]] = 0.2
    v[rig.CHANNEL_INDEX["HeadPitch"]] = 0.1
    v[rig.CHANNEL_INDEX["LeftEyeYaw"]] = 0.4
    m = rig.mirror(v)
    assert m[rig.CHANNEL_INDEX["MouthSmileRight"]] == pytest.approx(0.8)
    assert m[rig.CHANNEL_INDEX["MouthSmileLeft"]] == 0
    assert m[rig.CHANNEL_INDEX["JawRight"]] == pytest.approx(0.3)
    assert m[rig.CHANNEL_INDEX["HeadYaw"]] == pytest.approx(-0.2)
    assert m[rig.CHANNEL_INDEX["HeadPitch"]] == pytest.approx(0.1)
    assert m[rig.CHANNEL_INDEX["RightEyeYaw"]] == pytest.approx(-0.4)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, (rig.NUM_CHANNELS,), elements=st.floats(-1, 1, width=32)))
def test_mirror_is_an_involution_and_keeps_range(values: np.ndarray) -> None:
    clamped, _ = rig.clamp(values)
    np.testing.assert_array_equal(rig.mirror(rig.mirror(clamped)), clamped)
    _, reports = rig.clamp(rig.mirror(clamped))
    assert not reports


def test_eye_rotation_convention() -> None:
    v = rig.neutral()
    v[rig.CHANNEL_INDEX["EyeLookDownLeft"]] = 0.5
    v[rig.CHANNEL_INDEX["EyeLookDownRight"]] = 0.5
    v[rig.CHANNEL_INDEX["EyeLookInLeft"]] = 0.5  # left eye toward the nose = toward the subject's right
    v[rig.CHANNEL_INDEX["EyeLookOutRight"]] = 0.5  # right eye outward = toward the subject's right
    s = rig.sync_eye_rotations(v)
    assert s[rig.CHANNEL_INDEX["LeftEyePitch"]] == pytest.approx(0.255)  # positive = looking down
    assert s[rig.CHANNEL_INDEX["RightEyePitch"]] == pytest.approx(0.255)
    assert s[rig.CHANNEL_INDEX["LeftEyeYaw"]] == pytest.approx(0.3)
    assert s[rig.CHANNEL_INDEX["RightEyeYaw"]] == pytest.approx(0.3)


def test_eye_convention_matches_real_captures(realdata_dir) -> None:  # type: ignore[no-untyped-def]
    """The gains in rig.py reproduce the capture's own eye rotations (FACS.md: r > 0.96)."""
    import csv

    path = realdata_dir / "neurosync_player_emotion_llf" / "Fearful" / "MySlate_161_iPhone_cal.csv"
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if len(r) == len(header)]
    idx = [header.index(n) for n in rig.CHANNELS]
    data = np.array([[float(r[i]) for i in idx] for r in rows], dtype=np.float32)
    predicted = rig.eye_rotations_from_look(data)
    for k, name in ((1, "LeftEyePitch"), (0, "LeftEyeYaw")):
        actual = data[:, rig.CHANNEL_INDEX[name]]
        r = np.corrcoef(predicted[:, k], actual)[0, 1]
        assert r > 0.9, (name, r)


def test_expand_sides() -> None:
    assert rig.expand_sides({"EyeWide*": 0.3, "JawOpen": 0.2}) == {
        "EyeWideLeft": 0.3,
        "EyeWideRight": 0.3,
        "JawOpen": 0.2,
    }
    assert rig.expand_sides({"gaze": 1.0}, allowed={"gaze"}) == {"gaze": 1.0}
    with pytest.raises(ValueError, match="in my table"):
        rig.expand_sides({"Nope*": 1.0}, table="my table")


# ------------------------------------------------------------------------ rotations in 3D (pose maths, eyes)
def _frame(**values: float) -> np.ndarray:
    v = rig.neutral()
    for name, x in values.items():
        v[rig.CHANNEL_INDEX[name]] = x
    return v


def test_pose_quaternions_conventions() -> None:
    # yaw > 0 turns toward the subject's right (-X): a rotation of -yaw about +Y
    q = rig.pose_quaternions(np.array([0.5]), np.array([0.0]), np.array([0.0]))[0]
    np.testing.assert_allclose(q, [0.0, np.sin(-0.25), 0.0, np.cos(0.25)], atol=1e-7)
    # pitch > 0 looks down: +pitch about +X; roll: +roll about +Z; pi radians per unit on request
    q = rig.pose_quaternions(np.array([0.0]), np.array([0.2]), np.array([0.0]), radians_per_unit=np.pi)[0]
    np.testing.assert_allclose(q, [np.sin(0.1 * np.pi), 0.0, 0.0, np.cos(0.1 * np.pi)], atol=1e-7)
    many = rig.pose_quaternions(np.linspace(-1, 1, 7), np.zeros(7), np.linspace(0, 0.3, 7))
    assert many.shape == (7, 4) and many.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-6)
    assert (np.einsum("ij,ij->i", many[1:], many[:-1]) >= 0).all()  # the short way round
    assert rig.RADIANS_PER_UNIT == 1.0


def test_eye_angles_follow_the_look_shapes_only_when_the_rotations_are_silent() -> None:
    looking = _frame(EyeLookInLeft=0.5, EyeLookOutRight=0.5, LeftEyeRoll=0.1)
    assert rig.eyes_follow_look(looking[None], "Left") and rig.eyes_follow_look(looking[None], "Right")
    yaw, pitch, roll = rig.eye_angles(looking[None], "Left")
    derived = rig.eye_rotations_from_look(looking[None])
    assert yaw[0] == derived[0, 0] and pitch[0] == derived[0, 1] and roll[0] == np.float32(0.1)
    # the rotation channels win when they say anything, on any frame of the take
    take = np.stack([looking, _frame(LeftEyeYaw=0.2, EyeLookInLeft=0.5)])
    assert not rig.eyes_follow_look(take, "Left")
    yaw, _, _ = rig.eye_angles(take, "Left")
    np.testing.assert_array_equal(yaw, take[:, rig.CHANNEL_INDEX["LeftEyeYaw"]])
    # nothing moves: zeros either way
    assert not rig.eyes_follow_look(rig.neutral()[None], "Right")
    assert [float(a[0]) for a in rig.eye_angles(rig.neutral()[None], "Right")] == [0.0, 0.0, 0.0]

