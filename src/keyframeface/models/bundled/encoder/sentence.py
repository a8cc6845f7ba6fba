"""SentenceEncoder: texts to all-MiniLM-L6-v2 sentence vectors with numpy only."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from keyframeface.models.bundled.encoder.blas_threads import limit_blas_threads
from keyframeface.models.bundled.encoder.minilm import MiniLM
from keyframeface.models.bundled.encoder.model_file import KNOWN_SHA256, ModelFile, read_model_file
from keyframeface.models.bundled.encoder.onnx_proto import parse_model
from keyframeface.models.bundled.encoder.wordpiece import (
    MAX_SEQ_LENGTH,
    VOCAB_SHA256,
    WordPieceTokenizer,
    load_tokenizer,
)

__all__ = ["MODEL_ID", "SentenceEncoder"]

#: The model whose weights and tokenizer this encoder reproduces.
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


class SentenceEncoder:
    """all-MiniLM-L6-v2 sentence embeddings: WordPiece -> 6-layer MiniLM -> mean pooling -> L2 normalisation.

    Build with :func:`keyframeface.models.bundled.encoder.load_encoder`. Read-only after construction, so one instance may be
    shared between threads.
    """

    def __init__(
        self, model: MiniLM, tokenizer: WordPieceTokenizer, *, model_file: ModelFile, sha256: str, load_s: float
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.model_file = model_file
        self.sha256 = sha256
        self.load_s = load_s
        #: BLAS threads while encoding (None: leave numpy's setting alone). With these small matrices one thread
        #: was 2-5x faster than OpenBLAS's default 2 on the busy 2-core development machine (idle machine not
        #: measured); see keyframeface.models.bundled.encoder.blas_threads.
        self.blas_threads: int | None = 1

    @classmethod
    def from_file(cls, model_file: ModelFile) -> SentenceEncoder:
        """Read, checksum, parse and dequantize ``model_file`` (FormatError on a bad file or checksum)."""
        start = time.perf_counter()
        data, digest = read_model_file(model_file)
        source = str(model_file.path)
        model = MiniLM.from_onnx(parse_model(data, source=source), source=source)
        tokenizer = load_tokenizer()
        return cls(model, tokenizer, model_file=model_file, sha256=digest, load_s=time.perf_counter() - start)

    @property
    def dim(self) -> int:
        """Length of each sentence vector (384)."""
        return self.model.hidden

    def describe(self) -> dict[str, Any]:
        """How vectors are made: model id, weights file and its sha256, tokenizer vocabulary, pooling (JSON-ready)."""
        return {
            "model": MODEL_ID,
            "weights": "int8 ONNX, dequantized to float32, evaluated with numpy",
            "file": str(self.model_file.path),
            "origin": self.model_file.origin,
            "sha256": self.sha256,
            "verified_file": self.sha256 == KNOWN_SHA256,
            "vocab_sha256": VOCAB_SHA256,
            "max_seq_length": self.tokenizer.max_length,
            "dim": self.dim,
            "layers": len(self.model.layers),
            "heads": self.model.num_heads,
            "pooling": "mean",
            "normalized": True,
        }

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``: (len(texts), dim) float32, each row L2-normalised (norm 1), deterministic.

        Texts are cut to 256 tokens ([CLS] and [SEP] included). Texts are sorted by token count and run in batches
        of at most ``batch_size`` texts of similar length, to limit padding. A text's vector does not depend on the
        other texts beyond float rounding (about 1e-6). A ``str`` (rather than a sequence of them) is a TypeError.
        """
        if isinstance(texts, str | bytes):
            raise TypeError("encode() takes a sequence of strings, not one string: use encode([text])")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        encoded = self.tokenizer.encode_batch(list(texts))
        out = np.empty((len(encoded), self.dim), dtype=np.float32)
        with limit_blas_threads(self.blas_threads):
            for chunk in _batches(sorted(range(len(encoded)), key=lambda i: len(encoded[i])), encoded, batch_size):
                length = len(encoded[chunk[-1]])
                ids = np.full((len(chunk), length), self.tokenizer.pad_id, dtype=np.int64)
                mask = np.zeros((len(chunk), length), dtype=np.int64)
                for row, index in enumerate(chunk):
                    ids[row, : len(encoded[index])] = encoded[index]
                    mask[row, : len(encoded[index])] = 1
                out[chunk] = self.model.embed(ids, mask)
        return out

    def __repr__(self) -> str:
        return f"SentenceEncoder({MODEL_ID!r}, file={str(self.model_file.path)!r}, max_seq_length={MAX_SEQ_LENGTH})"


def _batches(order: list[int], encoded: list[list[int]], batch_size: int) -> Iterator[list[int]]:
    """Split ``order`` (indices sorted by token count) into batches of at most ``batch_size`` whose padding stays
    small: a batch also ends before a text longer than 1.5 x its first text's length + 8 tokens, so one long text
    does not make 31 short ones pay for its 256 positions."""
    chunk: list[int] = []
    for index in order:
        if chunk and (len(chunk) == batch_size or len(encoded[index]) > 1.5 * len(encoded[chunk[0]]) + 8):
            yield chunk
            chunk = []
        chunk.append(index)
    if chunk:
        yield chunk
