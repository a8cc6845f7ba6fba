"""Train the text / keyframe-sequence evaluator contrastively and export it for numpy inference.

Reads top to bottom: load the corpus's (script text, keyframe values) pairs, build the torch twin of
:class:`keyframeface.models.evaluator.inference.Evaluator`, train it with a symmetric InfoNCE loss (CLIP, Radford et al.
2021; TMR, Petrovich et al. 2023, uses the same loss for text-motion retrieval), keep the epoch with the best
validation R-Precision, then write ``PATH.npz`` (weights, stored (in, out) for ``x @ W + b``) and ``PATH.json`` (the
full config, the corpus version, the seed, the metrics and the weights' sha256) atomically.

Needs torch (the ``[train]`` extra). A few minutes at most on a 2-core CPU for the default corpus.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..._version import __version__
from ...errors import BackendUnavailableError, FormatError
from ...io.atomic import atomic_open
from .inference import (
    EVALUATOR_FORMAT,
    MOTION_INPUT,
    NUM_POSITION,
    Evaluator,
    motion_inputs,
    param_shapes,
    position_features,
    text_features,
)

__all__ = ["EvaluatorConfig", "TrainResult", "train_evaluator"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluatorConfig:
    """Every setting of a training run (saved in the recipe).

    ``buckets``: hashed text features; ``hidden``/``embed``: layer widths; ``temperature``: InfoNCE softmax
    temperature (CLIP's 0.07 learned value is too sharp for a few thousand pairs; 0.1 is TMR's choice);
    ``value_noise``: std of Gaussian noise added to keyframe values while training, about one capture-noise
    level (docs/dataset.md: values under 0.08 are noise); ``word_dropout``: fraction of text features dropped.
    """

    buckets: int = 4096
    hidden: int = 128
    embed: int = 128
    epochs: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    temperature: float = 0.1
    value_noise: float = 0.02
    word_dropout: float = 0.1
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        # Refuse settings that would crash mid-run (division by zero) or train nothing but still write a checkpoint.
        def bad(name: str, want: str) -> FormatError:
            return FormatError(f"evaluator config {name} must be {want}, got {getattr(self, name)!r}; "
                               "fix the setting and run again")

        for name, low in (("batch_size", 2), ("epochs", 1), ("buckets", 1), ("hidden", 1), ("embed", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise bad(name, f"an integer >= {low}")
        for name in ("lr", "temperature"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise bad(name, "a finite number > 0")
        wd = self.word_dropout
        if isinstance(wd, bool) or not isinstance(wd, (int, float)) or not 0 <= wd < 1:
            raise bad("word_dropout", "a number in [0, 1)")


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_evaluator` wrote and measured: paths, the recipe dict, seconds of training."""

    weights_path: Path
    recipe_path: Path
    recipe: Mapping[str, Any]
    train_s: float


@dataclass(frozen=True)
class _Pair:
    descriptions: tuple[np.ndarray, ...]  # hashed ids per keyframe
    emotion: np.ndarray  # hashed ids
    motion: np.ndarray  # (K, 125) float32 from motion_inputs
    values: np.ndarray  # (K, 61) float32


def _pairs(clips: Sequence[Any], buckets: int) -> list[_Pair]:
    out = []
    for clip in clips:
        kf = clip.resolved()
        values = kf.array().astype(np.float32)
        out.append(_Pair(tuple(text_features(k.description, buckets=buckets) for k in kf.keyframes),
                         text_features(kf.emotion, buckets=buckets), motion_inputs(values), values))
    return out


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError("training the evaluator needs torch: pip install 'keyframeface[train]'") \
            from None
    return torch


