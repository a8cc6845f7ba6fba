"""What a representation is: a system prompt, an extractor, a formatter and a grammar spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..context import Extracted, ParseContext
from ..grammar import GrammarSpec

__all__ = ["Representation", "format_number"]


@dataclass(frozen=True)
class Representation:
    """One way of writing a keyframe's 61 values as a model answer.

    ``name``: the ``--representation`` value. ``system_prompt``: the system message of its requests.
    ``extract(text, ctx)``: the answer text (reasoning blocks already removed) -> :class:`Extracted` pairs;
    raises ``ctx.fail(...)`` when nothing usable is found. ``format(values, number, digits)``: (61,) float64 values
    in ``rig.CHANNELS`` order -> the answer text for keyframe ``number`` (1-based), values rounded to ``digits``.
    ``grammar``: the answer's shape for constrained decoders (:mod:`keyframeface.prompt.grammar`).
    Validation, policies and the user message are shared by all representations.
    """

    name: str
    system_prompt: str
    extract: Callable[[str, ParseContext], Extracted]
    format: Callable[[np.ndarray, int, int], str]
    grammar: GrammarSpec


def format_number(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` decimals, as written in answers (never ``-0.0``)."""
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
