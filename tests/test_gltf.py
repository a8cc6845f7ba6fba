"""glTF 2.0 export: structure checked in pure Python, then the Khronos glTF-Validator and three.js's
GLTFLoader.

The node checks run when ``node`` and ``tests/js/node_modules`` exist (``cd tests/js && npm ci``), else skip.
"""

from __future__ import annotations

import base64
import json
import math
import shutil
import struct
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.errors import FormatError
from keyframeface.head.procedural import default_head
from keyframeface.io.gltf import gltf_bytes, load_head, morph_target_names, write_gltf
from keyframeface.rig import pose_quaternions
from keyframeface.script import Animation, Keyframes

JS_DIR = Path(__file__).parent / "js"
IDX = rig.CHANNEL_INDEX


# ------------------------------------------------------------------------------------------------- helpers
def _animation(frames: int = 30, fps: float = 30.0) -> Animation:
    t = np.arange(frames) / fps
    v = np.zeros((frames, rig.NUM_CHANNELS), dtype=np.float32)
    v[:, IDX["JawOpen"]] = 0.5 + 0.5 * np.sin(3 * t)
    v[:, IDX["MouthClose"]] = 0.8  # more than JawOpen on some frames: must be limited to it
    v[:, IDX["EyeBlinkLeft"]] = np.clip(np.sin(5 * t), 0, 1)
    v[:, IDX["MouthSmileRight"]] = 0.6
    v[:, IDX["HeadYaw"]] = 0.3 * np.sin(t)
    v[:, IDX["HeadPitch"]] = 0.1
    v[:, IDX["LeftEyeYaw"]] = 0.2
    v[:, IDX["RightEyePitch"]] = -0.2
    return Animation(frames=v, fps=fps, meta={"backend": "test", "seed": 1})


