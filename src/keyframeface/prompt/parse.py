"""Robust parsing of model text into 61 values (:func:`parse_values`): find the answer, extract, validate."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from ..errors import ModelOutputError, ScriptError
from .cleaning import strip_reasoning
from .context import ParseContext
from .ordinals import answer_key, try_parse_answer_key
from .representations import get_representation
from .validate import validate

__all__ = ["MAX_RESPONSE_CHARS", "POLICIES", "ParsedValues", "parse_values"]

# The logger keeps the package's name (callers and tests filter on "keyframeface.prompt").
_log = logging.getLogger("keyframeface.prompt")

#: Model answers longer than this are refused before any scanning (the release's answers are ~2,500 characters;
#: 1,024 new tokens, the release's ``--max_new_tokens``, are well under 10,000 characters even with thinking).
MAX_RESPONSE_CHARS: Final[int] = 200_000

#: How a parse treats problems: ``"strict"`` raises, ``"repair"`` fixes each with a warning.
POLICIES: Final[tuple[str, ...]] = ("strict", "repair")


@dataclass(frozen=True, eq=False)
class ParsedValues:
    """A parsed answer: ``values`` (61,) float32 in ``rig.CHANNELS`` order, exactly as written (after repair, if
    any); ``warnings``, one line per thing that was unusual or repaired (the contract: callers record these);
    ``key``, the wrapper key as written (``"Keyframe_one"``) or ``None`` for a bare object."""

    values: np.ndarray
    warnings: list[str] = field(default_factory=list)
    key: str | None = None


def parse_values(text: str, *, policy: str = "strict", index: int | None = None,
                 representation: str = "json") -> ParsedValues:
    """Turn a model's answer into 61 values.

    Finding the answer (both policies): ``<think>...</think>`` blocks are dropped (a lone ``</think>`` drops
    everything before it); code fences and prose around the object are ignored; the *last* complete ``{...}``
    that holds channel values is used, bare (61 channel keys) or under wrappers (``{"Keyframe_one": {...}}``, also
    nested ones). Channel names are read in every spelling :func:`rig.try_canonical_name` accepts. Single quotes,
    unquoted keys, trailing commas and numbers written as strings (``"0.3"``) are accepted with a warning.

    ``policy="strict"`` raises :class:`ModelOutputError` (with ``raw_text``) listing every problem: missing
    channels, unknown keys, NaN/infinity, values that are not numbers (booleans, null, percentages such as
    ``"30%"``), out-of-range values, one key given twice with different values, several keyframes in one answer
    (unless ``index`` picks one), an answer cut off mid-object or inside ``<think>``.
    ``policy="repair"`` fixes each with a warning: missing, null, NaN or non-number -> 0; out of range -> clamped
    to the channel's range; percentages / 100; unknown keys dropped; duplicates -> the last; a cut-off answer -> the
    complete values before the cut.

    ``index`` (0-based) is the keyframe the request asked for. A wrapper key naming another keyframe is only
    warned about, in both policies: the request asked for exactly one keyframe, so the values answer it whatever
    the label says. ``representation`` is ``"json"`` (the release's), ``"compact"`` (absent channels are 0) or
    ``"semantic"`` (a description, then ``Values:`` in the compact form; the values after the last ``Values:``).

    Values are not transformed (no eye-pitch sign change). The text is capped at :data:`MAX_RESPONSE_CHARS`
    characters and objects at :data:`MAX_NESTING` levels; scanning is linear in the text length.
    """
    if policy not in POLICIES:
        raise ScriptError(f"unknown policy {policy!r}; expected one of {list(POLICIES)}", field="policy")
    if index is not None and (isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0):
        raise ScriptError(f"index must be a 0-based int or None, got {index!r}", field="index")
    rep = get_representation(representation)
    if not isinstance(text, str):
        raise ModelOutputError(f"expected the model's answer as a string, got {type(text).__name__}")
    if len(text) > MAX_RESPONSE_CHARS:
        raise ModelOutputError(
            f"the answer is {len(text)} characters long; the limit is {MAX_RESPONSE_CHARS}. A keyframe answer is a "
            "few thousand characters: the model is probably looping (lower max_tokens or the temperature)",
            raw_text=text,
        )
    ctx = ParseContext(raw=text, policy=policy, index=None if index is None else int(index))
    answer, ctx.thinking = strip_reasoning(text)
    extracted = rep.extract(answer, ctx)
    values = validate(extracted, ctx)
    key = extracted.key
    if ctx.index is not None and key is not None:
        number = try_parse_answer_key(key)
        if number is not None and number != ctx.index + 1:
            ctx.warnings.append(f"the answer is labelled {key!r} but keyframe {ctx.index + 1} "
                                f"({answer_key(ctx.index + 1)!r}) was asked for; used its values")
    if ctx.warnings:  # INFO, not WARNING: the returned list is the contract and callers report it
        _log.info("model answer%s read with %d warning(s): %s",
                     "" if ctx.index is None else f" for keyframe {ctx.index + 1}",
                     len(ctx.warnings), "; ".join(ctx.warnings[:3]))
    return ParsedValues(values=values, warnings=ctx.warnings, key=key)
