"""Benchmark the ``rules`` backend: per-keyframe time (warm) and cold import + first keyframe.

Usage::

    .venv/bin/python benchmarks/bench_rules.py [--rounds 5] [--cold-runs 3]

Warm timing runs every keyframe of the semantic test set (keyframeface/evaluate/data/semantic_cases.json) through
``RulesBackend.generate_values`` in script order, passing each keyframe's result as the next one's ``previous``.
Two numbers are reported: **uncached** (the description parse cache is cleared before every call, as for a
description never seen before: the cost a user pays) and **cached** (the same descriptions again). Cold timing
starts a fresh interpreter for each run and measures ``import`` of the backend plus the first keyframe inside
it, and the whole process's wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.rules import RulesBackend
from keyframeface.evaluate.semantic_checks import load_cases
from keyframeface.semantics.parse import clear_cache

_COLD = """
import time
t0 = time.perf_counter()
from keyframeface.backends.rules import RulesBackend
from keyframeface.backends.base import GenerationOptions
from keyframeface.script import Script
t1 = time.perf_counter()
s = Script.from_dict({"emotion": "Anxiety concealed by a restrained smile.", "keyframes": [
    {"description": "The gaze is lowered, the inner brows lift slightly, and the lips press together."}]})
RulesBackend().generate_values(s, 0, previous=None, options=GenerationOptions())
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _stats(samples_ms: list[float]) -> str:
    arr = np.asarray(samples_ms)
    return (f"mean {arr.mean():.3f} ms, median {np.median(arr):.3f} ms, p95 {np.percentile(arr, 95):.3f} ms, "
            f"max {arr.max():.3f} ms (n={arr.size})")


def warm(rounds: int) -> tuple[list[float], list[float]]:
    cases = load_cases()
    backend, opts = RulesBackend(), GenerationOptions()
    # one untimed pass: compile the lexicon and touch every code path
    for case in cases:
        prev = None
        for i in range(len(case.script.keyframes)):
            prev = backend.generate_values(case.script, i, previous=prev, options=opts).values
    uncached: list[float] = []
    cached: list[float] = []
    for _ in range(rounds):
        for case in cases:
            prev = None
            for i in range(len(case.script.keyframes)):
                clear_cache()
                t0 = time.perf_counter()
                prev = backend.generate_values(case.script, i, previous=prev, options=opts).values
                uncached.append((time.perf_counter() - t0) * 1000)
            prev = None
            for i in range(len(case.script.keyframes)):
                t0 = time.perf_counter()
                prev = backend.generate_values(case.script, i, previous=prev, options=opts).values
                cached.append((time.perf_counter() - t0) * 1000)
    return uncached, cached


def cold(runs: int) -> list[tuple[float, float, float]]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        imp, first = (float(x) for x in proc.stdout.split())
        out.append((imp * 1000, first * 1000, wall * 1000))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds over the semantic set (default 5)")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh interpreters for the cold timing (default 3)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    args = parser.parse_args(argv)

    uncached, cached = warm(args.rounds)
    print(f"warm per keyframe, new description (parse cache cleared): {_stats(uncached)}")
    print(f"warm per keyframe, repeated description (parse cached):   {_stats(cached)}")
    runs = cold(args.cold_runs)
    imp = statistics.median(r[0] for r in runs)
    first = statistics.median(r[1] for r in runs)
    wall = statistics.median(r[2] for r in runs)
    print(f"cold (median of {len(runs)} fresh interpreters): import {imp:.0f} ms, first keyframe {first:.0f} ms "
          f"(lexicon compile included), import + first keyframe {imp + first:.0f} ms, whole process {wall:.0f} ms")
    if args.json:
        print(json.dumps({
            "uncached_ms": {"mean": float(np.mean(uncached)), "median": float(np.median(uncached)),
                            "p95": float(np.percentile(uncached, 95))},
            "cached_ms": {"mean": float(np.mean(cached)), "median": float(np.median(cached)),
                          "p95": float(np.percentile(cached, 95))},
            "cold_ms": {"import": imp, "first_keyframe": first, "process": wall},
        }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
