"""glTF 2.0 export: a head with the 52 ARKit blendshapes as morph targets, and the animation driving it.

What a file holds (the glTF 2.0 specification, Khronos, https://registry.khronos.org/glTF/specs/2.0/):

* scene: ``keyframeface`` (root) -> ``Head`` (at the neck pivot, rotation track) -> ``Face`` (the mesh with
  the 52 morph targets) + ``LeftEye`` / ``RightEye`` (at the eyeball centres, rotation tracks). Left/Right are
  the subject's own sides; the face looks toward +Z and the subject's left is +X, glTF's axes.
* the ``Face`` mesh: one primitive per material (skin, lips, ...), POSITION and NORMAL float32 (POSITION with
  min/max), 52 morph targets (POSITION deltas, float32 with min/max; sparse accessors where that is smaller),
  ``weights`` all 0, names in ``mesh.extras.targetNames`` in ``rig.BLENDSHAPES`` order. three.js's GLTFLoader
  and Blender's importer both read ``extras.targetNames`` (into ``morphTargetDictionary`` and shape-key
  names). ``target_names="livelink"`` (default) writes the Live Link Face / MetaHuman names
  (``EyeBlinkLeft``); ``"arkit"`` writes Apple's camelCase (``eyeBlinkLeft``) that VRM "perfect sync" and
  Ready Player Me avatars use.
* one animation, ``keyframeface``: the morph ``weights`` (LINEAR, T x 52 floats), and ``rotation`` tracks
  (LINEAR, unit quaternions) for the head from HeadYaw/HeadPitch/HeadRoll and for each eye from its
  Yaw/Pitch/Roll; conventions and the radians-per-unit scale in :mod:`keyframeface.rig`. Times are
  seconds from the first frame (the original start is kept in ``asset.extras.keyframeface.start_time_s``).

Weights are the animation's values clipped to the rig's ranges, except that ``MouthClose`` is limited to
``JawOpen``: ARKit defines mouthClose as closing the lips of an open jaw, and every ARKit rig (the ICT head
included, see its README) pushes the lips through each other otherwise. Frames marked not valid (tracking
loss) are left out. When an eye's rotation channels are all zero but its eyeLook blendshapes move (ARKit-only
sources such as MediaPipe), the eye turns by the rotation they imply instead (:func:`keyframeface.rig.eye_angles`).

Bytes are deterministic for the same input: no timestamps, fixed key order, the buffer laid out in one order.
Validated with the Khronos glTF-Validator and re-imported with three.js in ``tests/test_gltf.py``.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import struct
from pathlib import Path
from typing import IO, Any, cast

import numpy as np

from .. import rig
from .._version import __version__
from ..errors import FormatError
from ..head.model import HeadModel, Part
from ..rig import RADIANS_PER_UNIT, pose_quaternions
from ..script import Animation, Keyframes
from .atomic import atomic_write_bytes

__all__ = ["MESHES", "TARGET_NAME_STYLES", "gltf_bytes", "load_head", "morph_target_names", "write_gltf"]

log = logging.getLogger(__name__)

#: Built-in meshes; ``mesh=`` also takes a path to an ``ict_arkit52.npz``-style archive.
MESHES = ("default", "ict")
#: Morph-target naming styles for ``target_names=``.
TARGET_NAME_STYLES = ("livelink", "arkit")

# glTF constants (specification, "Accessor Data Types" and "bufferView.target").
_FLOAT, _USHORT, _UINT = 5126, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_TRIANGLES = 4
_GLB_MAGIC, _GLB_VERSION = 0x46546C67, 2
_CHUNK_JSON, _CHUNK_BIN = 0x4E4F534A, 0x004E4942

_NODE_ROOT, _NODE_HEAD, _NODE_FACE, _NODE_LEFT_EYE, _NODE_RIGHT_EYE = range(5)


def morph_target_names(style: str = "livelink") -> list[str]:
    """The 52 morph-target names in ``rig.BLENDSHAPES`` order: Live Link names or ARKit camelCase."""
    if style == "livelink":
        return list(rig.BLENDSHAPES)
    if style == "arkit":
        return [n[0].lower() + n[1:] for n in rig.BLENDSHAPES]
    raise FormatError(f"target_names must be one of {', '.join(TARGET_NAME_STYLES)}; got {str(style)[:40]!r}")


def load_head(mesh: str | os.PathLike[str] = "default") -> HeadModel:
    """The head for ``mesh``: ``"default"`` (built in), ``"ict"`` (shared ICT-FaceKit asset) or a path to an
    ICT-style ``.npz`` (or the folder holding ``ict_arkit52.npz``). Raises :class:`FormatError` for anything
    else."""
    name = mesh.strip().lower() if isinstance(mesh, str) else None
    if name == "default":
        from ..head.procedural import default_head

        return default_head()
    from ..head.ict import load_ict_head

    if name == "ict":
        return load_ict_head()
    if isinstance(mesh, (str, os.PathLike)):
        p = Path(mesh)
        if p.suffix.lower() == ".npz" or p.is_dir():
            return load_ict_head(p)
    raise FormatError(
        f"unknown mesh {str(mesh)[:80]!r}; expected {' or '.join(repr(m) for m in MESHES)} "
        "or a path to an ICT-FaceKit style .npz (ict_arkit52.npz)"
    )


# ------------------------------------------------------------------------------------------------ the input
def _frames_and_times(anim: Animation | Keyframes) -> tuple[np.ndarray, np.ndarray, float]:
    """(T, 61) float32 values, (T,) float32 seconds from 0, the original start time in seconds."""
    if isinstance(anim, Keyframes):
        # One behaviour with io.registry.export: keyframes sit at their time_s, or keyframe k at k seconds when
        # they have none; a keyframe without values becomes an invalid frame, left out below.
        anim = Animation.from_keyframes(anim)
    if isinstance(anim, Animation):
        frames = anim.frames
        times = np.asarray(anim.frame_times(), dtype=np.float64)
        if anim.valid is not None:
            keep = np.asarray(anim.valid, dtype=bool)
            if not keep.all():
                log.info("glTF: leaving out %d frames marked not valid (tracking loss)", int((~keep).sum()))
            frames, times = frames[keep], times[keep]
    else:
        raise FormatError(f"expected an Animation or Keyframes to write as glTF, got {type(anim).__name__}")
    if frames.shape[0] == 0:
        raise FormatError("the animation has no (valid) frames; a glTF animation needs at least one")
    if not np.isfinite(times).all():
        raise FormatError("frame times must be finite numbers of seconds")
    start = float(times[0])
    rel = (times - start).astype(np.float32)
    if rel.size > 1 and not (np.diff(rel) > 0).all():
        i = int(np.argmax(np.diff(rel) <= 0))
        raise FormatError(
            f"frame times must increase; frame {i + 1} is at {float(times[i + 1]):.6f} s, "
            f"not after frame {i} at {float(times[i]):.6f} s (in float32 seconds, as glTF stores them); "
            "resample the animation"
        )
    values, _ = rig.clamp(frames)
    return values, rel, start


def _weights(values: np.ndarray) -> np.ndarray:
    """(T, 61) -> (T, 52) float32 morph weights; MouthClose limited to JawOpen (see the module docstring)."""
    w = np.array(values[:, : rig.NUM_BLENDSHAPES], dtype=np.float32)
    close, jaw = rig.CHANNEL_INDEX["MouthClose"], rig.CHANNEL_INDEX["JawOpen"]
    w[:, close] = np.minimum(w[:, close], w[:, jaw])
    return w


def _eye_angles(values: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yaw, pitch, roll) (T,) of one eye over the whole take (:func:`keyframeface.rig.eye_angles`)."""
    if rig.eyes_follow_look(values, side):
        log.info(
            "glTF: %s eye rotation channels are zero; turning the eye from its eyeLook shapes", side.lower()
        )
    return rig.eye_angles(values, side)


