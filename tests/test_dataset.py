"""Dataset format, loader errors, corpus builder (determinism, real part, no split leakage), stats, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.data.corpus import build_corpus
from keyframeface.data.loader import dataset_stats, list_adapters, load_dataset
from keyframeface.data.splits import assign_splits, check_no_leakage
from keyframeface.errors import FormatError, ScriptError
from keyframeface.script import Animation


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "c"
    build_corpus(root, seed=7, size=120, use_shared=False)
    return root


# ------------------------------------------------------------------------------------------- splits
def test_assign_splits_is_deterministic_whole_groups_and_near_targets() -> None:
    groups = [f"g{i % 40}" for i in range(400)]
    a = assign_splits(groups, seed=1)
    assert a == assign_splits(list(reversed(groups)), seed=1)
    assert set(a.values()) == {"train", "validation", "test"}
    counts = {s: sum(1 for g in groups if a[g] == s) for s in ("train", "validation", "test")}
    assert 280 <= counts["train"] <= 340 and counts["test"] >= 20
    assert a != assign_splits(groups, seed=2)
    assert check_no_leakage([("x", "train"), ("x", "test"), ("y", "train")]) == {"x": {"train", "test"}}
    with pytest.raises(ScriptError, match="fractions"):
        assign_splits(groups, fractions=(1.0, -0.1, 0.1))
    for bad in ((float("nan"), 0.1, 0.1), (0.8, float("inf"), 0.1), ("0.8", 0.1, 0.1), (True, 0.1, 0.1)):
        with pytest.raises(ScriptError, match="finite"):
            assign_splits(groups, fractions=bad)  # type: ignore[arg-type]
    assert assign_splits(groups, seed=1, fractions=(np.float32(0.8), 0.1, 0.1)) == a


# ------------------------------------------------------------------------------------------- corpus
def test_synthetic_corpus_loads_and_has_no_leakage(small_corpus: Path) -> None:
    ds = load_dataset(small_corpus)
    assert ds.adapter == "keyframeface" and len(ds) == 120
    assert {c.kind for c in ds} == {"synthetic"}
    assert not check_no_leakage((c.group, c.split) for c in ds)
    families = {c.group for c in ds}
    assert all(g.startswith("family:") for g in families)
    for split in ("train", "validation", "test"):
        assert ds.split(split), split
    clip = ds.clips[0]
    kfs = clip.resolved()
    assert 2 <= len(kfs) <= 5 and all(kf.description for kf in kfs.keyframes)
    assert kfs.emotion and kfs.background
    assert clip.structured[0] is not None and "category" in clip.structured[0]
    assert ds.info["generator"]["shared_folder_found"] is False
    card = (small_corpus / "README.md").read_text()
    assert "not built" in card and "## Splits" in card and "Du, Tao & Martinez" in card


def test_corpus_is_deterministic_for_a_seed(small_corpus: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_corpus(again, seed=7, size=120, use_shared=False)
    assert (again / "manifest.jsonl").read_bytes() == (small_corpus / "manifest.jsonl").read_bytes()
    other = tmp_path / "other"
    build_corpus(other, seed=8, size=120, use_shared=False)
    assert (other / "manifest.jsonl").read_bytes() != (small_corpus / "manifest.jsonl").read_bytes()


def _fake_shared(root: Path, takes: int = 4) -> Path:
    """A shared folder with a few smooth Live Link Face takes (made here, not real captures)."""
    from keyframeface.io.livelink_csv import write_livelink_csv

    rng = np.random.default_rng(0)
    for k in range(takes):
        t = np.linspace(0, 8, 480)[:, None]
        frames = np.zeros((480, rig.NUM_CHANNELS), dtype=np.float32)
        cols = rng.choice(rig.NUM_BLENDSHAPES, 6, replace=False)
        frames[:, cols] = (0.5 + 0.45 * np.sin(t * rng.uniform(0.5, 2.0, 6) + rng.uniform(0, 6, 6))).astype(np.float32)
        write_livelink_csv(Animation(frames=frames, fps=60.0), root / "realdata" / "demo" / f"take{k}.csv")
    return root


def test_real_part_splits_by_take_and_references_captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = _fake_shared(tmp_path / "shared")
    monkeypatch.setenv("KEYFRAMEFACE_SHARED", str(shared))
    out = tmp_path / "c"
    summary = build_corpus(out, seed=0, size=40)
    assert summary.real_part and summary.takes == 4
    ds = load_dataset(out)
    real = [c for c in ds if c.kind == "real"]
    assert real and not check_no_leakage((c.group, c.split) for c in ds)
    takes_per_split: dict[str, set[str]] = {}
    for c in real:
        takes_per_split.setdefault(c.split, set()).add(c.meta["take"])
    assert len(takes_per_split) >= 2  # several takes -> several splits, each take whole
    direct = next(c for c in real if not c.meta["mirrored"])
    assert direct.capture is not None and direct.capture.is_file()
    anim = direct.load_capture()
    row = direct.frames[0]
    assert row is not None
    expected = rig.clamp(anim.frames[row])[0]
    assert np.allclose(direct.resolved().keyframes[0].array, expected, atol=2e-3)
    mirrored = next(c for c in real if c.meta["mirrored"])
    assert mirrored.capture is None
    assert "real" in (out / "README.md").read_text()


# ------------------------------------------------------------------------------------------- loader errors
def _write(root: Path, lines: list[Any], *, info: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if info:
        (root / "dataset.json").write_text(json.dumps({"format": "keyframeface.dataset", "version": 1}))
    (root / "manifest.jsonl").write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return root


def _clip(cid: str = "c1", split: str = "train", **extra: Any) -> dict[str, Any]:
    clip = {"id": cid, "split": split, "script": {"background": "b", "emotion": "e", "keyframes": [
        {"description": "The brows rise.", "time_s": 0.0, "values": {"BrowInnerUp": 0.5}}]}}
    clip.update(extra)
    return clip


def test_minimal_hand_written_dataset_loads(tmp_path: Path) -> None:
    (tmp_path / "d" / "clips").mkdir(parents=True)
    (tmp_path / "d" / "clips" / "c2.json").write_text(json.dumps(_clip()["script"]))
    root = _write(tmp_path / "d", [_clip(), _clip("c2", "test", script="clips/c2.json", video="v/c2.mp4")])
    ds = load_dataset(root)
    assert [c.id for c in ds] == ["c1", "c2"] and ds.clips[1].video == "v/c2.mp4"
    assert ds.clips[0].resolved().keyframes[0].array[rig.CHANNEL_INDEX["BrowInnerUp"]] == pytest.approx(0.5)
    stats = dataset_stats(ds)
    assert stats["clips"] == 2 and stats["clips_per_split"]["test"] == 1


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([_clip(split="dev")], "clip 'c1', field 'split': expected one of"),
        ([_clip(), _clip()], "line 2, clip 'c1', field 'id': duplicate"),
        (["{not json"], "line 1: not valid JSON"),
        ([_clip(id="bad id!")], "field 'id'"),
        ([_clip(colour="red")], "field 'colour': unknown field"),
        ([_clip(script=None)], "field 'script': missing"),
        ([_clip(script="clips/none.json")], "clip 'c1', field 'script'"),
        ([_clip(capture="nowhere.csv")], "field 'capture': file"),
        ([_clip(capture_frames=[5, 2])], "field 'capture_frames'"),
        ([_clip(group="g"), _clip("c2", "test", group="g")], "must stay in one split"),
        ([{"id": "c1", "split": "train", "script": {"keyframes": [{"description": "x"}]}}],
         "keyframes\\[0\\]'?: needs time_s"),
        ([{"id": "c1", "split": "train", "script": {"keyframes": [{"description": "x", "time_s": 0}]}}],
         "values'?: missing, and the clip has no capture"),
        ([{"id": "c1", "split": "train", "script": {"keyframes": [
            {"description": "x", "time_s": 0, "values": {"Nope": 1}}]}}], "unknown channel"),
        ([{"id": "c1", "split": "train", "script": {"keyframes": [
            {"description": "x", "frame": -1, "values": {}}]}}], "frame'?: expected a row number"),
        ([_clip(id="-x")], "field 'id': expected a letter or digit"),
        ([{"id": "c1", "split": "train", "script": {"background": [1], "keyframes": [
            {"description": "x", "time_s": 0, "values": {}}]}}], "script.background'?: expected a string"),
        ([{"id": "c1", "split": "train", "script": {"emotion": 3, "keyframes": [
            {"description": "x", "time_s": 0, "values": {}}]}}], "script.emotion'?: expected a string"),
        ([{"id": "c1", "split": "train", "capture": "cap.npz", "capture_frames": [10, 90], "script": {"keyframes": [
            {"description": "x", "frame": 95}]}}], r"frame'?: row 95 is outside the clip's capture_frames window \[10, 90\)"),
        ([], "lists no clips"),
    ],
)
def test_loader_errors_name_the_clip_and_field(tmp_path: Path, lines: list[Any], match: str) -> None:
    root = _write(tmp_path / "d", lines)
    with pytest.raises(FormatError, match=match):
        load_dataset(root)


def test_loader_refuses_unknown_layouts_and_versions(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "something.txt").write_text("hello")
    with pytest.raises(FormatError, match="register an adapter"):
        load_dataset(tmp_path / "x")
    with pytest.raises(FormatError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(FormatError, match="unknown dataset adapter"):
        load_dataset(tmp_path / "x", adapter="authors")
    root = _write(tmp_path / "v", [_clip()])
    (root / "dataset.json").write_text(json.dumps({"format": "keyframeface.dataset", "version": 99}))
    with pytest.raises(FormatError, match="version 99"):
        load_dataset(root)
    assert {a.name for a in list_adapters()} >= {"keyframeface", "swift-messages"}


def test_capture_backed_clip_reads_values_from_frames_and_times(tmp_path: Path) -> None:
    from keyframeface.io.npz import write_npz

    frames = np.zeros((100, rig.NUM_CHANNELS), dtype=np.float32)
    frames[:, rig.CHANNEL_INDEX["JawOpen"]] = np.linspace(0, 0.99, 100)
    write_npz(Animation(frames=frames, fps=50.0), tmp_path / "d" / "cap.npz")
    clip = {"id": "c1", "split": "train", "capture": "cap.npz", "capture_frames": [10, 90], "script": {
        "keyframes": [{"description": "a", "frame": 20}, {"description": "b", "time_s": 1.0}]}}
    ds = load_dataset(_write(tmp_path / "d", [clip]))
    got = ds.clips[0].resolved().array()[:, rig.CHANNEL_INDEX["JawOpen"]]
    assert got[0] == pytest.approx(frames[20, rig.CHANNEL_INDEX["JawOpen"]], abs=1e-6)
    assert got[1] == pytest.approx(frames[60, rig.CHANNEL_INDEX["JawOpen"]], abs=1e-6)  # 10 + 1.0 s x 50 fps


# ------------------------------------------------------------------------------------------- CLI
def test_cli_dataset_build_and_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from keyframeface.cli.main import main

    out = tmp_path / "c"
    assert main(["-q", "dataset", "build", "-o", str(out), "--size", "30", "--seed", "3", "--no-shared"]) == 0
    capsys.readouterr()
    assert main(["dataset", "stats", str(out)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["clips"] == 30 and stats["keyframes"] >= 60
    assert main(["dataset", "roundtrip", str(out), "--limit", "5"]) == 0
    assert "| all |" in capsys.readouterr().out
    assert main(["dataset", "stats", str(tmp_path / "missing")]) == 1
    assert main(["dataset", "build", "-o", str(tmp_path / "z"), "--size", "0"]) == 1


@pytest.mark.slow
def test_full_default_corpus_from_shared_captures(realdata_dir: Path, tmp_path: Path) -> None:
    """The default build (~3000 scripts with the real captures): the numbers reported in docs/dataset.md."""
    summary = build_corpus(tmp_path / "corpus", seed=0)
    assert summary.real_part and summary.takes >= 10
    assert sum(summary.clips_per_split.values()) == 3000
    ds = load_dataset(tmp_path / "corpus")
    assert not check_no_leakage((c.group, c.split) for c in ds)
    assert summary.seconds < 240
