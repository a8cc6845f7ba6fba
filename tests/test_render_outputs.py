"""Preview outputs: contact sheets, GIF/MP4, curve plots, the ``render`` command and ``animate --preview``."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.cli.main import main
from keyframeface.errors import FormatError, ScriptError
from keyframeface.render import write_previews
from keyframeface.render.curves import active_channels, plot_curves, write_curves
from keyframeface.render.face2d import BACKGROUND
from keyframeface.render.sheet import contact_sheet, sheet_panels, write_sheet
from keyframeface.render.video import resample, write_video
from keyframeface.script import Animation, Keyframe, Keyframes, save_json

# These modules import without Pillow; drawing needs it.
pytest.importorskip("PIL", reason="previews need Pillow (pip install 'keyframeface[render]')")

SCRIPT = {
    "background": "A card player sees that his bluff worked.",
    "emotion": "Smug satisfaction.",
    "keyframes": [
        {"description": "A neutral poker face, eyes fixed on the table.", "time_s": 0.0},
        {"description": "The left corner of the mouth pulls up into a slight smirk.", "time_s": 0.6},
        {"description": "He winks with his right eye while the smirk stays.", "time_s": 1.2},
    ],
}


def pose(**channels: float) -> np.ndarray:
    return rig.to_array(channels)


@pytest.fixture()
def keys() -> Keyframes:
    values = np.stack([pose(), pose(MouthSmileLeft=0.6, EyeSquintLeft=0.3), pose(EyeBlinkRight=1.0, MouthSmileLeft=0.5)])
    return Keyframes.from_array(values, times_s=[0.0, 0.6, 1.2],
                                descriptions=[k["description"] for k in SCRIPT["keyframes"]],  # type: ignore[index]
                                background=str(SCRIPT["background"]), emotion=str(SCRIPT["emotion"]))


def ramp(frames: int, fps: float) -> Animation:
    """An animation whose every frame differs (jaw opening step by step)."""
    values = np.zeros((frames, rig.NUM_CHANNELS), np.float32)
    values[:, rig.CHANNEL_INDEX["JawOpen"]] = np.linspace(0.0, 1.0, frames)
    values[:, rig.CHANNEL_INDEX["EyeBlinkLeft"]] = np.linspace(1.0, 0.0, frames)
    return Animation(frames=values, fps=fps)


def background_runs(row: np.ndarray, *, min_len: int) -> int:
    """How many separate runs of the face background colour a pixel row crosses (one per face panel)."""
    target = np.array([int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)])
    on = (np.abs(row.astype(np.int16) - target) <= 2).all(axis=1)
    runs, length = 0, 0
    for flag in [*on.tolist(), False]:
        if flag:
            length += 1
        else:
            runs += length >= min_len
            length = 0
    return runs


# ------------------------------------------------------------------------------------------- contact sheet
def test_sheet_has_one_panel_per_keyframe(keys: Keyframes) -> None:
    size = 96
    panels, title = sheet_panels(keys)
    assert len(panels) == 3 and title == "Smug satisfaction."
    assert panels[1].label.startswith("#2") and "0.60 s" in panels[1].label
    sheet = contact_sheet(keys, size=size, columns=3)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3
    # Rows above the hair cross each panel as one full-width run of the face background.
    counts = [background_runs(sheet[y], min_len=int(size * 0.9)) for y in range(sheet.shape[0])]
    assert max(counts) == 3
    one_row = contact_sheet(keys, size=size, columns=1)
    assert one_row.shape[0] > 2.5 * size and one_row.shape[1] < sheet.shape[1]


def test_sheet_of_keyframes_without_values_and_of_a_capture(tmp_path: Path, keys: Keyframes) -> None:
    partial = Keyframes(keyframes=(*keys.keyframes, Keyframe(description="failed")), emotion="x")
    panels, _ = sheet_panels(partial)
    assert len(panels) == 4 and panels[3].values is None and "[no values]" in panels[3].description
    assert contact_sheet(partial, size=64).shape[1] > 0
    capture = ramp(100, 60.0)
    panels, title = sheet_panels(capture, count=5)
    assert len(panels) == 5 and title == ""
    out = write_sheet(capture, tmp_path / "cap.png", size=64, count=5)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(FormatError, match=r"\.png"):
        write_sheet(keys, tmp_path / "sheet.jpg")


# ------------------------------------------------------------------------------------------------- videos
def test_resample_interpolates_and_counts() -> None:
    anim = ramp(61, 60.0)  # 1 s
    t, values = resample(anim, fps=25.0)
    assert t.shape == (26,) and values.shape == (26, rig.NUM_CHANNELS)
    jaw = values[:, rig.CHANNEL_INDEX["JawOpen"]]
    assert jaw[0] == 0.0 and abs(jaw[-1] - 1.0) < 1e-6 and abs(jaw[10] - 0.4) < 1e-6
    with pytest.raises(FormatError, match="fps"):
        resample(anim, fps=0)


def test_gif_has_the_right_frame_count(tmp_path: Path) -> None:
    iio = pytest.importorskip("imageio.v3", reason="reading GIFs back needs imageio")
    out = write_video(ramp(12, 25.0), tmp_path / "a.gif", size=64)
    frames = iio.imread(out, index=None)
    assert frames.shape == (12, 64, 64, 3)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_gif_refuses_an_fps_too_low_for_gif_durations(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    with pytest.raises(FormatError, match=r"655\.35"):
        write_video(ramp(3, 25.0), tmp_path / "a.gif", size=16, fps=0.001)
    assert not list(tmp_path.iterdir())
    out = write_video(ramp(3, 25.0), tmp_path / "b.gif", size=16, fps=0.002)  # 500 s frames fit
    assert out.is_file()


def test_mp4_has_the_right_frame_count(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg", reason="MP4 needs imageio-ffmpeg (pip install 'keyframeface[render]')")
    iio2 = pytest.importorskip("imageio.v2")
    out = write_video(ramp(30, 30.0), tmp_path / "a.mp4", size=63)  # odd sizes round up to even
    reader = iio2.get_reader(out, format="FFMPEG")
    try:
        assert reader.count_frames() == 30
        assert reader.get_meta_data()["size"] == (64, 64)
        assert abs(reader.get_meta_data()["fps"] - 30.0) < 0.01
    finally:
        reader.close()


def test_video_of_keyframes_is_animated_first(tmp_path: Path, keys: Keyframes) -> None:
    iio = pytest.importorskip("imageio.v3")
    out = write_video(keys, tmp_path / "k.gif", size=48, fps=10.0)
    assert iio.imread(out, index=None).shape[0] >= 12  # 1.2 s and a tail at 10 fps
    with pytest.raises(FormatError, match=r"\.gif or \.mp4"):
        write_video(keys, tmp_path / "k.avi")


def test_missing_extra_names_it(tmp_path: Path, keys: Keyframes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(FormatError, match=r"imageio-ffmpeg.*keyframeface\[render\]"):
        write_video(ramp(5, 25.0), tmp_path / "a.mp4", size=32)
    monkeypatch.setitem(sys.modules, "PIL", None)
    for call in (lambda: write_sheet(keys, tmp_path / "s.png"), lambda: write_curves(keys, tmp_path / "c.png"),
                 lambda: write_video(ramp(5, 25.0), tmp_path / "a.gif")):
        with pytest.raises(FormatError, match=r"Pillow.*keyframeface\[render\]"):
            call()
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------------------------- curves
def test_curves_plot(tmp_path: Path, keys: Keyframes) -> None:
    image = plot_curves(keys, channels=["mouthSmile_L", "EyeBlinkRight"], width=800, height=400)
    assert image.shape == (400, 800, 3)
    # Both curve colours are drawn.
    for colour in ("#0072b2", "#e69f00"):
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(image.astype(np.int16) - rgb) < 10).all(axis=2).sum() > 100
    out = write_curves(keys, tmp_path / "c.png")
    assert out.stat().st_size > 1000
    with pytest.raises(ScriptError, match="unknown channel"):
        plot_curves(keys, channels=["NoSuchChannel"])
    with pytest.raises(FormatError, match="at most"):
        plot_curves(keys, channels=list(rig.CHANNELS[:13]))


def test_default_curves_merge_identical_pairs(keys: Keyframes) -> None:
    from keyframeface.render.curves import _merge_pairs

    frames = np.zeros((5, rig.NUM_CHANNELS), np.float32)
    for name in ("MouthFrownLeft", "MouthFrownRight", "EyeBlinkLeft"):
        frames[:, rig.CHANNEL_INDEX[name]] = 0.5
    frames[2, rig.CHANNEL_INDEX["EyeBlinkRight"]] = 0.3
    names, labels = _merge_pairs(frames, active_channels(frames))
    assert names == ["EyeBlinkLeft", "EyeBlinkRight", "MouthFrownLeft"]
    assert labels["MouthFrownLeft"] == "MouthFrown L = R" and labels["EyeBlinkLeft"] == "EyeBlinkLeft"
    # JawLeft/JawRight and MouthLeft/MouthRight are opposite directions, not sides: never merged
    frames = np.zeros((5, rig.NUM_CHANNELS), np.float32)
    for name in ("JawLeft", "JawRight", "MouthLeft", "MouthRight"):
        frames[:, rig.CHANNEL_INDEX[name]] = 0.4
    names, labels = _merge_pairs(frames, active_channels(frames))
    assert sorted(names) == ["JawLeft", "JawRight", "MouthLeft", "MouthRight"]
    assert all(labels[n] == n for n in names)


def test_channel_gallery(tmp_path: Path) -> None:
    from keyframeface.render.sheet import channel_gallery, gallery_panels

    panels = gallery_panels()
    assert len(panels) == 1 + rig.NUM_BLENDSHAPES + 7  # neutral, 52 shapes, head and eye yaw/pitch (no eye roll)
    image = channel_gallery(size=32, columns=10)
    assert image.shape[1] > 10 * 32
    assert main(["-q", "render", "--gallery", "-o", str(tmp_path / "g.png"), "--size", "32"]) == 0
    assert main(["-q", "render", "--gallery", "-o", str(tmp_path / "g.gif")]) == 1


def test_active_channels() -> None:
    assert active_channels(ramp(10, 10.0).frames) == ["EyeBlinkLeft", "JawOpen"]
    assert active_channels(np.zeros((3, rig.NUM_CHANNELS))) == ["JawOpen"]


def test_write_previews(tmp_path: Path, keys: Keyframes) -> None:
    from keyframeface.animate import animate

    paths = write_previews(animate(keys), tmp_path, "take", size=48)
    assert [p.name for p in paths] == ["take.sheet.png", "take.curves.png", "take.gif"]
    assert all(p.is_file() for p in paths)


# ---------------------------------------------------------------------------------------------------- CLI
@pytest.fixture()
def keys_file(tmp_path: Path, keys: Keyframes) -> Path:
    path = tmp_path / "take.keyframes.json"
    save_json(keys, path)
    return path


def test_cli_render_outputs(tmp_path: Path, keys_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(keys_file), "-o", str(out / "sheet.png"), "--size", "64"]) == 0
    assert main(["render", str(keys_file), "-o", str(out / "face.svg"), "--keyframe", "2", "--size", "100"]) == 0
    ET.parse(out / "face.svg")
    assert main(["render", str(keys_file), "-o", str(out / "still.png"), "--time-s", "0.9", "--size", "80"]) == 0
    assert main(["render", str(keys_file), "-o", str(out / "curves.png"), "--curves",
                 "--channels", "MouthSmileLeft,eyeBlink_R"]) == 0
    assert main(["-q", "render", str(keys_file), "-o", str(out / "anim.gif"), "--size", "48", "--no-life"]) == 0
    from PIL import Image

    assert Image.open(out / "still.png").size == (80, 80)
    assert "wrote" in capsys.readouterr().err


def test_cli_render_from_a_capture_and_a_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from keyframeface.io.livelink_csv import write_livelink_csv

    csv = tmp_path / "take.csv"
    write_livelink_csv(ramp(70, 60.0), csv)
    assert main(["render", str(csv), "-o", str(tmp_path / "cap.png"), "--size", "48", "--count", "3"]) == 0
    script = tmp_path / "scene.json"
    script.write_text(json.dumps(SCRIPT), encoding="utf-8")
    assert main(["render", str(script), "-o", str(tmp_path / "scene.png"), "--size", "48",
                 "--backend", "rules"]) == 0
    assert (tmp_path / "scene.png").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "x.txt"], "cannot tell what to render"),
        (["-o", "x.gif", "--curves"], "--curves writes a .png"),
        (["-o", "x.png", "--channels", "JawOpen"], "add --curves"),
        (["-o", "x.png", "--keyframe", "9"], "between 1 and 3"),
        (["-o", "x.png", "--time-s", "99"], "--time-s must be within"),
        (["-o", "x.svg", "--renderer", "oil"], "2d renderer only"),
        (["-o", "x.png", "--renderer", "oil", "--keyframe", "1"], "unknown renderer"),
    ],
)
def test_cli_render_errors(tmp_path: Path, keys_file: Path, capsys: pytest.CaptureFixture[str],
                           extra: list[str], message: str) -> None:
    args = ["render", str(keys_file), *[str(tmp_path / a) if a.startswith("x.") else a for a in extra]]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert main(["render", str(tmp_path / "missing.json"), "-o", str(tmp_path / "y.png")]) == 1


def test_animate_preview(tmp_path: Path) -> None:
    script = tmp_path / "scene.json"
    script.write_text(json.dumps(SCRIPT), encoding="utf-8")
    outdir = tmp_path / "out"
    assert main(["-q", "animate", str(script), "-o", str(outdir), "--backend", "rules", "--format", "json",
                 "--preview"]) == 0
    names = sorted(p.name for p in outdir.iterdir())
    assert names == ["scene.curves.png", "scene.gif", "scene.json", "scene.keyframes.json", "scene.manifest.json",
                     "scene.sheet.png"]


@pytest.mark.slow
def test_animate_preview_mp4(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    script = tmp_path / "scene.json"
    script.write_text(json.dumps(SCRIPT), encoding="utf-8")
    assert main(["-q", "animate", str(script), "-o", str(tmp_path), "--backend", "rules", "--format", "csv",
                 "--preview", "mp4"]) == 0
    assert (tmp_path / "scene.mp4").stat().st_size > 1000
