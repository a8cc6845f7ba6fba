"""``keyframeface prompt SCRIPT... -o REQUESTS.jsonl``: the requests for a script, one per keyframe, as the release's
ms-swift messages (``--format release``) or as OpenAI Batch / ``vllm run-batch`` lines (``--format openai-batch``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ScriptError
from .common import backend_options, read_script_arg, write_text_output

FORMATS = ("release", "openai-batch")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("prompt", help="scripts -> requests .jsonl (release ms-swift, or OpenAI Batch / vllm run-batch)",
                       description="Write the requests for scripts, one line per keyframe. --format release (default): "
                       "the KeyframeFace release's ms-swift messages, byte-compatible with the authors' example.jsonl "
                       "(one script; feed it to `swift infer`). --format openai-batch: OpenAI Batch API / `vllm "
                       "run-batch` request lines for one or more scripts, each body the request the openai backend "
                       "sends; `keyframeface convert RESULTS.jsonl -o out/` reads the results back (docs/batch.md).")
    p.add_argument("scripts", nargs="*", metavar="SCRIPT",
                   help="script JSON/YAML files (several with --format openai-batch), or - for stdin")
    p.add_argument("--text", help="one free sentence to plan into a script instead of a file")
    p.add_argument("-o", "--output", default="-", help="requests .jsonl (default: stdout)")
    p.add_argument("--format", default="release", choices=FORMATS, help="request format (default: release)")
    p.add_argument("--representation", default="json", help="answer representation the prompt asks for")
    p.add_argument("--model", default=None, help="openai-batch: the model name every line asks for (required)")
    p.add_argument("--adapter", default=None, help="openai-batch: a LoRA module name, sent as the model")
    p.add_argument("--temperature", type=float, default=0.0, help="openai-batch: sampling temperature (default: 0)")
    p.add_argument("--seed", type=int, default=None, help="openai-batch: sampling seed sent in every line")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="openai-batch: an openai backend option shaping the body (repeatable): engine=openai|vllm|"
                   "vllm-legacy|llamacpp|ollama|generic (default openai), structured=..., max_tokens=N, "
                   "enable_thinking=false, extra_body={...}")
    p.set_defaults(run=run)


def _scripts(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """``(name, Script)`` for each SCRIPT (name: the file stem; ``stdin`` for ``-``) or for ``--text``."""
    from ..plan import plan

    if args.text and args.scripts:
        raise ScriptError("give SCRIPT files or --text, not both")
    if args.text:
        items = [("text", read_script_arg(argparse.Namespace(script=None, text=args.text)))]
    elif args.scripts:
        items = [(Path(s).stem if s != "-" else "stdin", read_script_arg(argparse.Namespace(script=s, text=None)))
                 for s in args.scripts]
    else:
        raise ScriptError("give a SCRIPT file (or - for stdin) or --text \"...\"")
    return [(name, plan(script.text or "") if script.needs_planning else script) for name, script in items]


def run(args: argparse.Namespace) -> int:
    from .. import prompt

    scripts = _scripts(args)
    if args.format == "release":
        if len(scripts) > 1:
            raise ScriptError("a release request file holds one script; give one SCRIPT, or use --format "
                              "openai-batch for several")
        write_text_output(prompt.requests_jsonl(scripts[0][1], representation=args.representation), args.output)
        return 0
    from ..io.openai_batch import batch_requests_jsonl

    options = backend_options(args)
    model = options.pop("model", None)
    text = batch_requests_jsonl(scripts, model=model, representation=args.representation,
                                temperature=args.temperature, seed=args.seed, **options)
    write_text_output(text, args.output)
    return 0
