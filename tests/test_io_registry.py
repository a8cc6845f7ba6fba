"""The writer registry, read_any, and the npz format."""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.errors import FormatError, ScriptError
from keyframeface.io import npz as npz_module
from keyframeface.io import registry
from keyframeface.io.atomic import atomic_open
from keyframeface.io.livelink_csv import write_livelink_csv
from keyframeface.io.npz import read_npz, write_npz
from keyframeface.io.registry import (
    WRITERS,
    Writer,
    export,
    find_writer,
    read_any,
    register_writer,
    writer_names,
)
from keyframeface.script import Animation, Keyframe, Keyframes, Script, save_json

HAS_GLTF = importlib.util.find_spec("keyframeface.io.gltf") is not None


def _anim(n: int = 12, *, seed: int = 0, **kwargs: Any) -> Animation:
    rng = np.random.default_rng(seed)
    frames = rng.uniform(rig.LOW, rig.HIGH, size=(n, rig.NUM_CHANNELS)).astype(np.float32)
    return Animation(frames=frames, **kwargs)


def _keyframes() -> Keyframes:
    v = np.round(np.random.default_rng(1).uniform(rig.LOW, rig.HIGH, size=(3, 61)), 2)
    return Keyframes.from_array(
        v, times_s=[0.0, 1.5, 3.0], descriptions=["calm", "a smile grows", "laughs"],
        background="a park", emotion="joy", meta={"backend": "test"},
    )


# ----------------------------------------------------------------------------------------------- npz
def test_npz_round_trip_is_exact(tmp_path: Path) -> None:
    times = 100.0 + np.arange(12) / 30
    valid = np.ones(12, dtype=bool)
    valid[4] = False
    anim = _anim(fps=30, times_s=times, valid=valid, keyframes=_keyframes(), meta={"source": "test", "seed": 3})
    path = tmp_path / "take.npz"
    write_npz(anim, path)
    back = read_npz(path)
    np.testing.assert_array_equal(back.frames, anim.frames)
    assert back.frames.dtype == np.float32 and back.fps == 30
    np.testing.assert_array_equal(back.times_s, times)
    np.testing.assert_array_equal(back.valid, valid)
    assert back.meta == {"source": "test", "seed": 3}
    assert back.keyframes is not None and back.keyframes.to_dict() == anim.keyframes.to_dict()  # type: ignore[union-attr]
    with np.load(path, allow_pickle=False) as raw:  # readable without keyframeface
        assert raw["frames"].shape == (12, 61)
        assert list(raw["channels"]) == list(rig.CHANNELS)
        assert json.loads(str(raw["meta"])) == {"seed": 3, "source": "test"}


def test_npz_without_optional_arrays(tmp_path: Path) -> None:
    anim = _anim(fps=24)
    path = tmp_path / "a.npz"
    write_npz(anim, path, compress=False)
    with np.load(path) as raw:
        assert "times_s" not in raw.files and "valid" not in raw.files
    back = read_npz(path)
    assert back.times_s is None and back.valid is None and back.keyframes is None and back.meta == {}


def test_npz_channels_by_name_in_any_order(tmp_path: Path) -> None:
    anim = _anim(4)
    order = np.random.default_rng(2).permutation(61)[:50]
    path = tmp_path / "foreign.npz"
    names = np.array([rig.CHANNELS[i][0].lower() + rig.CHANNELS[i][1:] for i in order])
    np.savez(path, frames=anim.frames[:, order], channels=names, fps=np.array(60.0))
    back = read_npz(path)
    np.testing.assert_array_equal(back.frames[:, order], anim.frames[:, order])
    missing = np.setdiff1d(np.arange(61), order)
    np.testing.assert_array_equal(back.frames[:, missing], 0.0)


def test_npz_refuses_pickles_and_damage(tmp_path: Path) -> None:
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, frames=np.array([{"a": 1}], dtype=object), channels=np.array(["JawOpen"]), fps=60.0)
    with pytest.raises(FormatError, match=r"safely|numeric"):
        read_npz(pickled)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(FormatError, match=r"not a readable \.npz"):
        read_npz(junk)
    nofr = tmp_path / "noframes.npz"
    np.savez(nofr, channels=np.array(rig.CHANNELS), fps=60.0)
    with pytest.raises(FormatError, match="no 'frames' array"):
        read_npz(nofr)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, format=np.array("something.else"), frames=np.zeros((1, 61)), channels=np.array(rig.CHANNELS),
             fps=60.0)
    with pytest.raises(FormatError, match="expected format"):
        read_npz(wrong)
    badch = tmp_path / "badch.npz"
    np.savez(badch, frames=np.zeros((1, 2)), channels=np.array(["JawOpen", "Wiggle"]), fps=60.0)
    with pytest.raises(FormatError, match="unknown channel 'Wiggle'"):
        read_npz(badch)
    with pytest.raises(FormatError, match="cannot read"):
        read_npz(tmp_path / "missing.npz")
    with pytest.raises(FormatError, match="limit"):
        read_npz(badch, max_bytes=10)
    with pytest.raises(FormatError, match="expected an Animation"):
        write_npz(_keyframes(), tmp_path / "k.npz")  # type: ignore[arg-type]


