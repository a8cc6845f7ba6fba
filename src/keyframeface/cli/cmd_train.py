"""``keyframeface train evaluator``: train the text / keyframe-sequence evaluator used by ``keyframeface eval``.

Needs the ``[train]`` extra (torch). Writes ``OUTPUT.npz`` (weights for numpy inference) and ``OUTPUT.json`` (the
full config, corpus version, seed, metrics on real pairs and the weights' sha256). Use it with
``keyframeface eval --evaluator OUTPUT.npz``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train models (the evaluation model)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = p.add_subparsers(dest="train_command", metavar="MODEL")
    tsub.required = True
    e = tsub.add_parser("evaluator", help="train the text / keyframe-sequence evaluator (needs torch)",
                        description="Contrastive (InfoNCE) training of the evaluator on a corpus's (script, "
                        "keyframes) pairs, exported for numpy inference.")
    e.add_argument("--corpus", required=True, help="dataset folder (keyframeface dataset build -o corpus)")
    e.add_argument("-o", "--output", default="evaluator.npz", help="weights file, .npz (default: %(default)s); "
                   "the recipe goes beside it as .json")
    from ..train.evaluator import EvaluatorConfig

    defaults = EvaluatorConfig()
    e.add_argument("--seed", type=int, default=defaults.seed, help="seed (default: %(default)s)")
    e.add_argument("--epochs", type=int, default=defaults.epochs, help="epochs (default: %(default)s)")
    e.add_argument("--batch-size", type=int, default=defaults.batch_size, help="pairs per batch (default: %(default)s)")
    e.add_argument("--lr", type=float, default=defaults.lr, help="peak learning rate (default: %(default)s)")
    e.add_argument("--buckets", type=int, default=defaults.buckets, help="hashed text features (default: %(default)s)")
    e.add_argument("--hidden", type=int, default=defaults.hidden, help="hidden width (default: %(default)s)")
    e.add_argument("--embed", type=int, default=defaults.embed, help="embedding width (default: %(default)s)")
    e.add_argument("--threads", type=int, default=defaults.threads, help="torch CPU threads (default: %(default)s)")
    e.set_defaults(run=run_evaluator)


def run_evaluator(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..train.evaluator import EvaluatorConfig, train_evaluator
    from .common import progress_bar

    cfg = replace(EvaluatorConfig(), seed=args.seed, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  buckets=args.buckets, hidden=args.hidden, embed=args.embed, threads=args.threads)
    with progress_bar(cfg.epochs, "train evaluator", quiet=bool(args.quiet)) as update:
        result = train_evaluator(args.corpus, args.output, config=cfg,
                                 progress=lambda done, total, _loss: update(done, total))
    summary = {"weights": str(result.weights_path), "recipe": str(result.recipe_path),
               "train_s": round(result.train_s, 1), "best_epoch": result.recipe["best_epoch"],
               "metrics_real_pairs": result.recipe["metrics_real_pairs"]}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0
