"""The 2D face: every channel visibly changes it, sides and gaze follow the conventions, SVG and raster agree."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.errors import FormatError
from keyframeface.render import get_renderer, register_renderer, renderer_names
from keyframeface.render.base import FaceRenderer, check_size, check_values
from keyframeface.render.face2d import IRIS, Face2DRenderer, face_shapes, face_svg

SIZE = 128
POSE_CHANNELS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "RightEyeYaw", "RightEyePitch")


def one(name: str, value: float = 1.0) -> np.ndarray:
    v = rig.neutral()
    v[rig.CHANNEL_INDEX[name]] = value
    return v


@pytest.fixture(scope="module")
def renderer() -> Face2DRenderer:
    pytest.importorskip("PIL", reason="the raster face needs Pillow (pip install 'keyframeface[render]')")
    return Face2DRenderer()


@pytest.fixture(scope="module")
def neutral_image(renderer: Face2DRenderer) -> np.ndarray:
    return renderer.render(rig.neutral(), size=SIZE)


def changed(a: np.ndarray, b: np.ndarray, *, level: int = 24) -> np.ndarray:
    """(H, W) bool: pixels whose colour differs by more than ``level`` in some channel."""
    return (np.abs(a.astype(np.int16) - b.astype(np.int16)) > level).any(axis=2)


# ------------------------------------------------------------------------------------------- every channel
@pytest.mark.parametrize("name", rig.BLENDSHAPES + POSE_CHANNELS)
def test_every_blendshape_and_pose_changes_the_image(renderer: Face2DRenderer, neutral_image: np.ndarray,
                                                     name: str) -> None:
    image = renderer.render(one(name), size=SIZE)
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
    # At least 12 clearly changed pixels of 16,384: small features (a dimple) still pass, noise does not.
    assert changed(image, neutral_image).sum() >= 12, f"{name} at 1.0 does not visibly change the face"


@pytest.mark.parametrize("name", rig.BLENDSHAPES + POSE_CHANNELS)
def test_every_blendshape_changes_the_svg(name: str) -> None:
    assert face_svg(one(name), size=SIZE) != face_svg(rig.neutral(), size=SIZE)


def test_neutral_is_deterministic_and_nan_is_neutral(renderer: Face2DRenderer, neutral_image: np.ndarray) -> None:
    again = renderer.render(rig.neutral(), size=SIZE)
    assert np.array_equal(again, neutral_image)
    nan = np.full(rig.NUM_CHANNELS, np.nan, dtype=np.float32)
    assert np.array_equal(renderer.render(nan, size=SIZE), neutral_image)


def test_out_of_range_values_are_clamped(renderer: Face2DRenderer) -> None:
    big = renderer.render(one("JawOpen", 5.0), size=SIZE)
    assert np.array_equal(big, renderer.render(one("JawOpen", 1.0), size=SIZE))


# ------------------------------------------------------------------------------------------- conventions
@pytest.mark.parametrize("stem", ["EyeBlink", "MouthSmile", "BrowOuterUp", "NoseSneer", "CheekSquint", "EyeWide"])
def test_subject_left_is_image_right(renderer: Face2DRenderer, neutral_image: np.ndarray, stem: str) -> None:
    for side, expect_right in (("Left", True), ("Right", False)):
        diff = changed(renderer.render(one(stem + side), size=SIZE), neutral_image)
        right, left = diff[:, SIZE // 2:].sum(), diff[:, : SIZE // 2].sum()
        assert (right > 2 * left) if expect_right else (left > 2 * right), f"{stem}{side}: {left=} {right=}"


def test_mirrored_values_give_a_mirrored_face(renderer: Face2DRenderer) -> None:
    v = one("MouthSmileLeft", 0.8)
    v[rig.CHANNEL_INDEX["EyeBlinkLeft"]] = 1.0
    a = renderer.render(v, size=SIZE).astype(np.int16)
    b = renderer.render(rig.mirror(v), size=SIZE)[:, ::-1].astype(np.int16)
    # The drawing is symmetric up to anti-aliasing and the one-sided highlight in the irises.
    assert (np.abs(a - b) > 60).any(axis=2).mean() < 0.01


def iris_x(image: np.ndarray, half: str) -> float:
    """Mean x of iris-coloured pixels in the image's left or right half (an image of GAZE_SIZE pixels)."""
    size = image.shape[1]
    target = np.array([int(IRIS[i:i + 2], 16) for i in (1, 3, 5)])
    mask = (np.abs(image.astype(np.int16) - target) < 18).all(axis=2)
    mask[int(size * 0.6):] = False  # the eyes are in the upper half; the shirt is bluish too
    cols = slice(size // 2, size) if half == "right" else slice(0, size // 2)
    _, xs = np.nonzero(mask[:, cols])
    assert xs.size > 20, "no iris found"
    return float(xs.mean()) + (size // 2 if half == "right" else 0)


GAZE_SIZE = 256


def test_gaze_follows_the_capture_convention(renderer: Face2DRenderer) -> None:
    # Eye yaw positive looks toward the subject's right, the image's left; the left eye is in the image's right.
    base = iris_x(renderer.render(rig.neutral(), size=GAZE_SIZE), "right")
    assert iris_x(renderer.render(one("LeftEyeYaw", 0.6), size=GAZE_SIZE), "right") < base - 3
    assert iris_x(renderer.render(one("EyeLookInLeft"), size=GAZE_SIZE), "right") < base - 3
    assert iris_x(renderer.render(one("EyeLookOutLeft"), size=GAZE_SIZE), "right") > base + 3
    # eyeLook and the synchronised rotations show the same gaze, not twice as much.
    look = one("EyeLookInLeft", 0.5)
    synced = rig.sync_eye_rotations(look)
    assert np.array_equal(renderer.render(look, size=SIZE), renderer.render(synced, size=SIZE))


def test_head_yaw_turns_toward_the_subjects_right(renderer: Face2DRenderer) -> None:
    turned = renderer.render(one("HeadYaw", 0.5), size=GAZE_SIZE)
    assert iris_x(turned, "left") < iris_x(renderer.render(rig.neutral(), size=GAZE_SIZE), "left") - 5


def test_shapes_are_in_canvas_units() -> None:
    shapes = face_shapes(one("JawOpen"))
    pts = np.concatenate([s.points for s in shapes])
    assert pts.shape[1] == 2 and np.isfinite(pts).all()
    inside = (pts >= -0.05) & (pts <= 1.1)
    assert inside.all(axis=1).mean() > 0.97


# ------------------------------------------------------------------------------------------------- SVG
def test_svg_is_well_formed_xml() -> None:
    text = face_svg(one("MouthSmileLeft", 0.7), size=300)
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == "300" and root.get("viewBox") == "0 0 300 300"
    assert len(root) > 40
    for el in root.iter():
        points = el.get("points")
        if points is not None:
            assert re.fullmatch(r"(-?\d+\.\d,-?\d+\.\d ?)+", points), points[:80]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-2.0, max_value=2.0), st.just(float("nan"))), min_size=61, max_size=61))
