"""The evaluation report: one Markdown table across backends (plus a per-region error table) and its JSON.

MSE, MAE, the per-region errors, validity and the semantic scores are shown as ``mean [low, high]``: the mean
over seeds and a 95% percentile-bootstrap interval over clips (semantic: over cases), pooled over sampled seeds
(:mod:`keyframeface.evaluate.intervals`). The evaluator metrics (R-Precision, MM distance, FID, diversity) are
``mean ± 95% CI`` over seeds when the seeds gave different values, else the plain mean. Tokens per keyframe are
the prompt and completion tokens a chat backend counted during generation divided by the keyframes asked (``-``
when the backend counts none). The "real keyframes" row scores the corpus's own ground truth with the evaluator:
the ceiling for R-Precision and multimodal distance (and the reference diversity); a generator cannot be
expected to beat it.

:func:`merge_reports` combines saved JSON reports (``keyframeface eval merge``): rows keep their own clip counts,
and the table says when rows were scored on different splits, clip sets, limits or corpora. Reports of different
corpus versions are refused unless forced.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from .._version import __version__
from ..errors import FormatError
from ..io.atomic import atomic_write_text
from .intervals import LEVEL, METHOD, RESAMPLES, SEED, format_interval
from .metrics import REGIONS
from .runner import BackendEvaluation

__all__ = [
    "EVAL_FORMAT", "EvalReport", "corpus_version", "format_number", "load_report", "merge_reports", "summary_rows",
    "write_report",
]

EVAL_FORMAT: Final[str] = "keyframeface.evaluation"
#: Largest report file :func:`load_report` reads.
_MAX_REPORT_BYTES: Final[int] = 64_000_000

#: (JSON key, column title, digits) of the main table, in order. ``semantic`` / ``semantic_cases`` are the check
#: and case pass rates; ``clips`` the row's clip count.
_COLUMNS: Final[tuple[tuple[str, str, int], ...]] = (
    ("clips", "n clips", 0),
    ("mse", "MSE ↓", 4),
    ("mae", "MAE ↓", 4),
    ("semantic", "checks ↑", 3),
    ("semantic_cases", "cases ↑", 3),
    ("r_precision_top1", "R@1 ↑", 3),
    ("r_precision_top2", "R@2 ↑", 3),
    ("r_precision_top3", "R@3 ↑", 3),
    ("mm_distance", "MM dist ↓", 3),
    ("fid", "FID ↓", 3),
    ("diversity", "diversity →", 3),
    ("validity", "valid ↑", 3),
    ("s_per_keyframe", "s/keyframe", 4),
    ("prompt_tokens_per_keyframe", "prompt tok/kf", 1),
    ("completion_tokens_per_keyframe", "compl. tok/kf", 1),
)


def _cell_text(text: object) -> str:
    """``text`` safe inside a Markdown table cell: ``|`` escaped (as semantic_checks does), line breaks as spaces."""
    return " ".join(str(text).split()).replace("|", "\\|")


def format_number(mean: float, ci: float = 0.0, *, digits: int = 3) -> str:
    """``"0.123"`` or ``"0.123 ± 0.004"`` (CI shown when it is above rounding); NaN as ``"-"``."""
    if mean is None or not math.isfinite(mean):
        return "-"
    text = f"{mean:.{digits}f}"
    if ci is not None and math.isfinite(ci) and round(ci, digits) > 0:
        text += f" ± {ci:.{digits}f}"
    return text


def corpus_version(corpus: Mapping[str, Any]) -> str | None:
    """What identifies a corpus's content in a report's ``corpus`` block: its manifest's sha256, else its
    name and creation time; None when the report does not say."""
    sha = corpus.get("manifest_sha256")
    if isinstance(sha, str) and sha:
        return sha
    if corpus.get("name") or corpus.get("created"):
        return f"{corpus.get('name')}@{corpus.get('created')}"
    return None


def _interval_cell(row: BackendEvaluation, key: str, digits: int) -> str:
    mean, ci = row.summary.get(key, (math.nan, math.nan))
    iv = row.intervals.get(key)
    if iv is not None and math.isfinite(iv.low) and math.isfinite(iv.high):
        return format_interval(mean, iv.low, iv.high, digits=digits)
    return format_number(mean, ci, digits=digits)


def _semantic_cell(sem: Mapping[str, Any] | None, which: str, digits: int) -> str:
    if not sem:
        return "-"
    rate = sem.get(f"{which}_pass_rate")
    if not isinstance(rate, (int, float)):
        return "-"
    bounds = sem.get(f"{which}_interval95")
    if isinstance(bounds, (list, tuple)) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds):
        return format_interval(float(rate), float(bounds[0]), float(bounds[1]), digits=digits)
    return format_number(float(rate), digits=digits)


def _bounds(sem: Mapping[str, Any], which: str) -> str:
    """`` (0.955 [0.904, 0.993])``: the semantic rate ``which`` (check, case) with its interval, for the notes."""
    return f" ({_semantic_cell(sem, which, 3)})"


@dataclass(frozen=True)
class EvalReport:
    """Rows (one :class:`BackendEvaluation` per backend or predictions file) with the context they ran in.

    ``split``, ``corpus`` (path and version info), ``ceiling`` (the evaluator on real pairs of the split:
    metric -> value), ``evaluator`` (its recipe summary), ``timings`` (row label -> wall seconds), ``limit``
    (the ``--limit`` the clips were cut to, None for the whole split). ``sources``: for a merged report, one
    block per input report (``file``, ``split``, ``limit``, ``corpus``, ``clips``); rows then carry their
    source's file name in ``info["source_file"]``.
    """

    rows: tuple[BackendEvaluation, ...]
    split: str = "test"
    corpus: Mapping[str, Any] = field(default_factory=dict)
    ceiling: Mapping[str, float] = field(default_factory=dict)
    evaluator: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    limit: int | None = None
    sources: tuple[Mapping[str, Any], ...] = ()

    def _cell(self, row: BackendEvaluation, key: str, digits: int) -> str:
        if key == "clips":
            clips = row.info.get("clips")
            return str(clips) if isinstance(clips, int) else "-"
        if key == "semantic":
            return _semantic_cell(row.semantic, "check", digits)
        if key == "semantic_cases":
            return _semantic_cell(row.semantic, "case", digits)
        return _interval_cell(row, key, digits)

    def _ceiling_row(self) -> str:
        c = self.ceiling
        cells: dict[str, Any] = {
            "r_precision_top1": c.get("r_precision_top1"), "r_precision_top2": c.get("r_precision_top2"),
            "r_precision_top3": c.get("r_precision_top3"), "mm_distance": c.get("mm_distance"),
            "fid": 0.0, "diversity": c.get("diversity"), "mse": 0.0, "mae": 0.0}
        row_cells = []
        for k, _, d in _COLUMNS:
            value = cells.get(k)
            if k == "clips":
                clips = c.get("clips")
                row_cells.append(str(int(clips)) if isinstance(clips, (int, float)) and math.isfinite(clips) else "-")
            else:
                row_cells.append(format_number(float(value), digits=d) if isinstance(value, (int, float)) else "-")
        return "| real keyframes (ceiling) | " + " | ".join(row_cells) + " |"

    def _context_notes(self) -> list[str]:
        """For merged reports: where each row came from, and warnings when the rows are not comparable."""
        if not self.sources:
            return []
        notes = []
        for src in self.sources:
            version = corpus_version(src.get("corpus") or {}) or "unknown"
            notes.append(f"`{_cell_text(src.get('file'))}`: split {src.get('split')}, limit {src.get('limit')}, "
                         f"{src.get('clips')} clips, corpus {_cell_text(str(src.get('corpus', {}).get('path')))} "
                         f"(version {version[:16]})")
        warnings = []
        for what, key in (("splits", "split"), ("limits", "limit")):
            if len({json.dumps(s.get(key)) for s in self.sources}) > 1:
                warnings.append(f"**rows were scored with different {what}** "
                                f"({', '.join(str(s.get(key)) for s in self.sources)})")
        versions = {corpus_version(s.get("corpus") or {}) for s in self.sources}
        if len(versions) > 1:
            warnings.append("**rows were scored on different corpora** (versions differ; merged with --force)")
        if len({str(s.get("evaluator")) for s in self.sources}) > 1:
            warnings.append("**rows used different evaluators**: R-Precision, MM distance, FID and diversity are "
                            "not comparable across them")
        digests = {r.info.get("clip_ids_sha256") or f"{r.info.get('source_file')}:{r.info.get('clips')}"
                   for r in self.rows if r.available}
        if len(digests) > 1:
            warnings.append("**rows were scored on different clip sets**: compare them with their `n clips` and "
                            "intervals in mind; the ceiling row is the first report's")
        return warnings + notes

    def to_markdown(self) -> str:
        """The main table, the per-region MAE table, and notes (unavailable backends, failures, the ceiling)."""
        head = f"Split `{self.split}`" + (f" of `{self.corpus.get('path')}`" if self.corpus.get("path") else "")
        if self.sources:
            head = f"Merged from {len(self.sources)} reports"
        if self.limit is not None and not self.sources:
            head += f" (first {self.limit} clips)"
        lines = [head + ", evaluator " + str(self.evaluator.get("sha256", "?"))[:12], ""]
        lines.append("| backend | " + " | ".join(title for _, title, _ in _COLUMNS) + " |")
        lines.append("|---|" + "---|" * len(_COLUMNS))
        notes: list[str] = []
        for row in self.rows:
            if not row.available:
                lines.append(f"| {_cell_text(row.backend)} | " + " | ".join("n/a" for _ in _COLUMNS) + " |")
                notes.append(f"`{_cell_text(row.backend)}` not evaluated: {_cell_text(row.reason)}")
                continue
            lines.append(f"| {_cell_text(row.backend)} | "
                         + " | ".join(self._cell(row, k, d) for k, _, d in _COLUMNS) + " |")
            if row.failures:
                notes.append(f"`{_cell_text(row.backend)}`: {len(row.failures)} clip(s) had failed keyframes, e.g. "
                             f"{_cell_text(next(iter(row.failures.values())))}")
        if self.ceiling:
            lines.append(self._ceiling_row())
        available = [r for r in self.rows if r.available and "mae_brows" in r.summary]
        if available:
            lines += ["", "MAE per region ↓", ""]
            lines.append("| backend | " + " | ".join(REGIONS) + " |")
            lines.append("|---|" + "---|" * len(REGIONS))
            for row in available:
                lines.append(f"| {_cell_text(row.backend)} | "
                             + " | ".join(_interval_cell(row, f"mae_{r}", 4) for r in REGIONS) + " |")
        info = [f"`{_cell_text(r.backend)}`: {r.info.get('clips')} clips, {r.info.get('keyframes')} keyframes, seeds "
                f"{r.info.get('seeds')}, " + ("given predictions" if r.info.get("source") == "predictions" else
                                              "sampled per seed" if r.info.get("sampling") else "one generation")
                + (f", from `{_cell_text(r.info['source_file'])}`" if r.info.get("source_file") else "")
                for r in self.rows if r.available and r.info]
        semantic = []
        for r in self.rows:
            sem = r.semantic
            if not (r.available and sem):
                continue
            gens = sem.get("generations", 1)
            over = f" (summed over {gens} sampled generations)" if isinstance(gens, int) and gens > 1 else ""
            cases_passed, cases = sem.get("cases_passed"), sem.get("cases")
            cases_text = (f"{cases_passed}/{cases * (gens if isinstance(gens, int) else 1)} cases fully passed"
                          if isinstance(cases_passed, int) and isinstance(cases, int) else "cases fully passed")
            checks_text = (f"{sem['checks_passed']}/{sem['checks_total']} checks passed"
                           if isinstance(sem.get("checks_passed"), int) and isinstance(sem.get("checks_total"), int)
                           else "checks passed")
            semantic.append(f"`{_cell_text(r.backend)}` semantic: {checks_text}{_bounds(sem, 'check')}, {cases_text}"
                            f"{_bounds(sem, 'case')}{over}")
        timing = [f"`{_cell_text(k)}`: {v:.1f} s wall" for k, v in self.timings.items()]
        method = [f"intervals: 95% {METHOD}; evaluator metrics: mean ± 1.96·std/√n over seeds"]
        extra = self._context_notes() + notes + info + semantic + timing + method
        lines += ["", *[f"- {n}" for n in extra]]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": EVAL_FORMAT,
            "version": 1,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "package_version": __version__,
            "split": self.split,
            "limit": self.limit,
            "corpus": dict(self.corpus),
            "evaluator": dict(self.evaluator),
            "ceiling": dict(self.ceiling),
            "timings_s": dict(self.timings),
            "intervals": {"method": METHOD, "resamples": RESAMPLES, "seed": SEED, "level": LEVEL},
            "rows": [r.to_dict() for r in self.rows],
        }
        if self.sources:
            out["sources"] = [dict(s) for s in self.sources]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalReport:
        """A report back from :meth:`to_dict` output. Raises :class:`FormatError` when ``data`` is not one."""
        if not isinstance(data, Mapping) or data.get("format") != EVAL_FORMAT:
            raise FormatError(f"expected a {EVAL_FORMAT} report (written by `keyframeface eval ... --json`)")
        rows = data.get("rows")
        if not isinstance(rows, list):
            raise FormatError("the report has no 'rows' list")
        blocks = {k: data.get(k) or {} for k in ("corpus", "evaluator", "ceiling", "timings_s")}
        for k, v in blocks.items():
            if not isinstance(v, Mapping):
                raise FormatError(f"the report's {k!r} should be an object")
        limit = data.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise FormatError(f"the report's 'limit' should be an integer or null, got {limit!r}")
        ceiling = {str(k): float(v) for k, v in blocks["ceiling"].items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        timings = {str(k): float(v) for k, v in blocks["timings_s"].items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        sources = data.get("sources") or []
        return cls(tuple(BackendEvaluation.from_dict(r) for r in rows), str(data.get("split") or "?"),
                   dict(blocks["corpus"]), ceiling, dict(blocks["evaluator"]), timings, limit,
                   tuple(dict(s) for s in sources if isinstance(s, Mapping)))


def load_report(path: str | Path) -> EvalReport:
    """A saved JSON report (``keyframeface eval ... --json``); :class:`FormatError` names the file when it is
    missing, too large, not JSON or not a report."""
    p = Path(path)
    try:
        if p.stat().st_size > _MAX_REPORT_BYTES:
            raise FormatError(f"{p} is larger than {_MAX_REPORT_BYTES} bytes; expected an evaluation report")
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FormatError(f"cannot read the report {p}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{p} is not valid JSON ({exc}); expected a report from `keyframeface eval --json`") from None
    try:
        return EvalReport.from_dict(data)
    except FormatError as exc:
        raise FormatError(f"{p}: {exc}") from None


def merge_reports(reports: Sequence[tuple[str, EvalReport]], *, force: bool = False) -> EvalReport:
    """One report from several (``(file name, report)`` pairs, in order): every row of each, in order, with
    ``info["source_file"]`` set; the ceiling, evaluator and corpus of the first. Raises :class:`FormatError`
    for no reports, or for reports whose corpus versions (:func:`corpus_version`) differ unless ``force``.
    A merged report's sources are flattened, so merging merged reports works."""
    if not reports:
        raise FormatError("give at least one report to merge")
    sources: list[dict[str, Any]] = []
    rows: list[BackendEvaluation] = []
    timings: dict[str, float] = {}
    for name, report in reports:
        own = [dict(s) for s in report.sources] or [{
            "file": name, "split": report.split, "limit": report.limit, "corpus": dict(report.corpus),
            "clips": max((r.info.get("clips", 0) for r in report.rows if r.available), default=None),
            "evaluator": report.evaluator.get("sha256")}]
        sources += own
        for row in report.rows:
            info = dict(row.info)
            info.setdefault("source_file", name)
            rows.append(replace(row, info=info))
        timings.update(report.timings)
    versions = {corpus_version(s.get("corpus") or {}) for s in sources} - {None}
    if len(versions) > 1 and not force:
        listing = "; ".join(f"{s.get('file')}: {corpus_version(s.get('corpus') or {})}" for s in sources)
        raise FormatError(f"the reports were made on different corpus versions ({listing}); their numbers are not "
                          "comparable. Re-run them on one corpus, or pass --force to merge anyway (the table then "
                          "says so)")
    first = reports[0][1]
    merged = EvalReport(tuple(rows), first.split, first.corpus, first.ceiling, first.evaluator, timings,
                        first.limit, tuple(sources))
    return merged


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_report(report: EvalReport, path: str | Path) -> None:
    """Write ``report.to_dict()`` as JSON (NaN as null) atomically to ``path``."""
    atomic_write_text(Path(path), json.dumps(_json_safe(report.to_dict()), indent=1, ensure_ascii=False) + "\n")


def summary_rows(rows: Sequence[BackendEvaluation]) -> list[dict[str, Any]]:
    """Compact per-backend dicts (metric -> mean) for quick comparisons in code."""
    return [{"backend": r.backend, **{k: m for k, (m, _) in r.summary.items()}} for r in rows if r.available]
