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

from .lazy_defaults import LazyConfig, resolve_defaults


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train models (the evaluator, the bundled grounding head, LoRA adapters)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = p.add_subparsers(dest="train_command", metavar="MODEL")
    tsub.required = True
    e = tsub.add_parser("evaluator", help="train the text / keyframe-sequence evaluator (needs torch)",
                        description="Contrastive (InfoNCE) training of the evaluator on a corpus's (script, "
                        "keyframes) pairs, exported for numpy inference.")
    e.add_argument("--corpus", required=True, help="dataset folder (keyframeface dataset build -o corpus)")
    e.add_argument("-o", "--output", default="evaluator.npz", help="weights file, .npz (default: %(default)s); "
                   "the recipe goes beside it as .json")
    # the config classes are read only for --help or a run (lazy_defaults): building the CLI stays import-light
    defaults = LazyConfig("keyframeface.models.evaluator.train:EvaluatorConfig")
    e.add_argument("--seed", type=int, default=defaults.field("seed"), help="seed (default: %(default)s)")
    e.add_argument("--epochs", type=int, default=defaults.field("epochs"), help="epochs (default: %(default)s)")
    e.add_argument("--batch-size", type=int, default=defaults.field("batch_size"), help="pairs per batch (default: %(default)s)")
    e.add_argument("--lr", type=float, default=defaults.field("lr"), help="peak learning rate (default: %(default)s)")
    e.add_argument("--buckets", type=int, default=defaults.field("buckets"), help="hashed text features (default: %(default)s)")
    e.add_argument("--hidden", type=int, default=defaults.field("hidden"), help="hidden width (default: %(default)s)")
    e.add_argument("--embed", type=int, default=defaults.field("embed"), help="embedding width (default: %(default)s)")
    e.add_argument("--threads", type=int, default=defaults.field("threads"), help="torch CPU threads (default: %(default)s)")
    e.set_defaults(run=run_evaluator)

    bd = LazyConfig("keyframeface.models.bundled.train:BundledConfig")
    b = tsub.add_parser("bundled", help="rebuild the bundled backend's grounding head (numpy; needs [bundled])",
                        description="Train the bundled backend's grounding head: the corpus's training clauses and "
                        "phrases from the rule lexicon, labelled by the rule parser, embedded with the sentence "
                        "encoder; a softmax regression fitted with numpy. Writes OUTPUT.npz and the recipe "
                        "OUTPUT.json (config, corpus version, encoder sha256, seed, metrics, sha256 of the weights). "
                        "Use it with `--backend bundled --option head=OUTPUT.npz`, or replace the packaged "
                        "keyframeface/models/bundled/bundled-head.npz to ship it.")
    b.add_argument("--corpus", required=True, help="dataset folder (keyframeface dataset build -o corpus)")
    b.add_argument("-o", "--output", default="bundled-head.npz", help="weights file, .npz (default: %(default)s); "
                   "the recipe goes beside it as .json")
    b.add_argument("--seed", type=int, default=bd.field("seed"), help="seed (default: %(default)s)")
    b.add_argument("--steps", type=int, default=bd.field("steps"), help="full-batch Adam steps (default: %(default)s)")
    b.add_argument("--lr", type=float, default=bd.field("lr"), help="learning rate (default: %(default)s)")
    b.add_argument("--l2", type=float, default=bd.field("l2"), help="L2 weight decay (default: %(default)s)")
    b.add_argument("--lexicon-samples", type=int, default=bd.field("lexicon_samples"),
                   help="sampled phrases per lexicon pattern (default: %(default)s)")
    b.add_argument("--min-none-kept", type=float, default=bd.field("min_none_kept"),
                   help="held-out share of no-action clauses the threshold must leave alone (default: %(default)s)")
    b.add_argument("--min-precision", type=float, default=bd.field("min_precision"),
                   help="held-out precision the grounding threshold must reach (default: %(default)s)")
    b.add_argument("--encoder", default=None, help="all-MiniLM-L6-v2 ONNX file (default: the [bundled] package's)")
    b.set_defaults(run=run_bundled)

    from .cmd_train_lora import add_lora_parser

    add_lora_parser(tsub)

    from .cmd_train_motion import add_motion_parser

    add_motion_parser(tsub)


def run_evaluator(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..models.evaluator.train import EvaluatorConfig, train_evaluator
    from .common import progress_bar

    resolve_defaults(args)
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


def run_bundled(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..errors import FormatError
    from ..models.bundled.train import BundledConfig, train_bundled
    from .common import progress_bar

    resolve_defaults(args)
    for name, value, low in (("--steps", args.steps, 1), ("--lexicon-samples", args.lexicon_samples, 0)):
        if value < low:
            raise FormatError(f"{name} must be at least {low}, got {value}")
    if not 0.0 < args.min_precision <= 1.0 or not 0.0 <= args.min_none_kept <= 1.0 or not args.lr > 0 \
            or not args.l2 >= 0:
        raise FormatError("--min-precision must be in (0, 1], --min-none-kept in [0, 1], --lr > 0 and --l2 >= 0")
    cfg = replace(BundledConfig(), seed=args.seed, steps=args.steps, lr=args.lr, l2=args.l2,
                  lexicon_samples=args.lexicon_samples, min_precision=args.min_precision,
                  min_none_kept=args.min_none_kept)
    encode = info = None
    if args.encoder:
        from ..models.bundled.encoder import load_encoder

        enc = load_encoder(args.encoder)
        encode, info = enc.encode, enc.describe()
    with progress_bar(cfg.steps, "train bundled", quiet=bool(args.quiet)) as update:
        result = train_bundled(args.corpus, args.output, config=cfg, encode=encode, encoder_info=info,
                               progress=update)
    summary = {"weights": str(result.weights_path), "recipe": str(result.recipe_path),
               "train_s": round(result.train_s, 1), "threshold": result.recipe["threshold"],
               "phrases": result.recipe["phrases"], "metrics_validation": result.recipe["metrics_validation"],
               "sha256": result.recipe["sha256"]}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0
