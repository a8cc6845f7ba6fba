"""The 3D head renderer: OpenGL (moderngl/EGL) and numpy back ends, the ICT asset converter.

Tests that draw the head need the ICT asset from the shared folder and skip without it; the OpenGL tests also
need moderngl and an EGL context (Mesa llvmpipe is enough) and skip with the reason otherwise.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.errors import BackendUnavailableError, FormatError
from keyframeface.render import soft_raster

SIZE = 96


def values(**channels: float) -> np.ndarray:
    v = rig.neutral()
    for name, x in channels.items():
        v[rig.CHANNEL_INDEX[name]] = x
    return v


@pytest.fixture(scope="module")
def ict_asset(shared: Path) -> Path:
    path = shared / "assets" / "ict-facekit" / "ict_arkit52.npz"
    if not path.is_file():
        pytest.skip(f"ICT head asset not found at {path}")
    return path


@pytest.fixture(scope="module")
def numpy_renderer(ict_asset: Path) -> Any:
    from keyframeface.render.head3d import Head3DRenderer

    return Head3DRenderer(asset=ict_asset, backend="numpy")


@pytest.fixture(scope="module")
def gl_renderer(ict_asset: Path) -> Any:
    pytest.importorskip("moderngl", reason="moderngl is not installed (extra [render])")
    from keyframeface.render.head3d import Head3DRenderer

    try:
        return Head3DRenderer(asset=ict_asset, backend="gl")
    except BackendUnavailableError as exc:
        pytest.skip(f"no OpenGL through EGL here: {exc}")


def mask(renderer: Any, v: np.ndarray, size: int = SIZE) -> np.ndarray:
    return np.asarray(renderer.render_rgba(v, size=size)[..., 3] > 127)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int32) - b.astype(np.int32)).sum(axis=-1)


# ------------------------------------------------------------------------------- the rasteriser on its own
def test_rasterize_one_triangle_covers_its_pixels() -> None:
    xy = np.array([[1.0, 1.0], [9.0, 1.0], [1.0, 9.0]], dtype=np.float32)
    tri_id, bary = soft_raster.rasterize(xy, np.zeros(3, np.float32), np.array([[0, 1, 2]]), 10, 10)
    covered = tri_id == 0
    # Pixel centres (x + 0.5, y + 0.5) with x, y >= 1 and x + y + 1 <= 10 lie inside: 36 pixels.
    assert covered.sum() == 36
    assert covered[1, 1] and not covered[0, 0] and not covered[9, 9]
    np.testing.assert_allclose(bary[covered].sum(axis=1), 1.0, atol=1e-5)
    assert (bary[covered] >= 0).all()


def test_rasterize_keeps_the_nearest_triangle_whatever_the_winding() -> None:
    xy = np.array([[0, 0], [8, 0], [0, 8], [0, 0], [0, 8], [8, 0]], dtype=np.float32)
    depth = np.array([0.5, 0.5, 0.5, -0.5, -0.5, -0.5], dtype=np.float32)  # the second one is nearer
    tri_id, _ = soft_raster.rasterize(xy, depth, np.array([[0, 1, 2], [3, 4, 5]]), 8, 8)
    assert set(np.unique(tri_id[tri_id >= 0])) == {1}


def test_rasterize_ignores_degenerate_and_offscreen_triangles() -> None:
    xy = np.array([[0, 0], [5, 5], [10, 10], [-50, -50], [-40, -50], [-50, -40]], dtype=np.float32)
    tri_id, _ = soft_raster.rasterize(xy, np.zeros(6, np.float32), np.array([[0, 1, 2], [3, 4, 5]]), 16, 16)
    assert (tri_id == -1).all()


def test_srgb_encoding_endpoints() -> None:
    out = soft_raster.linear_to_srgb(np.array([0.0, 0.0031308, 0.5, 1.0, 2.0], dtype=np.float32))
    np.testing.assert_allclose(out, [0.0, 0.04045, 0.7354, 1.0, 1.0], atol=1e-3)


# ------------------------------------------------------------------------------------------ the ICT head
def test_missing_asset_says_how_to_get_it(tmp_path: Path) -> None:
    from keyframeface.render.head3d import Head3DRenderer

    with pytest.raises(FormatError, match=r"ICT-FaceKit.*(KEYFRAMEFACE_SHARED|fetch)"):
        Head3DRenderer(asset=tmp_path / "nowhere.npz", backend="numpy")


def test_bad_inputs_raise_clear_errors(numpy_renderer: Any) -> None:
    with pytest.raises(FormatError, match="61 values"):
        numpy_renderer.render(np.zeros(52, np.float32), size=32)
    with pytest.raises(FormatError, match="size"):
        numpy_renderer.render(rig.neutral(), size=4)
    from keyframeface.render.head3d import Head3DRenderer

    with pytest.raises(BackendUnavailableError, match="auto"):
        Head3DRenderer(backend="vulkan")  # type: ignore[arg-type]


def test_registry_builds_the_3d_renderer(ict_asset: Path) -> None:
    from keyframeface.render.base import get_renderer

    r = get_renderer("3d", asset=ict_asset, backend="numpy")
    assert r.name == "3d"
    img = r.render(rig.neutral(), size=32)
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8


def test_pose_follows_the_rig_conventions(numpy_renderer: Any) -> None:
    mesh = numpy_renderer.mesh
    face = mesh.neutral[: mesh.n_face]
    nose = int(np.argmax(face[:, 2]))  # the nose tip is the face's frontmost point
    pos, nrm = mesh.pose(values(HeadYaw=0.5))
    assert pos[nose, 0] < face[nose, 0] - 0.01  # yaw > 0 turns toward the subject's right (-X)
    pos, _ = mesh.pose(values(HeadPitch=0.4))
    assert pos[nose, 1] < face[nose, 1] - 0.01  # pitch > 0 looks down
    np.testing.assert_allclose(np.linalg.norm(nrm, axis=1), 1.0, atol=1e-3)
    # Each eye's front point follows its own yaw; with yaw < 0 it turns toward the subject's left (+X).
    for side, sl in (("Left", mesh.left_eye), ("Right", mesh.right_eye)):
        front = sl.start + int(np.argmax(mesh.neutral[sl][:, 2]))
        still, _ = mesh.pose(rig.neutral())
        turned, _ = mesh.pose(values(**{f"{side}EyeYaw": -0.5}))
        assert turned[front, 0] > still[front, 0] + 0.003
        # The eyeLook shapes turn the eyes when the rotation channels are zero (the glTF exporter's rule).
        looked, _ = mesh.pose(values(**{f"EyeLookUp{side}": 1.0}))
        assert looked[front, 1] > still[front, 1] + 0.003


def test_mouth_close_never_exceeds_jaw_open(numpy_renderer: Any) -> None:
    mesh = numpy_renderer.mesh
    a, _ = mesh.pose(values(MouthClose=1.0))
    b, _ = mesh.pose(rig.neutral())
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_nan_and_out_of_range_values_are_clamped(numpy_renderer: Any) -> None:
    v = rig.neutral()
    v[rig.CHANNEL_INDEX["JawOpen"]] = np.nan
    v[rig.CHANNEL_INDEX["HeadRoll"]] = 0.0
    np.testing.assert_array_equal(
        numpy_renderer.render(v, size=32), numpy_renderer.render(rig.neutral(), size=32)
    )


def expression_checks(renderer: Any, size: int) -> None:
    neutral = renderer.render(rig.neutral(), size=size)
    assert neutral.shape == (size, size, 3) and neutral.dtype == np.uint8
    m = mask(renderer, rig.neutral(), size)
    assert 0.15 < m.mean() < 0.8, "the head should fill a good part of the frame"
    assert neutral[m].std() > 5, "the head should be shaded, not flat"
    half = size // 2
    # JawOpen changes the lower face and leaves the top of the head alone.
    d = diff(renderer.render(values(JawOpen=0.8), size=size), neutral)
    assert d[half:].sum() > 20 * max(d[: size // 4].sum(), 1)
    # EyeBlinkLeft closes the subject's left eye only: the image's right half.
    d = diff(renderer.render(values(EyeBlinkLeft=1.0), size=size), neutral)
    assert d[:, half:].sum() > 1000 and d[:, :half].sum() < 0.05 * d[:, half:].sum()
    # HeadYaw moves the silhouette; +yaw and -yaw mirror each other.
    turned_right = mask(renderer, values(HeadYaw=0.6), size)
    turned_left = mask(renderer, values(HeadYaw=-0.6), size)
    assert iou(turned_right, m) < 0.97
    assert iou(turned_right, turned_left[:, ::-1]) > 0.85


def test_gl_renders_and_responds_to_channels(gl_renderer: Any) -> None:
    assert gl_renderer.backend_name == "gl"
    expression_checks(gl_renderer, 128)


def test_numpy_renders_and_responds_to_channels(numpy_renderer: Any) -> None:
    assert numpy_renderer.backend_name == "numpy"
    expression_checks(numpy_renderer, 128)


def test_eyes_look_where_the_channels_say(gl_renderer: Any) -> None:
    size = 256

    def iris_x(v: np.ndarray) -> float:
        img = gl_renderer.render(v, size=size).astype(np.int32)
        dark = img[..., 2] > img[..., 0] + 20  # the blue irises (skin is red-dominant, sclera grey)
        dark[: size // 4] = False
        dark[size // 2 :] = False  # eye band only (nostrils and mouth are lower)
        _, xs = np.nonzero(dark)
        assert len(xs) > 5
        return float(xs.mean())

    centre = iris_x(rig.neutral())
    assert iris_x(values(LeftEyeYaw=-0.5, RightEyeYaw=-0.5)) > centre + 2  # subject's left = image right
    assert iris_x(values(LeftEyeYaw=0.5, RightEyeYaw=0.5)) < centre - 2


@pytest.mark.parametrize(
    "channels",
    [
        {},
        {"JawOpen": 0.7},
        {"HeadYaw": 0.5},
        {"EyeBlinkLeft": 1.0, "MouthSmileRight": 1.0},
        {"HeadRoll": -0.4},
    ],
    ids=["neutral", "jaw", "yaw", "blink-smile", "roll"],
)
def test_numpy_fallback_matches_gl_silhouette(
    gl_renderer: Any, numpy_renderer: Any, channels: dict[str, float]
) -> None:
    v = values(**channels)
    assert iou(mask(gl_renderer, v, 64), mask(numpy_renderer, v, 64)) > 0.8


def test_numpy_and_gl_colours_agree(gl_renderer: Any, numpy_renderer: Any) -> None:
    v = values(MouthSmileLeft=0.6, MouthSmileRight=0.6)
    a, b = gl_renderer.render(v, size=96), numpy_renderer.render(v, size=96)
    inside = mask(gl_renderer, v, 96) & mask(numpy_renderer, v, 96)
    assert np.median(diff(a, b)[inside]) < 30


def test_auto_falls_back_to_numpy_without_gl(ict_asset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyframeface.render import gl_backend
    from keyframeface.render.head3d import Head3DRenderer

    def unavailable() -> None:
        raise BackendUnavailableError("no EGL in this test")

    monkeypatch.setattr(gl_backend, "_context", unavailable)
    assert Head3DRenderer(asset=ict_asset).backend_name == "numpy"
    with pytest.raises(BackendUnavailableError, match="no EGL"):
        Head3DRenderer(asset=ict_asset, backend="gl")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=61, max_size=61))
def test_any_values_render(numpy_renderer: Any, raw: list[float]) -> None:
    img = numpy_renderer.render(np.array(raw, dtype=np.float32), size=24)
    assert img.shape == (24, 24, 3) and img.dtype == np.uint8


# ------------------------------------------------------------------------------------ the asset converter
def _obj_text(vertices: np.ndarray, tris: np.ndarray | None = None, mats: list[str] | None = None) -> str:
    buf = io.StringIO()
    buf.write("".join(f"v {x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in vertices.tolist()))
    if tris is not None and mats is not None:
        current = None
        lines = []
        for (a, b, c), m in zip(tris.tolist(), mats, strict=True):
            if m != current:
                lines.append(f"usemtl {m}")
                current = m
            lines.append(f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}")
        buf.write("\n".join(lines) + "\n")
    return buf.getvalue()


def test_arkit_source_shapes_cover_the_rig() -> None:
    from keyframeface.head.fetch import arkit_source_shapes

    shapes = arkit_source_shapes()
    assert len(shapes) == rig.NUM_BLENDSHAPES
    assert [rig.canonical_name(n) for n in shapes] == list(rig.BLENDSHAPES)
    assert shapes["eyeBlinkLeft"] == ("eyeBlink_L",)
    assert shapes["browInnerUp"] == ("browInnerUp_L", "browInnerUp_R")
    assert shapes["jawOpen"] == ("jawOpen",)
    assert shapes["tongueOut"] == ()


def test_read_obj_triangulates_polygons_and_keeps_materials() -> None:
    from keyframeface.head.fetch import read_obj

    text = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nusemtl A\nf 1/1/1 2/2/2 3/3/3 4/4/4\nusemtl B\nf -1 1 2\n"
    verts, tris, tri_mat, mats = read_obj(text)
    assert verts.shape == (5, 3)
    assert tris.tolist() == [[0, 1, 2], [0, 2, 3], [4, 0, 1]]
    assert [mats[i] for i in tri_mat] == ["A", "A", "B"]
    with pytest.raises(FormatError, match="face"):
        read_obj("v 0 0 0\nf 1 2 3\n")


def _write_ict_folder(
    root: Path, neutral: np.ndarray, tris: np.ndarray, mats: list[str], shapes: dict[str, np.ndarray]
) -> Path:
    model = root / "FaceXModel"
    model.mkdir(parents=True)
    (model / "generic_neutral_mesh.obj").write_text(_obj_text(neutral, tris, mats))
    for stem, verts in shapes.items():
        (model / f"{stem}.obj").write_text(_obj_text(verts))
    (root / "LICENSE").write_text("MIT test licence\n")
    return model


@pytest.mark.slow  # writes and parses 55 OBJ files of 26,000 vertices: about 10 s
def test_convert_round_trips_the_reference_asset(ict_asset: Path, tmp_path: Path) -> None:
    """Write the reference asset back out as ICT-style OBJ files (with an extra helper mesh to drop) and check
    that the converter rebuilds the same arrays."""
    from keyframeface.head.fetch import arkit_source_shapes, convert_ict

    with np.load(ict_asset) as ref:
        neutral, deltas = ref["neutral"].astype(np.float64), ref["deltas"].astype(np.float64)
        names, tris, tri_mat, mats = (
            [str(n) for n in ref["names"]],
            ref["tris"].astype(np.int64),
            ref["tri_mat"],
            [str(m) for m in ref["mats"]],
        )
    # Insert a see-through helper mesh (dropped by the converter) in the middle of the vertex list, as in ICT.
    at, extra = 1000, np.array([[0.0, 0.0, 20.0], [1.0, 0.0, 20.0], [0.0, 1.0, 20.0]])
    full = np.concatenate([neutral[:at], extra, neutral[at:]])
    shifted = np.where(tris >= at, tris + len(extra), tris)
    all_tris = np.concatenate([shifted, [[at, at + 1, at + 2]]])
    all_mats = [mats[i] for i in tri_mat] + ["M_LacrimalFluid"]
    shapes: dict[str, np.ndarray] = {}
    for arkit, stems in arkit_source_shapes().items():
        d = deltas[names.index(arkit)] / max(len(stems), 1)
        for stem in stems:
            shapes[stem] = full + np.concatenate([d[:at], np.zeros_like(extra), d[at:]])
    folder = _write_ict_folder(tmp_path / "ict", full, all_tris, all_mats, shapes)
    out = convert_ict(folder.parent, tmp_path / "out")
    assert out.name == "ict_arkit52.npz" and (out.parent / "LICENSE").is_file()
    with np.load(out) as got:
        np.testing.assert_allclose(got["neutral"], neutral, atol=1e-5)
        np.testing.assert_array_equal(got["tris"], tris)
        assert [str(m) for m in got["mats"]] == mats
        np.testing.assert_array_equal(got["tri_mat"], tri_mat)
        got_names = [str(n) for n in got["names"]]
        assert sorted(got_names) == sorted(names)
        for k, name in enumerate(names):  # keyed by name, never by index
            np.testing.assert_allclose(
                got["deltas"][got_names.index(name)].astype(np.float64), deltas[k], atol=3e-3
            )
        assert got["deltas"].dtype == np.float16 and got["tris"].dtype == np.uint16
    # The converted file loads and renders.
    from keyframeface.render.head3d import Head3DRenderer

    img = Head3DRenderer(asset=out, backend="numpy").render(values(JawOpen=0.5), size=32)
    assert img.shape == (32, 32, 3)


def test_fetch_downloads_extracts_and_converts(tmp_path: Path) -> None:
    """End to end through a file:// URL of a GitHub-style archive holding a tiny ICT-like model."""
    from keyframeface.head.fetch import arkit_source_shapes, fetch_ict

    neutral = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    tris = np.array([[0, 1, 2], [0, 2, 3], [0, 3, 1], [1, 3, 2]])
    mats = ["M_Face", "M_Face", "M_Teeth", "M_EyeOcclusion"]
    shapes = {
        s: neutral + (0.5 if s == "jawOpen" else 0.0) for st in arkit_source_shapes().values() for s in st
    }
    folder = _write_ict_folder(tmp_path / "src", neutral, tris, mats, shapes)
    archive = tmp_path / "ict.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.parent.rglob("*")):
            if f.is_file():
                zf.write(f, "ICT-FaceKit-abc/" + f.relative_to(folder.parent).as_posix())
        zf.writestr("ICT-FaceKit-abc/../evil.obj", "v 0 0 0\n")  # must not escape the extraction folder
    calls: list[tuple[int, int]] = []
    out = fetch_ict(tmp_path / "dest", url=archive.as_uri(), progress=lambda d, t: calls.append((d, t)))
    assert calls and not (tmp_path / "evil.obj").exists()
    with np.load(out) as got:
        assert got["neutral"].shape == (4, 3)
        assert got["tris"].tolist() == [[0, 1, 2], [0, 2, 3], [0, 3, 1]]
        jaw = [str(n) for n in got["names"]].index("jawOpen")
        np.testing.assert_allclose(got["deltas"][jaw], 0.5)
        assert not got["deltas"][[str(n) for n in got["names"]].index("tongueOut")].any()
    assert (out.parent / "LICENSE").read_text() == "MIT test licence\n"


