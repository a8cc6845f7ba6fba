"""convert(): between every pair of formats, and the release fixture reproduced."""

from __future__ import annotations

import csv
import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.convert import convert, keyframes_to_animation
from keyframeface.errors import FormatError
from keyframeface.io.livelink_csv import read_livelink_csv, write_livelink_csv
from keyframeface.io.npz import read_npz
from keyframeface.script import Animation, Keyframe, Keyframes, Script, load_keyframes, save_json

HAS_GLTF = importlib.util.find_spec("keyframeface.io.gltf") is not None


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(encoding="utf-8-sig", newline="")))


def _keyframes(times: list[float | None] | None = None) -> Keyframes:
    v = np.round(np.random.default_rng(4).uniform(rig.LOW, rig.HIGH, size=(3, 61)), 3)
    return Keyframes.from_array(v, times_s=times, descriptions=["a", "b", "c"], meta={"backend": "test"})


# ----------------------------------------------------------------------------------------------- release fixture
def test_release_results_to_csv_reproduce_the_release_csv(release_dir: Path, tmp_path: Path) -> None:
    out = convert(release_dir / "example_result.jsonl", tmp_path / "result.csv")
    mine, theirs = _rows(out), _rows(release_dir / "example_result.csv")
    assert mine[0] == ["Timecode", "BlendShapeCount", *rig.CHANNELS]  # the app's spelling, not the release's
    assert theirs[0][2:] == mine[0][2:]
    assert mine[1:] == theirs[1:]  # timecodes 00:00:0k:00.000, the count, and every value as text


def test_release_results_to_keyframes_json_and_on_to_csv(release_dir: Path, tmp_path: Path) -> None:
    keys = convert(release_dir / "example_result.jsonl", tmp_path / "keys.json",
                   read_options={"requests": release_dir / "example.jsonl"})
    kfs = load_keyframes(keys)
    assert len(kfs) == 2 and kfs.times() == [0.0, 1.0]
    assert kfs.keyframes[1].description.startswith("The gaze rises")
    out = convert(keys, tmp_path / "keys.csv")
    assert _rows(out)[1:] == _rows(release_dir / "example_result.csv")[1:]


# ----------------------------------------------------------------------------------------------- dense captures
def test_capture_csv_to_npz_and_back_is_byte_identical(realdata_dir: Path, tmp_path: Path) -> None:
    take = realdata_dir / "jmtechart_llf" / "MySlate_3_Jason_Millers_iPhone.csv"
    if not take.is_file():
        pytest.skip(f"{take} not found")
    first = convert(take, tmp_path / "a.csv")
    npz = convert(first, tmp_path / "a.npz")
    second = convert(npz, tmp_path / "b.csv")
    assert second.read_bytes() == first.read_bytes()
    assert [r[0] for r in _rows(second)[1:]] == [r[0] for r in _rows(take)[1:]]


def test_capture_with_tracking_loss_through_json(realdata_dir: Path, tmp_path: Path) -> None:
    take = realdata_dir / "alexdjulin_llf_rom" / "apfel.csv"
    if not take.is_file():
        pytest.skip(f"{take} not found")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # values above 1 are clamped with a warning
        doc = convert(take, tmp_path / "apfel.json")
    data = json.loads(doc.read_text())
    assert data["format"] == "keyframeface.animation" and data["fps"] == 30
    assert data["valid"].count(False) == 35
    with pytest.warns(UserWarning, match="35 tracking-loss rows written with the values held"):
        back = convert(doc, tmp_path / "apfel.csv")  # for Unreal: no row that stops its import
    assert [r[0] for r in _rows(back)[1:]] == [r[0] for r in _rows(take)[1:]]
    assert all(len(r) == 63 for r in _rows(back)[1:])
    with pytest.warns(UserWarning, match="Unreal's importer stops"):
        kept = convert(doc, tmp_path / "kept.csv", tracking_loss="keep")  # the app's own rows
    assert [r[0] for r in _rows(kept)[1:]] == [r[0] for r in _rows(take)[1:]]
    assert [len(r) for r in _rows(kept)[1:]] == [63 if len(r) > 2 else 2 for r in _rows(take)[1:]]


def test_read_and_write_options_pass_through(tmp_path: Path) -> None:
    frames = np.zeros((70, 61), dtype=np.float32)  # over a second, so the timecode rate shows
    frames[:, rig.CHANNEL_INDEX["JawOpen"]] = 0.5
    frames[1, rig.CHANNEL_INDEX["JawOpen"]] = 1.04
    src = tmp_path / "take.csv"
    write_livelink_csv(Animation(frames=frames, fps=60), src)
    kept = read_npz(convert(src, tmp_path / "kept.npz", read_options={"policy": "keep"}))
    assert kept.frames[1, rig.CHANNEL_INDEX["JawOpen"]] == pytest.approx(1.04)
    with pytest.warns(UserWarning, match="clamped 1 values"):
        out = convert(src, tmp_path / "short.csv", digits=2, header_count="BlendshapeCount")
    rows = _rows(out)
    assert rows[0][1] == "BlendshapeCount" and rows[2][2 + rig.CHANNEL_INDEX["JawOpen"]] == "1.00"


