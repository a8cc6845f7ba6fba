"""The grounding head: sentence embedding of a clause -> what the rule parser would have read in its place.

A linear softmax classifier over labels such as ``action:brow_lower:down``, ``action:smile:up``,
``emotion:sadness`` and ``none`` (a clause with no facial action: "a moment passes", "to the right"), trained by
``keyframeface train bundled`` (:mod:`keyframeface.models.bundled.train`) on the corpus's clauses and on phrases built
from the rule lexicon, each labelled by the rule parser itself. Each label comes with a canonical phrase the rule
parser reads as that label ("the brows lower"), which is what a clause is rewritten to.

Files: ``NAME.npz`` (``weights`` (D, C) float32, ``bias`` (C,), ``labels`` (C,), ``phrases`` (C,)) and
``NAME.json`` beside it (the recipe: config, corpus version, encoder, command, seed, metrics at training time,
``threshold`` and the npz's ``sha256``, checked at load: a changed or damaged file is refused with
:class:`~keyframeface.errors.FormatError`). Inference is numpy alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from ...errors import FormatError
from ...io.atomic import atomic_write_bytes, atomic_write_text
from ...io.files import checked_size
from ...io.recipes import verified_recipe

__all__ = ["DEFAULT_HEAD_PATH", "HEAD_FORMAT", "NONE_LABEL", "GroundingHead", "load_head", "save_head"]

#: The head shipped in the package (``keyframeface train bundled`` rebuilds it).
DEFAULT_HEAD_PATH: Final[Path] = Path(__file__).resolve().parent / "bundled-head.npz"
HEAD_FORMAT: Final[str] = "keyframeface.grounding_head"
#: The label of clauses that ask nothing of the face.
NONE_LABEL: Final[str] = "none"
_MAX_BYTES: Final[int] = 64 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class GroundingHead:
    """A loaded head. ``weights`` (D, C), ``bias`` (C,), ``labels`` and ``phrases`` (C each), ``threshold``: the
    smallest probability at which a label other than :data:`NONE_LABEL` is used; ``recipe``: the JSON beside it."""

    weights: np.ndarray
    bias: np.ndarray
    labels: tuple[str, ...]
    phrases: tuple[str, ...]
    threshold: float
    recipe: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        d_c = self.weights.shape
        if self.weights.ndim != 2 or self.bias.shape != (d_c[1],) or len(self.labels) != d_c[1] \
                or len(self.phrases) != d_c[1]:
            raise FormatError(f"grounding head: inconsistent shapes {self.weights.shape}, {self.bias.shape}, "
                              f"{len(self.labels)} labels, {len(self.phrases)} phrases")
        if not np.all(np.isfinite(self.weights)) or not np.all(np.isfinite(self.bias)):
            raise FormatError("grounding head: weights are not finite")
        if NONE_LABEL not in self.labels:
            raise FormatError(f"grounding head: no {NONE_LABEL!r} label")
        if not 0.0 <= self.threshold <= 1.0:
            raise FormatError(f"grounding head: threshold {self.threshold} is outside [0, 1]")

    @property
    def dim(self) -> int:
        """Input width D (the encoder's)."""
        return int(self.weights.shape[0])

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, C) softmax probabilities for (N, D) embeddings."""
        x = np.asarray(embeddings, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected embeddings of shape (N, {self.dim}), got {x.shape}")
        z = x @ self.weights + self.bias
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    def predict(self, embeddings: np.ndarray, *, allowed: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Per row, ``(label, probability)`` of the most likely label; :data:`NONE_LABEL` when that label's
        probability is under :attr:`threshold`. ``allowed``: label prefixes to choose among (e.g. ``("emotion:",)``;
        the others are ignored and the kept probabilities renormalised)."""
        p = self.probabilities(embeddings)
        if allowed is not None:
            keep = np.array([any(lab.startswith(a) for a in allowed) or lab == NONE_LABEL for lab in self.labels])
            p = p * keep
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        out: list[tuple[str, float]] = []
        for row in p:
            k = int(np.argmax(row))
            label, prob = self.labels[k], float(row[k])
            out.append((label, prob) if label == NONE_LABEL or prob >= self.threshold else (NONE_LABEL, prob))
        return out

    def phrase(self, label: str) -> str:
        """The canonical phrase of ``label`` ("" for :data:`NONE_LABEL`)."""
        return self.phrases[self.labels.index(label)]


def _recipe_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def save_head(head: GroundingHead, path: str | Path, recipe: Mapping[str, Any]) -> Path:
    """Write ``PATH.npz`` and the recipe ``PATH.json`` (with the npz's sha256 and the threshold) atomically;
    returns the recipe path."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        raise FormatError(f"{path}: the weights file must not end in .json (its recipe is written beside it as .json)")
    buf = io.BytesIO()
    np.savez(buf, weights=head.weights.astype(np.float32), bias=head.bias.astype(np.float32),
             labels=np.array(head.labels), phrases=np.array(head.phrases))
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    full = {**dict(recipe), "format": HEAD_FORMAT, "threshold": head.threshold,
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    rp = _recipe_path(path)
    atomic_write_text(rp, json.dumps(full, indent=1, ensure_ascii=False) + "\n")
    return rp


def load_head(path: str | Path | None = None) -> GroundingHead:
    """Load a head (default: the packaged one), checking its sha256 against the recipe beside it.

    Raises :class:`FormatError` for a missing or damaged file, a missing recipe or a sha256 mismatch.
    """
    p = Path(path) if path is not None else DEFAULT_HEAD_PATH
    try:
        st = p.stat()
    except OSError as exc:
        raise FormatError(f"grounding head {p}: {exc.strerror or exc}; rebuild it with `keyframeface train "
                          "bundled`") from None
    return _load_cached(str(p.resolve()), (st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=4)
def _load_cached(path_str: str, _stamp: tuple[int, int]) -> GroundingHead:
    path = Path(path_str)
    checked_size(path, _MAX_BYTES, what="grounding head")
    rp = _recipe_path(path)
    if not rp.is_file():
        raise FormatError(f"grounding head {path}: cannot read its recipe {rp.name}: not found; rebuild it with "
                          "`keyframeface train bundled`")
    recipe = verified_recipe(path, rp, HEAD_FORMAT,
                             fix="reinstall the package or rebuild it with `keyframeface train bundled`")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with loaded as z:
            weights, bias = z["weights"].astype(np.float32), z["bias"].astype(np.float32)
            labels = tuple(str(x) for x in z["labels"])
            phrases = tuple(str(x) for x in z["phrases"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise FormatError(f"grounding head {path}: unreadable ({exc})") from None
    threshold = recipe.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise FormatError(f"{rp}: threshold must be a number")
    return GroundingHead(weights, bias, labels, phrases, float(threshold), recipe)
