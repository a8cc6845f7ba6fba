"""Release-compatible chat messages, and robust parsing of model text into 61 values.

Building (the KeyframeFace release's ms-swift request format, ``reference/keyframeface-release/example.jsonl``)::

    messages = build_messages(script, 0)        # [{"role": "system", ...}, {"role": "user", ...}]
    text = requests_jsonl(script)               # one request per keyframe, byte-identical to the release's file

Parsing (:func:`parse_values`) finds the answer in whatever the model wrote; see its docstring for the rules.
Values are returned exactly as written: in particular the published model's eye pitch sign (negative for a lowered
gaze, the opposite of the capture convention in :mod:`keyframeface.rig`) is *not* flipped here; the caller decides.

Modules (each concern has one home):

* :mod:`.ordinals`: keyframe numbers in words (``Twenty-One``, ``Keyframe_twenty_one``) and back;
* :mod:`.messages`: the user message layout, requests, and reading a user message back;
* :mod:`.representations`: one module per answer representation (``"json"``, the release's; ``"compact"``;
  ``"semantic"``), each owning its system prompt, extractor, formatter and grammar spec (:mod:`.grammar`, which the
  constrained decoders of the ``llama``, ``hf`` and ``openai`` backends consume);
* :mod:`.parse`: :func:`parse_values` (pre-cleaning in :mod:`.cleaning`, objects read by :mod:`.lenient_json`,
  validation in :mod:`.validate`); :mod:`.targets`: :func:`format_answer`, the answer text for training targets.
"""

from __future__ import annotations

from .grammar import GrammarSpec
from .lenient_json import MAX_NESTING
from .messages import (
    PromptContent,
    build_messages,
    build_requests,
    parse_user_message,
    requested_answer_key,
    requests_jsonl,
    system_prompt,
    user_message,
)
from .ordinals import answer_key, ordinal_word, parse_answer_key, parse_ordinal_word
from .parse import MAX_RESPONSE_CHARS, POLICIES, ParsedValues, parse_values
from .representations import REPRESENTATIONS, Representation, get_representation, grammar_for
from .representations.compact import SYSTEM_PROMPT as COMPACT_SYSTEM_PROMPT
from .representations.release_json import SYSTEM_PROMPT
from .representations.semantic import SYSTEM_PROMPT as SEMANTIC_SYSTEM_PROMPT
from .representations.semantic import describe_regions
from .targets import format_answer

__all__ = [
    "COMPACT_SYSTEM_PROMPT",
    "MAX_NESTING",
    "MAX_RESPONSE_CHARS",
    "POLICIES",
    "REPRESENTATIONS",
    "SEMANTIC_SYSTEM_PROMPT",
    "SYSTEM_PROMPT",
    "GrammarSpec",
    "ParsedValues",
    "PromptContent",
    "Representation",
    "answer_key",
    "build_messages",
    "build_requests",
    "describe_regions",
    "format_answer",
    "get_representation",
    "grammar_for",
    "ordinal_word",
    "parse_answer_key",
    "parse_ordinal_word",
    "parse_user_message",
    "parse_values",
    "requested_answer_key",
    "requests_jsonl",
    "system_prompt",
    "user_message",
]
