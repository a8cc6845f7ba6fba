"""LLM-assisted reading measured on the semantic case sets: score with and without ``assist``, and its cost.

Usage (an OpenAI-compatible server must be running, e.g. llama-cpp-python's)::

    python -m llama_cpp.server --model qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --host 127.0.0.1 --port 8765 \\
        --n_ctx 4096 --n_threads 2
    python benchmarks/bench_assist.py --base-url http://127.0.0.1:8765/v1 \\
        --cases multilingual,relative,scene,casual,technical,scope,dev,eval,paraphrase --json assist.json

Prints, per case set: checks passed without and with assist, keyframes, keyframes routed and rewritten, and the
seconds the assistant spent (total, per routed keyframe, per keyframe of the set). ``docs/assist.md`` reports it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from keyframeface.assist import get_assistant
from keyframeface.evaluate.semantic_checks import NAMED_CASES, load_cases, run_semantic_suite
from keyframeface.generate import generate
from keyframeface.script import Script


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", required=True, help="the OpenAI-compatible server's /v1 URL")
    p.add_argument("--backend", default="bundled", help="the direct backend (default: bundled)")
    p.add_argument("--cases", default="multilingual,relative,scene,casual,technical,scope,dev,eval,paraphrase")
    p.add_argument("--timeout-s", type=float, default=300.0, help="per request (the first reads the long prompt)")
    p.add_argument("--json", dest="json_out", help="write every rewrite and score here")
    args = p.parse_args(argv)
    assistant = get_assistant("openai", {"base_url": args.base_url})
    report: dict[str, Any] = {"backend": args.backend, "assistant": assistant.describe(), "sets": {}}
    for name in args.cases.split(","):
        cases = load_cases(NAMED_CASES[name])
        base = run_semantic_suite(args.backend, cases=cases)
        rewrites: list[dict[str, Any]] = []
        seconds = [0.0]

        def assisted(backend: Any, script: Script, rewrites: list[dict[str, Any]] = rewrites,
                     seconds: list[float] = seconds) -> np.ndarray:
            keys = generate(script, backend=backend, assist=assistant, timeout_s=args.timeout_s)
            info = keys.meta.get("assist", {})
            seconds[0] += float(info.get("seconds", 0.0))
            rewrites.extend(info.get("rewrites", {}).values())
            return keys.array()

        start = time.perf_counter()
        with_assist = run_semantic_suite(args.backend, cases=cases, generate_values=assisted)
        wall = time.perf_counter() - start
        keyframes = sum(len(c.script.keyframes) for c in cases)
        row = {"checks": base.checks_total, "without": base.checks_passed, "with": with_assist.checks_passed,
               "keyframes": keyframes, "routed": len(rewrites), "rewritten": sum(1 for r in rewrites if r["rewrite"]),
               "assist_s": round(seconds[0], 2), "wall_s": round(wall, 2),
               "s_per_routed": round(seconds[0] / len(rewrites), 2) if rewrites else 0.0,
               "s_per_keyframe": round(seconds[0] / keyframes, 3), "rewrites": rewrites,
               "fixed": sorted(set(c for c, _ in base.failures()) - set(c for c, _ in with_assist.failures())),
               "broken": sorted(set(c for c, _ in with_assist.failures()) - set(c for c, _ in base.failures()))}
        report["sets"][name] = row
        print(f"{name:13s} checks {row['without']}/{row['checks']} -> {row['with']}/{row['checks']}  "
              f"keyframes {keyframes} routed {row['routed']} rewritten {row['rewritten']}  "
              f"assist {row['assist_s']} s ({row['s_per_routed']} s per routed, {row['s_per_keyframe']} s per "
              f"keyframe)  fixed {row['fixed']} broken {row['broken']}", flush=True)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
