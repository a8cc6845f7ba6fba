"""Run a backend (or saved keyframes) over a corpus split and score it.

:func:`evaluate_backend` is what ``keyframeface eval run`` and ``keyframeface eval --compare`` call: for every clip
of the split it asks the backend for the clip's keyframes from the clip's script (background, emotion,
descriptions; the ground-truth values withheld), times it, and scores the result with :func:`score_run`:

* MSE / MAE against the corpus's ground-truth values, overall and per region (keyframes that failed to generate
  are left out of these and counted by the validity rate);
* validity rate (keyframes that came back as 61 valid values with no repair warning / keyframes asked) and
  seconds per keyframe;
* tokens per keyframe for chat backends that count them (:meth:`Backend.usage`): the prompt and completion
  token counts added during the generation runs (not the semantic cases), divided by the keyframes asked (every
  keyframe of every generation, failed ones included: their tokens were spent too);
* R-Precision top-1/2/3 and multimodal distance between the scripts' and the generated sequences' evaluator
  embeddings, FID between generated and ground-truth sequence embeddings, diversity of the generated ones
  (Guo et al. 2022); a failed keyframe counts as the neutral face there;
* the semantic check score on ``evaluate/data/eval_cases.json`` (:func:`run_semantic_suite`).

With ``temperature > 0`` generation is repeated once per seed and every number is reported as mean and 95% CI;
with greedy decoding (or a deterministic backend) it runs once and the seeds only reshuffle R-Precision batches and
diversity pairs, as HumanML3D's evaluation repeats them.

MSE, MAE (overall and per region), validity and the semantic scores also get a percentile-bootstrap 95% interval
(:mod:`keyframeface.evaluate.intervals`): clips (or semantic cases) resampled with replacement, 1000 replicates
per generation with bootstrap seed 0, pooled over the sampled seeds, so the interval covers clip and seed
variation; deterministic runs get the clip bootstrap alone. They are in :attr:`BackendEvaluation.intervals`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from .. import rig
from ..errors import BackendUnavailableError, FormatError, GenerationError, KeyframeFaceError
from ..models.evaluator.inference import Evaluator, load_evaluator
from ..script import Keyframes, load_keyframes
from .intervals import Interval, ratio_interval
from .metrics import (
    diversity,
    frechet_distance,
    keyframe_errors,
    mean_ci,
    multimodal_distance,
    r_precision,
    region_indices,
)

__all__ = [
    "EVAL_CASES_PATH",
    "BackendEvaluation",
    "SplitRun",
    "clip_units",
    "evaluate_backend",
    "evaluate_keyframes",
    "evaluate_predictions",
    "load_predictions",
    "load_split",
    "neutral_baseline",
    "probe_backend",
    "real_pairs_ceiling",
    "run_backend",
    "score_run",
]

log = logging.getLogger(__name__)

#: The evaluation's own semantic cases (written for evaluation, kept apart from the corpus and the rules tests).
EVAL_CASES_PATH: Final[Path] = Path(__file__).resolve().parent / "data" / "eval_cases.json"

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class SplitRun:
    """One pass of a generator over clips.

    ``truths``: ground truth per clip, (K_i, 61) float32, with its text (``Keyframes``). ``predictions``: the
    generated (K_i, 61) float32 values, rows of failed keyframes NaN. ``seconds``: wall-clock generation time.
    ``failures``: clip id -> first error line. ``repaired``: clip id -> keyframes whose values came back with a
    repair warning (``policy="repair"`` filled or clamped them; they are scored but not counted as valid).
    """

    backend: str
    clip_ids: tuple[str, ...]
    truths: tuple[Keyframes, ...]
    predictions: tuple[np.ndarray, ...]
    seconds: float
    seed: int | None = None
    failures: Mapping[str, str] = field(default_factory=dict)
    repaired: Mapping[str, int] = field(default_factory=dict)

    @property
    def keyframes_total(self) -> int:
        return sum(len(t) for t in self.truths)

    @property
    def keyframes_valid(self) -> int:
        """Keyframes with 61 finite values and no repair warning."""
        finite = int(sum(np.sum(np.all(np.isfinite(p), axis=1)) for p in self.predictions))
        return finite - sum(self.repaired.values())


def load_split(corpus: str | Path, *, split: str = "test", limit: int | None = None) -> list[Any]:
    """The clips of ``split`` of the dataset at ``corpus`` (any adapter), first ``limit`` of them if given."""
    from ..data import load_dataset
    from ..data.layout import SPLITS

    if split not in SPLITS:
        raise FormatError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    clips = load_dataset(corpus).split(split)
    if not clips:
        raise FormatError(f"{corpus} has no clips in split {split!r}")
    if limit is not None:
        if limit < 1:
            raise FormatError(f"limit must be at least 1, got {limit}")
        clips = clips[:limit]
    return clips


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    """``seeds`` as a non-empty list of integers, or :class:`FormatError` saying what to pass."""
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in out):
        raise FormatError(f"seeds must be one or more integers, got {out!r}; pass e.g. seeds=(0, 1, 2)")
    return out


def _check_generate_options(options: Mapping[str, Any] | None, reserved: Sequence[str]) -> dict[str, Any]:
    """``options`` as a dict, refusing keys the evaluation sets itself (they would be passed twice)."""
    out = dict(options or {})
    clash = [k for k in reserved if k in out]
    if clash:
        raise FormatError(f"generate_options must not contain {', '.join(clash)}: the evaluation sets "
                          f"{' and '.join(clash)} itself; use the seeds/temperature arguments instead")
    return out


def run_backend(
    backend: Any,
    clips: Sequence[Any],
    *,
    seed: int | None = None,
    generate_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> SplitRun:
    """Generate every clip's keyframes with ``backend`` (a ready :class:`Backend`) from its script alone.

    ``generate_options``: keyword arguments for :func:`keyframeface.generate.generate` (temperature, policy ...).
    Failed keyframes (:class:`GenerationError`) become NaN rows; any other :class:`KeyframeFaceError` fails the
    whole clip. ``progress(done, total)`` after each clip.
    """
    from ..generate import generate

    options = _check_generate_options(generate_options, ("seed",))
    truths, preds, ids = [], [], []
    failures: dict[str, str] = {}
    repaired: dict[str, int] = {}
    seconds = 0.0
    for n, clip in enumerate(clips):
        truth = clip.resolved()
        script = truth.script()
        pred = np.full((len(truth), rig.NUM_CHANNELS), np.nan, dtype=np.float32)
        start = time.perf_counter()
        try:
            result = generate(script, backend=backend, seed=seed, **options)
            pred = result.array()
            warned = _warned_keyframes(result) if options.get("policy") == "repair" else 0
        except GenerationError as exc:
            partial = exc.partial
            warned = 0
            if isinstance(partial, Keyframes):
                for i, kf in enumerate(partial.keyframes):
                    if kf.values is not None:
                        pred[i] = kf.array
                warned = _warned_keyframes(partial) if options.get("policy") == "repair" else 0
            failures[clip.id] = str(exc).splitlines()[0][:200]
        except KeyframeFaceError as exc:
            failures[clip.id] = str(exc).splitlines()[0][:200]
            warned = 0
        if warned:
            repaired[clip.id] = warned
        seconds += time.perf_counter() - start
        truths.append(truth)
        preds.append(np.asarray(pred, dtype=np.float32))
        ids.append(clip.id)
        if progress is not None:
            progress(n + 1, len(clips))
    name = str(getattr(backend, "name", None) or type(backend).__name__)
    return SplitRun(name, tuple(ids), tuple(truths), tuple(preds), seconds, seed, failures, repaired)


def _warned_keyframes(keyframes: Keyframes) -> int:
    """How many keyframes with values carry a warning in ``meta["warnings"]`` (a repair was needed)."""
    warnings = keyframes.meta.get("warnings") if isinstance(keyframes.meta, Mapping) else None
    if not isinstance(warnings, Mapping):
        return 0
    count = 0
    for i, kf in enumerate(keyframes.keyframes):
        if kf.values is not None and warnings.get(str(i)):
            count += 1
    return count


def load_predictions(path: str | Path) -> dict[str, Keyframes]:
    """Saved predictions: a folder of ``<clip id>.json`` keyframes documents (what ``keyframeface eval run
    --write-predictions DIR`` writes). Returns clip id -> :class:`Keyframes`."""
    root = Path(path)
    if not root.is_dir():
        raise FormatError(f"predictions {root} should be a folder of <clip id>.json keyframes files")
    return {p.stem: load_keyframes(p) for p in sorted(root.glob("*.json"))}


def evaluate_predictions(predictions: Mapping[str, Keyframes], clips: Sequence[Any], *,
                         name: str = "keyframes") -> SplitRun:
    """A :class:`SplitRun` from saved predictions: clips without a prediction, or with a different keyframe
    count, count as failed (NaN rows); times are unknown (0 s)."""
    truths, preds, ids = [], [], []
    failures: dict[str, str] = {}
    for clip in clips:
        truth = clip.resolved()
        pred = np.full((len(truth), rig.NUM_CHANNELS), np.nan, dtype=np.float32)
        got = predictions.get(clip.id)
        if got is None:
            failures[clip.id] = "no prediction"
        elif len(got) != len(truth):
            failures[clip.id] = f"expected {len(truth)} keyframes, got {len(got)}"
        else:
            for i, kf in enumerate(got.keyframes):
                if kf.values is not None:
                    pred[i] = kf.array
        truths.append(truth)
        preds.append(pred)
        ids.append(clip.id)
    return SplitRun(name, tuple(ids), tuple(truths), tuple(preds), 0.0, None, failures)


def score_run(run: SplitRun, *, evaluator: Evaluator | None = None, seed: int = 0) -> dict[str, float]:
    """All numbers of one run, flat: ``mse``/``mae`` and ``mse_<region>``/``mae_<region>``, ``validity``,
    ``s_per_keyframe``, ``r_precision_top1..3``, ``mm_distance``, ``fid``, ``diversity`` (and
    ``diversity_real`` of the ground truth, for reference). ``seed`` shuffles R-Precision batches and diversity
    pairs. ``evaluator``: default the shipped one."""
    ev = evaluator or load_evaluator()
    out: dict[str, float] = {}
    if run.predictions:
        pred = np.concatenate(run.predictions)
        true = np.concatenate([t.array() for t in run.truths])
        ok = np.all(np.isfinite(pred), axis=1)
        errors = keyframe_errors(pred[ok], true[ok])
        for region, d in errors.items():
            suffix = "" if region == "all" else f"_{region}"
            out[f"mse{suffix}"] = d["mse"]
            out[f"mae{suffix}"] = d["mae"]
    total = run.keyframes_total
    out["validity"] = run.keyframes_valid / total if total else float("nan")
    out["s_per_keyframe"] = run.seconds / total if total else float("nan")
    neutral = rig.neutral()
    generated = [np.where(np.isfinite(p), p, neutral) for p in run.predictions]
    text = ev.encode_texts(run.truths)
    motion = ev.encode_motions(generated)
    real = ev.encode_motions([t.array() for t in run.truths])
    top = r_precision(text, motion, seed=seed)
    out.update({f"r_precision_top{k + 1}": v for k, v in enumerate(top)})
    out["mm_distance"] = multimodal_distance(text, motion)
    out["fid"] = frechet_distance(motion, real)
    out["diversity"] = diversity(motion, seed=seed)
    out["diversity_real"] = diversity(real, seed=seed)
    return out


def clip_units(run: SplitRun) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-clip sums behind the ratio metrics, for the clip bootstrap (:func:`ratio_interval`).

    Returns metric -> ``(numerators, denominators)``, one entry per clip: ``mse``/``mae`` and
    ``mse_<region>``/``mae_<region>`` (sum of squared / absolute errors over the clip's valid keyframes and the
    region's channels, and how many values that is) and ``validity`` (valid keyframes, keyframes). The ratio of
    the sums over all clips is exactly what :func:`score_run` reports.
    """
    regions = region_indices()
    out: dict[str, tuple[list[float], list[float]]] = {}

    def add(key: str, num: float, den: float) -> None:
        acc = out.setdefault(key, ([], []))
        acc[0].append(num)
        acc[1].append(den)

    for clip_id, truth, pred in zip(run.clip_ids, run.truths, run.predictions, strict=True):
        true = truth.array().astype(np.float64)
        p = np.asarray(pred, dtype=np.float64)
        ok = np.all(np.isfinite(p), axis=1)
        diff = p[ok] - true[ok]
        for region, idx in regions.items():
            suffix = "" if region == "all" else f"_{region}"
            d = diff[:, idx]
            add(f"mse{suffix}", float(np.sum(d * d)), float(d.size))
            add(f"mae{suffix}", float(np.sum(np.abs(d))), float(d.size))
        add("validity", float(np.sum(ok)) - run.repaired.get(clip_id, 0), float(len(truth)))
    return {k: (np.asarray(n), np.asarray(d)) for k, (n, d) in out.items()}


