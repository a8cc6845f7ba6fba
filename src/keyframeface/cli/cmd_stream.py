"""``keyframeface stream IN --to HOST:PORT``: send an animation live to Unreal as Live Link Face UDP packets."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "stream",
        help="stream an animation live to Unreal / MetaHuman (Live Link Face UDP)",
        description="Send an animation (JSON or Live Link CSV written by keyframeface, a keyframes file, or a script, "
        "animated first) to a Live Link Face receiver such as Unreal's Live Link, one UDP packet per frame at real-time "
        "pace.",
    )
    p.add_argument("input", help="animation .json/.csv/.npz, keyframes .json, or a script .json/.yaml")
    p.add_argument("--to", required=True, metavar="HOST:PORT",
                   help="receiver address, e.g. 127.0.0.1:11111 (the port defaults to Live Link Face's 11111)")
    p.add_argument("--fps", type=float, default=None, help="packets per second (default: the animation's rate)")
    p.add_argument("--subject", default="keyframeface", help="Live Link subject name shown in Unreal")
    p.add_argument("--loop", type=int, default=1, help="send the animation this many times (default 1)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import FormatError
    from ..io.registry import read_any
    from ..script import Animation, Keyframes, Script
    from ..stream import parse_address, stream

    host, port = parse_address(args.to)
    obj = read_any(args.input)
    if isinstance(obj, Script):
        from ..generate import generate

        obj = generate(obj)
    if isinstance(obj, Keyframes):
        from ..animate import animate

        obj = animate(obj)
    if not isinstance(obj, Animation):
        raise FormatError(f"{args.input}: nothing to stream")
    report = stream(obj, host, port, fps=args.fps, subject=args.subject, loop=args.loop)
    if not args.quiet:
        print(
            f"sent {report.packets} packets to {host}:{port} as subject {args.subject!r} in {report.duration_s:.2f} s "
            f"at {report.fps:g} fps (lateness mean {report.late_mean_s * 1e3:.2f} ms, "
            f"p99 {report.late_p99_s * 1e3:.2f} ms)",
            file=sys.stderr,
        )
    return 0
