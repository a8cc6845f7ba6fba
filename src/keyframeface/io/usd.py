"""USD export: a UsdSkel ``SkelAnimation`` with the 52 ARKit blend shapes and the head / eye rotations.

What Audio2Face writes and Omniverse, Unity's USD tools and Blender read: one ``SkelAnimation`` prim whose
``blendShapes`` lists the 52 ARKit names (camelCase, as ARKit and Audio2Face spell them, or the Live Link names with
``target_names="pascal"``) and whose ``blendShapeWeights`` holds one time sample per frame, at time codes
``0 .. T-1`` with ``timeCodesPerSecond = framesPerSecond = fps``. Head and eyes are three joints of a small
skeleton (``head``, ``head/eye_L``, ``head/eye_R``) whose ``rotations`` are time-sampled unit quaternions, computed
as for glTF (Y up; :func:`keyframeface.io.head_model.pose_quaternions`: one normalised unit is one radian). The
nine raw pose channels are also kept, as ``keyframeface:pose`` (float[9] per frame, ``rig.POSE`` order), so the
file reads back exactly. The prims:

    /Face (SkelRoot)
      /Face/Skeleton (Skeleton: joints head, head/eye_L, head/eye_R; rest pose identity)
      /Face/Animation (SkelAnimation; the Skeleton's skel:animationSource)

Needs the ``[usd]`` extra (``usd-core``, which provides ``pxr``). ``.usda`` is text, ``.usdc`` (and ``.usd``) is
USD's binary crate format.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Final

import numpy as np

# Imported at module level on purpose: this module is loaded only through the writer registry, which turns a
# missing usd-core into a one-line error naming the [usd] extra (keyframeface.io.registry).
from pxr import Gf, Sdf, Usd, UsdGeom, UsdSkel, Vt

from .. import rig
from ..errors import FormatError
from ..script import Animation

__all__ = ["JOINTS", "POSE_ATTRIBUTE", "read_usd", "usd_bytes", "write_usd"]

JOINTS: Final[tuple[str, ...]] = ("head", "head/eye_L", "head/eye_R")
POSE_ATTRIBUTE: Final[str] = "keyframeface:pose"
_FLAVOURS: Final[dict[str, str]] = {"usda": ".usda", "usdc": ".usdc", "usd": ".usdc"}



def camel_case(name: str) -> str:
    """``EyeBlinkLeft`` -> ``eyeBlinkLeft`` (ARKit's spelling)."""
    return name[:1].lower() + name[1:]


def _eye_angles(values: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yaw, pitch, roll) of one eye; from the eyeLook shapes when its rotation channels are all zero (as glTF)."""
    i = rig.CHANNEL_INDEX
    yaw, pitch, roll = (values[:, i[f"{side}Eye{a}"]] for a in ("Yaw", "Pitch", "Roll"))
    if not yaw.any() and not pitch.any():
        derived = rig.eye_rotations_from_look(values)
        k = 0 if side == "Left" else 3
        return derived[:, k], derived[:, k + 1], roll
    return yaw, pitch, roll


def _stage(anim: Animation, *, target_names: str) -> Any:
    from ..rig import pose_quaternions

    if target_names not in ("camel", "pascal"):
        raise FormatError(f"target_names must be 'camel' or 'pascal', got {target_names!r}")
    frames = np.asarray(anim.frames, dtype=np.float32)
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    stage.SetTimeCodesPerSecond(anim.fps)
    stage.SetFramesPerSecond(anim.fps)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(max(frames.shape[0] - 1, 0))
    root = UsdSkel.Root.Define(stage, "/Face")
    stage.SetDefaultPrim(root.GetPrim())
    skel = UsdSkel.Skeleton.Define(stage, "/Face/Skeleton")
    skel.CreateJointsAttr(list(JOINTS))
    identity = Gf.Matrix4d(1.0)
    skel.CreateBindTransformsAttr(Vt.Matrix4dArray([identity] * len(JOINTS)))
    skel.CreateRestTransformsAttr(Vt.Matrix4dArray([identity] * len(JOINTS)))
    animation = UsdSkel.Animation.Define(stage, "/Face/Animation")
    UsdSkel.BindingAPI.Apply(skel.GetPrim()).CreateAnimationSourceRel().SetTargets([animation.GetPath()])
    names = [camel_case(n) if target_names == "camel" else n for n in rig.BLENDSHAPES]
    animation.CreateBlendShapesAttr(names)
    animation.CreateJointsAttr(list(JOINTS))
    weights = animation.CreateBlendShapeWeightsAttr()
    rotations = animation.CreateRotationsAttr()
    animation.CreateTranslationsAttr(Vt.Vec3fArray([Gf.Vec3f(0, 0, 0)] * len(JOINTS)))
    animation.CreateScalesAttr(Vt.Vec3hArray([Gf.Vec3h(1, 1, 1)] * len(JOINTS)))
    pose_attr = animation.GetPrim().CreateAttribute(POSE_ATTRIBUTE, Sdf.ValueTypeNames.FloatArray)
    pose_attr.SetCustomDataByKey("channels", Vt.StringArray(list(rig.POSE)))
    i = rig.CHANNEL_INDEX
    head_q = pose_quaternions(frames[:, i["HeadYaw"]], frames[:, i["HeadPitch"]], frames[:, i["HeadRoll"]])
    left_q = pose_quaternions(*_eye_angles(frames, "Left"))
    right_q = pose_quaternions(*_eye_angles(frames, "Right"))
    blend = frames[:, : rig.NUM_BLENDSHAPES]
    pose = frames[:, rig.NUM_BLENDSHAPES :]
    for t in range(frames.shape[0]):
        weights.Set(Vt.FloatArray.FromNumpy(blend[t]), float(t))
        quats = [Gf.Quatf(float(q[3]), float(q[0]), float(q[1]), float(q[2])) for q in (head_q[t], left_q[t], right_q[t])]
        rotations.Set(Vt.QuatfArray(quats), float(t))
        pose_attr.Set(Vt.FloatArray.FromNumpy(pose[t]), float(t))
    return stage


def usd_bytes(anim: Animation, *, flavour: str = "usda", target_names: str = "camel") -> bytes:
    """The animation as a USD layer: ``flavour`` ``"usda"`` (text) or ``"usdc"``/``"usd"`` (binary crate).

    Raises :class:`FormatError` on a bad option (without ``usd-core`` this module does not import: the writer
    registry names the ``[usd]`` extra).
    """
    if flavour not in _FLAVOURS:
        raise FormatError(f"USD flavour must be one of {sorted(_FLAVOURS)}, got {flavour!r}")
    stage = _stage(anim, target_names=target_names)
    layer = stage.GetRootLayer()
    if flavour == "usda":
        return str(layer.ExportToString()).encode("utf-8")
    # The crate format is only written to a file by USD: export into a private temporary folder, then read it.
    with tempfile.TemporaryDirectory(prefix="keyframeface-usd-") as tmp:
        path = os.path.join(tmp, "take.usdc")
        if not layer.Export(path):
            raise FormatError("USD could not write the binary layer")
        return Path(path).read_bytes()


def read_usd(path: str | os.PathLike[str]) -> Animation:
    """Read a file written by :func:`usd_bytes` back into an Animation (blend shapes by name, pose channels from
    ``keyframeface:pose``). Raises :class:`FormatError` for a file without a SkelAnimation."""
    stage = Usd.Stage.Open(str(path))
    if stage is None:
        raise FormatError(f"{path}: not a USD file")
    anim_prim = next((p for p in stage.Traverse() if p.IsA(UsdSkel.Animation)), None)
    if anim_prim is None:
        raise FormatError(f"{path}: no SkelAnimation prim")
    skel_anim = UsdSkel.Animation(anim_prim)
    names = [str(n) for n in skel_anim.GetBlendShapesAttr().Get()]
    weights_attr = skel_anim.GetBlendShapeWeightsAttr()
    times = weights_attr.GetTimeSamples()
    fps = float(stage.GetTimeCodesPerSecond())
    frames = np.zeros((len(times), rig.NUM_CHANNELS), dtype=np.float32)
    columns = [rig.CHANNEL_INDEX[rig.canonical_name(n)] for n in names]
    pose_attr = anim_prim.GetAttribute(POSE_ATTRIBUTE)
    for k, t in enumerate(times):
        frames[k, columns] = np.asarray(weights_attr.Get(t), dtype=np.float32)
        if pose_attr and pose_attr.HasValue():
            frames[k, rig.NUM_BLENDSHAPES :] = np.asarray(pose_attr.Get(t), dtype=np.float32)
    times_s = np.asarray(times, dtype=np.float64) / fps
    return Animation(frames=frames, fps=fps, times_s=times_s if len(times) else None, meta={"source": str(path)})


def write_usd(obj: Animation | Any, stream: Any, *, flavour: str = "usda", target_names: str = "camel") -> None:
    """Writer entry (``io/registry.py``): an Animation, or Keyframes placed as frames at their times, as USD."""
    anim = obj if isinstance(obj, Animation) else Animation.from_keyframes(obj)
    stream.write(usd_bytes(anim, flavour=flavour, target_names=target_names))
