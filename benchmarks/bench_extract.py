"""Benchmark of keyframe extraction on the real Live Link Face captures in shared/realdata.

Prints (a) extraction time per minute of capture for each method; (b) one row per take: duration, then for each
method at a fixed ``max_error``: keyframes per second, RMSE and largest absolute error over the 61 channels; then
uniform sampling with the SAME number of keyframes as greedy, and the ratio of its errors to greedy's; (c) count
mode at one keyframe per second: each method's mean RMSE and max error.

Run from the repository root::

    .venv/bin/python benchmarks/bench_extract.py [--max-error 0.1] [--metric max_abs] [--methods greedy,dp,rdp,uniform]

Needs ../shared (or KEYFRAMEFACE_SHARED). Takes under a minute on two cores.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from keyframeface.extract import DEFAULT_MAX_ERROR, DEFAULT_METRIC, select_keyframes
from keyframeface.extract_methods import available_methods
from keyframeface.io.livelink_csv import read_livelink_csv
from keyframeface.script import Animation
from keyframeface.shared_data import shared_dir


def find_takes(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.csv") if p.name != "index.csv")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-error", type=float, default=DEFAULT_MAX_ERROR)
    parser.add_argument("--metric", default=DEFAULT_METRIC)
    parser.add_argument("--interpolation", default="pchip")
    parser.add_argument("--methods", default="greedy,dp,rdp,uniform")
    parser.add_argument("--realdata", type=Path, default=None, help="folder of takes (default: shared/realdata)")
    args = parser.parse_args(argv)

    root = args.realdata
    if root is None:
        shared = shared_dir()
        if shared is None:
            print("shared data not found: set KEYFRAMEFACE_SHARED or pass --realdata", file=sys.stderr)
            return 2
        root = shared / "realdata"
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in available_methods()]
    if unknown:
        print(f"unknown methods {unknown}; available: {available_methods()}", file=sys.stderr)
        return 2
    if "greedy" not in methods:
        methods.insert(0, "greedy")

    takes = find_takes(root)
    opts = {"interpolation": args.interpolation, "metric": args.metric}
    seconds = dict.fromkeys(methods, 0.0)  # max_error mode
    count_seconds = dict.fromkeys(methods, 0.0)  # count mode
    count_err: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    keys = dict.fromkeys(methods, 0)
    total_s = 0.0
    rows: list[list[str]] = []
    ratios: list[tuple[float, float]] = []
    for path in takes:
        with warnings.catch_warnings():  # the reader's notes on clamped values are not what this measures
            warnings.simplefilter("ignore")
            anim: Animation = read_livelink_csv(path)
        duration = anim.duration_s
        total_s += duration
        row = [str(path.relative_to(root)), f"{duration:.1f}"]
        found = {}
        for m in methods:
            start = time.perf_counter()
            found[m] = sel = select_keyframes(anim, max_error=args.max_error, method=m, **opts)
            seconds[m] += time.perf_counter() - start
            keys[m] += len(sel)
            row += [f"{len(sel) / duration:.2f}", f"{sel.rmse:.4f}", f"{sel.max_abs:.3f}"]
        greedy = found["greedy"]
        uni = select_keyframes(anim, count=len(greedy), method="uniform", **opts)
        r_rmse, r_max = uni.rmse / max(greedy.rmse, 1e-12), uni.max_abs / max(greedy.max_abs, 1e-12)
        ratios.append((r_rmse, r_max))
        row += [f"{uni.rmse:.4f}", f"{uni.max_abs:.3f}", f"{r_rmse:.2f}", f"{r_max:.2f}"]
        rows.append(row)
        # Count mode at one keyframe per second (a KeyframeFace-like density).
        count = max(2, round(duration))
        for m in methods:
            start = time.perf_counter()
            sel = select_keyframes(anim, count=count, method=m, **opts)
            count_seconds[m] += time.perf_counter() - start
            count_err[m].append((sel.rmse, sel.max_abs))

    minutes = total_s / 60.0
    print(f"# keyframe extraction: max_error={args.max_error:g} metric={args.metric} "
          f"interpolation={args.interpolation}; {len(takes)} takes, {minutes:.2f} min of capture\n")
    print("## (a) extraction time per minute of capture\n")
    print(f"| method | s per min, max_error={args.max_error:g} | s per min, count = 1 per s |")
    print("|---|---|---|")
    for m in methods:
        print(f"| {m} | {seconds[m] / minutes:.3f} | {count_seconds[m] / minutes:.3f} |")
    print(f"\n## (b) per take at max_error={args.max_error:g} (kps = keyframes per second; RMSE and max abs error "
          "over the valid frames and 61 channels)\n")
    head = ["take", "dur s"]
    for m in methods:
        head += [f"{m} kps", f"{m} rmse", f"{m} max"]
    head += ["uniform@greedy-K rmse", "uniform@greedy-K max", "ratio rmse", "ratio max"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    summary = ["**all**", f"{total_s:.1f}"]
    for m in methods:
        summary += [f"{keys[m] / total_s:.2f}", "", ""]
    geo = np.exp(np.log(np.asarray(ratios)).mean(axis=0))
    summary += ["", "", f"{geo[0]:.2f} (geo mean)", f"{geo[1]:.2f} (geo mean)"]
    print("| " + " | ".join(summary) + " |")
    print("\n## (c) count mode, one keyframe per second of take: mean over takes\n")
    print("| method | mean rmse | mean max abs |")
    print("|---|---|---|")
    for m in methods:
        e = np.asarray(count_err[m])
        print(f"| {m} | {e[:, 0].mean():.4f} | {e[:, 1].mean():.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