def _intervals(runs: Sequence[SplitRun]) -> dict[str, Interval]:
    """Bootstrap intervals of the ratio metrics, one group per generation (see :mod:`.intervals`)."""
    units = [clip_units(r) for r in runs]
    if not units:
        return {}
    return {key: ratio_interval([u[key] for u in units]) for key in units[0]}


@dataclass(frozen=True)
class BackendEvaluation:
    """One row of an evaluation table.

    ``backend``: the row's label (the backend spec as given, e.g. ``llama:representation=compact``).
    ``available``: False when the backend could not start (``reason`` says why; no numbers). ``runs``: per-seed
    score dicts. ``summary``: metric -> (mean, 95% CI half-width) over the runs; for chat backends that count
    tokens also ``prompt_tokens_per_keyframe`` / ``completion_tokens_per_keyframe`` (half-width 0).
    ``intervals``: metric -> bootstrap :class:`Interval` (MSE, MAE, per-region errors, validity; see
    :mod:`.intervals`). ``semantic``: check and case pass rates on the evaluation cases, with their bootstrap
    intervals (or None when skipped). ``info``: clips, keyframes, seeds, sampling, generation options ...
    """

    backend: str
    available: bool
    reason: str = ""
    runs: tuple[Mapping[str, float], ...] = ()
    summary: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    semantic: Mapping[str, Any] | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    failures: Mapping[str, str] = field(default_factory=dict)
    intervals: Mapping[str, Interval] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        summary: dict[str, dict[str, Any]] = {}
        for k, (m, c) in self.summary.items():
            entry: dict[str, Any] = {"mean": m, "ci95": c}
            iv = self.intervals.get(k)
            if iv is not None:
                entry["interval95"] = iv.to_list()
            summary[k] = entry
        return {
            "backend": self.backend,
            "available": self.available,
            "reason": self.reason,
            "summary": summary,
            "runs": [dict(r) for r in self.runs],
            "semantic": dict(self.semantic) if self.semantic is not None else None,
            "info": dict(self.info),
            "failures": dict(list(self.failures.items())[:50]),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackendEvaluation:
        """A row back from :meth:`to_dict` output (a saved JSON report). Raises :class:`FormatError` when the
        shape is not a report row."""
        if not isinstance(data, Mapping) or not isinstance(data.get("backend"), str):
            raise FormatError("expected a report row (an object with a 'backend' name)")
        raw_summary = data.get("summary") or {}
        if not isinstance(raw_summary, Mapping):
            raise FormatError(f"row {data['backend']!r}: 'summary' should be an object")
        summary: dict[str, tuple[float, float]] = {}
        intervals: dict[str, Interval] = {}
        for key, entry in raw_summary.items():
            if not isinstance(entry, Mapping):
                raise FormatError(f"row {data['backend']!r}: summary[{key!r}] should be an object")
            mean, ci = _number(entry.get("mean")), _number(entry.get("ci95"))
            summary[str(key)] = (mean, ci)
            bounds = entry.get("interval95")
            if isinstance(bounds, (list, tuple)) and len(bounds) == 2:
                intervals[str(key)] = Interval(mean, _number(bounds[0]), _number(bounds[1]))
        semantic = data.get("semantic")
        info = data.get("info") or {}
        failures = data.get("failures") or {}
        runs = data.get("runs") or []
        if (semantic is not None and not isinstance(semantic, Mapping)) or not isinstance(info, Mapping) \
                or not isinstance(failures, Mapping) or not isinstance(runs, list):
            raise FormatError(f"row {data['backend']!r}: semantic, info and failures should be objects, runs a list")
        return cls(data["backend"], bool(data.get("available")), str(data.get("reason") or ""),
                   tuple(dict(r) for r in runs if isinstance(r, Mapping)), summary,
                   dict(semantic) if semantic is not None else None, dict(info),
                   {str(k): str(v) for k, v in failures.items()}, intervals)


def _number(value: Any) -> float:
    """A JSON number as float; null (NaN written by the report) or anything else as NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)


def _summarise(runs: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    keys = list(runs[0]) if runs else []
    return {k: mean_ci([r[k] for r in runs]) for k in keys}


#: Options of :func:`keyframeface.generate.generate` that the semantic cases are generated with, like the clips.
_SEMANTIC_OPTIONS: Final[tuple[str, ...]] = ("representation", "policy", "timeout_s", "concurrency")


def _semantic(backend: Any, cases_path: str | Path | None, *, seeds: Sequence[int | None] = (None,),
              options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The semantic suite once per entry of ``seeds`` (one ``None`` for deterministic runs), generated with the
    same representation, policy and temperature as the clips; rates are means over seeds and the intervals a
    cluster bootstrap over cases pooled over seeds."""
    from ..generate import generate
    from .semantic_checks import run_semantic_suite

    opts = {k: v for k, v in (options or {}).items() if k in (*_SEMANTIC_OPTIONS, "temperature")}
    reports = []
    for seed in seeds:
        def values(b: Any, script: Any, seed: int | None = seed) -> np.ndarray:
            return generate(script, backend=b, seed=seed, **opts).array()

        reports.append(run_semantic_suite(backend, cases_path=cases_path or EVAL_CASES_PATH, generate_values=values))
    checks = ratio_interval([([c.passed for c in r.cases], [c.total for c in r.cases]) for r in reports])
    cases = ratio_interval([([float(c.ok) for c in r.cases], [1.0] * len(r.cases)) for r in reports])
    first = reports[0]
    return {"check_pass_rate": checks.mean, "case_pass_rate": cases.mean,
            "check_interval95": checks.to_list(), "case_interval95": cases.to_list(),
            "checks_passed": sum(r.checks_passed for r in reports), "checks_total": sum(r.checks_total for r in reports),
            "cases_passed": sum(sum(c.ok for c in r.cases) for r in reports),
            "cases": len(first.cases), "generations": len(reports),
            "tags": {t: list(v) for t, v in first.tag_rates().items()}}


def _usage(backend: Any) -> dict[str, int]:
    """``backend.usage()`` as a plain dict of ints ({} when the backend counts nothing or fails to say)."""
    method = getattr(backend, "usage", None)
    if not callable(method):
        return {}
    try:
        raw = method()
    except Exception:  # a plugin's broken counter must not cost the whole evaluation
        log.warning("backend %s: usage() failed; tokens per keyframe left out", getattr(backend, "name", "?"),
                    exc_info=True)
        return {}
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): int(v) for k, v in raw.items() if isinstance(v, (int, np.integer)) and not isinstance(v, bool)}


