"""Pieces shared by several subcommands: reading inputs, writing outputs, progress bars."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from ..errors import FormatError, ScriptError
from ..io.atomic import atomic_write_text
from ..options import AnimateOptions, GenerateOptions, add_cli_arguments, from_namespace
from ..script import Script, load_script

__all__ = [
    "GENERATE_FLAGS",
    "add_animate_args",
    "add_backend_args",
    "add_script_args",
    "add_writer_args",
    "animate_options",
    "backend_options",
    "generate_options",
    "input_path",
    "progress_bar",
    "read_script_arg",
    "write_bytes_output",
    "write_text_output",
    "writer_options",
]


def add_script_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("script", nargs="?", help="script JSON/YAML file (background, emotion, keyframes), or - for stdin")
    p.add_argument("--text", help="one free sentence to plan into a script instead of a file")


def add_backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default=None, help="backend name (see `keyframeface backends`); default: the offline default")
    p.add_argument("--model", default=None, help="model name (openai, hf) or path (llama: a GGUF file) for LLM backends")
    p.add_argument("--base-url", default=None,
                   help="OpenAI-compatible server URL (openai backend); the API key comes from $KEYFRAMEFACE_API_KEY "
                   "or $OPENAI_API_KEY, never from the command line")
    p.add_argument("--adapter", default=None, help="LoRA adapter path or name (llama, hf, openai with LoRA modules)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra backend option (repeatable), e.g. --option n_ctx=4096")
    # Declared once in keyframeface.options (defaults, choices, help); this order is the help's.
    add_cli_arguments(p, GenerateOptions, GENERATE_FLAGS)
    p.add_argument("--assist-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the --assist backend (repeatable), e.g. --assist-option "
                   "base_url=http://127.0.0.1:8080/v1")
    p.add_argument("--strict", action="store_true",
                   help="fail (exit non-zero) when a keyframe's description gives no facial action, instead of "
                   "warning and keeping only the emotion baseline")


#: The generate options every backend-using command takes as flags, in --help order.
GENERATE_FLAGS: Final[tuple[str, ...]] = ("representation", "temperature", "timeout_s", "seed", "policy", "concurrency",
                                          "assist")


def generate_options(args: argparse.Namespace) -> GenerateOptions:
    """The :class:`~keyframeface.options.GenerateOptions` given by the flags of :func:`add_backend_args`."""
    assist_options = _key_values(getattr(args, "assist_option", []) or [], "--assist-option")
    return from_namespace(GenerateOptions, args, assist_options=assist_options or None)

def add_animate_args(p: argparse.ArgumentParser) -> None:
    """The flags of every :class:`~keyframeface.options.AnimateOptions` field declared for the CLI (``--fps``,
    ``--method``, ``--no-life`` ...); the seed is generate's ``--seed``."""
    add_cli_arguments(p, AnimateOptions)


def animate_options(args: argparse.Namespace) -> AnimateOptions:
    """The :class:`~keyframeface.options.AnimateOptions` given by the flags of :func:`add_animate_args`; the seed
    is ``--seed`` (generate's; ``None``: the engine derives one from the keyframes' content)."""
    return from_namespace(AnimateOptions, args, seed=getattr(args, "seed", None))


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """Constructor options for the chosen backend from --model/--base-url/--adapter/--option KEY=VALUE.

    Values of --option are parsed as JSON when they are valid JSON (numbers, true/false), else kept as strings.
    """
    options: dict[str, Any] = {}
    for name in ("model", "base_url", "adapter"):
        value = getattr(args, name, None)
        if value is not None:
            options[name] = value
    options.update(_key_values(getattr(args, "option", []) or [], "--option"))
    return options


