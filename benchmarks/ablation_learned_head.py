"""Ablation: a purely learned head on the sentence encoder, without the rule composer, against `rules` and `bundled`.

Usage::

    .venv/bin/python benchmarks/ablation_learned_head.py --corpus corpus [--limit N] [--lam 1.0]

The issue's example of a learned default is "a pretrained sentence encoder with a small head trained on the
corpus". This script builds the plainest such model and scores it with the same evaluation as the backends, so the
choice of design for ``bundled`` (rule composer + learned grounding) rests on a measurement:

* features of a keyframe: the mean and the max of its clauses' MiniLM embeddings, the emotion field's embedding,
  the previous keyframe's 61 values (zeros for the first) and a first-keyframe flag;
* target: the keyframe's 61 values; a ridge regression (closed form, ``--lam``) fitted on the training split;
* output clipped to the rig's ranges, eye rotations recomputed from the eyeLook channels.

It is not shipped (it loses, see docs/models.md). Prints one Markdown table: MAE/MSE on the test split with 95%
bootstrap intervals and the semantic checks on the packaged ``eval`` and ``paraphrase`` case sets.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, ClassVar

import numpy as np

from keyframeface import rig
from keyframeface.backends.base import Backend, Capabilities, DirectResult, GenerationOptions
from keyframeface.data.loader import load_dataset
from keyframeface.evaluate.report import EvalReport
from keyframeface.evaluate.runner import evaluate_backend
from keyframeface.models.bundled.clauses import split_clauses
from keyframeface.models.bundled.encoder import load_encoder
from keyframeface.script import Script


class _Features:
    def __init__(self) -> None:
        self.enc = load_encoder()
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            for t, v in zip(todo, self.enc.encode(todo), strict=True):
                self.cache[t] = v
        return [self.cache[t] for t in texts]

    def row(self, description: str, emotion: str, previous: np.ndarray | None) -> np.ndarray:
        clauses = [c.text for c in split_clauses(description)] or [""]
        e = np.stack(self.embed(clauses))
        emo = self.embed([emotion or ""])[0]
        prev = np.zeros(rig.NUM_CHANNELS, np.float32) if previous is None else previous
        return np.concatenate([e.mean(0), e.max(0), emo, prev, [1.0 if previous is None else 0.0, 1.0]])


class RegressionBackend(Backend):
    """Ridge regression from sentence-encoder features to the 61 values (this script's ablation only)."""

    name: ClassVar[str] = "encoder+ridge"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, features: _Features, weights: np.ndarray) -> None:
        self.features, self.weights = features, weights

    def generate_values(self, script: Script, index: int, *, previous: np.ndarray | None,
                        options: GenerationOptions) -> DirectResult:
        if previous is None and index > 0:
            for i in range(index):
                previous = self.generate_values(script, i, previous=previous, options=options).values
        x = self.features.row(script.keyframes[index].description, script.emotion, previous)
        values, _ = rig.clamp((x @ self.weights).astype(np.float32))
        return DirectResult(values=rig.sync_eye_rotations(values))


def fit(corpus: Any, features: _Features, lam: float) -> np.ndarray:
    xs, ys = [], []
    clips = corpus.split("train")
    # embed everything in a few large batches first (fast), then build rows
    features.embed([c.text for clip in clips for kf in clip.keyframes.keyframes for c in split_clauses(kf.description)])
    features.embed([clip.keyframes.emotion or "" for clip in clips])
    for clip in clips:
        truth = clip.resolved()
        prev = None
        for kf in truth.keyframes:
            xs.append(features.row(kf.description, truth.emotion, prev))
            ys.append(kf.array)
            prev = kf.array
    x, y = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    return np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ y).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--limit", type=int, default=None, help="first N test clips (default: all)")
    ap.add_argument("--lam", type=float, default=1.0, help="ridge penalty (default: %(default)s)")
    args = ap.parse_args()
    corpus = load_dataset(args.corpus)
    t = time.perf_counter()
    features = _Features()
    weights = fit(corpus, features, args.lam)
    fit_s = time.perf_counter() - t
    clips = corpus.split("test")[: args.limit]
    rows = [evaluate_backend(b, clips, cases_path="eval,paraphrase")
            for b in ("rules", "bundled", RegressionBackend(features, weights))]
    report = EvalReport(tuple(rows), "test", {"path": args.corpus}, {}, {}, {})
    sys.stdout.write(report.to_markdown() + f"\nridge fitted in {fit_s:.1f} s (lam {args.lam}, "
                     f"{weights.shape[0]} features)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
