"""The evaluation report: one Markdown table across backends (plus a per-region error table) and its JSON.

Numbers are ``mean ± 95% CI`` over seeds when the seeds gave different values, else the plain mean. The
"real keyframes" row scores the corpus's own ground truth with the evaluator: the ceiling for R-Precision and
multimodal distance (and the reference diversity); a generator cannot be expected to beat it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from .._version import __version__
from ..io.atomic import atomic_write_text
from .metrics import REGIONS
from .runner import BackendEvaluation

__all__ = ["EVAL_FORMAT", "EvalReport", "format_number", "summary_rows", "write_report"]

EVAL_FORMAT: Final[str] = "keyframeface.evaluation"

#: (JSON key, column title, digits) of the main table, in order.
_COLUMNS: Final[tuple[tuple[str, str, int], ...]] = (
    ("mse", "MSE ↓", 4),
    ("mae", "MAE ↓", 4),
    ("semantic", "semantic ↑", 3),
    ("r_precision_top1", "R@1 ↑", 3),
    ("r_precision_top2", "R@2 ↑", 3),
    ("r_precision_top3", "R@3 ↑", 3),
    ("mm_distance", "MM dist ↓", 3),
    ("fid", "FID ↓", 3),
    ("diversity", "diversity →", 3),
    ("validity", "valid ↑", 3),
    ("s_per_keyframe", "s/keyframe", 4),
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


@dataclass(frozen=True)
class EvalReport:
    """Rows (one :class:`BackendEvaluation` per backend or predictions file) with the context they ran in.

    ``split``, ``corpus`` (path and version info), ``ceiling`` (the evaluator on real pairs of the split:
    metric -> value), ``evaluator`` (its recipe summary), ``timings`` (backend -> wall seconds).
    """

    rows: tuple[BackendEvaluation, ...]
    split: str = "test"
    corpus: Mapping[str, Any] = field(default_factory=dict)
    ceiling: Mapping[str, float] = field(default_factory=dict)
    evaluator: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)

    def _cell(self, row: BackendEvaluation, key: str, digits: int) -> str:
        if key == "semantic":
            sem = row.semantic
            return format_number(float(sem["check_pass_rate"]), digits=digits) if sem else "-"
        mean, ci = row.summary.get(key, (math.nan, math.nan))
        return format_number(mean, ci, digits=digits)

    def to_markdown(self) -> str:
        """The main table, the per-region MAE table, and notes (unavailable backends, failures, the ceiling)."""
        lines = [f"Split `{self.split}`" + (f" of `{self.corpus.get('path')}`" if self.corpus.get("path") else "")
                 + ", evaluator " + str(self.evaluator.get("sha256", "?"))[:12], ""]
        lines.append("| backend | " + " | ".join(title for _, title, _ in _COLUMNS) + " |")
        lines.append("|---|" + "---|" * len(_COLUMNS))
        notes: list[str] = []
        for row in self.rows:
            if not row.available:
                lines.append(f"| {_cell_text(row.backend)} | " + " | ".join("n/a" for _ in _COLUMNS) + " |")
                notes.append(f"`{row.backend}` not evaluated: {_cell_text(row.reason)}")
                continue
            lines.append(f"| {_cell_text(row.backend)} | "
                         + " | ".join(self._cell(row, k, d) for k, _, d in _COLUMNS) + " |")
            if row.failures:
                notes.append(f"`{row.backend}`: {len(row.failures)} clip(s) had failed keyframes, e.g. "
                             f"{_cell_text(next(iter(row.failures.values())))}")
        if self.ceiling:
            c = self.ceiling
            cells = {"r_precision_top1": c.get("r_precision_top1"), "r_precision_top2": c.get("r_precision_top2"),
                     "r_precision_top3": c.get("r_precision_top3"), "mm_distance": c.get("mm_distance"),
                     "fid": 0.0, "diversity": c.get("diversity"), "mse": 0.0, "mae": 0.0}
            row_cells = []
            for k, _, d in _COLUMNS:
                value = cells.get(k)
                row_cells.append(format_number(float(value), digits=d) if value is not None else "-")
            lines.append("| real keyframes (ceiling) | " + " | ".join(row_cells) + " |")
        available = [r for r in self.rows if r.available and "mae_brows" in r.summary]
        if available:
            lines += ["", "MAE per region ↓", ""]
            lines.append("| backend | " + " | ".join(REGIONS) + " |")
            lines.append("|---|" + "---|" * len(REGIONS))
            for row in available:
                lines.append(f"| {_cell_text(row.backend)} | " + " | ".join(
                    format_number(*row.summary.get(f"mae_{r}", (math.nan, math.nan)), digits=4) for r in REGIONS)
                    + " |")
        info = [f"`{r.backend}`: {r.info.get('clips')} clips, {r.info.get('keyframes')} keyframes, seeds "
                f"{r.info.get('seeds')}, " + ("given predictions" if r.info.get("source") == "predictions" else
                                              "sampled per seed" if r.info.get("sampling") else "one generation")
                for r in self.rows if r.available and r.info]
        semantic = [f"`{r.backend}` semantic: {r.semantic['checks_passed']}/{r.semantic['checks_total']} checks, "
                    f"{r.semantic['case_pass_rate']:.3f} of {r.semantic['cases']} cases fully passed"
                    for r in self.rows if r.available and r.semantic]
        timing = [f"`{k}`: {v:.1f} s wall" for k, v in self.timings.items()]
        extra = notes + info + semantic + timing
        if extra:
            lines += ["", *[f"- {n}" for n in extra]]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": EVAL_FORMAT,
            "version": 1,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "package_version": __version__,
            "split": self.split,
            "corpus": dict(self.corpus),
            "evaluator": dict(self.evaluator),
            "ceiling": dict(self.ceiling),
            "timings_s": dict(self.timings),
            "rows": [r.to_dict() for r in self.rows],
        }


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
