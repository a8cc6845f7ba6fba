"""``keyframeface convert IN -o OUT``: between formats, chosen by extension."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    from ..io.registry import writer_names

    p = sub.add_parser("convert", help="convert between formats (by extension)",
                       description="Convert between keyframeface formats: release result .jsonl, keyframes / "
                       "animation .json, Live Link Face .csv, .npz, .gltf/.glb. The output format follows the "
                       "extension unless --format is given.")
    p.add_argument("input", help="input file")
    p.add_argument("-o", "--output", required=True, help="output file")
    p.add_argument("--format", default=None, help=f"output format name ({', '.join(writer_names())})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..convert import convert

    out = convert(args.input, args.output, format=args.format)
    if not args.quiet:
        print(f"wrote {out}", file=sys.stderr)
    return 0
