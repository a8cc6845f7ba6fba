"""``keyframeface dataset build|stats|sft|roundtrip``: corpus building, validation, SFT export."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("dataset", help="build, check and export training data",
                       description="Build a reproducible corpus (real captures + synthetic emotion arcs, annotated), "
                       "print a dataset's statistics, export SFT data (ms-swift messages JSONL and a Hugging Face "
                       "datasets folder), or measure the annotation round trip.")
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION")
    dsub.required = True

    b = dsub.add_parser("build", help="build the corpus into a folder", description="Build the corpus: keyframes "
                        "extracted from the shared real captures and synthetic arcs over FACS emotion prototypes, all "
                        "annotated, split by take / emotion family, with a dataset card (README.md).")
    b.add_argument("-o", "--output", default="corpus", help="output folder (default: %(default)s)")
    b.add_argument("--seed", type=int, default=0, help="seed of every random choice (default: %(default)s)")
    b.add_argument("--size", type=int, default=3000, help="number of scripts, real + synthetic (default: %(default)s)")
    b.add_argument("--no-shared", action="store_true", help="synthetic part only, even if the shared captures exist")
    b.set_defaults(run=run_build)

    s = dsub.add_parser("stats", help="validate a dataset and print its statistics (JSON)",
                        description="Load a dataset (any registered layout), validate every clip, print statistics.")
    s.add_argument("path", help="dataset folder (or ms-swift messages .jsonl)")
    s.add_argument("--adapter", default=None, help="dataset adapter (default: detected)")
    s.set_defaults(run=run_stats)

    f = dsub.add_parser("sft", help="export SFT data", description="Write ms-swift messages JSONL per representation "
                        "(the release's request format; the assistant answers with the keyframe's values) and a "
                        "Hugging Face datasets folder.")
    f.add_argument("corpus", help="dataset folder")
    f.add_argument("-o", "--output", required=True, help="output folder")
    f.add_argument("--representation", action="append", default=None,
                   help="representation to write (repeatable; default: all)")
    f.add_argument("--no-hf", action="store_true", help="skip the Hugging Face datasets folder")
    f.add_argument("--adapter", default=None, help="dataset adapter (default: detected)")
    f.set_defaults(run=run_sft)

    r = dsub.add_parser("roundtrip", help="annotate -> rules backend -> values: MAE per region",
                        description="Re-annotate a dataset's keyframes, generate values back from the text with the "
                        "rules backend and print the mean absolute error per region (Markdown).")
    r.add_argument("corpus", help="dataset folder")
    r.add_argument("--split", default=None, help="only this split")
    r.add_argument("--kind", default=None, help="only clips of this kind (real, synthetic)")
    r.add_argument("--limit", type=int, default=None, help="at most this many clips")
    r.add_argument("--seed", type=int, default=0, help="annotation seed (default: %(default)s)")
    r.add_argument("--no-context", action="store_true",
                   help="generate from the descriptions alone (background and emotion blanked)")
    r.set_defaults(run=run_roundtrip)


def run_build(args: argparse.Namespace) -> int:
    from ..data.corpus import build_corpus
    from .common import progress_bar

    with progress_bar(args.size, "arcs", quiet=args.quiet) as update:
        summary = build_corpus(args.output, seed=args.seed, size=args.size, use_shared=not args.no_shared,
                               progress=update)
    if not args.quiet:
        part = f"{summary.takes} real takes" if summary.real_part else "no real captures (shared folder not used)"
        print(f"built {sum(summary.clips_per_split.values())} clips ({summary.keyframes} keyframes; {part}) in "
              f"{summary.seconds:.1f} s -> {summary.root}", file=sys.stderr)
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from ..data.loader import dataset_stats, load_dataset

    stats = dataset_stats(load_dataset(args.path, adapter=args.adapter))
    sys.stdout.write(json.dumps(stats, indent=1, ensure_ascii=False) + "\n")
    return 0


def run_sft(args: argparse.Namespace) -> int:
    from ..data.loader import load_dataset
    from ..data.sft import export_sft

    summary = export_sft(load_dataset(args.corpus, adapter=args.adapter), args.output,
                         representations=args.representation, huggingface=not args.no_hf)
    if not args.quiet:
        print(f"wrote {sum(summary.conversations.values())} conversations per representation "
              f"({', '.join(summary.representations)}) -> {summary.root}", file=sys.stderr)
    return 0


def run_roundtrip(args: argparse.Namespace) -> int:
    from ..data.loader import load_dataset
    from ..semantics.roundtrip import roundtrip

    clips = [c for c in load_dataset(args.corpus)
             if (args.split is None or c.split == args.split) and (args.kind is None or c.kind == args.kind)]
    if args.limit is not None:
        clips = clips[: max(0, args.limit)]
    report = roundtrip([c.resolved() for c in clips], seed=args.seed, context=not args.no_context)
    sys.stdout.write(report.to_markdown())
    return 0
