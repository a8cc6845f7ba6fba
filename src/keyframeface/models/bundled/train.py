"""Train the ``bundled`` backend's grounding head (:mod:`keyframeface.models.bundled.head`) with numpy alone.

Reads top to bottom: collect labelled phrases (:mod:`keyframeface.models.bundled.phrases`: the corpus's training
clauses, phrases sampled from the rule lexicon, and clauses with no facial action), embed them with the sentence
encoder (:mod:`keyframeface.models.bundled.encoder`), hold out a validation share, fit a class-balanced L2-regularised softmax
regression by full-batch Adam, choose the probability threshold under which a clause is left alone on the
validation share, and write the head (``.npz``) and its recipe (``.json``: config, corpus version, encoder id and
sha256, command, seed, metrics, threshold, sha256 of the weights).

Needs only numpy and the encoder (the ``[bundled]`` extra); about a minute on a 2-core CPU.
"""

from __future__ import annotations

import logging
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..._version import __version__
from ...errors import FormatError
from .head import NONE_LABEL, GroundingHead, save_head
from .phrases import corpus_phrases, label_of, lexicon_phrases, none_phrases

__all__ = ["BundledConfig", "BundledResult", "train_bundled"]

log = logging.getLogger(__name__)

Encode = Callable[[Sequence[str]], np.ndarray]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BundledConfig:
    """Every setting of a training run (saved in the recipe).

    ``lexicon_samples``: sampled surface forms per lexicon pattern (pair); ``validation``: held-out share of the
    phrases; ``steps``/``lr``/``l2``: full-batch Adam on the softmax regression; ``balance``: class weights are
    ``count ** -balance`` (0: none, 1: fully balanced); ``min_precision``: the threshold is the smallest
    probability at which held-out non-``none`` predictions are right at least this often and at least
    ``min_none_kept`` of the held-out ``none`` clauses stay ``none`` (a default must not invent actions for
    "rain falls outside").
    """

    seed: int = 0
    lexicon_samples: int = 3
    validation: float = 0.15
    steps: int = 1500
    lr: float = 0.05
    l2: float = 1e-5
    balance: float = 0.5
    min_precision: float = 0.9
    min_none_kept: float = 0.9


@dataclass(frozen=True)
class BundledResult:
    """What :func:`train_bundled` wrote and measured."""

    weights_path: Path
    recipe_path: Path
    recipe: dict[str, Any]
    train_s: float


def collect_phrases(corpus: Any, *, seed: int, samples: int) -> tuple[list[str], list[str], Counter[str]]:
    """(texts, labels, source counts) for the corpus's training split, the lexicon and the no-action clauses."""
    rng = random.Random(seed)
    clips = corpus.split("train")
    descriptions = [kf.description for c in clips for kf in c.keyframes.keyframes]
    backgrounds = sorted({c.keyframes.background for c in clips if c.keyframes.background})
    texts: dict[str, str] = {}
    sources: Counter[str] = Counter()
    for source, phrases, keep_none in (("corpus", corpus_phrases(descriptions), True),
                                       ("lexicon", lexicon_phrases(rng, samples=samples), False),
                                       ("none", none_phrases(backgrounds), True)):
        for text in phrases:
            key = text.strip()
            if not key or key in texts:
                continue
            label = label_of(key)
            if label is None or (label == NONE_LABEL and not keep_none):
                continue
            texts[key] = label
            sources[source] += 1
    return list(texts), list(texts.values()), sources


def _canonical_phrases(texts: Sequence[str], labels: Sequence[str], classes: Sequence[str]) -> list[str]:
    """Per class, the shortest training phrase that the parser reads as that class (``""`` for none)."""
    best: dict[str, str] = {}
    for t, lab in zip(texts, labels, strict=True):
        if lab == NONE_LABEL:
            continue
        if lab not in best or (len(t), t) < (len(best[lab]), best[lab]):
            best[lab] = t
    return [best.get(c, "") for c in classes]