def test_fetch_reports_a_bad_download(tmp_path: Path) -> None:
    from keyframeface.head.fetch import fetch_ict

    with pytest.raises(FormatError, match="could not download"):
        fetch_ict(tmp_path, url=(tmp_path / "missing.zip").as_uri())
    (tmp_path / "junk.zip").write_text("not a zip")
    with pytest.raises(FormatError, match="not a zip"):
        fetch_ict(tmp_path, url=(tmp_path / "junk.zip").as_uri())


def test_asset_fetch_command_converts_a_local_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from keyframeface.cli.cmd_fetch_ict import main
    from keyframeface.head.fetch import arkit_source_shapes

    neutral = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float64)
    shapes = {s: neutral for st in arkit_source_shapes().values() for s in st}
    folder = _write_ict_folder(tmp_path / "src", neutral, np.array([[0, 1, 2]]), ["M_Face"], shapes)
    assert main(["--from-dir", str(folder), "--output", str(tmp_path / "o.npz")]) == 0
    assert capsys.readouterr().out.strip().endswith("o.npz")
    assert main(["--from-dir", str(tmp_path / "nothing"), "--output", str(tmp_path / "p.npz")]) == 1
    assert "generic_neutral_mesh.obj" in capsys.readouterr().err
    # the same through the keyframeface command
    from keyframeface.cli.main import main as cli_main

    assert cli_main(["fetch-ict", "--from-dir", str(folder), "-o", str(tmp_path / "q.npz")]) == 0
    assert (tmp_path / "q.npz").is_file()


