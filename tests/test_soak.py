"""A short, derandomized slice of the fuzz and fault soak (benchmarks/soak.py): no crash, no hang."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"


def _soak_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("kff_soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kff_soak"] = module
    spec.loader.exec_module(module)
    return module


def test_soak_slice_has_no_crash_and_no_hang() -> None:
    counts = _soak_module().soak(seed=15, count=60)
    problems = {name: c.examples for name, c in counts.items() if c.crashes or c.hangs}
    assert not problems, problems
    assert all(c.inputs == 60 for c in counts.values())
    assert sum(c.refused for c in counts.values()) > 0  # the mutations do reach the error paths
