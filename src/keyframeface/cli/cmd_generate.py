"""``keyframeface generate SCRIPT.json -o KEYFRAMES.json``: keyframes only."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import GenerationError, ScriptError
from ..script import Keyframes, save_json
from .common import (
    add_backend_args,
    add_script_args,
    backend_options,
    progress_bar,
    read_script_arg,
    write_text_output,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("generate", help="script -> keyframes JSON (61 values per keyframe)",
                       description="Generate 61 ARKit values for every keyframe of a script.")
    add_script_args(p)
    add_backend_args(p)
    p.add_argument("-o", "--output", default="-", help="keyframes JSON file (default: stdout)")
    p.add_argument("--explain", action="store_true",
                   help="record which phrase produced which channels (meta.explanations) and print it to stderr")
    p.set_defaults(run=run)


def run_generate(args: argparse.Namespace) -> Keyframes:
    """Shared by ``generate`` and ``animate``: generate with a progress bar; partial results are re-raised."""
    from ..generate import generate

    script = read_script_arg(args)
    if script.needs_planning:  # plan first so the progress bar counts the real keyframes
        from ..plan import plan

        script = plan(script.text or "", backend=args.backend, seed=args.seed,
                      backend_options=backend_options(args), timeout_s=args.timeout_s)
    with progress_bar(len(script.keyframes), "generate", quiet=args.quiet) as update:
        keys = generate(
            script,
            backend=args.backend,
            seed=args.seed,
            policy=args.policy,
            concurrency=args.concurrency,
            representation=args.representation,
            temperature=args.temperature,
            timeout_s=args.timeout_s,
            backend_options=backend_options(args),
            explain=getattr(args, "explain", False),
            progress=update,
        )
    blank = (keys.meta.get("language") or {}).get("blank") or []
    if getattr(args, "strict", False) and blank:
        from ..generate import blank_message

        i = blank[0]
        cov = keys.meta["language"]["coverage"][str(i)]
        raise ScriptError(f"--strict: {blank_message(i, script.keyframes[i].description, cov)}"
                          + (f" (and {len(blank) - 1} more)" if len(blank) > 1 else ""), field=f"keyframes[{i}]")
    return keys


def print_explanations(keys: Keyframes) -> None:
    explanations = keys.meta.get("explanations") or {}
    for i, kf in enumerate(keys.keyframes):
        print(f"keyframe {i + 1}: {kf.description}", file=sys.stderr)
        for record in explanations.get(str(i), []):
            channels = ", ".join(f"{n}={v:.2f}" for n, v in dict(record.get("channels", {})).items())
            print(f"  {record.get('phrase', '')!r} [{record.get('rule', '')}] -> {channels}", file=sys.stderr)


def save_keyframes(keys: Keyframes, output: str) -> None:
    if output == "-":
        write_text_output(json.dumps(keys.to_dict(), ensure_ascii=False, indent=1) + "\n", None)
    else:
        save_json(keys, output)


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
