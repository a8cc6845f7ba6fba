"""Hostile inputs refused cheaply through the one input path, write errors naming the target, consistent output
folders after kill -9 (issue 15)."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from keyframeface.errors import FormatError, GenerationError, KeyframeFaceError, ScriptError
from keyframeface.io import atomic
from keyframeface.io.input import MAX_DEPTH, read_document_bytes, read_document_path, read_document_stream
from keyframeface.io.staging import check_manifest, manifest_path
from keyframeface.pipeline import run
from keyframeface.script import Keyframes, document_from_data, load_document, script_from_data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CLI = [sys.executable, "-m", "keyframeface"]


def _alias_bomb_keyframes() -> bytes:
    lines = ["format: keyframeface.keyframes", "version: 1", "meta:",
             '  a0: &a0 [' + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return ("\n".join(lines) + "\nkeyframes: [{description: smile}]\n").encode()


HOSTILE: list[tuple[str, bytes, str | None, str]] = [
    ("float tag", b"!!float", ".yaml", "tag"),
    ("int tag", b"!!int", ".yaml", "tag"),
    ("bool maybe", b"!!bool maybe", ".yaml", "tag"),
    ("timestamp", b"!!timestamp 1", ".yaml", "tag"),
    ("alias bomb in meta", _alias_bomb_keyframes(), ".yaml", "expands to more than"),
    ("100,000 levels", b"[" * 100_000 + b"]" * 100_000, None, "nest deeper"),
    ("100,000 levels of objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, ".json", "nest deeper"),
    ("5,000 digits", b'{"keyframes": [{"description": "a", "time_s": ' + b"9" * 5000 + b"}]}", None,
     "too many digits"),
    ("12 MB of nested lists", b'{"keyframes": [' + b",".join([b"[[1],[2]]"] * 1_400_000) + b"]}", ".json",
     "more than 1,000,000 arrays"),
    ("not UTF-8", b'{"a": "\xff"}', ".json", "not UTF-8"),
    ("NaN", b'{"a": NaN}', ".json", "NaN"),
]


@pytest.mark.parametrize(("data", "suffix", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_documents_are_refused_fast_and_small_on_every_path(tmp_path: Path, data: bytes, suffix: str | None,
                                                                     message: str) -> None:
    import io

    path = tmp_path / f"doc{suffix or '.json'}"
    path.write_bytes(data)
    for read in (lambda: read_document_bytes(data, label="request body", suffix=suffix),
                 lambda: read_document_stream(io.BytesIO(data), suffix=suffix),
                 lambda: read_document_path(path), lambda: load_document(path)):
        tracemalloc.start()
        start = time.perf_counter()
        with pytest.raises(FormatError, match=message) as info:
            read()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert "\n" not in str(info.value)
        assert seconds < 4.0, seconds  # the 2 s is for a command on an idle machine; tracemalloc slows this
        assert peak < 200e6 + 2 * len(data), peak


@pytest.mark.parametrize(("data", "suffix", "message"), [h[1:] for h in HOSTILE[:6]], ids=[h[0] for h in HOSTILE[:6]])
def test_cli_refuses_hostile_files_in_one_line(tmp_path: Path, data: bytes, suffix: str | None, message: str) -> None:
    path = tmp_path / f"doc{suffix or '.json'}"
    path.write_bytes(data)
    start = time.perf_counter()
    r = subprocess.run([*CLI, "convert", str(path), "-o", str(tmp_path / "out.json")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr
    assert time.perf_counter() - start < 10  # interpreter start included; the refusal itself is timed above


def test_plain_documents_read_the_same_on_every_path(tmp_path: Path) -> None:
    data = (EXAMPLES / "bad_news.json").read_bytes()
    expected = json.loads(data)
    assert read_document_bytes(data, label="x") == expected == read_document_path(EXAMPLES / "bad_news.json")
    yaml_text = b"background: A room\nkeyframes:\n  - description: She smiles.\n    time_s: 1.5\n"
    assert script_from_data(read_document_bytes(yaml_text, label="stdin")).keyframes[0].time_s == 1.5
    # brackets and long digit runs inside strings are text, not structure
    tricky = {"keyframes": [{"description": "[" * 200 + "9" * 300}], "background": "{" * 70}
    assert read_document_bytes(json.dumps(tricky).encode(), label="x") == tricky
    deep_ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert read_document_bytes(deep_ok, label="x") is not None


def test_a_keyframes_document_from_bytes_is_keyframes() -> None:
    doc = {"format": "keyframeface.keyframes", "version": 1, "keyframes": [{"description": "a", "time_s": 0}]}
    assert isinstance(document_from_data(read_document_bytes(json.dumps(doc).encode(), label="x")), Keyframes)


# ------------------------------------------------------------------------------------------ write errors
def test_disk_full_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    target = tmp_path / "take.csv"
    with pytest.raises(OSError, match="No space left") as info:
        atomic.atomic_write_text(target, "x" * 1000)
    assert info.value.filename == str(target)
    assert not list(tmp_path.iterdir())  # the temporary file is gone


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user for read-only folders")
def test_read_only_folder_names_the_target(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as info:
            atomic.atomic_write_text(folder / "a.json", "{}")
        assert info.value.filename == str(folder / "a.json")
    finally:
        folder.chmod(0o755)


def test_read_only_error_names_the_target_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".kff-1.a.json.xyz.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as info:
        atomic.atomic_write_text(tmp_path / "a.json", "{}")
    assert info.value.filename == str(tmp_path / "a.json")


def test_cli_disk_full_message_names_the_file(tmp_path: Path) -> None:
    """A real full file system where one can be had: /dev/full fails every write with ENOSPC."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    code = ("import os, sys; from keyframeface.io import atomic; os.fsync = lambda fd: (_ for _ in ()).throw("
            "OSError(28, 'No space left on device')); sys.argv = ['keyframeface', 'convert', sys.argv[1], '-o', "
            "sys.argv[2]]; from keyframeface.cli.main import main; sys.exit(main(sys.argv[1:]))")
    out = tmp_path / "out.json"
    r = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "bad_news.json"), str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and str(out) in r.stderr and "No space left" in r.stderr, r.stderr


