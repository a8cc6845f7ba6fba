"""``keyframeface eval``: evaluation commands.

``keyframeface eval --compare rules bundled llama --corpus corpus`` scores each backend on a corpus split (MSE/MAE
overall and per region against the ground-truth keyframes, the semantic check score on the evaluation cases,
R-Precision top-1/2/3, multimodal distance, FID and diversity on the evaluator's embeddings, validity rate,
seconds per keyframe and, for chat backends that count them, prompt and completion tokens per keyframe) and prints
one Markdown table; backends that cannot run here are listed as such.

Each ``--compare`` entry is a backend spec: ``NAME`` or ``NAME:KEY=VALUE,KEY=VALUE`` (no spaces, or quote it),
e.g. ``llama:representation=compact,adapter=none`` or ``openai:model=qwen3,base_url=http://127.0.0.1:8000/v1``.
``representation`` (json, compact, semantic), ``policy`` (strict, repair), ``temperature`` and ``seed`` are
generation options (they override --temperature and --seeds for that row); every other key goes to the backend's
constructor, parsed like ``--option KEY=VALUE`` (JSON when the value is valid JSON, else a string; a value may
hold commas when the text after a comma does not look like ``KEY=``). The table labels each row by its spec.

MSE, MAE, per-region MAE, validity and the semantic scores are shown as ``mean [low, high]``: a 95% percentile
bootstrap interval (1000 resamples, seed 0) over clips, and over cases for the semantic scores (checks passed
and cases fully passed). With several ``--seeds`` and ``--temperature > 0`` the numbers are means over seeds and
the interval pools each seed's clip bootstrap, so it covers clip and seed variation alike; R-Precision, MM
distance, FID and diversity are ``mean ± 1.96·std/√n`` over seeds.

``keyframeface eval run --backend NAME --corpus DIR [--split test]`` does the same for one backend with all the
backend options (model, adapter, temperature ...); ``--keyframes DIR`` scores saved predictions instead (a folder of
``<clip id>.json`` keyframes files, as ``--write-predictions DIR`` writes them).

``keyframeface eval semantic [--backend NAME]`` runs only a semantic test set and prints its report.

``--seeds 0 1 2`` repeats sampled generation (``--temperature > 0``) per seed; ``--json`` writes the full report.

``keyframeface eval motion [--real DIR] [--plots DIR]`` measures the animation engine against real captures
(see ``keyframeface eval motion --help`` and docs/motion.md).

``keyframeface eval merge A.json B.json ... [-o TABLE.md] [--json MERGED.json]`` combines saved reports (slow LLM
rows run separately, on a subset, then merged) into one table with an ``n clips`` column; it notes rows scored on
different splits, limits or clip sets, and refuses reports of different corpus versions unless ``--force``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..errors import FormatError, ScriptError
from ..options import policies, representations
from .common import add_backend_args, backend_options, progress_bar, write_text_output

log = logging.getLogger(__name__)


#: Spec keys that are generation options rather than backend constructor options.
GENERATION_KEYS: Final[tuple[str, ...]] = ("representation", "policy", "temperature", "seed")
_MAX_SPEC_CHARS: Final[int] = 2000
_NAME_RE: Final[re.Pattern[str]] = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")
#: A comma starts a new item only when ``KEY=`` follows it, so JSON values may hold commas.
_ITEM_SPLIT_RE: Final[re.Pattern[str]] = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_-]*\s*=)")


@dataclass(frozen=True)
class BackendSpec:
    """One ``--compare`` entry: ``NAME`` or ``NAME:KEY=VALUE,...`` parsed.

    ``text``: the spec as given (the row label). ``backend_options``: constructor options. ``generate_options``:
    ``representation`` / ``policy`` when given. ``temperature`` / ``seed``: None when the spec leaves them to
    ``--temperature`` / ``--seeds``.
    """

    text: str
    name: str
    backend_options: dict[str, Any] = field(default_factory=dict)
    generate_options: dict[str, Any] = field(default_factory=dict)
    temperature: float | None = None
    seed: int | None = None


def _spec_error(text: str, why: str) -> FormatError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return FormatError(f"backend spec {shown!r}: {why}; expected NAME or NAME:KEY=VALUE,KEY=VALUE, e.g. "
                       "llama:representation=compact,adapter=none")


def parse_backend_spec(text: str) -> BackendSpec:
    """Parse a ``--compare`` entry (see the module docstring). Raises :class:`FormatError` saying what is wrong
    with a malformed spec: empty, too long, control characters, a bad name, an item without ``=``, a key given
    twice, or a bad value for a generation key."""
    if not isinstance(text, str) or not text.strip():
        raise _spec_error(str(text), "empty backend spec")
    text = text.strip()
    if len(text) > _MAX_SPEC_CHARS:
        raise _spec_error(text, f"longer than {_MAX_SPEC_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise _spec_error(text, "control characters are not allowed")
    name, colon, rest = text.partition(":")
    name = name.strip()
    if not _NAME_RE.fullmatch(name):
        raise _spec_error(text, f"{name[:40]!r} is not a backend name (letters, digits, _ . + -)")
    spec_options: dict[str, Any] = {}
    if colon:
        if not rest.strip():
            raise _spec_error(text, "nothing after ':'")
        for item in _ITEM_SPLIT_RE.split(rest):
            if not item.strip() or item.rstrip().endswith(","):
                raise _spec_error(text, "an empty item (two commas, or a trailing comma)")
            try:
                # the same parsing and validation as --option KEY=VALUE
                parsed = backend_options(argparse.Namespace(option=[item.strip()]))
            except ScriptError:
                raise _spec_error(text, f"item {item.strip()[:40]!r} is not KEY=VALUE") from None
            for key, value in parsed.items():
                if key in spec_options:
                    raise _spec_error(text, f"{key!r} given twice")
                spec_options[key] = value
    generate: dict[str, Any] = {}
    temperature: float | None = None
    seed: int | None = None
    for key, valid in (("representation", representations), ("policy", policies)):  # keyframeface.options
        if key in spec_options:
            value = spec_options.pop(key)
            if value not in valid():
                raise _spec_error(text, f"{key} must be one of {', '.join(valid())}, got {value!r}")
            generate[key] = value
    if "temperature" in spec_options:
        value = spec_options.pop("temperature")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise _spec_error(text, f"temperature must be a number >= 0, got {value!r}")
        temperature = float(value)
    if "seed" in spec_options:
        value = spec_options.pop("seed")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _spec_error(text, f"seed must be an integer, got {value!r}")
        seed = value
    return BackendSpec(text, name, spec_options, generate, temperature, seed)


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
    p.add_argument("--cases", default=None, help="semantic cases: a JSON file or packaged sets by name, joined by commas: dev (the rules "
                   "backend's development set), eval, paraphrase, multilingual (default: eval)")
    p.add_argument("--evaluator", default=None, help="evaluator weights .npz (default: the packaged one)")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate backends: errors, semantic checks, R-Precision, FID",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", nargs="+", default=None, metavar="SPEC",
                   help="backends to compare in one table (default: the offline default backend); each SPEC is "
                   "NAME or NAME:KEY=VALUE,KEY=VALUE, e.g. llama:representation=compact,adapter=none "
                   "(representation, policy, temperature, seed are generation options, other keys backend "
                   "options as with --option)")
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
    r.add_argument("--label", default=None,
                   help="the row's name in the table (default: the backend's name, plus :representation=R when "
                   "--representation is given), e.g. to tell adapters apart in `eval merge`")
    r.set_defaults(run=run_one)

    s = evsub.add_parser("semantic", help="run the semantic checks (phrases -> constraints on values)")
    s.add_argument("--backend", default=None, help="backend to evaluate (default: the offline default)")
    s.add_argument("--cases", default=None, help="a cases JSON file or packaged sets by name joined by commas: "
                   "dev (default: the rules backend's development set), eval, paraphrase, multilingual")
    s.add_argument("--json", dest="json_out", default=None, help="write the full report as JSON to this file")
    s.add_argument("--failures", action="store_true", help="list every failed check")
    s.set_defaults(run=run_semantic)

    m = evsub.add_parser("merge", help="combine saved JSON reports into one table",
                         description="Combine saved evaluation reports (eval --compare ... --json, eval run ... "
                         "--json) into one Markdown table. Rows keep their own clip counts (n clips); the notes "
                         "say when rows were scored on different splits, limits, clip sets or evaluators. Reports "
                         "of different corpus versions are refused unless --force.")
    m.add_argument("reports", nargs="+", metavar="REPORT", help="JSON reports to merge, in row order")
    m.add_argument("-o", "--output", default=None, help="write the Markdown table here (default: stdout)")
    m.add_argument("--json", dest="json_out", default=None, help="also write the merged report as JSON")
    m.add_argument("--force", action="store_true", help="merge reports of different corpus versions anyway")
    m.set_defaults(run=run_merge)

    from .cmd_eval_motion import add_motion_parser

    add_motion_parser(evsub)


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
    from ..evaluate.runner import load_split, real_pairs_ceiling
    from ..models.evaluator.inference import load_evaluator

    if not args.corpus:
        raise FormatError("give --corpus DIR: a dataset folder; build one with `keyframeface dataset build -o corpus`")
    clips = load_split(args.corpus, split=args.split, limit=args.limit)
    evaluator = load_evaluator(args.evaluator)
    recipe = evaluator.recipe
    info = {"sha256": recipe.get("sha256"), "corpus": (recipe.get("corpus") or {}).get("manifest_sha256"),
            "metrics_real_pairs": recipe.get("metrics_real_pairs"), "path": args.evaluator or "packaged"}
    ceiling = real_pairs_ceiling(clips, seeds=args.seeds, evaluator=evaluator)
    ceiling["clips"] = float(len(clips))
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
    manifest = Path(args.corpus) / "manifest.jsonl"
    if manifest.is_file():  # the corpus version `eval merge` compares (as the evaluator's recipe records it)
        digest = hashlib.sha256()
        with manifest.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        info["manifest_sha256"] = digest.hexdigest()
    return info


def _finish(args: argparse.Namespace, report: Any) -> int:
    from ..evaluate.report import write_report

    sys.stdout.write(report.to_markdown())
    if args.json_out:
        write_report(report, args.json_out)
    return 0


def _probe(name: str, options: dict[str, Any] | None = None) -> str | None:
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
    return probe_backend(name, options=options)


def run_compare(args: argparse.Namespace) -> int:
    from ..backends.registry import default_backend_name
    from ..evaluate.report import EvalReport
    from ..evaluate.runner import BackendEvaluation, evaluate_backend, neutral_baseline

    specs = [parse_backend_spec(text) for text in (args.compare or [default_backend_name()])]
    clips, evaluator, ev_info, ceiling = _context(args)
    rows, timings = [], {}
    for spec in specs:
        reason = _probe(spec.name, spec.backend_options) if args.probe else None
        if reason is not None:
            rows.append(BackendEvaluation(spec.text, False, reason))
            continue
        start = time.perf_counter()
        temperature = args.temperature if spec.temperature is None else spec.temperature
        seeds = args.seeds if spec.seed is None else [spec.seed]
        with progress_bar(len(clips), f"eval {spec.text}", quiet=bool(getattr(args, "quiet", False))) as update:
            row = evaluate_backend(spec.name, clips, seeds=seeds, temperature=temperature,
                                   backend_options=spec.backend_options, generate_options=spec.generate_options,
                                   semantic=args.semantic, cases_path=args.cases, evaluator=evaluator,
                                   progress=update, label=spec.text)
        rows.append(row)
        if row.available:
            timings[spec.text] = time.perf_counter() - start
    if args.baseline:
        rows.append(neutral_baseline(clips, seeds=args.seeds, evaluator=evaluator))
    report = EvalReport(tuple(rows), args.split, _corpus_info(args), ceiling, ev_info, timings, args.limit)
    return _finish(args, report)


def run_merge(args: argparse.Namespace) -> int:
    from ..evaluate.report import load_report, merge_reports, write_report

    loaded = [(Path(p).name, load_report(p)) for p in args.reports]
    merged = merge_reports(loaded, force=args.force)
    write_text_output(merged.to_markdown(), args.output)
    if args.json_out:
        write_report(merged, args.json_out)
    return 0


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
                                   progress=update, keep_runs=runs, label=_row_label(args))
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
                        {row.backend: time.perf_counter() - start}, args.limit)
    return _finish(args, report)


def _row_label(args: argparse.Namespace) -> str | None:
    """``--label``, or the backend's name with the representation when one was chosen (``None``: the default)."""
    if args.label:
        return str(args.label)
    if args.representation and args.representation != "json":
        from ..backends.registry import DEFAULT_BACKEND

        return f"{args.backend or DEFAULT_BACKEND}:representation={args.representation}"
    return None
