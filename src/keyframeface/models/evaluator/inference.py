"""The text / keyframe-sequence evaluator: numpy-only inference of a small contrastive model.

Text-to-motion metrics (R-Precision, multimodal distance, FID, diversity; Guo et al. 2022) need a model that maps
a script's text and a keyframe sequence into one embedding space. A frozen sentence encoder would need torch, so
keyframeface trains its own small pair of encoders (``keyframeface train evaluator``,
:mod:`keyframeface.models.evaluator.train`, InfoNCE on the corpus's (script, keyframes) pairs) and ships the weights as an
``.npz`` file with a recipe JSON beside it (config, corpus version, seed, metrics, sha256 of the weights). This
module runs the model with numpy alone, so ``keyframeface eval`` works on the default install.

Architecture (the training code builds the same computation in torch; both use :func:`text_features`):

* **text**: each keyframe description -> hashed word, word-bigram and character-trigram features -> mean of a
  (buckets, H) embedding table -> concatenated with 3 position features -> ReLU(linear H); the sequence is pooled
  (mean and max over keyframes), the emotion field goes through the same table and its own ReLU(linear H); the
  three are concatenated and projected linearly to E, then L2-normalised.
* **keyframes**: each keyframe's 61 values, their change from the previous keyframe (zeros for the first) and the
  3 position features -> two ReLU(linear H) layers -> mean and max pooled -> linear E -> L2-normalised.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from ... import rig
from ...errors import FormatError
from ...io.recipes import verified_recipe
from ...script import Keyframes, Script

__all__ = [
    "DEFAULT_RECIPE_PATH",
    "DEFAULT_WEIGHTS_PATH",
    "EVALUATOR_FORMAT",
    "Evaluator",
    "load_evaluator",
    "motion_inputs",
    "param_shapes",
    "position_features",
    "script_texts",
    "text_features",
]

DEFAULT_WEIGHTS_PATH: Final[Path] = Path(__file__).resolve().parent / "evaluator.npz"
DEFAULT_RECIPE_PATH: Final[Path] = Path(__file__).resolve().parent / "evaluator.json"
EVALUATOR_FORMAT: Final[str] = "keyframeface.evaluator"
#: Input width of one keyframe: values, change from the previous keyframe, position features.
NUM_POSITION: Final[int] = 3
MOTION_INPUT: Final[int] = 2 * rig.NUM_CHANNELS + NUM_POSITION

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


def text_features(text: str, *, buckets: int) -> np.ndarray:
    """Hashed feature ids of one text: (K,) int64 in [0, buckets), duplicates kept (they weigh the mean).

    Features: lower-cased words, adjacent word pairs, and character trigrams of each word padded with ``<`` and
    ``>`` (so "smiles" shares "smi", "mil" with "smiling"); CJK characters count as words. ``zlib.crc32`` gives the
    same ids in every process and Python version (the built-in ``hash`` is salted per process).
    """
    words: list[str] = []
    for w in _WORD_RE.findall(text.lower()):
        if _CJK_RE.search(w):
            words.extend(w)
        else:
            words.append(w)
    feats = [f"w:{w}" for w in words]
    feats += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for w in words:
        padded = f"<{w}>"
        feats += [f"c:{padded[i:i + 3]}" for i in range(max(len(padded) - 2, 0))]
    return np.array([zlib.crc32(f.encode("utf-8")) % buckets for f in feats], dtype=np.int64)


def position_features(n: int) -> np.ndarray:
    """(n, 3) float32: relative position in [0, 1] (0 for a single keyframe), is-first, is-last."""
    pos = np.zeros((n, NUM_POSITION), dtype=np.float32)
    if n:
        pos[:, 0] = np.arange(n) / max(n - 1, 1)
        pos[0, 1] = 1.0
        pos[-1, 2] = 1.0
    return pos


def motion_inputs(values: np.ndarray) -> np.ndarray:
    """Per-keyframe inputs of the keyframe encoder: (K, 61) values -> (K, 125) float32
    ``[values, values - previous (0 for the first), position features]``."""
    v = np.asarray(values, dtype=np.float32)
    if v.ndim != 2 or v.shape[1] != rig.NUM_CHANNELS or v.shape[0] == 0:
        raise FormatError(f"expected keyframe values of shape (K >= 1, {rig.NUM_CHANNELS}), got {v.shape}")
    delta = np.zeros_like(v)
    delta[1:] = v[1:] - v[:-1]
    return np.concatenate([v, delta, position_features(v.shape[0])], axis=1)


def script_texts(doc: Script | Keyframes) -> tuple[list[str], str]:
    """The texts the evaluator reads from a script or keyframes document: (keyframe descriptions, emotion)."""
    return [k.description for k in doc.keyframes], doc.emotion



def param_shapes(buckets: int, hidden: int, embed: int) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the evaluator's parameters for ``buckets``, ``hidden`` and ``embed`` sizes."""
    return {
        "text.table": (buckets, hidden),
        "text.w1": (hidden + NUM_POSITION, hidden), "text.b1": (hidden,),
        "text.wc": (hidden, hidden), "text.bc": (hidden,),
        "text.w2": (3 * hidden, embed), "text.b2": (embed,),
        "motion.w1": (MOTION_INPUT, hidden), "motion.b1": (hidden,),
        "motion.w2": (hidden, hidden), "motion.b2": (hidden,),
        "motion.w3": (2 * hidden, embed), "motion.b3": (embed,),
    }


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


