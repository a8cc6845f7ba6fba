"""``keyframeface backends``: every backend, whether it is usable here, and why not."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("backends", help="list backends and whether they are usable here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..backends.registry import list_backends

    rows = list_backends()
    if args.json:
        sys.stdout.write(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        mark = "yes" if r.usable else "no "
        kind = "chat" if r.chat else "direct"
        default = " (default)" if r.default else ""
        sys.stdout.write(f"{r.name:<{width}}  {mark}  {kind:<6}  {r.reason}{default}\n")
    return 0
