"""The command line end to end, in an isolated working folder: real subcommands, real files, exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from keyframeface.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keyframeface", *args], capture_output=True, text=True, timeout=120)


def test_help_and_version() -> None:
    r = run_cli("--help")
    assert r.returncode == 0 and "animate" in r.stdout and "generate" in r.stdout
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("keyframeface ")


def test_generate_to_file_and_stdout(tmp_path: Path) -> None:
    assert main(["generate", str(EXAMPLES / "bad_news.json"), "-o", "k.json"]) == 0
    doc = json.loads((tmp_path / "k.json").read_text())
    assert doc["format"] == "keyframeface.keyframes" and len(doc["keyframes"]) == 4
    assert all(len(k["values"]) == 61 for k in doc["keyframes"])
    r = run_cli("generate", str(EXAMPLES / "smirk.json"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["meta"]["backend"] == "bundled"


def test_generate_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", str(EXAMPLES / "smirk.json"), "-o", "k.json", "--explain"]) == 0
    err = capsys.readouterr().err
    assert "keyframe 2" in err and "MouthSmile" in err


def test_animate_writes_all_files(tmp_path: Path) -> None:
    r = run_cli("animate", str(EXAMPLES / "bad_news.json"), "-o", "out", "--fps", "30")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["bad_news.csv", "bad_news.glb", "bad_news.json", "bad_news.keyframes.json",
                     "bad_news.manifest.json"]
    with (tmp_path / "out" / "bad_news.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["Timecode", "BlendShapeCount"] and len(rows[0]) == 63
    assert len(rows) > 30 * 4  # several seconds at 30 fps


def test_animate_text(tmp_path: Path) -> None:
    r = run_cli("animate", "--text", "She hears a joke and bursts out laughing.", "-o", "o", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "animation.csv").is_file()


def test_prompt_command() -> None:
    r = run_cli("prompt", str(EXAMPLES / "bad_news.json"))
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if line.strip()]  # the release file ends with a blank line
    assert len(lines) == 4
    assert "Keyframe Four" in json.loads(lines[3])["messages"][1]["content"]


def test_backends_command() -> None:
    r = run_cli("backends")
    assert r.returncode == 0 and "rules" in r.stdout and "(default)" in r.stdout
    rows = json.loads(run_cli("backends", "--json").stdout)
    assert any(row["name"] == "rules" and row["usable"] for row in rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"keyframes": []}', "at least one keyframe"),
        ('{"keyframes": [{"description": "x", "time_s": -2}]}', "keyframes[0].time_s"),
    ],
)
def test_bad_input_one_clear_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.json").write_text(content)
    r = run_cli("generate", "bad.json", "-o", "k.json")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "k.json").exists()


def test_unknown_backend_lists_valid_ones() -> None:
    r = run_cli("generate", str(EXAMPLES / "smirk.json"), "--backend", "nope")
    assert r.returncode == 1 and "rules" in r.stderr and "Traceback" not in r.stderr


def test_missing_file() -> None:
    r = run_cli("animate", "absent.json", "-o", "out")
    assert r.returncode == 1 and "absent.json" in r.stderr


def test_debug_shows_traceback() -> None:
    r = run_cli("--debug", "generate", "absent.json")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_convert_release_answers(tmp_path: Path, release_dir: Path) -> None:
    r = run_cli("convert", str(release_dir / "example_result.jsonl"), "-o", "x.csv")
    assert r.returncode == 0, r.stderr
    ours = list(csv.reader((tmp_path / "x.csv").open()))
    theirs = list(csv.reader((release_dir / "example_result.csv").open()))
    assert ours[0][0] == "Timecode" and ours[0][2:] == theirs[0][2:]
    assert len(ours) == len(theirs)
    for a, b in zip(ours[1:], theirs[1:], strict=True):
        assert a[0] == b[0]
        assert [float(x) for x in a[2:]] == [float(x) for x in b[2:]]


def test_eval_semantic_runs() -> None:
    r = run_cli("eval", "semantic")
    assert r.returncode == 0, r.stderr
    assert "pass" in r.stdout.lower()