def _key_values(items: list[str], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` items as a dict, values parsed as JSON when they are valid JSON, else kept as strings."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise ScriptError(f"{flag} expects KEY=VALUE, got {item[:60]!r}")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def read_script_arg(args: argparse.Namespace) -> Script:
    """The script from ``SCRIPT`` (a path or ``-``) or ``--text``; exactly one is required."""
    if args.text and args.script:
        raise ScriptError("give a SCRIPT file or --text, not both")
    if args.text:
        return Script.from_text(args.text)
    if not args.script:
        raise ScriptError("give a SCRIPT file (or - for stdin) or --text \"...\"")
    if args.script == "-":  # the same guards as a file (size, depth, numbers, YAML tags): keyframeface.io.input
        from ..io.input import read_document_stream
        from ..script import script_from_data

        return script_from_data(read_document_stream(sys.stdin.buffer, label="standard input"))
    return load_script(args.script)


def write_text_output(text: str, output: str | None) -> None:
    """Write ``text`` to the file ``output`` atomically, or to stdout when ``output`` is ``None`` or ``-``."""
    if output in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(Path(output), text)


@contextmanager
def progress_bar(total: int, desc: str, *, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr driven by ``callback(done, total)``; silent when quiet or stderr is not a terminal."""
    from tqdm import tqdm

    bar: Any = tqdm(total=total, desc=desc, unit="kf", file=sys.stderr, disable=quiet or None, leave=False)
    try:

        def update(done: int, _total: int) -> None:
            bar.n = done
            bar.refresh()

        yield update
    finally:
        bar.close()


#: The most standard input a command reads (the Live Link CSV reader's own cap).
MAX_STDIN_BYTES: Final[int] = 512 * 1024 * 1024


@contextmanager
def input_path(arg: str) -> Iterator[Path]:
    """The path of a file argument; ``-`` spools standard input to a private temporary file without an extension,
    so the readers tell its format by content (Live Link CSV, JSON, npz ...)."""
    if arg != "-":
        yield Path(arg)
        return
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise FormatError(f"standard input is larger than {MAX_STDIN_BYTES} bytes; give a file instead")
    if not data.strip():
        raise FormatError("standard input is empty; pipe a file in or give its path")
    with tempfile.TemporaryDirectory(prefix="keyframeface-stdin-") as tmp:
        path = Path(tmp) / "stdin"
        path.write_bytes(data)
        yield path


def write_bytes_output(data: bytes, *, binary: bool, what: str) -> None:
    """Write ``data`` to stdout; binary data only when stdout is not a terminal (it would garble the screen)."""
    if binary and sys.stdout.isatty():
        raise FormatError(f"not writing binary {what} to a terminal; redirect stdout (> file, | command) or give -o FILE")
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


#: Writer options the CLI sets, as (flag, keyword, choices, help); a format takes those its writer accepts.
_WRITER_FLAGS: Final[tuple[tuple[str, str, tuple[str, ...], str], ...]] = (
    ("--mesh", "mesh", ("procedural", "ict"),
     "glTF head: procedural (small, built in) or ict (the realistic ICT-FaceKit head: keyframeface fetch-ict)"),
    ("--target-names", "target_names", ("pascal", "camel"),
     "glTF/USD blend-shape names: pascal (EyeBlinkLeft, Live Link / MetaHuman) or camel (eyeBlinkLeft, ARKit)"),
    ("--tracking-loss", "tracking_loss", ("fill", "drop", "keep"),
     "CSV rows of lost tracking: fill (values held, default), drop, or keep the app's 'timecode,0' rows "
     "(Unreal's import stops at them)"),
)


def add_writer_args(p: argparse.ArgumentParser) -> None:
    """``--mesh``, ``--target-names``, ``--tracking-loss``: options of the writers that take them (glTF, USD, CSV)."""
    for flag, _key, choices, text in _WRITER_FLAGS:
        p.add_argument(flag, default=None, choices=choices, help=text)


def _takes(writer: Any, key: str) -> bool:
    try:
        return bool(writer.accepts(key))
    except FormatError:  # its module or package is missing here
        return False


def writer_options(args: argparse.Namespace, formats: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per format name, the writer options given by :func:`add_writer_args`' flags that its writer takes.

    A flag given that no chosen format takes is an error naming the formats that would.
    """
    from ..io.registry import WRITERS, find_writer

    names = [find_writer(None, format=f).name for f in formats]
    out: dict[str, dict[str, Any]] = {name: {} for name in names}
    for flag, key, _choices, _text in _WRITER_FLAGS:
        value = getattr(args, key, None)
        if value is None:
            continue
        takers = [n for n in names if _takes(WRITERS[n], key)]
        if not takers:
            able = [n for n, w in WRITERS.items() if _takes(w, key)]
            raise ScriptError(f"{flag} applies to {', '.join(able)} output; the output here is {', '.join(names)}")
        for name in takers:
            out[name][key] = value
    return out