def parse_gltf(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(JSON document, binary buffer) of a GLB or a self-contained .gltf, checking the GLB layout on the
    way."""
    if data[:4] == b"glTF":
        _magic, version, length = struct.unpack_from("<III", data, 0)
        assert version == 2 and length == len(data) and length % 4 == 0
        json_len, json_type = struct.unpack_from("<II", data, 12)
        assert json_type == 0x4E4F534A and json_len % 4 == 0
        doc = json.loads(data[20 : 20 + json_len].decode("utf-8"))
        off = 20 + json_len
        bin_len, bin_type = struct.unpack_from("<II", data, off)
        assert bin_type == 0x004E4942 and bin_len % 4 == 0 and off + 8 + bin_len == len(data)
        blob = data[off + 8 : off + 8 + bin_len]
        assert "uri" not in doc["buffers"][0]
        assert doc["buffers"][0]["byteLength"] <= bin_len < doc["buffers"][0]["byteLength"] + 4
        return doc, blob
    doc = json.loads(data.decode("utf-8"))
    uri = doc["buffers"][0]["uri"]
    prefix = "data:application/octet-stream;base64,"
    assert uri.startswith(prefix)
    blob = base64.b64decode(uri[len(prefix) :])
    assert len(blob) == doc["buffers"][0]["byteLength"]
    return doc, blob


_COMPONENTS = {5126: "<f4", 5123: "<u2", 5125: "<u4", 5121: "u1"}
_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def read_accessor(doc: dict[str, Any], blob: bytes, index: int) -> np.ndarray:
    """An accessor's values as (count, size) (dense, sparse or all-zero), with bounds checks."""
    acc = doc["accessors"][index]
    dtype = np.dtype(_COMPONENTS[acc["componentType"]])
    size = _SIZES[acc["type"]]
    count = acc["count"]

    def view_bytes(view_index: int) -> bytes:
        view = doc["bufferViews"][view_index]
        assert view["byteOffset"] % 4 == 0 and "byteStride" not in view
        end = view["byteOffset"] + view["byteLength"]
        assert end <= doc["buffers"][0]["byteLength"]
        return blob[view["byteOffset"] : end]

    if "bufferView" in acc:
        raw = view_bytes(acc["bufferView"])[acc.get("byteOffset", 0) :]
        out = np.frombuffer(raw, dtype=dtype, count=count * size).reshape(count, size).copy()
    else:
        out = np.zeros((count, size), dtype=dtype)
    if "sparse" in acc:
        sp = acc["sparse"]
        idx = np.frombuffer(
            view_bytes(sp["indices"]["bufferView"]),
            dtype=_COMPONENTS[sp["indices"]["componentType"]],
            count=sp["count"],
        )
        assert (np.diff(idx.astype(np.int64)) > 0).all() and idx.max() < count
        vals = np.frombuffer(view_bytes(sp["values"]["bufferView"]), dtype=dtype, count=sp["count"] * size)
        out[idx] = vals.reshape(-1, size)
    return out


def _node(doc: dict[str, Any], name: str) -> int:
    return next(i for i, n in enumerate(doc["nodes"]) if n.get("name") == name)


def _channel_output(
    doc: dict[str, Any], blob: bytes, node: str, path: str
) -> tuple[np.ndarray, np.ndarray, str]:
    anim = doc["animations"][0]
    target = _node(doc, node)
    ch = next(c for c in anim["channels"] if c["target"] == {"node": target, "path": path})
    sampler = anim["samplers"][ch["sampler"]]
    times = read_accessor(doc, blob, sampler["input"])[:, 0]
    return times, read_accessor(doc, blob, sampler["output"]), sampler["interpolation"]


def _rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    u, w = q[:3].astype(np.float64), float(q[3])
    return v + 2 * np.cross(u, np.cross(u, v) + w * v)


def check_structure(
    data: bytes, anim: Animation | None = None, names: list[str] | None = None
) -> dict[str, Any]:
    """Every structural promise of the writer, checked on the bytes; returns the document."""
    doc, blob = parse_gltf(data)
    names = names or list(rig.BLENDSHAPES)
    assert doc["asset"]["version"] == "2.0"
    assert doc["asset"]["generator"].startswith("keyframeface")
    # hierarchy: root -> Head -> Face + eyes
    root = doc["scenes"][doc["scene"]]["nodes"]
    assert [doc["nodes"][i]["name"] for i in root] == ["keyframeface"]
    head = doc["nodes"][_node(doc, "Head")]
    assert sorted(doc["nodes"][c]["name"] for c in head["children"]) == ["Face", "LeftEye", "RightEye"]
    # every accessor with bounds has the true bounds (the validator rejects a mismatch)
    for k, acc in enumerate(doc["accessors"]):
        if "min" in acc:
            values = read_accessor(doc, blob, k)
            assert acc["min"] == [float(v) for v in values.min(axis=0)], k
            assert acc["max"] == [float(v) for v in values.max(axis=0)], k
    face = doc["meshes"][doc["nodes"][_node(doc, "Face")]["mesh"]]
    assert face["extras"]["targetNames"] == names
    assert face["weights"] == [0.0] * 52
    for prim in face["primitives"]:
        pos = doc["accessors"][prim["attributes"]["POSITION"]]
        assert "min" in pos and "max" in pos and pos["componentType"] == 5126
        normals = read_accessor(doc, blob, prim["attributes"]["NORMAL"])
        assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
        assert len(prim["targets"]) == 52
        for target in prim["targets"]:
            acc = doc["accessors"][target["POSITION"]]
            assert acc["count"] == pos["count"] and "min" in acc and "max" in acc
        idx = read_accessor(doc, blob, prim["indices"])
        assert idx.size % 3 == 0 and idx.max() < pos["count"]
    # animation: morph weights and three rotation tracks on one time base starting at 0
    times, weights, interp = _channel_output(doc, blob, "Face", "weights")
    assert interp == "LINEAR" and times[0] == 0.0 and (np.diff(times) > 0).all()
    assert weights.shape == (len(times) * 52, 1)
    w = weights.reshape(len(times), 52)
    assert (w >= 0).all() and (w <= 1).all()
    assert (w[:, IDX["MouthClose"]] <= w[:, IDX["JawOpen"]]).all()
    for node in ("Head", "LeftEye", "RightEye"):
        t, q, interp = _channel_output(doc, blob, node, "rotation")
        assert interp == "LINEAR" and np.array_equal(t, times) and q.shape == (len(times), 4)
        assert np.allclose(np.linalg.norm(q.astype(np.float64), axis=1), 1.0, atol=1e-6)
    if anim is not None:
        expected_t = (anim.frame_times() - anim.frame_times()[0]).astype(np.float32)
        assert np.array_equal(times, expected_t)
        clamped, _ = rig.clamp(anim.frames)
        exp_w = clamped[:, :52].copy()
        exp_w[:, IDX["MouthClose"]] = np.minimum(exp_w[:, IDX["MouthClose"]], exp_w[:, IDX["JawOpen"]])
        assert np.array_equal(w, exp_w)
    return doc


# --------------------------------------------------------------------------------------- pure-Python checks
@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_structure_and_determinism(tmp_path: Path, suffix: str) -> None:
    anim = _animation()
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    write_gltf(anim, a)
    write_gltf(anim, b)
    assert a.read_bytes() == b.read_bytes()
    assert (a.read_bytes()[:4] == b"glTF") == (suffix == ".glb")
    doc = check_structure(a.read_bytes(), anim)
    extras = doc["asset"]["extras"]["keyframeface"]
    assert (
        extras["mesh"] == "default"
        and extras["fps"] == 30.0
        and extras["meta"] == {"backend": "test", "seed": 1}
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_glb_and_gltf_carry_the_same_document_and_buffer() -> None:
    anim = _animation(5)
    doc_b, blob_b = parse_gltf(gltf_bytes(anim, binary=True))
    doc_j, blob_j = parse_gltf(gltf_bytes(anim, binary=False))
    del doc_j["buffers"][0]["uri"]
    assert doc_b == doc_j
    assert blob_b[: len(blob_j)] == blob_j


def test_arkit_target_names() -> None:
    names = morph_target_names("arkit")
    assert names[0] == "eyeBlinkLeft" and names[17] == "jawOpen" and names[-1] == "tongueOut"
    assert all(rig.try_canonical_name(n) == c for n, c in zip(names, rig.BLENDSHAPES, strict=True))
    check_structure(gltf_bytes(_animation(3), target_names="arkit"), names=names)


def test_rotation_tracks_follow_the_rig_conventions() -> None:
    v = np.zeros((3, rig.NUM_CHANNELS), dtype=np.float32)
    v[1, IDX["HeadYaw"]] = 0.5  # toward the subject's right = -X
    v[2, IDX["HeadPitch"]] = 0.5  # looking down = -Y
    v[:, IDX["LeftEyeYaw"]] = [0.0, 0.3, 0.0]
    v[:, IDX["RightEyePitch"]] = [0.0, 0.0, 0.4]
    doc, blob = parse_gltf(gltf_bytes(Animation(frames=v, fps=10)))
    _, head, _ = _channel_output(doc, blob, "Head", "rotation")
    forward = np.array([0.0, 0.0, 1.0])
    assert np.allclose(_rotate(head[0], forward), forward, atol=1e-6)
    turned = _rotate(head[1], forward)
    assert turned[0] < -0.4 and math.isclose(
        math.atan2(-turned[0], turned[2]), 0.5, abs_tol=1e-5
    )  # 1 unit = 1 rad
    assert _rotate(head[2], forward)[1] < -0.4
    _, left, _ = _channel_output(doc, blob, "LeftEye", "rotation")
    _, right, _ = _channel_output(doc, blob, "RightEye", "rotation")
    assert _rotate(left[1], forward)[0] < -0.25 and _rotate(right[2], forward)[1] < -0.35
    # the first frame is also the nodes' rest pose
    assert doc["nodes"][_node(doc, "Head")]["rotation"] == [float(x) for x in head[0]]
    # the Unreal-plugin reading: one unit = pi radians
    doc, blob = parse_gltf(gltf_bytes(Animation(frames=v, fps=10), radians_per_unit=math.pi))
    _, head, _ = _channel_output(doc, blob, "Head", "rotation")
    turned = _rotate(head[1], forward)
    assert math.isclose(math.atan2(-turned[0], turned[2]), 0.5 * math.pi, abs_tol=1e-5)


def test_quaternions_stay_in_one_hemisphere() -> None:
    yaw = np.linspace(-2.0, 2.0, 50)  # beyond +-pi/2 turns: w would change sign without the fix
    q = pose_quaternions(yaw, np.full(50, 0.9), np.full(50, -0.9), radians_per_unit=math.pi)
    assert (np.einsum("ij,ij->i", q[1:].astype(np.float64), q[:-1].astype(np.float64)) > 0).all()
    assert np.allclose(np.linalg.norm(q.astype(np.float64), axis=1), 1.0, atol=1e-6)


def test_eyes_turn_from_eyelook_shapes_when_rotation_channels_are_zero() -> None:
    v = np.zeros((2, rig.NUM_CHANNELS), dtype=np.float32)
    v[1, IDX["EyeLookDownLeft"]] = 1.0
    v[1, IDX["EyeLookInRight"]] = 1.0  # right eye toward the nose = toward the subject's left = +X
    doc, blob = parse_gltf(gltf_bytes(Animation(frames=v, fps=10)))
    forward = np.array([0.0, 0.0, 1.0])
    _, left, _ = _channel_output(doc, blob, "LeftEye", "rotation")
    _, right, _ = _channel_output(doc, blob, "RightEye", "rotation")
    assert _rotate(left[1], forward)[1] < -0.3  # looks down
    assert _rotate(right[1], forward)[0] > 0.3


def test_keyframes_are_placed_at_their_times() -> None:
    values = np.zeros((3, rig.NUM_CHANNELS), dtype=np.float32)
    values[:, IDX["JawOpen"]] = [0.0, 1.0, 0.2]
    kfs = Keyframes.from_array(values, times_s=[0.5, 1.0, 2.5])
    doc, blob = parse_gltf(gltf_bytes(kfs))
    times, w, _ = _channel_output(doc, blob, "Face", "weights")
    assert times.tolist() == [0.0, 0.5, 2.0]
    assert w.reshape(3, 52)[:, IDX["JawOpen"]].tolist() == pytest.approx([0.0, 1.0, 0.2])
    assert doc["asset"]["extras"]["keyframeface"]["start_time_s"] == 0.5
    # without time_s, keyframe k sits at k seconds, as io.registry.export places it (one behaviour)
    from keyframeface.convert import keyframes_to_animation

    untimed = Keyframes.from_array(values)
    doc, blob = parse_gltf(gltf_bytes(untimed))
    times, w, _ = _channel_output(doc, blob, "Face", "weights")
    assert times.tolist() == [0.0, 1.0, 2.0]
    assert w.reshape(3, 52)[:, IDX["JawOpen"]].tolist() == pytest.approx([0.0, 1.0, 0.2])
    doc2, blob2 = parse_gltf(gltf_bytes(keyframes_to_animation(untimed)))
    assert blob == blob2 and doc["animations"] == doc2["animations"]  # only the recorded fps differs


def test_invalid_frames_are_left_out_and_times_must_increase() -> None:
    v = np.zeros((4, rig.NUM_CHANNELS), dtype=np.float32)
    anim = Animation(
        frames=v,
        fps=30,
        times_s=np.array([10.0, 10.1, 10.2, 10.3]),
        valid=np.array([True, False, True, True]),
    )
    doc, blob = parse_gltf(gltf_bytes(anim))
    times, _, _ = _channel_output(doc, blob, "Face", "weights")
    assert times.tolist() == pytest.approx([0.0, 0.2, 0.3])
    with pytest.raises(FormatError, match="increase"):
        gltf_bytes(Animation(frames=v, fps=30, times_s=np.array([0.0, 0.1, 0.1, 0.2])))
    with pytest.raises(FormatError, match="no \\(valid\\) frames"):
        gltf_bytes(Animation(frames=v[:0], fps=30))
    single = check_structure(gltf_bytes(Animation(frames=v[:1], fps=30)))
    assert single["accessors"][single["animations"][0]["samplers"][0]["input"]]["count"] == 1


def test_bad_options_fail_clearly_and_leave_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "take.glb"
    target.write_bytes(b"old")
    anim = _animation(2)
    with pytest.raises(FormatError, match="livelink"):
        write_gltf(anim, target, target_names="maya")
    with pytest.raises(FormatError, match="unknown mesh"):
        write_gltf(anim, target, mesh="teapot")
    with pytest.raises(FormatError, match="radians_per_unit"):
        write_gltf(anim, target, radians_per_unit=0.0)
    with pytest.raises(FormatError, match=r"\.gltf or \.glb"):
        write_gltf(anim, tmp_path / "take.txt")
    with pytest.raises(FormatError, match="KEYFRAMEFACE_SHARED"):
        write_gltf(anim, target, mesh=tmp_path / "missing.npz")
    assert target.read_bytes() == b"old"
    write_gltf(anim, tmp_path / "forced.bin", binary=True)
    assert (tmp_path / "forced.bin").read_bytes()[:4] == b"glTF"


@settings(max_examples=20, deadline=None)
@given(
    frames=st.integers(1, 12),
    fps=st.floats(1.0, 240.0),
    seed=st.integers(0, 2**32 - 1),
    binary=st.booleans(),
)
def test_any_animation_gives_a_well_formed_file(frames: int, fps: float, seed: int, binary: bool) -> None:
    rng = np.random.default_rng(seed)
    v = rng.uniform(-1.5, 1.5, size=(frames, rig.NUM_CHANNELS)).astype(np.float32)  # out of range on purpose
    anim = Animation(frames=v, fps=fps)  # (an Animation refuses NaN frames itself, so none are tried here)
    check_structure(gltf_bytes(anim, binary=binary), anim)


# ------------------------------------------------------------------------------------------- default head
def test_default_head_every_target_moves_its_own_side() -> None:
    head = default_head()
    positions = np.concatenate([p.positions for p in head.face]).astype(np.float64)
    assert 500 <= len(positions) <= 5000
    sideways = {"JawLeft", "JawRight", "MouthLeft", "MouthRight"}  # move the whole jaw / mouth, checked below
    for i, name in enumerate(rig.BLENDSHAPES):
        d = np.concatenate([np.linalg.norm(p.deltas[i], axis=1) for p in head.face]).astype(np.float64)
        assert d.max() > 1e-3, f"{name} moves nothing"
        x = float((d * positions[:, 0]).sum() / d.sum())  # where the motion is; the subject's left is +X
        if name.endswith("Left") and name not in sideways:
            assert x > 0.005, name
        elif name.endswith("Right") and name not in sideways:
            assert x < -0.005, name
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        for prefix in ("Jaw", "Mouth"):  # sideways targets move toward their side
            i = rig.BLENDSHAPES.index(f"{prefix}{side}")
            moved = np.concatenate([p.deltas[i] for p in head.face])
            assert sign * moved[:, 0].sum() > 0, f"{prefix}{side}"
    blink = rig.BLENDSHAPES.index("EyeBlinkLeft")
    jaw = rig.BLENDSHAPES.index("JawOpen")
    assert np.concatenate([p.deltas[blink] for p in head.face])[:, 1].min() < -0.005  # lids come down
    assert np.concatenate([p.deltas[jaw] for p in head.face])[:, 1].min() < -0.02  # the chin drops 2+ cm
    assert head.left_eye.centre[0] > 0 > head.right_eye.centre[0]


def test_default_head_eyes_wind_outward() -> None:
    for part in default_head().left_eye.parts:
        t = part.triangles.astype(np.int64)
        a, b, c = (part.positions[t[:, k]].astype(np.float64) for k in range(3))
        assert (np.einsum("ij,ij->i", np.cross(b - a, c - a), a + b + c) > 0).all()


# ---------------------------------------------------------------------------------------------- ICT head
@pytest.fixture(scope="module")
def ict_npz(shared: Path) -> Path:
    path = shared / "assets" / "ict-facekit" / "ict_arkit52.npz"
    if not path.is_file():
        pytest.skip(f"ICT head not found at {path}")
    return path


@pytest.mark.shared
def test_ict_head_loads_with_its_licence(ict_npz: Path) -> None:
    head = load_head("ict")
    assert head is load_head(ict_npz)  # cached per file
    assert {p.name for p in head.face} == {"skin", "mouth", "teeth"}
    assert "MIT" in head.copyright and "Permission is hereby granted" in head.license_text
    jaw = rig.BLENDSHAPES.index("JawOpen")
    assert min(float(p.deltas[jaw][:, 1].min()) for p in head.face) < -0.01  # metres, not centimetres
    assert np.allclose(head.left_eye.centre, [0.0316, 0.0361, 0.0806], atol=0.002)
    data = gltf_bytes(_animation(4), mesh="ict")
    doc = check_structure(data)
    assert "MIT" in doc["asset"]["copyright"] and doc["asset"]["extras"]["license"].startswith("MIT License")


# ----------------------------------------------------------------------------------------- node: validator
def _node_tools() -> Path:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the glTF-Validator and three.js checks need it")
    for package in ("gltf-validator", "three"):
        if not (JS_DIR / "node_modules" / package).is_dir():
            pytest.skip(f"tests/js/node_modules/{package} missing: run `npm ci` in tests/js")
    return Path(node)


def _run_node(script: str, files: list[Path]) -> list[dict[str, Any]]:
    node = _node_tools()
    proc = subprocess.run(
        [str(node), script, *map(str, files)],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(files), f"{script} failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return lines


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("gltf")
    anim = _animation(45)
    files = {
        "default.glb": (anim, {}),
        "default.gltf": (anim, {}),
        "arkit.glb": (anim, {"target_names": "arkit"}),
        "keyframes.gltf": (Keyframes.from_array(anim.frames[::15], times_s=[0.0, 0.5, 1.0]), {}),
        "single.glb": (Animation(frames=anim.frames[:1], fps=30), {}),
        "capture.glb": (
            Animation(
                frames=anim.frames[:6],
                fps=60,
                times_s=100.0 + np.array([0.0, 1, 2, 4, 5, 6]) / 60,  # a dropped frame and a late start
                valid=np.array([True, True, False, True, True, True]),
            ),
            {"radians_per_unit": math.pi},
        ),
    }
    paths = {}
    for name, (obj, options) in files.items():
        write_gltf(obj, out / name, **options)
        paths[name] = out / name
    return paths


@pytest.fixture(scope="module")
def written_ict(tmp_path_factory: pytest.TempPathFactory, ict_npz: Path) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("gltf_ict")
    anim = _animation(20)
    paths = {}
    for name in ("ict.glb", "ict.gltf"):
        write_gltf(anim, out / name, mesh="ict")
        paths[name] = out / name
    return paths


def _check_validator(paths: dict[str, Path]) -> None:
    reports = _run_node("validate.mjs", list(paths.values()))
    for report in reports:
        errors = [m for m in report["messages"] if m["severity"] == 0]
        assert report["numErrors"] == 0, f"{report['file']}: {errors[:5]}"
        assert report["info"]["animationCount"] == 1
        if report["numWarnings"]:
            shown = [f"{m['code']} at {m['pointer']}" for m in report["messages"] if m["severity"] == 1][:5]
            warnings.warn(f"glTF-Validator warnings for {Path(report['file']).name}: {shown}", stacklevel=2)


def _check_three(paths: dict[str, Path], names: dict[str, list[str]]) -> None:
    results = _run_node("load_three.mjs", list(paths.values()))
    for result, (key, path) in zip(results, paths.items(), strict=True):
        assert "error" not in result, result.get("error")
        face = [m for m in result["meshes"] if m["morphTargetCount"]]
        assert face, f"{key}: no mesh with morph targets"
        for mesh in face:
            assert mesh["morphTargetNames"] == names[key] and mesh["influences"] == 52 and mesh["hasNormals"]
        assert {"Head", "Face", "LeftEye", "RightEye"} <= set(result["nodes"])
        (clip,) = result["animations"]
        assert clip["valid"] and clip["name"] == "keyframeface"
        kinds = {t["name"].split(".")[1] for t in clip["tracks"]}
        assert kinds == {"morphTargetInfluences", "quaternion"}
        rotations = sorted(t["name"] for t in clip["tracks"] if t["type"] == "quaternion")
        assert rotations == ["Head.quaternion", "LeftEye.quaternion", "RightEye.quaternion"]
        doc, _ = parse_gltf(path.read_bytes())
        frames = doc["accessors"][doc["animations"][0]["samplers"][0]["input"]]["count"]
        for track in clip["tracks"]:
            assert track["times"] == frames and track["firstTime"] == 0
            per_key = 52 if track["type"] == "number" else 4
            assert track["values"] == frames * per_key
        assert clip["duration"] == pytest.approx(
            doc["accessors"][doc["animations"][0]["samplers"][0]["input"]]["max"][0]
        )


def test_khronos_validator_accepts_default_mesh_files(written: dict[str, Path]) -> None:
    _check_validator(written)


def test_three_js_loads_default_mesh_files(written: dict[str, Path]) -> None:
    names = {key: morph_target_names("arkit" if key.startswith("arkit") else "livelink") for key in written}
    _check_three(written, names)


@pytest.mark.shared
def test_khronos_validator_accepts_ict_files(written_ict: dict[str, Path]) -> None:
    _check_validator(written_ict)


@pytest.mark.shared
def test_three_js_loads_ict_files(written_ict: dict[str, Path]) -> None:
    _check_three(written_ict, {key: list(rig.BLENDSHAPES) for key in written_ict})


def test_ict_asset_found_in_fetch_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a shared folder, the copy written by `keyframeface fetch-ict` (KEYFRAMEFACE_CACHE) is used."""
    from keyframeface.errors import FormatError
    from keyframeface.head import ict as ict_head

    monkeypatch.setattr(ict_head, "shared_dir", lambda: None)
    monkeypatch.setenv("KEYFRAMEFACE_CACHE", str(tmp_path))
    with pytest.raises(FormatError, match="keyframeface fetch-ict"):
        ict_head.find_ict_asset()
    target = tmp_path / "ict-facekit" / "ict_arkit52.npz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"placeholder")
    assert ict_head.find_ict_asset() == target


@pytest.mark.parametrize(
    "arrays",
    [
        {"neutral": np.float64(1.0)},  # 0-d neutral
        {"deltas": np.full((1, 3, 3), "a")},  # strings of the right shape, not numbers
        {"tris": np.array([0, 1, 2])},  # 1-D triangles
    ],
)
def test_malformed_ict_archive_is_a_format_error(tmp_path: Path, arrays: dict[str, Any]) -> None:
    from keyframeface.head.ict import load_ict_head

    base: dict[str, Any] = {
        "neutral": np.zeros((3, 3)), "deltas": np.zeros((1, 3, 3)), "names": np.array(["JawOpen"]),
        "tris": np.array([[0, 1, 2]]), "tri_mat": np.array([0]), "mats": np.array(["M_Face"]),
    }
    base.update(arrays)
    path = tmp_path / "ict_arkit52.npz"
    np.savez(path, **base)
    with pytest.raises(FormatError, match="numeric array"):
        load_ict_head(path)