def test_gl_renders_from_several_threads(gl_renderer: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    poses = [values(JawOpen=0.1 * k) for k in range(6)]
    expected = [gl_renderer.render(v, size=48) for v in poses]
    with ThreadPoolExecutor(max_workers=3) as pool:
        got = list(pool.map(lambda v: gl_renderer.render(v, size=48), poses))
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)


def test_rasterize_culls_back_faces_on_request() -> None:
    # Counter-clockwise as the camera sees it (y up) is clockwise in y-down pixel coordinates: negative area.
    front = np.array([[0, 0], [0, 8], [8, 0]], dtype=np.float32)
    back = front[::-1].copy()
    for xy, visible in ((front, True), (back, False)):
        tri_id, _ = soft_raster.rasterize(
            xy, np.zeros(3, np.float32), np.array([[0, 1, 2]]), 8, 8, cull_back_faces=True
        )
        assert (tri_id == 0).any() == visible


def test_read_obj_vertices_accepts_extra_columns_and_rejects_junk() -> None:
    from keyframeface.head.fetch import read_obj_vertices

    got = read_obj_vertices("# c\nv 1 2 3 0.5 0.5 0.5\nv 4 5 6\nvt 0 0\n")
    assert got.tolist() == [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(FormatError, match="three numbers"):
        read_obj_vertices("v 1 x 3\n")
    with pytest.raises(FormatError, match="vertex lines"):
        read_obj_vertices("f 1 2 3\n")
