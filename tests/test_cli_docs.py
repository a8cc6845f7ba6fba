"""docs/cli.md is generated from the parsers; it must match what --help prints now."""

from __future__ import annotations

from pathlib import Path

from keyframeface.cli.reference import render_reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    expected = render_reference()
    assert DOC.read_text() == expected, "docs/cli.md is stale: python -m keyframeface.cli.reference > docs/cli.md"