def _tokens_per_keyframe(before: Mapping[str, int], after: Mapping[str, int], keyframes: int) -> dict[str, float]:
    """``{prompt,completion}_tokens_per_keyframe`` from two :meth:`Backend.usage` readings ({} when not counted)."""
    out: dict[str, float] = {}
    for key in ("prompt_tokens", "completion_tokens"):
        if key in after and keyframes > 0:
            out[f"{key}_per_keyframe"] = (after[key] - before.get(key, 0)) / keyframes
    return out


def _clip_ids_digest(clips: Sequence[Any]) -> str:
    """A short digest of the clip ids, in order: two rows with the same digest were scored on the same clips."""
    import hashlib

    return hashlib.sha256("\n".join(str(c.id) for c in clips).encode("utf-8")).hexdigest()[:16]


def evaluate_backend(
    backend: str | Any,
    clips: Sequence[Any],
    *,
    seeds: Sequence[int] = (0,),
    temperature: float = 0.0,
    backend_options: Mapping[str, Any] | None = None,
    generate_options: Mapping[str, Any] | None = None,
    semantic: bool = True,
    cases_path: str | Path | None = None,
    evaluator: Evaluator | None = None,
    progress: ProgressCallback | None = None,
    keep_runs: list[SplitRun] | None = None,
    label: str | None = None,
) -> BackendEvaluation:
    """Evaluate ``backend`` (a registered name or a ready :class:`Backend`) on ``clips`` (see :func:`load_split`).

    A backend that cannot start (unknown name, missing extra, no model) gives ``available=False`` with the reason
    instead of raising, so one table can compare whatever is installed. ``seeds``: one generation per seed when
    ``temperature > 0``, else one generation scored once per seed. ``generate_options``: more keyword arguments
    for :func:`keyframeface.generate.generate` (representation, policy ...; not seed or temperature); the
    semantic cases are generated with the same ones. ``keep_runs``: when a list is given the raw
    :class:`SplitRun` objects are appended to it (to write predictions). ``label``: the row's name in the table
    (default: the backend's name).
    """
    from ..backends.registry import get_backend

    name = backend if isinstance(backend, str) else str(getattr(backend, "name", "") or type(backend).__name__)
    name = label or name
    seeds = _check_seeds(seeds)
    extra = _check_generate_options(generate_options, ("seed", "temperature"))
    try:
        instance = get_backend(backend, **dict(backend_options or {}))
    except BackendUnavailableError as exc:
        return BackendEvaluation(name, False, str(exc).splitlines()[0][:300])
    ev = evaluator or load_evaluator()
    options = {"temperature": temperature, **extra}
    sampling = temperature > 0
    runs: list[Mapping[str, float]] = []
    generations: list[SplitRun] = []
    failures: dict[str, str] = {}
    base: SplitRun | None = None
    before = _usage(instance)
    for seed in seeds:
        if sampling or base is None:
            base = run_backend(instance, clips, seed=seed if sampling else seeds[0], generate_options=options,
                               progress=progress)
            generations.append(base)
            failures.update(base.failures)
            if keep_runs is not None:
                keep_runs.append(base)
        runs.append(score_run(base, evaluator=ev, seed=seed))
    tokens = _tokens_per_keyframe(before, _usage(instance), sum(g.keyframes_total for g in generations))
    summary = _summarise(runs)
    summary.update({k: (v, 0.0) for k, v in tokens.items()})
    sem = None
    if semantic:
        sem = _semantic(instance, cases_path, seeds=list(seeds) if sampling else [seeds[0]], options=options)
    info = {"clips": len(clips), "keyframes": sum(len(c.keyframes) for c in clips), "seeds": list(seeds),
            "temperature": temperature, "sampling": sampling, "generations": len(generations),
            "generate_options": {k: v for k, v in extra.items() if isinstance(v, (str, int, float, bool))},
            "backend_options": sorted(backend_options or {}), "clip_ids_sha256": _clip_ids_digest(clips),
            "repaired_keyframes": sum(sum(g.repaired.values()) for g in generations)}
    return BackendEvaluation(name, True, "", tuple(runs), summary, sem, info, failures, _intervals(generations))


