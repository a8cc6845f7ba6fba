"""``keyframeface generate SCRIPT.json -o KEYFRAMES.json``: keyframes only."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import GenerationError
from ..script import Keyframes, Script
from .common import add_backend_args, add_script_args, backend_options, generate_options, read_script_arg
from .outputs import check_strict, print_explanations, save_keyframes, stage_progress

__all__ = ["add_parser", "generate_keyframes", "print_explanations", "run", "run_generate", "save_keyframes"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("generate", help="script -> keyframes JSON (61 values per keyframe)",
                       description="Generate 61 ARKit values for every keyframe of a script.")
    add_script_args(p)
    add_backend_args(p)
    p.add_argument("-o", "--output", default="-", help="keyframes JSON file (default: stdout)")
    p.add_argument("--explain", action="store_true",
                   help="record which phrase produced which channels (meta.explanations) and print it to stderr")
    p.set_defaults(run=run)


def generate_keyframes(args: argparse.Namespace, script: Script) -> Keyframes:
    """Keyframes for ``script`` by :func:`keyframeface.pipeline.run` (planned first when it is free text) with the
    backend flags of ``args`` and a progress bar; a :class:`GenerationError` keeps its partial keyframes."""
    from ..pipeline import run as run_pipeline

    with stage_progress(quiet=args.quiet) as progress:
        keys = run_pipeline(
            script,
            backend=args.backend,
            backend_options=backend_options(args),
            generate_options=generate_options(args),  # --seed, --policy, --temperature ...: keyframeface.options
            explain=getattr(args, "explain", False),
            stop_after="generate",
            progress=progress,
        ).keyframes
    check_strict(args, keys)
    return keys


def run_generate(args: argparse.Namespace) -> Keyframes:
    """The script of ``args`` (``SCRIPT`` or ``--text``) through :func:`generate_keyframes`."""
    return generate_keyframes(args, read_script_arg(args))


def run(args: argparse.Namespace) -> int:
    try:
        keys = run_generate(args)
    except GenerationError as exc:
        if isinstance(exc.partial, Keyframes):  # nothing produced is lost: the good keyframes are written
            save_keyframes(exc.partial, args.output)
            where = "standard output" if args.output == "-" else args.output
            print(f"keyframeface: partial results saved to {where}", file=sys.stderr)
        raise
    if args.explain:
        print_explanations(keys)
    save_keyframes(keys, args.output)
    return 0
