"""Evaluation: the semantic test set (does the face do what the words say?) and, later, metrics and reports.

:func:`~keyframeface.evaluate.semantic_checks.run_semantic_suite` runs the package's semantic cases through any
backend and reports per-case, per-tag and overall pass rates (``report.to_markdown()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .semantic_checks import (
        SemanticReport,
        evaluate_check,
        load_cases,
        parse_expression,
        run_semantic_suite,
    )

__all__ = ["SemanticReport", "evaluate_check", "load_cases", "parse_expression", "run_semantic_suite"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import semantic_checks

        return getattr(semantic_checks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
