"""The CLI reference (docs/cli.md), generated from the argparse parsers so it never drifts from ``--help``.

Regenerate with ``python -m keyframeface.cli.reference > docs/cli.md``; a test checks the file is current.
"""

from __future__ import annotations

import argparse
import os

from .main import build_parser

__all__ = ["render_reference"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subcommands here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help(parser: argparse.ArgumentParser) -> str:
    # A fixed width keeps the text identical whatever the terminal is.
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help().rstrip()
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def render_reference() -> str:
    """Markdown of ``keyframeface --help`` and every subcommand's ``--help``."""
    parser = build_parser()
    parts = ["# Command-line reference", "", "Generated from `--help` by `python -m keyframeface.cli.reference`.", ""]
    parts += ["## keyframeface", "", "```", _help(parser), "```", ""]

    def walk(prefix: str, p: argparse.ArgumentParser) -> None:
        for name, sub in _subparsers(p).items():
            full = f"{prefix} {name}"
            parts.extend([f"## {full}", "", "```", _help(sub), "```", ""])
            walk(full, sub)

    walk("keyframeface", parser)
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(render_reference())