def evaluate_keyframes(
    predictions: Mapping[str, Keyframes],
    clips: Sequence[Any],
    *,
    name: str = "keyframes",
    seeds: Sequence[int] = (0,),
    evaluator: Evaluator | None = None,
) -> BackendEvaluation:
    """Score saved predictions (clip id -> :class:`Keyframes`) like a backend (no timing, no semantic cases)."""
    seeds = _check_seeds(seeds)
    ev = evaluator or load_evaluator()
    run = evaluate_predictions(predictions, clips, name=name)
    runs = [score_run(run, evaluator=ev, seed=s) for s in seeds]
    for r in runs:
        r.pop("s_per_keyframe", None)
    info = {"clips": len(clips), "keyframes": run.keyframes_total, "seeds": list(seeds), "source": "predictions",
            "clip_ids_sha256": _clip_ids_digest(clips)}
    return BackendEvaluation(name, True, "", tuple(runs), _summarise(runs), None, info, run.failures,
                             _intervals([run]))


def real_pairs_ceiling(clips: Sequence[Any], *, seeds: Sequence[int] = (0,),
                       evaluator: Evaluator | None = None) -> dict[str, float]:
    """The evaluator on the clips' own (text, ground-truth keyframes) pairs: R-Precision top-1/2/3, multimodal
    distance and diversity, each the mean over ``seeds`` (batch shuffles). The ceiling a generator can reach."""
    seeds = _check_seeds(seeds)
    ev = evaluator or load_evaluator()
    truths = [c.resolved() for c in clips]
    text = ev.encode_texts(truths)
    real = ev.encode_motions([t.array() for t in truths])
    rows = []
    for seed in seeds:
        top = r_precision(text, real, seed=seed)
        rows.append({**{f"r_precision_top{k + 1}": v for k, v in enumerate(top)},
                     "mm_distance": multimodal_distance(text, real), "diversity": diversity(real, seed=seed)})
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def neutral_baseline(clips: Sequence[Any], *, seeds: Sequence[int] = (0,),
                     evaluator: Evaluator | None = None) -> BackendEvaluation:
    """The floor: every keyframe the neutral face (all zeros), scored like a backend. Its MSE/MAE is what "doing
    nothing" costs; its R-Precision is near 0 (sequences of the same length embed identically, and ties count
    against the true motion)."""
    neutral = rig.neutral()
    predictions = {c.id: Keyframes.from_array(np.tile(neutral, (len(c.keyframes), 1))) for c in clips}
    return evaluate_keyframes(predictions, clips, name="neutral face (baseline)", seeds=seeds, evaluator=evaluator)