def test_any_values_draw_a_valid_svg(values: list[float]) -> None:
    ET.fromstring(face_svg(np.asarray(values, dtype=np.float32), size=64))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=61, max_size=61), st.integers(16, 96))
def test_any_values_rasterise(values: list[float], size: int) -> None:
    pytest.importorskip("PIL")
    image = Face2DRenderer(supersample=1).render(np.asarray(values, dtype=np.float32), size=size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8


# -------------------------------------------------------------------------------------- interface / errors
def test_registry() -> None:
    assert renderer_names()[:2] == ["2d", "3d"]
    face = get_renderer("2d")
    assert isinstance(face, FaceRenderer) and face.name == "2d"
    assert get_renderer(face) is face
    with pytest.raises(FormatError, match=r"unknown renderer 'oil'.*2d"):
        get_renderer("oil")


def test_3d_is_registered_lazily() -> None:
    try:
        face = get_renderer("3d")
    except FormatError as exc:  # the 3D renderer (another module), its packages or the ICT asset may be missing
        assert ("3d" in str(exc) or "[render]" in str(exc) or "install" in str(exc)
                or "keyframeface fetch-ict" in str(exc))
    except Exception as exc:  # its own KeyframeFaceError (e.g. the ICT asset missing) is fine too
        from keyframeface.errors import KeyframeFaceError

        assert isinstance(exc, KeyframeFaceError), exc
    else:
        assert face.name == "3d"


def test_register_a_renderer() -> None:
    class Flat:
        name = "flat"

        def render(self, values: np.ndarray, *, size: int = 512) -> np.ndarray:
            return np.zeros((size, size, 3), np.uint8)

    register_renderer("flat", Flat)
    try:
        assert get_renderer("flat").render(rig.neutral(), size=20).shape == (20, 20, 3)
    finally:
        from keyframeface.render import base

        base._REGISTRY.pop("flat", None)
    with pytest.raises(FormatError):
        register_renderer("Not A Name!", Flat)


def test_bad_values_and_sizes() -> None:
    with pytest.raises(FormatError, match="61 values"):
        check_values(np.zeros(52))
    for bad in (0, 8, 10_000, 12.5, "big", True, float("nan")):
        with pytest.raises(FormatError, match="size"):
            check_size(bad)
    with pytest.raises(FormatError, match="supersample"):
        Face2DRenderer(supersample=9)


def test_missing_pillow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(FormatError, match=r"Pillow.*keyframeface\[render\]"):
        Face2DRenderer().render(rig.neutral(), size=64)
    # SVG needs nothing.
    assert face_svg(rig.neutral(), size=64).startswith("<svg")


def test_wrap_text() -> None:
    pytest.importorskip("PIL")
    from keyframeface.render.raster import load_font, text_width, wrap_text

    font = load_font(14)
    text = "The inner brows rise and pull together, the mouth corners turn down and the lips press together."
    lines = wrap_text(text, font, 150)
    assert len(lines) > 2 and all(text_width(font, line) <= 150 for line in lines)
    assert " ".join(lines) == text
    short = wrap_text(text, font, 150, max_lines=2)
    assert len(short) == 2 and short[-1].endswith("…")
    assert all(text_width(font, line) <= 60 for line in wrap_text("x" * 80, font, 60))
