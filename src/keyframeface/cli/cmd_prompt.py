"""``keyframeface prompt SCRIPT.json -o REQUESTS.jsonl``: the release-format requests, one per keyframe."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_script_args, read_script_arg, write_text_output


def add_parser(sub: Any) -> None:
    p = sub.add_parser("prompt", help="script -> release-format requests (ms-swift messages jsonl)",
                       description="Write the KeyframeFace release's requests for a script, one line per keyframe, "
                       "byte-compatible with the authors' example.jsonl (feed it to `swift infer`).")
    add_script_args(p)
    p.add_argument("-o", "--output", default="-", help="requests .jsonl (default: stdout)")
    p.add_argument("--representation", default="json", help="answer representation the prompt asks for")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .. import prompt

    script = read_script_arg(args)
    if script.needs_planning:
        from ..plan import plan

        script = plan(script.text or "")
    write_text_output(prompt.requests_jsonl(script, representation=args.representation), args.output)
    return 0
