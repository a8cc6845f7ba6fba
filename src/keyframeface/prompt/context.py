"""What answer parsing passes around: the per-call :class:`ParseContext` and an extractor's :class:`Extracted`.

Shared by the representations' extractors (:mod:`.representations`), the lenient JSON reader
(:mod:`.lenient_json`) and the validator (:mod:`.validate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import rig
from ..errors import ModelOutputError

__all__ = ["Extracted", "ParseContext", "is_channel_key", "show"]


@dataclass(frozen=True)
class Extracted:
    """What a representation's extractor found: ``(written name, raw value)`` pairs in order, the wrapper key."""

    pairs: list[tuple[Any, Any]]
    key: str | None = None
    absent_is_zero: bool = False  # compact lists only active channels: absence is not an error


@dataclass
class ParseContext:
    """Per-call parsing state shared by the extractors and the validator: the ``raw`` answer, the ``policy``
    (``"strict"`` or ``"repair"``), the 0-based ``index`` asked for (or ``None``), the ``warnings`` gathered so far
    and ``thinking``, the text of an unclosed ``<think>`` block."""

    raw: str
    policy: str
    index: int | None
    warnings: list[str] = field(default_factory=list)
    thinking: str | None = None  # text of an unclosed <think> block, if any

    def fail(self, message: str) -> ModelOutputError:
        """The error to raise for this answer: :class:`ModelOutputError` carrying the raw text."""
        return ModelOutputError(message, raw_text=self.raw)


def is_channel_key(key: Any) -> bool:
    """Whether ``key`` names a channel (any spelling :func:`rig.try_canonical_name` reads) or an ignored name."""
    return isinstance(key, str) and (rig.try_canonical_name(key) is not None or rig.is_ignored_name(key))


def show(key: Any) -> str:
    """A short printable form of a key for messages."""
    return repr(key[:40]) if isinstance(key, str) else type(key).__name__