# ------------------------------------------------------------------------------------- consistent folders
def test_run_writes_a_manifest_and_removes_debris(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = out / ".kff-999999999.run-deadbeef00112233"  # a staging folder of a process that is gone
    dead.mkdir()
    (dead / "x.csv").write_text("partial")
    (out / ".kff-999999999.bad_news.csv.abcd1234.tmp").write_text("partial")
    (out / "notes.txt").write_text("mine")  # a user's file is never touched
    (out / ".kff-notes").mkdir()  # nor a folder of theirs that merely starts like ours
    (out / ".kff-notes" / "todo.txt").write_text("mine")
    first = run(EXAMPLES / "bad_news.json", output=out, formats=("csv", "json"), preview=None)
    manifest = check_manifest(out, "bad_news")
    assert sorted(manifest["files"]) == sorted(p.name for p in first.written)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(p.name for p in first.written), "bad_news.manifest.json", "notes.txt", ".kff-notes"])
    assert (out / ".kff-notes" / "todo.txt").read_text() == "mine"
    # a second run with fewer formats removes the file of the first that it does not write
    run(EXAMPLES / "bad_news.json", output=out, formats=("csv",))
    assert not (out / "bad_news.json").exists() and (out / "notes.txt").exists()
    assert check_manifest(out, "bad_news")["run_id"] != manifest["run_id"]


