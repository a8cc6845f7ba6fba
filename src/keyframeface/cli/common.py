"""Pieces shared by several subcommands: reading inputs, writing outputs, progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from ..errors import ScriptError
from ..io.atomic import atomic_write_text
from ..options import AnimateOptions, GenerateOptions, add_cli_arguments, from_namespace
from ..script import Script, load_script

__all__ = [
    "GENERATE_FLAGS",
    "add_animate_args",
    "add_backend_args",
    "add_script_args",
    "animate_options",
    "backend_options",
    "generate_options",
    "progress_bar",
    "read_script_arg",
    "write_text_output",
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
    p.add_argument("--strict", action="store_true",
                   help="fail (exit non-zero) when a keyframe's description gives no facial action, instead of "
                   "warning and keeping only the emotion baseline")


#: The generate options every backend-using command takes as flags, in --help order.
GENERATE_FLAGS: Final[tuple[str, ...]] = ("representation", "temperature", "timeout_s", "seed", "policy", "concurrency")


def generate_options(args: argparse.Namespace) -> GenerateOptions:
    """The :class:`~keyframeface.options.GenerateOptions` given by the flags of :func:`add_backend_args`."""
    return from_namespace(GenerateOptions, args)

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
    for item in getattr(args, "option", []) or []:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise ScriptError(f"--option expects KEY=VALUE, got {item[:60]!r}")
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
    if args.script == "-":
        from ..script import MAX_FILE_BYTES

        raw = sys.stdin.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ScriptError(f"standard input is larger than {MAX_FILE_BYTES} bytes")
        try:
            return Script.from_dict(json.loads(raw))
        except json.JSONDecodeError as exc:
            raise ScriptError(f"standard input is not valid JSON: {exc.msg} at line {exc.lineno}") from None
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