def _build_model(torch: Any, cfg: EvaluatorConfig) -> Any:
    nn = torch.nn

    class Twin(nn.Module):  # type: ignore[name-defined]
        """The torch twin of the numpy Evaluator; parameter names map 1:1 to :func:`param_shapes`."""

        def __init__(self) -> None:
            super().__init__()
            h, e = cfg.hidden, cfg.embed
            self.table = nn.EmbeddingBag(cfg.buckets, h, mode="mean")
            nn.init.normal_(self.table.weight, std=0.3)
            self.t1 = nn.Linear(h + NUM_POSITION, h)
            self.tc = nn.Linear(h, h)
            self.t2 = nn.Linear(3 * h, e)
            self.m1 = nn.Linear(MOTION_INPUT, h)
            self.m2 = nn.Linear(h, h)
            self.m3 = nn.Linear(2 * h, e)

        def bag(self, id_lists: Sequence[np.ndarray]) -> Any:
            lengths = [len(x) for x in id_lists]
            flat = torch.from_numpy(np.concatenate(id_lists) if sum(lengths) else np.zeros(0, dtype=np.int64))
            offsets = torch.tensor([0, *np.cumsum(lengths)[:-1].tolist()], dtype=torch.long)
            return self.table(flat, offsets)

        @staticmethod
        def pool(h: Any, counts: Sequence[int]) -> Any:
            # padded (batch, K, H) for one vectorised max; a per-clip loop of torch.max is ~50x slower on CPU
            n = torch.tensor(list(counts), dtype=torch.long)
            clip = torch.repeat_interleave(torch.arange(len(counts)), n)
            pos = torch.arange(h.shape[0]) - torch.repeat_interleave(torch.cumsum(n, 0) - n, n)
            padded = h.new_full((len(counts), int(n.max()), h.shape[1]), float("-inf"))
            padded = padded.index_put((clip, pos), h)
            mean = h.new_zeros((len(counts), h.shape[1])).index_add(0, clip, h) / n[:, None].to(h.dtype)
            return torch.cat([mean, padded.max(1).values], 1)

        def encode_text(self, batch: Sequence[tuple[Sequence[np.ndarray], np.ndarray]]) -> Any:
            counts = [len(d) for d, _ in batch]
            bags = self.bag([ids for d, _ in batch for ids in d])
            pos = torch.from_numpy(np.concatenate([position_features(n) for n in counts]))
            h = torch.relu(self.t1(torch.cat([bags, pos], 1)))
            ctx = torch.relu(self.tc(self.bag([emo for _, emo in batch])))
            out = self.t2(torch.cat([self.pool(h, counts), ctx], 1))
            return torch.nn.functional.normalize(out, dim=1)

        def encode_motion(self, motions: Sequence[np.ndarray]) -> Any:
            counts = [len(m) for m in motions]
            x = torch.from_numpy(np.concatenate(motions))
            h = torch.relu(self.m2(torch.relu(self.m1(x))))
            return torch.nn.functional.normalize(self.m3(self.pool(h, counts)), dim=1)

        def export(self) -> dict[str, np.ndarray]:
            def t(layer: Any) -> np.ndarray:
                return layer.weight.detach().numpy().T.astype(np.float32).copy()

            def b(layer: Any) -> np.ndarray:
                return layer.bias.detach().numpy().astype(np.float32).copy()

            return {
                "text.table": self.table.weight.detach().numpy().astype(np.float32).copy(),
                "text.w1": t(self.t1), "text.b1": b(self.t1), "text.wc": t(self.tc), "text.bc": b(self.tc),
                "text.w2": t(self.t2), "text.b2": b(self.t2),
                "motion.w1": t(self.m1), "motion.b1": b(self.m1), "motion.w2": t(self.m2), "motion.b2": b(self.m2),
                "motion.w3": t(self.m3), "motion.b3": b(self.m3),
            }

    return Twin()


def _augment(pair: _Pair, cfg: EvaluatorConfig, rng: np.random.Generator) -> tuple[tuple[Any, np.ndarray],
                                                                                    np.ndarray]:
    descs = []
    for ids in pair.descriptions:
        keep = rng.random(len(ids)) >= cfg.word_dropout
        descs.append(ids[keep] if keep.any() else ids)
    values = pair.values + rng.normal(0.0, cfg.value_noise, pair.values.shape).astype(np.float32)
    return (descs, pair.emotion), motion_inputs(values)


def evaluate_pairs(evaluator: Evaluator, clips: Sequence[Any], *, seed: int = 0) -> dict[str, float]:
    """R-Precision top-1/2/3 and multimodal distance of ``evaluator`` on real (text, keyframes) pairs of
    ``clips`` (loaded dataset clips): the ceiling a generator can reach on that split."""
    from ...evaluate.metrics import multimodal_distance, r_precision

    resolved = [c.resolved() for c in clips]
    text = evaluator.encode_texts(resolved)
    motion = evaluator.encode_motions([k.array() for k in resolved])
    top = r_precision(text, motion, seed=seed)
    return {"r_precision_top1": top[0], "r_precision_top2": top[1], "r_precision_top3": top[2],
            "mm_distance": multimodal_distance(text, motion), "pairs": float(len(resolved))}


def _corpus_version(dataset: Any) -> dict[str, Any]:
    root = Path(dataset.root)
    manifest = root / "manifest.jsonl"
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else None
    info = dict(dataset.info)
    # the folder name only: an absolute path of the training machine means nothing elsewhere
    return {"folder": root.name, "name": info.get("name"), "created": info.get("created"),
            "generator": info.get("generator"), "manifest_sha256": digest, "adapter": dataset.adapter,
            "clips": {s: len(dataset.split(s)) for s in ("train", "validation", "test")}}