def test_npz_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.npz"
    write_npz(_anim(), path)
    before = path.read_bytes()

    def failing(handle: Any, **arrays: Any) -> None:
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(npz_module.np, "savez_compressed", failing)
    with pytest.raises(OSError, match="disk full"):
        write_npz(_anim(seed=5), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


# ----------------------------------------------------------------------------------------------- lookup
@pytest.fixture()
def scratch_registries() -> Any:
    """Writers and readers a test registers are gone after it (the registries' dicts are restored in place)."""
    saved = dict(WRITERS), dict(registry.READERS)
    yield
    for live, old in zip((WRITERS, registry.READERS), saved, strict=True):
        live.clear()
        live.update(old)  # type: ignore[arg-type]


def test_writer_names_and_lookup() -> None:
    assert writer_names()[:5] == ["csv", "json", "npz", "gltf", "glb"]
    assert find_writer("out/take.CSV").name == "csv"
    assert find_writer("x.glb").name == "glb"
    assert find_writer("x.csv", format="npz").name == "npz"  # an explicit format wins
    assert find_writer(None, format=".JSON").name == "json"
    assert WRITERS["glb"].defaults == {"binary": True}


def test_unknown_formats_list_the_valid_ones() -> None:
    with pytest.raises(FormatError, match=r"unknown format 'fbx'; expected one of csv, json, npz, gltf, glb"):
        find_writer("x.csv", format="fbx")
    with pytest.raises(FormatError, match=r"cannot tell the format from '\.fbx'; use one of csv, json"):
        find_writer("x.fbx")
    with pytest.raises(FormatError, match="no extension"):
        export(_anim(), "noext")
    with pytest.raises(FormatError, match="format must be a string"):
        find_writer("x.csv", format=3)  # type: ignore[arg-type]


@pytest.mark.usefixtures("scratch_registries")
def test_register_writer_refuses_duplicates_and_loads_lazily() -> None:
    with pytest.raises(FormatError, match="exists"):
        register_writer(Writer("csv", "x:y", (".csv",), "dup"))
    register_writer(Writer("ghost", "keyframeface.io.no_such_module:write", (".ghost",), "missing module"))
    with pytest.raises(FormatError, match=r"the ghost writer is not available .*no_such_module"):
        export(_anim(), "x.ghost")
    register_writer(Writer("broken", "keyframeface.io.npz:no_such_function", (".broken",), "missing function"))
    with pytest.raises(FormatError, match="has no function 'no_such_function'"):
        export(_anim(), "x.broken")
    with pytest.raises(FormatError, match="expected a Writer"):
        register_writer("csv")  # type: ignore[arg-type]


def test_gltf_is_registered_by_dotted_path(tmp_path: Path) -> None:
    assert WRITERS["gltf"].target == "keyframeface.io.gltf:write_gltf"
    if HAS_GLTF:
        out = export(_anim(), tmp_path / "a.glb")
        assert out.read_bytes()[:4] == b"glTF"
        out = export(_anim(), tmp_path / "a.gltf")
        assert json.loads(out.read_text())["asset"]["version"] == "2.0"
    else:
        with pytest.raises(FormatError, match="glb writer is not available"):
            export(_anim(), tmp_path / "a.glb")
        assert not (tmp_path / "a.glb").exists()


# ----------------------------------------------------------------------------------------------- export
def test_export_animation_to_every_dense_format(tmp_path: Path) -> None:
    anim = _anim(fps=30, meta={"seed": 1})
    csv_path = export(anim, tmp_path / "a.csv", digits=4)
    assert csv_path == tmp_path / "a.csv"
    assert csv_path.read_text().splitlines()[1].split(",")[2] == f"{anim.frames[0, 0]:.4f}"
    json_path = export(anim, tmp_path / "a.json")
    assert json.loads(json_path.read_text())["format"] == "keyframeface.animation"
    npz_path = export(anim, tmp_path / "a.bin", format="npz")
    np.testing.assert_array_equal(read_npz(npz_path).frames, anim.frames)


def test_export_keyframes_in_each_format(tmp_path: Path) -> None:
    kfs = _keyframes()
    rows = export(kfs, tmp_path / "k.csv").read_text().splitlines()
    assert len(rows) == 4
    assert [r.split(",")[0] for r in rows[1:]] == ["00:00:00:00.000", "00:00:01:30.000", "00:00:03:00.000"]
    doc = json.loads(export(kfs, tmp_path / "k.json").read_text())
    assert doc["format"] == "keyframeface.keyframes" and doc["keyframes"][1]["description"] == "a smile grows"
    dense = read_npz(export(kfs, tmp_path / "k.npz"))
    np.testing.assert_array_equal(dense.frames, kfs.array())
    np.testing.assert_array_equal(dense.times_s, [0.0, 1.5, 3.0])
    assert dense.keyframes is not None and dense.keyframes.emotion == "joy"


def test_export_scripts_only_as_json(tmp_path: Path) -> None:
    script = Script(keyframes=(Keyframe(description="a smile"),))
    assert json.loads(export(script, tmp_path / "s.json").read_text())["keyframes"][0]["description"] == "a smile"
    with pytest.raises(FormatError, match="no values to write as csv"):
        export(script, tmp_path / "s.csv")
    with pytest.raises(FormatError, match="expected an Animation, Keyframes or Script"):
        export({"frames": []}, tmp_path / "d.json")  # type: ignore[arg-type]


def test_export_checks_options(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"csv writer does not take option 'mesh'; it takes digits, header_count"):
        export(_anim(), tmp_path / "a.csv", mesh="ict")
    with pytest.raises(FormatError, match="json writer does not take option 'digits'; it takes no options"):
        export(_anim(), tmp_path / "a.json", digits=3)
    assert not any(tmp_path.iterdir())


@pytest.mark.usefixtures("scratch_registries")
def test_a_failing_writer_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    export(_anim(), target)
    before = target.read_bytes()

    register_writer(Writer("flaky", f"{__name__}:_flaky_writer", (".csv",), "fails half-way"), replace=True)
    with pytest.raises(RuntimeError, match="half-way"):
        export(_anim(seed=9), target, format="flaky")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def _flaky_writer(anim: Animation, path: Path) -> None:
    with atomic_open(path, "w") as handle:
        handle.write("Timecode,BlendShapeCount\n")
        raise RuntimeError("stopped half-way")


# ----------------------------------------------------------------------------------------------- read_any
def test_read_any_by_extension(tmp_path: Path) -> None:
    anim = _anim(80, fps=60)
    write_livelink_csv(anim, tmp_path / "t.csv")
    got = read_any(tmp_path / "t.csv")
    assert isinstance(got, Animation) and got.num_frames == 80
    got = read_any(tmp_path / "t.csv", policy="strict", timecode_fps=60)
    assert isinstance(got, Animation)
    write_npz(anim, tmp_path / "t.npz")
    assert isinstance(read_any(tmp_path / "t.npz"), Animation)
    save_json(anim, tmp_path / "a.json")
    assert isinstance(read_any(tmp_path / "a.json"), Animation)
    save_json(_keyframes(), tmp_path / "k.json")
    assert isinstance(read_any(tmp_path / "k.json"), Keyframes)
    save_json(Script(text="a shy smile"), tmp_path / "s.json")
    assert isinstance(read_any(tmp_path / "s.json"), Script)


def test_read_any_sniffs_content_without_a_known_extension(tmp_path: Path) -> None:
    anim = _anim(80, fps=60)
    buf = io.StringIO()
    write_livelink_csv(anim, buf)
    (tmp_path / "take.txt").write_text(buf.getvalue())
    assert isinstance(read_any(tmp_path / "take.txt"), Animation)
    write_npz(anim, tmp_path / "arr.npz")
    (tmp_path / "arr").write_bytes((tmp_path / "arr.npz").read_bytes())
    assert isinstance(read_any(tmp_path / "arr"), Animation)
    (tmp_path / "doc").write_text(json.dumps(_keyframes().to_dict()))
    assert isinstance(read_any(tmp_path / "doc"), Keyframes)
    (tmp_path / "what.dat").write_text("hello world\n")
    with pytest.raises(FormatError, match=r"cannot tell what .* is; expected one of these extensions: \.csv"):
        read_any(tmp_path / "what.dat")


def test_read_any_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="can be written but not read"):
        read_any(tmp_path / "x.glb")
    save_json(_keyframes(), tmp_path / "k.json")
    with pytest.raises(FormatError, match="takes no options"):
        read_any(tmp_path / "k.json", policy="strict")
    (tmp_path / "t.csv").write_text("Timecode,JawOpen\n00:00:00:00.000,0.5\n")
    with pytest.raises(FormatError, match="CSV reader does not take option 'digits'"):
        read_any(tmp_path / "t.csv", digits=3)
    with pytest.raises(FormatError, match="cannot read"):
        read_any(tmp_path / "nothing.bin")
    (tmp_path / "bad.json").write_text('{"format": "keyframeface.keyframes", "version": 9}')
    with pytest.raises(ScriptError, match="unsupported version"):
        read_any(tmp_path / "bad.json")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(FormatError):
        read_any(tmp_path / "bad.npz")
    with zipfile.ZipFile(tmp_path / "empty.npz", "w"):
        pass
    with pytest.raises(FormatError, match="no 'frames' array"):
        read_any(tmp_path / "empty.npz")


def test_read_any_reads_release_results(release_dir: Path) -> None:
    kfs = read_any(release_dir / "example_result.jsonl")
    assert isinstance(kfs, Keyframes) and len(kfs) == 2
    assert kfs.times() == [0.0, 1.0]
    assert kfs.keyframes[0].values is not None
    assert kfs.keyframes[0].values[rig.CHANNEL_INDEX["MouthPressLeft"]] == pytest.approx(0.4)
    with_script = read_any(release_dir / "example_result.jsonl", requests=release_dir / "example.jsonl")
    assert isinstance(with_script, Keyframes) and with_script.keyframes[0].description.startswith("The gaze")