@pytest.mark.skipif(not HAS_GLTF, reason="keyframeface.io.gltf is not in this checkout")
def test_csv_and_keyframes_to_gltf(tmp_path: Path) -> None:
    src = tmp_path / "take.csv"
    write_livelink_csv(Animation(frames=np.full((90, 61), 0.2, dtype=np.float32), fps=30), src)
    assert convert(src, tmp_path / "take.glb").read_bytes()[:4] == b"glTF"
    save_json(_keyframes([0.0, 0.5, 1.0]), tmp_path / "k.json")
    assert convert(tmp_path / "k.json", tmp_path / "k.gltf").stat().st_size > 0


# ----------------------------------------------------------------------------------------------- keyframes
def test_keyframes_json_to_csv_and_npz(tmp_path: Path) -> None:
    save_json(_keyframes([0.0, 0.25, 2.0]), tmp_path / "k.json")
    rows = _rows(convert(tmp_path / "k.json", tmp_path / "k.csv"))
    # No frame field above 30: the rows start at frame 31 so that Unreal reads the field at 60 (times move as one).
    assert [r[0] for r in rows[1:]] == ["00:00:00:31.000", "00:00:00:46.000", "00:00:02:31.000"]
    anim = read_npz(convert(tmp_path / "k.json", tmp_path / "k.npz"))
    np.testing.assert_array_equal(anim.times_s, [0.0, 0.25, 2.0])
    assert anim.keyframes is not None and [k.description for k in anim.keyframes.keyframes] == ["a", "b", "c"]


def test_keyframes_to_animation_places_one_frame_per_keyframe() -> None:
    kfs = _keyframes([0.0, 1.5, 4.0])
    anim = keyframes_to_animation(kfs, fps=30)
    np.testing.assert_array_equal(anim.frames, kfs.array())
    np.testing.assert_array_equal(anim.times_s, [0.0, 1.5, 4.0])
    assert anim.fps == 30 and anim.valid is None and anim.keyframes is kfs
    assert anim.meta["backend"] == "test" and anim.meta["timecode_fps"] == 30
    untimed = keyframes_to_animation(_keyframes())
    np.testing.assert_array_equal(untimed.times_s, [0.0, 1.0, 2.0])


def test_keyframes_to_animation_edge_cases() -> None:
    v = tuple(0.1 for _ in range(61))
    mixed = Keyframes(keyframes=(Keyframe(time_s=0.5, values=v), Keyframe(values=v)))
    with pytest.warns(UserWarning, match="some keyframes have time_s"):
        anim = keyframes_to_animation(mixed)
    np.testing.assert_array_equal(anim.times_s, [0.0, 1.0])
    failed = Keyframes(keyframes=(Keyframe(values=v), Keyframe(description="generation failed")))
    anim = keyframes_to_animation(failed)
    assert anim.valid is not None and anim.valid.tolist() == [True, False]
    np.testing.assert_array_equal(anim.frames[1], 0.0)
    assert keyframes_to_animation(Keyframes(keyframes=())).num_frames == 0
    with pytest.raises(FormatError, match="fps"):
        keyframes_to_animation(failed, fps=0)
    with pytest.raises(FormatError, match="expected Keyframes"):
        keyframes_to_animation(anim)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- errors
def test_a_script_converts_only_to_json(tmp_path: Path) -> None:
    save_json(Script(keyframes=(Keyframe(description="a frown"),)), tmp_path / "s.json")
    assert json.loads(convert(tmp_path / "s.json", tmp_path / "copy.json").read_text())["keyframes"]
    with pytest.raises(FormatError, match=r"is a script .* nothing to write as csv"):
        convert(tmp_path / "s.json", tmp_path / "s.csv")
    assert not (tmp_path / "s.csv").exists()


def test_bad_output_format_fails_before_reading(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="unknown format 'fbx'"):
        convert(tmp_path / "missing.csv", tmp_path / "out.fbx", format="fbx")
    with pytest.raises(FormatError, match=r"cannot tell the format from '\.fbx'"):
        convert(tmp_path / "missing.csv", tmp_path / "out.fbx")
    with pytest.raises(FormatError, match="cannot read"):
        convert(tmp_path / "missing.csv", tmp_path / "out.json")


def test_convert_in_place_keeps_a_valid_file(tmp_path: Path) -> None:
    src = tmp_path / "take.csv"
    write_livelink_csv(Animation(frames=np.full((70, 61), 0.25, dtype=np.float32), fps=60), src)
    before = read_livelink_csv(src)
    convert(src, src, digits=3)
    after = read_livelink_csv(src)
    np.testing.assert_allclose(after.frames, before.frames, atol=5e-4)
    np.testing.assert_array_equal(after.times_s, before.times_s)
