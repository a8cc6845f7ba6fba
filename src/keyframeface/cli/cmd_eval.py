"""``keyframeface eval``: evaluation commands.

``keyframeface eval --compare rules bundled llama --corpus corpus`` scores each backend on a corpus split (MSE/MAE
overall and per region against the ground-truth keyframes, the semantic check score on the evaluation cases,
R-Precision top-1/2/3, multimodal distance, FID and diversity on the evaluator's embeddings, validity rate and
seconds per keyframe) and prints one Markdown table; backends that cannot run here are listed as such.

``keyframeface eval run --backend NAME --corpus DIR [--split test]`` does the same for one backend with all the
backend options (model, adapter, temperature ...); ``--keyframes DIR`` scores saved predictions instead (a folder of
``<clip id>.json`` keyframes files, as ``--write-predictions DIR`` writes them).

``keyframeface eval semantic [--backend NAME]`` runs only a semantic test set and prints its report.

``--seeds 0 1 2`` repeats sampled generation (``--temperature > 0``) per seed and reports mean ± 95% CI; ``--json``
writes the full report.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import FormatError
from .common import add_backend_args, backend_options, progress_bar, write_text_output

log = logging.getLogger(__name__)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None, help="dataset folder (keyframeface dataset build -o corpus)")
    p.add_argument("--split", default="test", choices=("train", "validation", "test"),
                   help="split to evaluate on (default: %(default)s)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="SEED",
                   help="seeds: one sampled generation per seed when --temperature > 0, and the R-Precision batch "
                   "shuffles (default: 0)")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N clips of the split")
    p.add_argument("--json", dest="json_out", default=None, help="write the full report as JSON to this file")
    p.add_argument("--no-semantic", dest="semantic", action="store_false",
                   help="skip the semantic checks on the evaluation cases")
    p.add_argument("--cases", default=None, help="semantic cases JSON (default: the packaged evaluation cases)")
    p.add_argument("--evaluator", default=None, help="evaluator weights .npz (default: the packaged one)")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate backends: errors, semantic checks, R-Precision, FID",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", nargs="+", default=None, metavar="BACKEND",
                   help="backends to compare in one table (default: the offline default backend)")
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature for LLM backends")
    p.add_argument("--no-baseline", dest="baseline", action="store_false",
                   help="leave out the neutral-face baseline row")
    p.add_argument("--no-probe", dest="probe", action="store_false",
                   help="do not test-run LLM backends in a child process first (a native crash then ends the "
                   "whole comparison)")
    _add_common(p)
    p.set_defaults(run=run_compare)
    evsub = p.add_subparsers(dest="eval_command", metavar="SUITE")
    evsub.required = False

    r = evsub.add_parser("run", help="evaluate one backend (with its options) or saved keyframes on a split",
                         description="Evaluate one backend, or a folder of predicted keyframes, on a corpus split.")
    add_backend_args(r)
    _add_common(r)
    r.add_argument("--keyframes", default=None,
                   help="score saved predictions: a folder of <clip id>.json keyframes files instead of a backend")
    r.add_argument("--write-predictions", default=None, metavar="DIR",
                   help="also write each clip's generated keyframes to DIR/<clip id>.json")
    r.set_defaults(run=run_one)

    s = evsub.add_parser("semantic", help="run the semantic checks (phrases -> constraints on values)")
    s.add_argument("--backend", default=None, help="backend to evaluate (default: the offline default)")
    s.add_argument("--cases", default=None, help="a cases JSON file (default: the rules backend's set; use "
                   "--cases eval for the evaluation set)")
    s.add_argument("--json", dest="json_out", default=None, help="write the full report as JSON to this file")
    s.add_argument("--failures", action="store_true", help="list every failed check")
    s.set_defaults(run=run_semantic)


def run_semantic(args: argparse.Namespace) -> int:
    from ..backends.registry import get_backend
    from ..evaluate.runner import EVAL_CASES_PATH
    from ..evaluate.semantic_checks import run_semantic_suite

    backend = get_backend(args.backend)
    cases = EVAL_CASES_PATH if args.cases == "eval" else args.cases
    report = run_semantic_suite(backend, cases_path=cases)
    sys.stdout.write(report.to_markdown(failures=args.failures) + "\n")
    if args.json_out:
        write_text_output(json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n", args.json_out)
    return 0


def _context(args: argparse.Namespace) -> tuple[list[Any], Any, dict[str, Any], dict[str, float]]:
    from ..evaluate.evaluator import load_evaluator
    from ..evaluate.runner import load_split, real_pairs_ceiling

    if not args.corpus:
        raise FormatError("give --corpus DIR: a dataset folder; build one with `keyframeface dataset build -o corpus`")
    clips = load_split(args.corpus, split=args.split, limit=args.limit)
    evaluator = load_evaluator(args.evaluator)
    recipe = evaluator.recipe
    info = {"sha256": recipe.get("sha256"), "corpus": (recipe.get("corpus") or {}).get("manifest_sha256"),
            "metrics_real_pairs": recipe.get("metrics_real_pairs"), "path": args.evaluator or "packaged"}
    ceiling = real_pairs_ceiling(clips, seeds=args.seeds, evaluator=evaluator)
    return clips, evaluator, info, ceiling


def _corpus_info(args: argparse.Namespace) -> dict[str, Any]:
    info: dict[str, Any] = {"path": str(args.corpus)}
    meta = Path(args.corpus) / "dataset.json"
    if meta.is_file():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            info.update({"name": data.get("name"), "created": data.get("created"), "generator": data.get("generator")})
        except (OSError, ValueError):
            log.warning("could not read %s", meta)
    return info


def _finish(args: argparse.Namespace, report: Any) -> int:
    from ..evaluate.report import write_report

    sys.stdout.write(report.to_markdown())
    if args.json_out:
        write_report(report, args.json_out)
    return 0


def _probe(name: str) -> str | None:
    """Why backend ``name`` cannot run (crashes in a child process), or None. Only chat (LLM) backends that are
    available are probed: they load native engines; unknown or unavailable ones are reported by the run itself."""
    from ..backends.registry import resolve_backend_class
    from ..errors import BackendUnavailableError
    from ..evaluate.runner import probe_backend

    try:
        cls = resolve_backend_class(name)
    except BackendUnavailableError:
        return None
    if not cls.capabilities.chat or not cls.availability()[0]:
        return None
    log.info("probing backend %s in a child process", name)
    return probe_backend(name)


def run_compare(args: argparse.Namespace) -> int:
    from ..backends.registry import DEFAULT_BACKEND
    from ..evaluate.report import EvalReport
    from ..evaluate.runner import BackendEvaluation, evaluate_backend, neutral_baseline

    names = args.compare or [DEFAULT_BACKEND]
    clips, evaluator, ev_info, ceiling = _context(args)
    rows, timings = [], {}
    for name in names:
        reason = _probe(name) if args.probe else None
        if reason is not None:
            rows.append(BackendEvaluation(name, False, reason))
            continue
        start = time.perf_counter()
        with progress_bar(len(clips), f"eval {name}", quiet=bool(getattr(args, "quiet", False))) as update:
            row = evaluate_backend(name, clips, seeds=args.seeds, temperature=args.temperature,
                                   semantic=args.semantic, cases_path=args.cases, evaluator=evaluator,
                                   progress=update)
        rows.append(row)
        if row.available:
            timings[name] = time.perf_counter() - start
    if args.baseline:
        rows.append(neutral_baseline(clips, seeds=args.seeds, evaluator=evaluator))
    report = EvalReport(tuple(rows), args.split, _corpus_info(args), ceiling, ev_info, timings)
    return _finish(args, report)


def run_one(args: argparse.Namespace) -> int:
    from ..evaluate.report import EvalReport
    from ..evaluate.runner import SplitRun, evaluate_backend, evaluate_keyframes, load_predictions
    from ..io.atomic import atomic_write_text

    clips, evaluator, ev_info, ceiling = _context(args)
    start = time.perf_counter()
    if args.keyframes:
        row = evaluate_keyframes(load_predictions(args.keyframes), clips, name=Path(args.keyframes).name,
                                 seeds=args.seeds, evaluator=evaluator)
    else:
        runs: list[SplitRun] = []
        generate_options = {"policy": args.policy, "representation": args.representation,
                            "timeout_s": args.timeout_s, "concurrency": args.concurrency}
        seeds = args.seeds if args.seed is None else [args.seed]
        with progress_bar(len(clips), f"eval {args.backend or 'default'}", quiet=bool(args.quiet)) as update:
            row = evaluate_backend(args.backend, clips, seeds=seeds, temperature=args.temperature,
                                   backend_options=backend_options(args), generate_options=generate_options,
                                   semantic=args.semantic, cases_path=args.cases, evaluator=evaluator,
                                   progress=update, keep_runs=runs)
        if not row.available:
            raise FormatError(f"cannot evaluate: {row.reason}")
        if args.write_predictions and runs:
            import numpy as np

            from ..script import Keyframes

            out = Path(args.write_predictions)
            out.mkdir(parents=True, exist_ok=True)
            for cid, truth, pred in zip(runs[0].clip_ids, runs[0].truths, runs[0].predictions, strict=True):
                # failed keyframes (NaN rows) stay without values, as generate() leaves them
                kfs = tuple(kf.with_values(p) if np.all(np.isfinite(p)) else kf
                            for kf, p in zip(truth.script().keyframes, pred, strict=True))
                doc = Keyframes(keyframes=kfs, background=truth.background, emotion=truth.emotion,
                                meta={"backend": row.backend, "clip": cid})
                atomic_write_text(out / f"{cid}.json", json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
    report = EvalReport((row,), args.split, _corpus_info(args), ceiling, ev_info,
                        {row.backend: time.perf_counter() - start})
    return _finish(args, report)