# -------------------------------------------------------------------------------------------- the document
class _Builder:
    """Collects one binary buffer, its buffer views and accessors, in the order they are added."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []
        self._zero: dict[int, int] = {}

    def view(self, data: bytes, *, target: int | None = None) -> int:
        self.blob.extend(b"\x00" * (-len(self.blob) % 4))  # every view starts 4-byte aligned
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.blob.extend(data)
        self.views.append(view)
        return len(self.views) - 1

    def _add(self, accessor: dict[str, Any]) -> int:
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def floats(self, array: np.ndarray, kind: str, *, target: int | None = None, bounds: bool = False) -> int:
        """A float32 accessor of ``kind`` ("SCALAR", "VEC3", "VEC4"); ``bounds`` adds the min/max glTF
        requires."""
        a = np.ascontiguousarray(array, dtype="<f4")
        count = a.shape[0]
        acc: dict[str, Any] = {
            "bufferView": self.view(a.tobytes(), target=target),
            "componentType": _FLOAT,
            "count": count,
            "type": kind,
        }
        if bounds:
            flat = a.reshape(count, -1)
            acc["min"] = [float(v) for v in flat.min(axis=0)]
            acc["max"] = [float(v) for v in flat.max(axis=0)]
        return self._add(acc)

    def indices(self, triangles: np.ndarray) -> int:
        flat = np.asarray(triangles).reshape(-1)
        small = int(flat.max()) < 65535  # 65535 is the primitive-restart value, never a valid index
        data = flat.astype("<u2" if small else "<u4")
        return self._add(
            {
                "bufferView": self.view(data.tobytes(), target=_ELEMENT_ARRAY_BUFFER),
                "componentType": _USHORT if small else _UINT,
                "count": int(flat.size),
                "type": "SCALAR",
            }
        )

    def morph_deltas(self, deltas: np.ndarray) -> int:
        """POSITION deltas (N, 3): all-zero (no data at all), sparse or dense, whichever is smallest; min/max
        always."""
        d = np.ascontiguousarray(deltas, dtype="<f4")
        count = d.shape[0]
        nonzero = np.flatnonzero(np.any(d != 0, axis=1))
        bounds = {"min": [float(v) for v in d.min(axis=0)], "max": [float(v) for v in d.max(axis=0)]}
        if nonzero.size == 0:
            # An accessor without bufferView reads as zeros (spec, "accessor.bufferView"); one per count is
            # reused.
            if count not in self._zero:
                self._zero[count] = self._add(
                    {
                        "componentType": _FLOAT,
                        "count": count,
                        "type": "VEC3",
                        "min": [0.0, 0.0, 0.0],
                        "max": [0.0, 0.0, 0.0],
                    }
                )
            return self._zero[count]
        small = count <= 65535
        index_bytes = 2 if small else 4
        if nonzero.size * (12 + index_bytes) < count * 12:
            idx = nonzero.astype("<u2" if small else "<u4")
            sparse = {
                "count": int(nonzero.size),
                "indices": {
                    "bufferView": self.view(idx.tobytes()),
                    "componentType": _USHORT if small else _UINT,
                },
                "values": {"bufferView": self.view(d[nonzero].tobytes())},
            }
            return self._add(
                {"componentType": _FLOAT, "count": count, "type": "VEC3", **bounds, "sparse": sparse}
            )
        return self._add(
            {
                "bufferView": self.view(d.tobytes(), target=_ARRAY_BUFFER),
                "componentType": _FLOAT,
                "count": count,
                "type": "VEC3",
                **bounds,
            }
        )


def _material(part: Part) -> dict[str, Any]:
    m: dict[str, Any] = {
        "name": part.name,
        "pbrMetallicRoughness": {
            "baseColorFactor": [float(c) for c in part.color],
            "metallicFactor": 0.0,
            "roughnessFactor": 0.6,
        },
    }
    if part.double_sided:
        m["doubleSided"] = True
    return m


def _primitives(
    b: _Builder, parts: tuple[Part, ...], materials: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    prims = []
    shared: dict[int, tuple[int, int]] = {}  # parts that share vertex arrays (the eyes) share their accessors
    for part in parts:
        key = id(part.positions)
        if key not in shared:
            shared[key] = (
                b.floats(part.positions, "VEC3", target=_ARRAY_BUFFER, bounds=True),
                b.floats(part.normals, "VEC3", target=_ARRAY_BUFFER),
            )
        pos, nrm = shared[key]
        mat = _material(part)
        if mat not in materials:
            materials.append(mat)
        prim: dict[str, Any] = {
            "attributes": {"POSITION": pos, "NORMAL": nrm},
            "indices": b.indices(part.triangles),
            "material": materials.index(mat),
            "mode": _TRIANGLES,
        }
        if part.deltas is not None:
            prim["targets"] = [
                {"POSITION": b.morph_deltas(part.deltas[i])} for i in range(rig.NUM_BLENDSHAPES)
            ]
        prims.append(prim)
    return prims


def _jsonable(value: Any) -> Any:
    """``value`` made JSON-safe (non-finite numbers and unknown objects become strings)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=str))
    except (TypeError, ValueError):
        return str(value)


