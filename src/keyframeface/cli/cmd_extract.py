"""``keyframeface extract TAKE.csv -o KEYFRAMES.json``: keyframes from a dense capture."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .outputs import save_keyframes


def add_parser(sub: Any) -> None:
    p = sub.add_parser("extract", help="dense capture (Live Link CSV) -> the fewest keyframes that reconstruct it",
                       description="Choose keyframes whose interpolation reconstructs a capture within --max-error, "
                       "or exactly --count keyframes.")
    p.add_argument("take", help="Live Link Face CSV (or animation .json / .npz)")
    p.add_argument("-o", "--output", default="-", help="keyframes JSON (default: stdout)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--max-error", type=float, default=None, help="reconstruction error bound")
    group.add_argument("--count", type=int, default=None, help="exact number of keyframes")
    from ..extract_methods import available_methods

    p.add_argument("--method", default="greedy", help=f"extraction method ({', '.join(available_methods())})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import FormatError
    from ..extract import extract
    from ..io.registry import read_any
    from ..script import Animation

    anim = read_any(args.take)
    if not isinstance(anim, Animation):
        raise FormatError(f"{args.take} is not a dense capture (got {type(anim).__name__})")
    keys = extract(anim, max_error=args.max_error, count=args.count, method=args.method)
    save_keyframes(keys, args.output)
    if not args.quiet:
        print(f"extracted {len(keys)} keyframes from {anim.num_frames} frames", file=sys.stderr)
    return 0
