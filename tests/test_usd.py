"""USD export read back with pxr (usd-core): blend shape names, one sample per frame, values, joints, time codes."""

from __future__ import annotations

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.script import Animation

pxr = pytest.importorskip("pxr", reason="usd-core (pxr) is not installed: pip install 'keyframeface[usd]'")
from pxr import Usd, UsdSkel  # noqa: E402

from keyframeface.io.usd import JOINTS, camel_case, read_usd, usd_bytes  # noqa: E402


def _anim(frames: int = 30, fps: float = 30.0) -> Animation:
    rng = np.random.default_rng(5)
    v = rng.uniform(0, 1, (frames, rig.NUM_CHANNELS)).astype(np.float32)
    v[:, rig.NUM_BLENDSHAPES :] = rng.uniform(-0.5, 0.5, (frames, len(rig.POSE)))
    return Animation(frames=v, fps=fps)


@pytest.mark.parametrize("flavour", ["usda", "usdc"])
def test_skel_animation_reads_back_exactly(tmp_path, flavour: str) -> None:
    anim = _anim()
    path = tmp_path / f"take.{flavour}"
    path.write_bytes(usd_bytes(anim, flavour=flavour))
    stage = Usd.Stage.Open(str(path))
    assert stage.GetTimeCodesPerSecond() == 30.0 and stage.GetFramesPerSecond() == 30.0
    prim = stage.GetPrimAtPath("/Face/Animation")
    skel_anim = UsdSkel.Animation(prim)
    names = list(skel_anim.GetBlendShapesAttr().Get())
    assert names == [camel_case(n) for n in rig.BLENDSHAPES] and names[0] == "eyeBlinkLeft"
    weights = skel_anim.GetBlendShapeWeightsAttr()
    assert weights.GetTimeSamples() == [float(t) for t in range(30)]
    for t in (0, 17, 29):
        np.testing.assert_array_equal(np.asarray(weights.Get(t)), anim.frames[t, : rig.NUM_BLENDSHAPES])
    assert list(skel_anim.GetJointsAttr().Get()) == list(JOINTS)
    assert len(skel_anim.GetRotationsAttr().GetTimeSamples()) == 30
    back = read_usd(path)
    np.testing.assert_array_equal(back.frames, anim.frames)
    assert back.fps == 30.0


def test_skeleton_binds_the_animation_and_queries() -> None:
    stage = Usd.Stage.CreateInMemory()
    stage.GetRootLayer().ImportFromString(usd_bytes(_anim(5, 60.0)).decode())
    skel = UsdSkel.Skeleton(stage.GetPrimAtPath("/Face/Skeleton"))
    cache = UsdSkel.Cache()
    query = cache.GetSkelQuery(skel)
    assert query and query.HasBindPose()
    anim_query = query.GetAnimQuery()
    assert next(iter(anim_query.GetBlendShapeOrder())) == "eyeBlinkLeft"
    xforms = anim_query.ComputeJointLocalTransforms(2.0)
    assert len(xforms) == len(JOINTS)


def test_head_rotation_matches_the_pose_channel() -> None:
    frames = np.zeros((2, rig.NUM_CHANNELS), dtype=np.float32)
    frames[1, rig.CHANNEL_INDEX["HeadYaw"]] = 0.5  # one unit is one radian: a 0.5 rad turn
    stage = Usd.Stage.CreateInMemory()
    stage.GetRootLayer().ImportFromString(usd_bytes(Animation(frames=frames, fps=60.0)).decode())
    rot = UsdSkel.Animation(stage.GetPrimAtPath("/Face/Animation")).GetRotationsAttr()
    q0, q1 = rot.Get(0)[0], rot.Get(1)[0]
    assert q0.GetReal() == pytest.approx(1.0)
    assert 2 * np.degrees(np.arccos(min(1.0, abs(q1.GetReal())))) == pytest.approx(np.degrees(0.5), abs=1e-3)


def test_pascal_names_and_compliance(tmp_path) -> None:
    path = tmp_path / "take.usda"
    path.write_bytes(usd_bytes(_anim(3), target_names="pascal"))
    stage = Usd.Stage.Open(str(path))
    assert UsdSkel.Animation(stage.GetPrimAtPath("/Face/Animation")).GetBlendShapesAttr().Get()[0] == "EyeBlinkLeft"
    validation = pytest.importorskip("pxr.UsdValidation", reason="this usd-core has no UsdValidation")
    registry = validation.ValidationRegistry()
    context = validation.ValidationContext(registry.GetOrLoadAllValidators())
    assert [e.GetMessage() for e in context.Validate(stage)] == []