def _document(
    anim: Animation | Keyframes,
    head: HeadModel,
    *,
    names: list[str],
    radians_per_unit: float,
    mesh_label: str,
) -> tuple[dict[str, Any], bytes]:
    values, times, start = _frames_and_times(anim)
    b = _Builder()
    materials: list[dict[str, Any]] = []
    face_prims = _primitives(b, head.face, materials)
    left_prims = _primitives(b, head.left_eye.parts, materials)
    right_prims = _primitives(b, head.right_eye.parts, materials)

    pivot = np.asarray(head.pivot, dtype=np.float64)

    def offset(point: np.ndarray) -> list[float]:
        return [float(v) for v in np.asarray(point, dtype=np.float64) - pivot]

    nodes: list[dict[str, Any]] = [
        {"name": "keyframeface", "children": [_NODE_HEAD]},
        {
            "name": "Head",
            "translation": [float(v) for v in pivot],
            "children": [_NODE_FACE, _NODE_LEFT_EYE, _NODE_RIGHT_EYE],
        },
        {"name": "Face", "mesh": 0, "translation": [-float(v) for v in pivot]},
        {"name": "LeftEye", "mesh": 1, "translation": offset(head.left_eye.centre)},
        {"name": "RightEye", "mesh": 2, "translation": offset(head.right_eye.centre)},
    ]
    meshes = [
        {
            "name": "Face",
            "primitives": face_prims,
            "weights": [0.0] * rig.NUM_BLENDSHAPES,
            "extras": {"targetNames": names},
        },
        {"name": "LeftEye", "primitives": left_prims},
        {"name": "RightEye", "primitives": right_prims},
    ]

    # Animation: one shared time input, four samplers.
    i = rig.CHANNEL_INDEX
    t_in = b.floats(times, "SCALAR", bounds=True)
    weights_out = b.floats(_weights(values).reshape(-1), "SCALAR")
    head_q = pose_quaternions(
        values[:, i["HeadYaw"]],
        values[:, i["HeadPitch"]],
        values[:, i["HeadRoll"]],
        radians_per_unit=radians_per_unit,
    )
    left_q = pose_quaternions(*_eye_angles(values, "Left"), radians_per_unit=radians_per_unit)
    right_q = pose_quaternions(*_eye_angles(values, "Right"), radians_per_unit=radians_per_unit)
    outputs = [
        (weights_out, _NODE_FACE, "weights"),
        (b.floats(head_q, "VEC4"), _NODE_HEAD, "rotation"),
        (b.floats(left_q, "VEC4"), _NODE_LEFT_EYE, "rotation"),
        (b.floats(right_q, "VEC4"), _NODE_RIGHT_EYE, "rotation"),
    ]
    animation = {
        "name": "keyframeface",
        "samplers": [{"input": t_in, "output": out, "interpolation": "LINEAR"} for out, _, _ in outputs],
        "channels": [
            {"sampler": k, "target": {"node": node, "path": path}}
            for k, (_, node, path) in enumerate(outputs)
        ],
    }
    # The first frame's pose as the rest pose, so a viewer that does not play the animation shows frame 0.
    nodes[_NODE_HEAD]["rotation"] = [float(v) for v in head_q[0]]
    nodes[_NODE_LEFT_EYE]["rotation"] = [float(v) for v in left_q[0]]
    nodes[_NODE_RIGHT_EYE]["rotation"] = [float(v) for v in right_q[0]]

    meta = anim.meta
    extras: dict[str, Any] = {
        "keyframeface": {
            "format": "keyframeface.gltf",
            "version": 1,
            "mesh": mesh_label,
            "target_names": "arkit" if names[0][0].islower() else "livelink",
            "frames": int(values.shape[0]),
            "fps": float(anim.fps) if isinstance(anim, Animation) else None,
            "start_time_s": start,
            "radians_per_unit": float(radians_per_unit),
            "conventions": "Left/Right = the subject's side (+X = subject's left, face toward +Z); "
            "yaw > 0 turns toward the subject's right, pitch > 0 looks down, roll > 0 tilts toward the right "
            "shoulder; q = yaw * pitch * roll",
            "meta": _jsonable(dict(meta)),
        }
    }
    if head.license_text:
        extras["license"] = head.license_text
    asset: dict[str, Any] = {"version": "2.0", "generator": f"keyframeface {__version__}"}
    if head.copyright:
        asset["copyright"] = head.copyright
    asset["extras"] = extras
    doc: dict[str, Any] = {
        "asset": asset,
        "scene": 0,
        "scenes": [{"name": "keyframeface", "nodes": [_NODE_ROOT]}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
        "animations": [animation],
        "accessors": b.accessors,
        "bufferViews": b.views,
        "buffers": [{"byteLength": len(b.blob)}],
    }
    return doc, bytes(b.blob)


def _glb(doc: dict[str, Any], blob: bytes) -> bytes:
    """Pack a GLB: 12-byte header, JSON chunk padded with spaces, BIN chunk padded with zeros (spec,
    "GLB")."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 4)
    data = blob + b"\x00" * (-len(blob) % 4)
    total = 12 + 8 + len(text) + 8 + len(data)
    return b"".join(
        [
            struct.pack("<III", _GLB_MAGIC, _GLB_VERSION, total),
            struct.pack("<II", len(text), _CHUNK_JSON),
            text,
            struct.pack("<II", len(data), _CHUNK_BIN),
            data,
        ]
    )


def _embedded(doc: dict[str, Any], blob: bytes) -> bytes:
    """A self-contained .gltf: the buffer as a base64 data URI."""
    doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(blob).decode(
        "ascii"
    )
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode(
        "utf-8"
    )


def _check_scale(radians_per_unit: float) -> float:
    if (
        isinstance(radians_per_unit, bool)
        or not isinstance(radians_per_unit, (int, float))
        or not math.isfinite(radians_per_unit)
        or not 0 < radians_per_unit <= 2 * math.pi
    ):
        raise FormatError(
            f"radians_per_unit must be a number in (0, 2*pi], e.g. 1.0 (radians) or math.pi "
            f"(Unreal's ARKit plugin); got {radians_per_unit!r}"
        )
    return float(radians_per_unit)


def gltf_bytes(
    anim: Animation | Keyframes,
    *,
    binary: bool = True,
    mesh: str | os.PathLike[str] = "default",
    target_names: str = "livelink",
    radians_per_unit: float = RADIANS_PER_UNIT,
) -> bytes:
    """The glTF file as bytes: GLB when ``binary`` else self-contained JSON. Options as :func:`write_gltf`."""
    names = morph_target_names(target_names)
    scale = _check_scale(radians_per_unit)
    head = load_head(mesh)
    doc, blob = _document(anim, head, names=names, radians_per_unit=scale, mesh_label=head.name)
    return _glb(doc, blob) if binary else _embedded(doc, blob)


def write_gltf(
    anim: Animation | Keyframes,
    path: str | os.PathLike[str] | IO[bytes],
    *,
    binary: bool | None = None,
    mesh: str | os.PathLike[str] = "default",
    target_names: str = "livelink",
    radians_per_unit: float = RADIANS_PER_UNIT,
) -> None:
    """Write ``anim`` as a glTF 2.0 file at ``path``, atomically (or to a binary stream: then pass ``binary``).

    ``binary``: ``None`` decides by the extension (``.glb`` binary; ``.gltf`` JSON with the buffer embedded as
    a base64 data URI, one self-contained file). ``mesh``: ``"default"`` (a small head generated in code),
    ``"ict"`` (the ICT-FaceKit head from the shared data folder) or a path to an ICT-style ``.npz``.
    ``target_names``: ``"livelink"`` (``EyeBlinkLeft``) or ``"arkit"`` (``eyeBlinkLeft``).
    ``radians_per_unit``: how many radians one normalised unit of the head / eye rotation channels is (1.0;
    see :func:`keyframeface.rig.pose_quaternions`). :class:`Keyframes` are written as frames at their ``time_s``
    (linear in between). The same input gives the same bytes. Raises :class:`FormatError` for a bad option, a
    missing mesh asset, or an animation without usable frames.
    """
    if binary is None and not isinstance(path, (str, os.PathLike)):
        raise FormatError("writing glTF to a stream needs binary=True (.glb) or binary=False (.gltf)")
    if binary is None:
        suffix = Path(cast("str | os.PathLike[str]", path)).suffix.lower()
        if suffix not in (".glb", ".gltf"):
            raise FormatError(
                f"cannot tell glTF JSON from binary by {suffix or 'no extension'!r}; "
                "name the file .gltf or .glb, or pass binary=True/False"
            )
        binary = suffix == ".glb"
    data = gltf_bytes(
        anim, binary=bool(binary), mesh=mesh, target_names=target_names, radians_per_unit=radians_per_unit
    )
    if isinstance(path, (str, os.PathLike)):
        atomic_write_bytes(path, data)
    else:
        path.write(data)