@dataclass(frozen=True, eq=False)
class Evaluator:
    """A loaded evaluator: ``params`` (name -> float32 array, see :func:`PARAM_SHAPES`) and its ``recipe`` (the
    JSON saved beside the weights: config, corpus, seed, metrics)."""

    params: Mapping[str, np.ndarray]
    recipe: Mapping[str, Any] = field(default_factory=dict)

    @property
    def buckets(self) -> int:
        return int(self.params["text.table"].shape[0])

    @property
    def dim(self) -> int:
        """Embedding width E."""
        return int(self.params["text.b2"].shape[0])

    def _bag(self, text: str) -> np.ndarray:
        ids = text_features(text, buckets=self.buckets)
        table = self.params["text.table"]
        return table[ids].mean(axis=0) if ids.size else np.zeros(table.shape[1], dtype=np.float32)

    def encode_text(self, descriptions: Sequence[str], emotion: str = "") -> np.ndarray:
        """Embedding of one script: (E,) float32, unit length. ``descriptions``: the keyframes' texts (>= 1)."""
        p = self.params
        if not descriptions:
            raise FormatError("the evaluator needs at least one keyframe description")
        bags = np.stack([self._bag(d) for d in descriptions])
        h = _relu(np.concatenate([bags, position_features(len(descriptions))], axis=1) @ p["text.w1"] + p["text.b1"])
        ctx = _relu(self._bag(emotion) @ p["text.wc"] + p["text.bc"])
        out = np.concatenate([h.mean(axis=0), h.max(axis=0), ctx]) @ p["text.w2"] + p["text.b2"]
        return _normalise(out).astype(np.float32)

    def encode_motion(self, values: np.ndarray) -> np.ndarray:
        """Embedding of one keyframe sequence: values (K, 61) -> (E,) float32, unit length."""
        p = self.params
        h = _relu(motion_inputs(values) @ p["motion.w1"] + p["motion.b1"])
        h = _relu(h @ p["motion.w2"] + p["motion.b2"])
        out = np.concatenate([h.mean(axis=0), h.max(axis=0)]) @ p["motion.w3"] + p["motion.b3"]
        return _normalise(out).astype(np.float32)

    def encode_texts(self, docs: Sequence[Script | Keyframes]) -> np.ndarray:
        """(N, E) float32 embeddings of N scripts (or keyframes documents: their descriptions and emotion)."""
        if not docs:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.encode_text(*script_texts(d)) for d in docs])

    def encode_motions(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """(N, E) float32 embeddings of N keyframe sequences, each (K_i, 61)."""
        if not sequences:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.encode_motion(s) for s in sequences])


def _recipe_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def load_evaluator(path: str | Path | None = None) -> Evaluator:
    """Load an evaluator checkpoint: ``path`` to its ``.npz`` (default: the one shipped in the package).

    The recipe JSON beside it (same name, ``.json``) must exist and its ``sha256`` must match the weights; a
    mismatch or a missing parameter raises :class:`FormatError` saying how to retrain
    (``keyframeface train evaluator``).
    """
    weights = Path(path) if path is not None else DEFAULT_WEIGHTS_PATH
    # the file's size and mtime are part of the cache key, so a checkpoint rewritten in place is read again
    stamp = (weights.stat().st_mtime_ns, weights.stat().st_size) if weights.is_file() else (0, 0)
    return _load_cached(str(weights.resolve()), stamp)


@lru_cache(maxsize=4)
def _load_cached(weights_str: str, _stamp: tuple[int, int]) -> Evaluator:
    weights = Path(weights_str)
    recipe_file = _recipe_path(weights)
    if not weights.is_file() or not recipe_file.is_file():
        raise FormatError(f"evaluator checkpoint {weights} (with {recipe_file.name} beside it) not found; train one "
                          "with `keyframeface train evaluator --corpus CORPUS -o PATH.npz`")
    recipe = verified_recipe(weights, recipe_file, EVALUATOR_FORMAT, fix="retrain with `keyframeface train evaluator`")
    cfg = recipe.get("config", {})
    try:
        shapes = param_shapes(int(cfg["buckets"]), int(cfg["hidden"]), int(cfg["embed"]))
    except (KeyError, TypeError, ValueError):
        raise FormatError(f"{recipe_file}: config needs integer buckets, hidden and embed") from None
    params: dict[str, np.ndarray] = {}
    with np.load(weights, allow_pickle=False) as data:
        for name, shape in shapes.items():
            if name not in data.files or tuple(data[name].shape) != shape:
                got = tuple(data[name].shape) if name in data.files else "missing"
                raise FormatError(f"{weights}: parameter {name!r} expected shape {shape}, got {got}")
            params[name] = np.asarray(data[name], dtype=np.float32)
    return Evaluator(params, recipe)