def _fit(x: np.ndarray, y: np.ndarray, n_classes: int, cfg: BundledConfig,
         progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(cfg.seed)
    d = x.shape[1]
    w = (rng.standard_normal((d, n_classes)) * 0.01).astype(np.float32)
    b = np.zeros(n_classes, dtype=np.float32)
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    cw = np.where(counts > 0, np.maximum(counts, 1.0) ** -cfg.balance, 0.0)
    sw = cw[y]
    sw = (sw / sw.sum()).astype(np.float32)
    onehot = np.zeros((len(y), n_classes), dtype=np.float32)
    onehot[np.arange(len(y)), y] = 1.0
    mw, vw = np.zeros_like(w), np.zeros_like(w)
    mb, vb = np.zeros_like(b), np.zeros_like(b)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for step in range(1, cfg.steps + 1):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw[:, None]
        gw = x.T @ g + cfg.l2 * w
        gb = g.sum(axis=0)
        for param, grad, m, v in ((w, gw, mw, vw), (b, gb, mb, vb)):
            m *= b1
            m += (1 - b1) * grad
            v *= b2
            v += (1 - b2) * grad * grad
            param -= cfg.lr * (m / (1 - b1 ** step)) / (np.sqrt(v / (1 - b2 ** step)) + eps)
        if progress is not None:
            progress(step, cfg.steps)
    return w, b


def _choose_threshold(probs: np.ndarray, y: np.ndarray, none_index: int, min_precision: float,
                      min_none_kept: float = 0.0) -> tuple[float, dict[str, float]]:
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    negative = y == none_index
    best = 1.0
    for t in np.round(np.arange(0.05, 1.0, 0.05), 2):
        used = (pred != none_index) & (conf >= t)
        if used.sum() == 0:
            continue
        kept = float((~used[negative]).mean()) if negative.any() else 1.0
        if float((pred[used] == y[used]).mean()) >= min_precision and kept >= min_none_kept:
            best = float(t)
            break
    used = (pred != none_index) & (conf >= best)
    final = np.where(used, pred, none_index)
    positive = y != none_index
    metrics = {
        "accuracy": round(float((final == y).mean()), 4),
        "precision_grounded": round(float((final[used] == y[used]).mean()) if used.any() else 0.0, 4),
        "recall_actions": round(float((final[positive] == y[positive]).mean()) if positive.any() else 0.0, 4),
        "none_kept_none": round(float((final[~positive] == none_index).mean()) if (~positive).any() else 0.0, 4),
        "argmax_accuracy": round(float((pred == y).mean()), 4),
    }
    return best, metrics


def train_bundled(corpus_path: str | Path, output: str | Path, *, config: BundledConfig | None = None,
                  encode: Encode | None = None, encoder_info: dict[str, Any] | None = None,
                  progress: Progress | None = None) -> BundledResult:
    """Train the grounding head on ``corpus_path`` and write ``output`` (.npz) and its recipe (.json).

    ``encode``: texts -> (N, D) unit-length embeddings (default: :func:`keyframeface.models.bundled.encoder.load_encoder`'s).
    Deterministic for a seed and corpus. Raises :class:`FormatError` for a corpus without training phrases.
    """
    from ...data.loader import load_dataset

    cfg = config or BundledConfig()
    start = time.perf_counter()
    corpus = load_dataset(corpus_path)
    if encode is None:
        from .encoder import load_encoder

        enc = load_encoder()
        encode = enc.encode
        encoder_info = enc.describe()
    encoder_info = {k: v for k, v in (encoder_info or {}).items() if k != "file"}  # no machine paths in recipes
    texts, labels, sources = collect_phrases(corpus, seed=cfg.seed, samples=cfg.lexicon_samples)
    train_descriptions = [kf.description for c in corpus.split("train") for kf in c.keyframes.keyframes]
    if not any(label_of(p) not in (None, NONE_LABEL) for p in corpus_phrases(train_descriptions)):
        raise FormatError(f"{corpus_path}: no labelled training phrases (is the training split empty?)")
    classes = sorted(set(labels) | {NONE_LABEL})
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[lab] for lab in labels])
    log.info("bundled: %d phrases (%s), %d labels; embedding", len(texts), dict(sources), len(classes))
    x = np.asarray(encode(texts), dtype=np.float32)
    order = np.random.default_rng(cfg.seed).permutation(len(texts))
    n_val = round(len(texts) * cfg.validation)
    val, tr = order[:n_val], order[n_val:]
    w, b = _fit(x[tr], y[tr], len(classes), cfg, progress)
    head = GroundingHead(w, b, tuple(classes), tuple(_canonical_phrases(texts, labels, classes)), 1.0)
    threshold, metrics = _choose_threshold(head.probabilities(x[val]), y[val], index[NONE_LABEL],
                                           cfg.min_precision, cfg.min_none_kept) if n_val else (0.5, {})
    head = GroundingHead(w, b, head.labels, head.phrases, threshold)
    elapsed = time.perf_counter() - start
    info = dict(corpus.info)
    recipe = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "package_version": __version__,
        "command": " ".join(["keyframeface", *sys.argv[1:]]) if Path(sys.argv[0]).name == "keyframeface"
        else "keyframeface.models.bundled.train.train_bundled",
        "config": asdict(cfg),
        "corpus": {"path": str(corpus_path), "name": info.get("name"), "version": info.get("version"),
                   "generator": info.get("generator")},
        "encoder": encoder_info or {},
        "phrases": {"total": len(texts), "train": len(tr), "validation": int(n_val), "sources": dict(sources),
                    "labels": len(classes)},
        "metrics_validation": metrics,
        "train_s": round(elapsed, 1),
        "platform": platform.platform(),
    }
    recipe_path = save_head(head, output, recipe)
    import json

    full = json.loads(recipe_path.read_text(encoding="utf-8"))
    return BundledResult(Path(output), recipe_path, full, elapsed)