def train_evaluator(
    corpus: str | Path,
    output: str | Path,
    *,
    config: EvaluatorConfig | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainResult:
    """Train an evaluator on the corpus at ``corpus`` and write ``output`` (``.npz``) plus its recipe ``.json``.

    ``config``: every setting (default :class:`EvaluatorConfig`). ``progress(epoch, epochs, loss)`` is called after
    each epoch. The checkpoint kept is the epoch with the best validation R-Precision top-3 (train loss when the
    corpus has no validation split). Raises :class:`BackendUnavailableError` without torch and
    :class:`FormatError` for an unusable corpus.
    """
    torch = _import_torch()
    from ...data import load_dataset

    cfg = config or EvaluatorConfig()
    out = Path(output)
    if out.suffix != ".npz":
        raise FormatError(f"the evaluator is written as .npz weights; got {out.name!r}, use e.g. evaluator.npz")
    dataset = load_dataset(corpus)
    train_clips = dataset.split("train")
    val_clips = dataset.split("validation")
    test_clips = dataset.split("test")
    if len(train_clips) < 2:
        raise FormatError(f"{corpus}: the train split has {len(train_clips)} clips; contrastive training needs "
                          "at least 2 (build a corpus with `keyframeface dataset build`)")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(max(1, cfg.threads))
    rng = np.random.default_rng(cfg.seed)
    train = _pairs(train_clips, cfg.buckets)
    model = _build_model(torch, cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(train) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(steps, 1), pct_start=0.1)
    labels_all = torch.arange(cfg.batch_size)
    best: tuple[float, dict[str, np.ndarray], int] | None = None
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(len(train))
        total, batches = 0.0, 0
        for s in range(0, len(order), cfg.batch_size):
            idx = order[s:s + cfg.batch_size]
            if len(idx) < 2:
                continue
            items = [_augment(train[i], cfg, rng) for i in idx]
            t = model.encode_text([x for x, _ in items])
            m = model.encode_motion([y for _, y in items])
            logits = t @ m.T / cfg.temperature
            labels = labels_all[: len(idx)]
            loss = (torch.nn.functional.cross_entropy(logits, labels)
                    + torch.nn.functional.cross_entropy(logits.T, labels)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.item())
            batches += 1
        mean_loss = total / max(batches, 1)
        params = model.export()
        entry = {"epoch": epoch + 1, "train_loss": round(mean_loss, 4)}
        if val_clips:
            val = evaluate_pairs(Evaluator(params), val_clips, seed=cfg.seed)
            entry.update({k: round(v, 4) for k, v in val.items() if k != "pairs"})
            # top-1 (with top-3 as tie-break): top-3 saturates near 1.0 after a few epochs
            score = val["r_precision_top1"] + 0.01 * val["r_precision_top3"]
        else:
            score = -mean_loss
        history.append(entry)
        log.info("evaluator epoch %d/%d: %s", epoch + 1, cfg.epochs, entry)
        if best is None or score > best[0]:
            best = (score, params, epoch + 1)
        if progress is not None:
            progress(epoch + 1, cfg.epochs, mean_loss)
    train_s = time.perf_counter() - start
    if best is None:
        raise FormatError(f"epochs must be at least 1, got {cfg.epochs}")
    _, params, best_epoch = best
    shapes = param_shapes(cfg.buckets, cfg.hidden, cfg.embed)
    for name, shape in shapes.items():
        if params[name].shape != shape:  # the twin and the numpy model must agree
            raise FormatError(f"internal: exported {name} has shape {params[name].shape}, expected {shape}")
    evaluator = Evaluator(params)
    metrics = {split: evaluate_pairs(evaluator, clips, seed=cfg.seed)
               for split, clips in (("validation", val_clips), ("test", test_clips)) if clips}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **params)  # type: ignore[arg-type]
    data = buffer.getvalue()
    recipe = {
        "format": EVALUATOR_FORMAT,
        "version": 1,
        "sha256": hashlib.sha256(data).hexdigest(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "package_version": __version__,
        "torch_version": str(torch.__version__),
        "command": "keyframeface train evaluator",
        "config": asdict(cfg),
        "seed": cfg.seed,
        "corpus": _corpus_version(dataset),
        "best_epoch": best_epoch,
        "train_s": round(train_s, 1),
        "metrics_real_pairs": {k: {m: round(v, 4) for m, v in d.items()} for k, d in metrics.items()},
        "history": history,
    }
    recipe_path = out.with_suffix(".json")
    recipe_text = json.dumps(recipe, indent=1) + "\n"
    # Write both to temporary files first; the weights are renamed into place, then the recipe. A failure before the
    # renames leaves the old pair untouched, never new weights beside an old recipe that names another sha256.
    with atomic_open(recipe_path, "w") as recipe_handle:
        recipe_handle.write(recipe_text)
        with atomic_open(out, "wb") as weights_handle:
            weights_handle.write(data)
    return TrainResult(out, recipe_path, recipe, train_s)
