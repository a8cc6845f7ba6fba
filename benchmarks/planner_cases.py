"""Score the planner (``keyframeface animate --text``) on ``evaluate/data/planner_cases.json``.

Each case's text is planned (:func:`keyframeface.plan.plan`), generated with the backend, and its checks are
evaluated on the peak keyframe (per channel, the value of largest magnitude over the planned keyframes). Each case
has one more check, its warning: ``"warn": true`` passes when generation reported a keyframe with no facial action
(``meta["language"]["blank"]``), ``"warn": false`` when it reported none. Usage:
``python benchmarks/planner_cases.py [--backend bundled]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from keyframeface.evaluate.semantic_checks import evaluate_check
from keyframeface.generate import generate
from keyframeface.plan import plan

CASES = Path(__file__).resolve().parents[1] / "src" / "keyframeface" / "evaluate" / "data" / "planner_cases.json"


def score(backend: str, *, verbose: bool = False) -> tuple[int, int]:
    """(checks passed, checks total) over the planner cases; each case's warning expectation is one check."""
    cases = json.loads(CASES.read_text(encoding="utf-8"))["cases"]
    passed = total = 0
    for case in cases:
        script = plan(case["text"])
        out = generate(script, backend=backend)
        values = np.stack([kf.array for kf in out.keyframes])
        peak = values[np.argmax(np.abs(values), axis=0), np.arange(values.shape[1])][None, :]
        warned = bool(out.meta.get("language", {}).get("blank"))
        results = [evaluate_check(expr, peak) for expr in case["checks"]]
        results.append((warned == case["warn"], f"warned={warned}"))
        ok = sum(r[0] for r in results)
        passed += ok
        total += len(results)
        if verbose and ok < len(results):
            print(case["id"], [d for r, d in results if not r], [k.description for k in script.keyframes])
    return passed, total


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="bundled")
    parser.add_argument("--failures", action="store_true")
    args = parser.parse_args()
    p, t = score(args.backend, verbose=args.failures)
    print(f"planner {args.backend}: {p} / {t} checks ({p / t:.1%})")
