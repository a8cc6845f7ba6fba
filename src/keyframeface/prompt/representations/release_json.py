"""The ``"json"`` representation: the KeyframeFace release's answer, ``{"Keyframe_x":{...all 61 channels...}}``.

Extraction finds the *last* complete JSON object holding channel values, bare or under wrappers, read strictly or
leniently (:mod:`..lenient_json`); see :func:`keyframeface.prompt.parse_values` for the rules.
"""

from __future__ import annotations

import json
from typing import Any, Final

import numpy as np

from ... import rig
from ...errors import ModelOutputError
from ..context import Extracted, ParseContext, is_channel_key, show
from ..grammar import GrammarSpec
from ..lenient_json import MAX_NESTING, Pairs, SyntaxProblem, decode, maximal_spans, scan_objects
from ..ordinals import answer_key, try_parse_answer_key
from .base import Representation, format_number

__all__ = ["GRAMMAR", "REPRESENTATION", "SYSTEM_PROMPT", "extract_json", "format_json"]

#: The release's system prompt, verbatim (KeyframeFace release, example.jsonl, commit 84ad6e0).
SYSTEM_PROMPT: Final[str] = (
    "You are a professional facial animator. Generate all 61 ARKit facial parameters for exactly one requested "
    "semantic keyframe. The first 52 blendshapes are in [0,1], and the final 9 head/eye pose parameters are in "
    '[-1,1]. Return strict JSON only in the form {"Keyframe_x":{...}}.'
)

#: The answer is the release's JSON object: every channel, in rig.CHANNELS order.
GRAMMAR: Final[GrammarSpec] = GrammarSpec(values="object")


def format_json(values: np.ndarray, number: int, digits: int) -> str:
    """``{"Keyframe_<number>":{...61 keys...}}`` with compact separators, as the release's answers."""
    body = {name: format_number(v, digits) for name, v in zip(rig.CHANNELS, values, strict=True)}
    return json.dumps({answer_key(number): body}, ensure_ascii=False, separators=(",", ":"))


def _channel_pairs(obj: Any, ctx: ParseContext) -> tuple[list[tuple[Any, Any]], str | None]:
    """Find the channel mapping inside ``obj``: a bare ``{channel: value}`` object, or one under wrappers
    (``{"Keyframe_one": {...}}``, ``{"result": {"Keyframe_one": {"values": {...}}}}``).

    Returns the pairs and the wrapper key: the first one naming a keyframe, else the outermost, else ``None``.
    """
    keys: list[str] = []
    node = obj
    for _ in range(MAX_NESTING):
        if not isinstance(node, Pairs):
            raise ctx.fail("expected a JSON object of channel: value pairs")
        if any(is_channel_key(k) for k, _ in node):
            named = [k for k in keys if try_parse_answer_key(k) is not None]
            return list(node), named[0] if named else (keys[0] if keys else None)
        subs = [(k, v) for k, v in node if isinstance(v, Pairs)]
        if not subs:
            if any(isinstance(v, list) for _, v in node):
                raise ctx.fail("the values come as a list; keyframeface reads values keyed by channel name only "
                               '(e.g. {"Keyframe_one": {"EyeBlinkLeft": 0.0, ...}})')
            raise ctx.fail("the JSON object has no channel names; expected keys such as EyeBlinkLeft, JawOpen or "
                           'HeadYaw, optionally inside {"Keyframe_one": {...}}')
        ignored = [k for k, v in node if not isinstance(v, Pairs)]
        if ignored:
            ctx.warnings.append(f"ignored field(s) beside the values: {', '.join(show(k) for k in ignored[:5])}")
        if len(subs) > 1:
            subs = [_choose_keyframe(subs, ctx)]
        key, node = subs[0]
        keys.append(key if isinstance(key, str) else str(key))
    raise ctx.fail(f"the answer nests wrappers deeper than {MAX_NESTING} levels")


