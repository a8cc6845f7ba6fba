"""Entry point of the ``keyframeface`` command.

Each subcommand lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``. Results go to
files or stdout, progress and logs to stderr. A :class:`~keyframeface.errors.KeyframeFaceError` (bad input, a missing
extra, a failed backend) prints one line ``keyframeface: error: ...`` and exits 1; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import KeyframeFaceError

__all__ = ["build_parser", "main"]

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
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keyframeface",
        description="Language to facial animation on the 61 ARKit / Live Link Face channels.",
    )
    parser.add_argument("--version", action="version", version=f"keyframeface {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"keyframeface.cli.cmd_{name}")
        module.add_parser(sub)
    return parser


def _setup_logging(*, debug: bool, quiet: bool) -> None:
    level = logging.DEBUG if debug else (logging.ERROR if quiet else logging.WARNING)
    logging.basicConfig(level=level, format="keyframeface: %(levelname)s: %(message)s", stream=sys.stderr)
    logging.captureWarnings(True)


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