def test_a_file_edited_since_the_previous_run_is_kept(tmp_path: Path) -> None:
    run(EXAMPLES / "bad_news.json", output=tmp_path, formats=("csv", "json"))
    (tmp_path / "bad_news.json").write_text("my edits")
    run(EXAMPLES / "bad_news.json", output=tmp_path, formats=("csv",))
    assert (tmp_path / "bad_news.json").read_text() == "my edits"


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", "..", "", "x\\y"])
def test_names_cannot_leave_the_output_folder(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(ScriptError, match="plain file name"):
        run(EXAMPLES / "bad_news.json", output=out, name=name, formats=("csv",))
    assert not any(tmp_path.rglob("*.csv"))


def test_a_failed_generation_keeps_the_previous_result_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    generate_module = sys.modules["keyframeface.generate"]  # the package binds the function under the same name
    from keyframeface.pipeline import keyframes_path, partial_keyframes_path

    good = run(EXAMPLES / "bad_news.json", output=tmp_path, formats=("csv",))
    before = check_manifest(tmp_path, "bad_news")
    keys_before = keyframes_path(tmp_path, "bad_news").read_bytes()

    def failing(script: object, **kwargs: object) -> object:
        raise GenerationError("1 of 4 keyframes failed", partial=good.keyframes)

    monkeypatch.setattr(generate_module, "generate", failing)
    with pytest.raises(GenerationError):
        run(EXAMPLES / "bad_news.json", output=tmp_path, formats=("csv",))
    assert check_manifest(tmp_path, "bad_news")["run_id"] == before["run_id"]  # the good result is whole
    assert keyframes_path(tmp_path, "bad_news").read_bytes() == keys_before
    assert partial_keyframes_path(tmp_path, "bad_news").is_file()


def test_a_failed_run_leaves_no_staging_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyframeface.io import registry

    def broken(*args: object, **kwargs: object) -> Path:
        raise FormatError("writer broke")

    monkeypatch.setattr(registry, "export", broken)
    with pytest.raises(KeyframeFaceError, match="writer broke"):
        run(EXAMPLES / "bad_news.json", output=tmp_path, formats=("csv",))
    assert list(tmp_path.iterdir()) == []


def _kill_runs(out: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    cmd = [*CLI, "-q", "animate", str(EXAMPLES / "bad_news.json"), "-o", str(out), "--format", "csv,json,glb,npz"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    full = time.perf_counter() - start
    for _ in range(kills):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0) * full)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    left = sorted(p.name for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))
    assert left == [], left
    manifest = check_manifest(out, "bad_news")
    assert sorted(p.name for p in out.iterdir()) == sorted([*manifest["files"], "bad_news.manifest.json"])


def test_kill_9_during_animate_then_one_good_run(tmp_path: Path) -> None:
    _kill_runs(tmp_path / "out", kills=6, seed=15)


@pytest.mark.slow
def test_kill_9_during_animate_50_times(tmp_path: Path) -> None:
    _kill_runs(tmp_path / "out", kills=50, seed=1515)


def test_manifest_check_finds_a_mixed_folder(tmp_path: Path) -> None:
    run(EXAMPLES / "bad_news.json", output=tmp_path, formats=("csv", "json"))
    (tmp_path / "bad_news.csv").write_text("from another run\n")
    with pytest.raises(FormatError, match="differs from run"):
        check_manifest(tmp_path, "bad_news")
    manifest_path(tmp_path, "bad_news").unlink()
    with pytest.raises(FormatError, match="no complete run"):
        check_manifest(tmp_path, "bad_news")


# ---------------------------------------------------------------------------------------- limits before work
def test_a_take_too_long_is_refused_from_a_row_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyframeface import rig
    from keyframeface.io import livelink_csv

    monkeypatch.setattr(livelink_csv, "MAX_TAKE_FRAMES", 100)
    header = "Timecode,BlendShapeCount," + ",".join(rig.CHANNELS) + "\n"
    row = "00:00:00:00.000,61," + ",".join(["0.1"] * 61) + "\n"
    path = tmp_path / "take.csv"
    path.write_text(header + row * 150 + "not,a,row\n")  # the bad last row is never reached
    with pytest.raises(FormatError, match="more than 100 rows"):
        livelink_csv.read_livelink_csv(path)
    import io

    with pytest.raises(FormatError, match="more than 100 rows"):  # streams stop at the limit too
        livelink_csv.read_livelink_csv(io.StringIO(path.read_text()))


def test_json_of_a_long_animation_is_written_a_block_at_a_time() -> None:
    import numpy as np

    from keyframeface.script import Animation, json_chunks

    frames = np.random.default_rng(0).uniform(0, 1, (40_000, 61)).astype(np.float32)
    anim = Animation(frames=frames, fps=60, times_s=np.arange(40_000) / 60.0)
    tracemalloc.start()
    size = sum(len(chunk) for chunk in json_chunks(anim))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the whole take as Python floats would be 40,000 x 61 x 32 bytes = 78 MB, plus its text
    assert peak < 30e6 and size > 20e6, (peak, size)
    small = Animation(frames=frames[:50], fps=60, times_s=np.arange(50) / 60.0, valid=np.arange(50) % 2 == 0)
    assert "".join(json_chunks(small)) == json.dumps(small.to_dict(), ensure_ascii=False) + "\n"