def _choose_keyframe(subs: list[tuple[Any, Any]], ctx: ParseContext) -> tuple[Any, Any]:
    """Several objects side by side (``{"Keyframe_one": {...}, "Keyframe_two": {...}}``): pick one."""
    names = ", ".join(show(k) for k, _ in subs[:5])
    if ctx.index is not None:
        for key, value in subs:
            if try_parse_answer_key(key) == ctx.index + 1:
                ctx.warnings.append(f"the answer holds {len(subs)} objects ({names}); used {show(key)}")
                return key, value
    if ctx.policy == "strict":
        wanted = f"none of them is {answer_key(ctx.index + 1)!r}" if ctx.index is not None else "pass index="
        raise ctx.fail(f"the answer holds {len(subs)} objects ({names}) where one keyframe was expected; {wanted}")
    ctx.warnings.append(f"the answer holds {len(subs)} objects ({names}); used the first")
    return subs[0]


def extract_json(text: str, ctx: ParseContext) -> Extracted:
    """The ``"json"`` representation: the last complete JSON object holding channel values."""
    result = _find_object(text, ctx)
    if result is None and ctx.thinking is not None:
        # The answer stopped inside <think>: a draft there is all there is.
        if ctx.policy == "strict":
            raise ctx.fail("the answer ends inside an unclosed <think> block (the model ran out of tokens while "
                           "reasoning); raise max_tokens, disable thinking, or use policy='repair'")
        result = _find_object(ctx.thinking, ctx)
        if result is not None:
            ctx.warnings.append("the answer ends inside an unclosed <think> block; used the values found there")
    if result is None:
        raise ctx.fail("no JSON object with channel values found in the answer; expected "
                       '{"Keyframe_x": {"EyeBlinkLeft": 0.0, ...}} with all 61 channels')
    return result


def _find_object(text: str, ctx: ParseContext) -> Extracted | None:
    """The last complete object holding channel values; failing that, a cut-off one (repair only).

    Complete objects win even when an unclosed ``{`` surrounds them (a stray brace in prose, or a missing final
    ``}``). Only when no complete object holds values does an unclosed one mean the answer was cut off.
    """
    spans, unclosed = scan_objects(text, ctx)
    first_error: ModelOutputError | None = None
    for start, end in maximal_spans(spans):
        mark = len(ctx.warnings)
        try:
            obj, lenient, _ = decode(text[start:end], allow_eof=False)
            pairs, key = _channel_pairs(obj, ctx)
        except (SyntaxProblem, ModelOutputError) as exc:
            del ctx.warnings[mark:]  # warnings about a rejected candidate do not apply
            if first_error is None:
                first_error = exc if isinstance(exc, ModelOutputError) else ctx.fail(
                    f"the JSON object could not be read: {exc}")
            continue
        if lenient:
            ctx.warnings.append("the answer is not strict JSON (single quotes, unquoted keys, trailing or "
                                "missing commas, or Python literals); it was read leniently")
        if unclosed and unclosed[0] < start:
            ctx.warnings.append("an unclosed '{' before the values was ignored")
        return Extracted(pairs, key)
    if not unclosed:
        if first_error is not None:
            raise first_error
        return None
    if ctx.policy == "strict":
        raise ctx.fail("the answer was cut off inside a JSON object (unclosed '{'); expected a complete object of "
                       "61 channel values: raise max_tokens, or use policy='repair' to keep the complete channels")
    for start in unclosed[:4]:  # outermost first, so the wrapper key is kept
        mark = len(ctx.warnings)
        try:
            obj, _, _ = decode(text[start:], allow_eof=True)
            pairs, key = _channel_pairs(obj, ctx)
        except (SyntaxProblem, ModelOutputError):
            del ctx.warnings[mark:]
            continue
        ctx.warnings.append("the answer was cut off inside the JSON object; read the complete values before the cut")
        return Extracted(pairs, key)
    if first_error is not None:
        raise first_error
    return None



REPRESENTATION: Final[Representation] = Representation("json", SYSTEM_PROMPT, extract_json, format_json, GRAMMAR)
