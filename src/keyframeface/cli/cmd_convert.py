"""``keyframeface convert IN -o OUT``: between formats, chosen by extension (``-`` for stdin / stdout)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

#: Media types of the formats that are text (the others are written to stdout only when it is not a terminal).
_TEXT_TYPES = ("text/", "application/json", "model/gltf+json", "model/vnd.usda")


def add_parser(sub: Any) -> None:
    from ..io.registry import writer_names
    from .common import add_writer_args

    p = sub.add_parser("convert", help="convert between formats (by extension)",
                       description="Convert between keyframeface formats: release result .jsonl, keyframes / "
                       "animation .json, Live Link Face .csv, .npz, .gltf/.glb, .usda/.usdc. The output format "
                       "follows the extension unless --format is given. IN may be - (standard input, format told "
                       "by content); -o - writes to standard output (give --format).")
    p.add_argument("input", help="input file, or - for standard input")
    p.add_argument("-o", "--output", required=True, help="output file, or - for standard output (with --format)")
    p.add_argument("--format", default=None, help=f"output format name ({', '.join(writer_names())})")
    p.add_argument("--requests", default=None, help="results .jsonl (release or batch): the request file they answer "
                   "(descriptions, background, emotion)")
    add_writer_args(p)  # --mesh, --target-names, --tracking-loss
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ScriptError
    from ..io.registry import export_bytes, find_writer, read_any
    from .common import input_path, write_bytes_output, writer_options

    if args.output == "-" and not args.format:
        raise ScriptError("-o - writes to standard output, which has no extension; give --format (csv, json ...)")
    from ..convert import convert_to_folder, is_folder

    folder = args.output != "-" and is_folder(args.output)
    writer = find_writer(None if args.output == "-" or folder else args.output,
                         format=args.format or ("json" if folder else None))
    options = writer_options(args, [writer.name])[writer.name]
    read_options = {"requests": args.requests} if args.requests else {}
    if folder:  # one file per document (batch results: one keyframes file per script)
        with input_path(args.input) as src:
            out_dir = convert_to_folder(src, args.output, format=writer.name, read_options=read_options, **options)
        if not args.quiet:
            print(f"wrote {out_dir}", file=sys.stderr)
        return 0
    if args.output != "-":  # a file: convert() streams a Live Link CSV to CSV or JSON a block at a time
        from ..convert import convert

        with input_path(args.input) as src:
            out = convert(src, args.output, format=writer.name, read_options=read_options, **options)
        if not args.quiet:
            print(f"wrote {out}", file=sys.stderr)
        return 0
    with input_path(args.input) as src:
        obj = read_any(src, **read_options)
    data = export_bytes(obj, writer.name, **options)
    write_bytes_output(data, binary=not writer.media_type.startswith(_TEXT_TYPES), what=writer.name)
    return 0
