"""Entry point of the ``keyframeface`` command.

Each subcommand lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``. Results go to
files or stdout, progress and logs to stderr. A :class:`~keyframeface.errors.KeyframeFaceError` (bad input, a missing
extra, a failed backend) prints one line ``keyframeface: error: ...`` and exits 1; ``--debug`` shows the traceback.

Conventions: ``-q`` / ``--debug`` are accepted before or after the subcommand; a mistyped subcommand or choice gets
"did you mean"; help text shows docstrings without reStructuredText markup; ``keyframeface completion bash``
prints a completion script generated from this parser.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import NoReturn

from .._version import __version__
from ..errors import KeyframeFaceError

__all__ = ["Parser", "build_parser", "main", "subparsers"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "animate",
    "generate",
    "prompt",
    "convert",
    "extract",
    "backends",
    "eval",
    "serve",
    "stream",
    "render",
    "annotate",
    "dataset",
    "train",
    "fetch_ict",
    "completion",
)

_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<got>[^']*)' \(choose from (?P<valid>.*)\)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (.*)")
_RST_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc):`~?([^`]+)`")


class Parser(argparse.ArgumentParser):
    """ArgumentParser with "did you mean" on invalid choices and help text free of reStructuredText markup."""

    def error(self, message: str) -> NoReturn:
        match = _INVALID_CHOICE.search(message)
        if match:
            valid = re.findall(r"'([^']*)'", match.group("valid"))
            close = difflib.get_close_matches(match.group("got"), valid, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
        unknown = _UNRECOGNIZED.search(message)
        if unknown:
            flags = sorted({o for p in (self, *_walk(self)) for a in p._actions for o in a.option_strings})
            for word in unknown.group(1).split():
                close = difflib.get_close_matches(word.partition("=")[0], flags, n=1, cutoff=0.75)
                if word.startswith("--") and close:
                    message += f"; did you mean {close[0]!r}?"
                    break
        super().error(message)

    def format_help(self) -> str:
        # Descriptions come from docstrings: ``code`` and :func:`name` read as plain text on a terminal.
        return _RST_ROLE.sub(r"\1", super().format_help()).replace("``", "")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of ``parser`` by name (argparse keeps them in a private action)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for sub in dict.fromkeys(subparsers(parser).values()):  # aliases share a parser
        yield sub
        yield from _walk(sub)


def _add_global_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--debug`` and ``-q``; below the top level they default to SUPPRESS so they only ever turn a flag on."""
    default = False if top else argparse.SUPPRESS
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", default=default,
                        help="no progress bars or info logs")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="keyframeface",
        description="Language to facial animation on the 61 ARKit / Live Link Face channels.",
    )
    parser.add_argument("--version", action="version", version=f"keyframeface {__version__}")
    _add_global_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"keyframeface.cli.cmd_{name}")
        module.add_parser(sub)
    for child in _walk(parser):  # the global flags after the subcommand too: keyframeface convert ... -q
        taken = {s for a in child._actions for s in a.option_strings}
        if not taken & {"--debug", "-q", "--quiet"}:
            _add_global_flags(child, top=False)
    return parser


def _setup_logging(*, debug: bool, quiet: bool) -> None:
    level = logging.DEBUG if debug else (logging.ERROR if quiet else logging.WARNING)
    logging.basicConfig(level=level, format="keyframeface: %(levelname)s: %(message)s", stream=sys.stderr)
    logging.captureWarnings(True)
    warnings.formatwarning = _format_warning


def _format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                    line: str | None = None) -> str:
    """A library warning as one line (logged as ``keyframeface: WARNING: ...``); its source only with --debug."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return f"{message} ({filename}:{lineno}, {category.__name__})"
    return str(message)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(debug=args.debug, quiet=args.quiet)
    try:
        return int(args.run(args) or 0)
    except KeyframeFaceError as exc:
        if args.debug:
            raise
        print(f"keyframeface: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # stdout closed early (e.g. piped into head): nothing more to say
        return 1
    except OSError as exc:  # an output folder that cannot be written, a disk that is full ...
        if args.debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"keyframeface: error: cannot read or write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("keyframeface: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