def probe_backend(name: str, *, timeout_s: float = 300.0, options: Mapping[str, Any] | None = None) -> str | None:
    """Generate one keyframe with backend ``name`` in a child process; the reason it cannot run, or ``None``.

    ``options``: constructor options for the backend (passed as ``--option KEY=JSON``).

    Native engines (llama.cpp builds for another CPU, GPU libraries) can kill the process outright (SIGILL,
    SIGSEGV) where no Python error can be caught; probing in a child lets a comparison table report such a
    backend as unusable instead of dying with it. Errors the backend raises normally are left to the real run.
    """
    import json as _json
    import subprocess
    import sys
    import tempfile

    script = {"background": "A probe.", "emotion": "", "keyframes": [{"description": "She smiles."}]}
    with tempfile.TemporaryDirectory(prefix="kff-probe-") as tmp:
        path = Path(tmp) / "probe.json"
        path.write_text(_json.dumps(script), encoding="utf-8")
        cmd = [sys.executable, "-m", "keyframeface", "-q", "generate", str(path), "-o", str(Path(tmp) / "out.json"),
               "--backend", name, "--policy", "repair"]
        for key, value in (options or {}).items():
            cmd += ["--option", f"{key}={_json.dumps(value)}"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return f"a one-keyframe test generation took longer than {timeout_s:.0f} s"
    if done.returncode < 0:
        import signal

        try:
            signame = signal.Signals(-done.returncode).name
        except ValueError:
            signame = f"signal {-done.returncode}"
        return (f"the backend crashed the process ({signame}) on a one-keyframe test generation; its native "
                "library does not run on this machine")
    return None
