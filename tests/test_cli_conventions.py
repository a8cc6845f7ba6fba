"""CLI conventions: ``-`` for stdin/stdout, global flags after the subcommand, "did you mean", writer flags
(--mesh, --target-names, --tracking-loss), help without reStructuredText markup, bash completion."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.cli.main import build_parser, main
from keyframeface.cli.reference import _subparsers
from keyframeface.io.livelink_csv import write_livelink_csv
from keyframeface.script import Animation
from unreal_llf_importer import import_csv


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))


def _cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The real command in a child process, stdin and stdout pipes (not terminals)."""
    return subprocess.run([sys.executable, "-m", "keyframeface.cli.main", *args], input=stdin, capture_output=True,
                          timeout=120, check=False)


def _take(path: Path, *, lost: bool = False) -> Path:
    frames = np.full((90, rig.NUM_CHANNELS), 0.25, dtype=np.float32)
    valid = np.ones(90, dtype=bool)
    valid[40:43] = not lost
    write_livelink_csv(Animation(frames=frames, fps=30, valid=valid), path, tracking_loss="keep")
    return path


def test_convert_to_stdout_and_from_stdin(tmp_path: Path) -> None:
    take = _take(tmp_path / "take.csv")
    out = _cli("convert", str(take), "-o", "-", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["format"] == "keyframeface.animation"
    assert not (tmp_path / "-").exists()  # never a file named "-"
    back = _cli("convert", "-", "-o", "-", "--format", "csv", stdin=out.stdout)
    assert back.returncode == 0, back.stderr
    assert back.stdout.decode().startswith("Timecode,BlendShapeCount,EyeBlinkLeft")
    # binary formats go to a pipe, never to a terminal
    glb = _cli("convert", "-", "-o", "-", "--format", "glb", stdin=take.read_bytes())
    assert glb.returncode == 0 and glb.stdout[:4] == b"glTF"
    missing = _cli("convert", str(take), "-o", "-")
    assert missing.returncode == 1 and b"give --format" in missing.stderr


def test_binary_to_a_terminal_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    take = _take(tmp_path / "take.csv")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["convert", str(take), "-o", "-", "--format", "npz"]) == 1
    assert "not writing binary npz to a terminal" in capsys.readouterr().err


def test_extract_and_render_read_stdin(tmp_path: Path) -> None:
    take = _take(tmp_path / "take.csv").read_bytes()
    keys = _cli("extract", "-", "--count", "3", stdin=take)
    assert keys.returncode == 0, keys.stderr
    assert len(json.loads(keys.stdout)["keyframes"]) == 3
    pytest.importorskip("PIL")
    png = _cli("render", "-", "-o", "sheet.png", stdin=keys.stdout)
    assert png.returncode == 0, png.stderr
    assert (tmp_path / "sheet.png").read_bytes()[:4] == b"\x89PNG"
    empty = _cli("extract", "-")
    assert empty.returncode == 1 and b"standard input is empty" in empty.stderr


def test_global_flags_after_the_subcommand(tmp_path: Path) -> None:
    take = _take(tmp_path / "take.csv")
    quiet = _cli("convert", str(take), "-o", "a.json", "-q")
    assert quiet.returncode == 0 and quiet.stderr == b""
    loud = _cli("convert", str(take), "-o", "b.json")
    assert b"wrote b.json" in loud.stderr
    debug = _cli("convert", "missing.csv", "-o", "c.json", "--debug")
    assert debug.returncode != 0 and b"Traceback" in debug.stderr
    args = build_parser().parse_args(["-q", "convert", "x", "-o", "y"])
    assert args.quiet and not args.debug  # before the subcommand, and not reset by its own default


def test_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, hint in ((["anmate"], "did you mean 'animate'?"),
                       (["convert", "x", "-o", "y", "--mesh", "ictt"], "did you mean 'ict'?"),
                       (["convert", "x", "-o", "y", "--trackng-loss", "drop"], "did you mean '--tracking-loss'?")):
        with pytest.raises(SystemExit):
            main(argv)
        assert hint in capsys.readouterr().err


def test_writer_flags_on_convert_and_animate(tmp_path: Path) -> None:
    take = _take(tmp_path / "take.csv", lost=True)
    assert main(["convert", str(take), "-o", "camel.gltf", "--target-names", "camel", "-q"]) == 0
    doc = json.loads((tmp_path / "camel.gltf").read_text())
    assert doc["meshes"][0]["extras"]["targetNames"][0] == "eyeBlinkLeft"
    assert main(["convert", str(take), "-o", "pascal.gltf", "--target-names", "pascal", "--mesh", "procedural"]) == 0
    assert json.loads((tmp_path / "pascal.gltf").read_text())["meshes"][0]["extras"]["targetNames"][0] == "EyeBlinkLeft"
    with pytest.warns(UserWarning, match="3 tracking-loss rows left out"):
        assert main(["convert", str(take), "-o", "drop.csv", "--tracking-loss", "drop", "-q"]) == 0
    assert import_csv((tmp_path / "drop.csv").read_text()).stopped_at is None
    assert len((tmp_path / "drop.csv").read_text().splitlines()) == 1 + 87
    assert main(["convert", str(take), "-o", "x.csv", "--mesh", "ict"]) == 1  # no glTF written: a clear error
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"emotion": "joy", "keyframes": [{"description": "a big smile"}]}))
    assert main(["animate", str(script), "-o", "out", "--format", "csv,gltf", "--target-names", "camel", "-q"]) == 0
    assert json.loads((tmp_path / "out" / "s.gltf").read_text())["meshes"][0]["extras"]["targetNames"][0] == "eyeBlinkLeft"


def test_help_has_no_restructuredtext_markup() -> None:
    parser = build_parser()

    def walk(p: object) -> None:
        text = p.format_help()  # type: ignore[attr-defined]
        assert "``" not in text and ":func:`" not in text and ":class:`" not in text, p.prog  # type: ignore[attr-defined]
        for child in _subparsers(p).values():  # type: ignore[arg-type]
            walk(child)

    walk(parser)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_script() -> None:
    script = _cli("completion", "bash")
    assert script.returncode == 0
    probe = script.stdout.decode() + "\n".join([
        "COMP_WORDS=(keyframeface con); COMP_CWORD=1; _keyframeface; echo \"${COMPREPLY[*]}\"",
        "COMP_WORDS=(keyframeface convert x.csv --tracking-loss ''); COMP_CWORD=4; _keyframeface; "
        "echo \"${COMPREPLY[*]}\"",
        "COMP_WORDS=(keyframeface eval ru); COMP_CWORD=2; _keyframeface; echo \"${COMPREPLY[*]}\"",
        "",
    ])
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.splitlines() == ["convert", "fill drop keep", "run"]
