"""``keyframeface annotate KEYFRAMES.json -o SCRIPT.json``: language descriptions from coefficients."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "annotate", help="keyframes (values) -> descriptions in language",
        description="Describe every keyframe of a keyframes file in one sentence (intensity words calibrated on the "
        "rules composer, sides, gaze, head, changes since the previous keyframe) and in a four-part structured form "
        "(kept in meta.annotation). Deterministic unless --backend names a chat backend that rewrites the sentences.")
    p.add_argument("keyframes", help="keyframes JSON (keyframeface generate / extract / convert output)")
    p.add_argument("-o", "--output", default="-", help="annotated keyframes JSON (a script with values; default: stdout)")
    p.add_argument("--seed", type=int, default=0, help="chooses among equivalent phrasings (default: %(default)s)")
    p.add_argument("--max-facts", type=int, default=6, help="most movements per sentence (default: %(default)s)")
    p.add_argument("--no-values", action="store_true", help="write a plain script (descriptions and times only)")
    p.add_argument("--roundtrip", action="store_true",
                   help="also generate from the new text with the rules backend and print the MAE per region")
    p.add_argument("--backend", default=None,
                   help="chat backend that rewrites each sentence (llama, openai, hf); default: none (deterministic)")
    p.add_argument("--model", default=None, help="model name or GGUF path for the backend")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible server URL (openai backend)")
    p.add_argument("--adapter", default=None, help="LoRA adapter for the backend")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="extra backend option")
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature for the backend")
    p.add_argument("--timeout-s", type=float, default=120.0, help="per-request timeout for the backend")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..script import load_keyframes
    from ..semantics.annotate import annotate
    from .common import backend_options, write_text_output
    from .outputs import save_keyframes

    keys = load_keyframes(args.keyframes)
    options = backend_options(args) if args.backend else None
    out = annotate(keys, seed=args.seed, max_facts=args.max_facts, backend=args.backend, backend_options=options,
                   temperature=args.temperature, timeout_s=args.timeout_s)
    if args.no_values:
        write_text_output(json.dumps(out.script().to_dict(), ensure_ascii=False, indent=1) + "\n", args.output)
    else:
        save_keyframes(out, args.output)
    fallbacks = out.meta["annotation"]["fallbacks"]
    if fallbacks and not args.quiet:
        print(f"keyframeface: {len(fallbacks)} sentence(s) kept the deterministic wording (the backend's answer "
              "was unusable)", file=sys.stderr)
    if args.roundtrip:
        from ..semantics.roundtrip import roundtrip

        report = roundtrip([out], annotated=True)
        print(report.to_markdown(), file=sys.stderr, end="")
    return 0
