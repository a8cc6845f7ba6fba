"""Measure the two channel couplings the composer applies (:mod:`keyframeface.semantics.couplings`) on real captures.

Usage::

    .venv/bin/python benchmarks/fit_couplings.py [DIR] [--json OUT]

``DIR``: a folder of Live Link Face CSVs (default: ``../shared/realdata`` beside the checkout). Every take is read
with :func:`keyframeface.io.registry.read_any` through the motion report's loader (resampled to 60 Hz, tracking-loss
samples marked invalid) and measured on its valid samples:

* **Lids follow vertical gaze.** Per side, outside blinks (each blink detected by the motion report's detector,
  +-0.1 s, left out) and in takes whose eye pitch varies (std >= 0.01): a within-take (fixed-effects) least-squares
  fit of ``EyeBlink``, ``EyeWide`` and ``EyeSquint`` on the two halves of eye pitch (+ = down), ``max(pitch, 0)``
  and ``max(-pitch, 0)``, each take's means removed. The printed slopes are the mean of both sides; the per-take
  median is printed beside them as a robustness check.
* **JawOpen -> MouthClose.** On all valid samples: the share of frames whose MouthClose exceeds JawOpen by more
  than 0.01 / 0.02, the largest excess, and the median ratio MouthClose / JawOpen in JawOpen bins.

The constants in ``semantics/couplings.py`` are the numbers this prints, rounded to 2 decimals;
``tests/test_couplings.py`` re-runs the fit and checks they still agree.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from keyframeface.evaluate.motion.events import blinks
from keyframeface.evaluate.motion.signals import MotionTake, load_real_takes

#: Takes whose eye pitch varies less than this outside blinks say nothing about the lids (the motion report's
#: ``PITCH_MOVES_STD``).
PITCH_MOVES_STD = 0.01
_LIDS = ("EyeBlink", "EyeWide", "EyeSquint")
_JAW_BINS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.01)


def _outside_blinks(take: MotionTake) -> np.ndarray:
    keep = take.valid.copy()
    pad = 0.1 * take.fps
    for bl in blinks(take):
        keep[max(0, int(bl.start - pad)) : math.ceil(bl.stop + pad) + 1] = False
    return keep


def fit_lid_gaze(takes: list[MotionTake]) -> dict[str, Any]:
    """Slopes of each lid channel on downward and upward eye pitch (see the module docstring)."""
    rows: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in _LIDS}
    per_take: dict[str, list[np.ndarray]] = {k: [] for k in _LIDS}
    used = frames = 0
    for take in takes:
        keep = _outside_blinks(take)
        for side in ("Left", "Right"):
            pitch = take.channel(f"{side}EyePitch")[keep].astype(np.float64)
            if len(pitch) < 10 or pitch.std() < PITCH_MOVES_STD:
                continue
            if side == "Left":
                used, frames = used + 1, frames + len(pitch)
            down, up = np.maximum(pitch, 0.0), np.maximum(-pitch, 0.0)
            x = np.stack([down - down.mean(), up - up.mean()], axis=1)
            for k in _LIDS:
                y = take.channel(f"{k}{side}")[keep].astype(np.float64)
                rows[k].append((x, y - y.mean()))
                per_take[k].append(np.linalg.lstsq(x, y - y.mean(), rcond=None)[0])
    out: dict[str, Any] = {"takes": used, "frames_per_side": frames}
    for k in _LIDS:
        xs = np.concatenate([x for x, _ in rows[k]])
        ys = np.concatenate([y for _, y in rows[k]])
        slope = np.linalg.lstsq(xs, ys, rcond=None)[0]
        med = np.median(np.array(per_take[k]), axis=0)
        out[k] = {"down": round(float(slope[0]), 3), "up": round(float(slope[1]), 3),
                  "per_take_median_down": round(float(med[0]), 3), "per_take_median_up": round(float(med[1]), 3)}
    return out


def fit_jaw_close(takes: list[MotionTake]) -> dict[str, Any]:
    """How MouthClose relates to JawOpen on real captures (see the module docstring)."""
    jaw = np.concatenate([t.channel("JawOpen")[t.valid] for t in takes]).astype(np.float64)
    close = np.concatenate([t.channel("MouthClose")[t.valid] for t in takes]).astype(np.float64)
    excess = close - jaw
    bins = []
    lo = 0.0
    for hi in _JAW_BINS:
        on = (jaw >= max(lo, 0.02)) & (jaw < hi)
        if on.sum() >= 20:
            bins.append({"jaw": [lo, hi], "frames": int(on.sum()),
                         "median_jaw": round(float(np.median(jaw[on])), 3),
                         "median_close": round(float(np.median(close[on])), 3),
                         "median_ratio": round(float(np.median(close[on] / jaw[on])), 3)})
        lo = hi
    return {
        "frames": len(jaw),
        "share_close_above_jaw_0.01": round(float(np.mean(excess > 0.01)), 4),
        "share_close_above_jaw_0.02": round(float(np.mean(excess > 0.02)), 4),
        "largest_excess": round(float(excess.max()), 3),
        "median_ratio_by_jaw": bins,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
    parser.add_argument("real", nargs="?", type=Path, default=default, help="folder of Live Link Face CSVs")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    takes = load_real_takes(args.real)
    result = {"real": str(args.real), "num_takes": len(takes),
              "seconds": round(sum(t.duration_s for t in takes), 1),
              "lid_gaze": fit_lid_gaze(takes), "jaw_close": fit_jaw_close(takes)}
    text = json.dumps(result, indent=2)
    sys.stdout.write(text + "\n")
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
