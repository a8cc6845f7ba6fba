"""Release-compatible requests: the chat messages asking for one keyframe, and reading a user message back.

Building (the KeyframeFace release's ms-swift request format, ``reference/keyframeface-release/example.jsonl``)::

    messages = build_messages(script, 0)        # [{"role": "system", ...}, {"role": "user", ...}]
    text = requests_jsonl(script)               # one request per keyframe, byte-identical to the release's file

The user message holds the whole script and asks for one keyframe::

    Keyframe Description Sequence:
    - Keyframe One: <description 1>
    - Keyframe Two: <description 2>

    Background: <background>
    Emotion: <emotion>

    Task Instruction: Generate the facial expression parameters for Keyframe One.

Choices made where the release has no example (all invertible by :func:`parse_user_message`):

* Keyframe numbers are spelled as English words (:mod:`.ordinals`).
* An empty background or emotion drops its line (``Background: ...``); when both are empty the block and its blank
  line are dropped. An empty description is written as ``- Keyframe One:`` with nothing after the colon.
* Line breaks inside a description, background or emotion would break the line structure the model was trained
  on, so each text is written on one line (its lines joined with single spaces).

Indices: ``index`` arguments are 0-based positions in ``script.keyframes``; keyframe *numbers* are 1-based.
The system message is the representation's (:mod:`.representations`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import FormatError, ScriptError
from ..script import Script
from .ordinals import answer_key, ordinal_word, try_parse_words
from .representations import get_representation

__all__ = [
    "PromptContent", "build_messages", "build_requests", "parse_user_message", "requested_answer_key",
    "requests_jsonl", "system_prompt", "user_message",
]

_HEADER = "Keyframe Description Sequence:"
_ITEM = "- Keyframe "
_BACKGROUND = "Background:"
_EMOTION = "Emotion:"
_TASK = "Task Instruction: Generate the facial expression parameters for Keyframe "
_TASK_PREFIX = "Task Instruction:"

def _one_line(text: str) -> str:
    """The text on one line: its lines stripped and joined with single spaces (why: see the module docstring)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _check_script(script: Any) -> Script:
    if not isinstance(script, Script):
        raise ScriptError(f"expected a Script, got {type(script).__name__}")
    if script.needs_planning:
        raise ScriptError("the script has only free text; plan it into keyframes first (keyframeface.plan)")
    return script


def _check_index(script: Script, index: Any) -> int:
    count = len(script.keyframes)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= int(index) < count:
        raise ScriptError(f"keyframe index must be an int in [0, {count - 1}] (0-based), got {index!r}")
    return int(index)


def user_message(script: Script, index: int) -> str:
    """The release's user message asking for ``script.keyframes[index]`` (0-based), with the whole script as context.

    See the module docstring for the exact layout and what happens with empty texts.
    """
    script = _check_script(script)
    index = _check_index(script, index)
    items = [_HEADER]
    for n, kf in enumerate(script.keyframes, start=1):
        desc = _one_line(kf.description)
        items.append(f"{_ITEM}{ordinal_word(n)}: {desc}" if desc else f"{_ITEM}{ordinal_word(n)}:")
    context = []
    background, emotion = _one_line(script.background), _one_line(script.emotion)
    if background:
        context.append(f"{_BACKGROUND} {background}")
    if emotion:
        context.append(f"{_EMOTION} {emotion}")
    blocks = ["\n".join(items)]
    if context:
        blocks.append("\n".join(context))
    blocks.append(f"{_TASK}{ordinal_word(index + 1)}.")
    return "\n\n".join(blocks)


def system_prompt(representation: str = "json") -> str:
    """The system prompt for ``representation`` (``"json"``: the release's :data:`SYSTEM_PROMPT`)."""
    return get_representation(representation).system_prompt


def build_messages(script: Script, index: int, *, representation: str = "json") -> list[dict[str, str]]:
    """The chat messages asking for ``script.keyframes[index]`` (0-based): ``[system, user]``, each
    ``{"role": ..., "content": ...}``, exactly as in the release's example.jsonl for ``representation="json"``.

    Raises :class:`ScriptError` for a script without keyframes, an index out of range or an unknown representation.
    """
    rep = get_representation(representation)
    return [
        {"role": "system", "content": rep.system_prompt},
        {"role": "user", "content": user_message(script, index)},
    ]


def build_requests(script: Script, *, representation: str = "json") -> list[dict[str, Any]]:
    """One ms-swift request ``{"messages": [system, user]}`` per keyframe, in order."""
    script = _check_script(script)
    return [
        {"messages": build_messages(script, i, representation=representation)} for i in range(len(script.keyframes))
    ]


def requests_jsonl(script: Script, *, representation: str = "json") -> str:
    """The requests as ms-swift JSONL text, byte-identical to the release's example.jsonl for the same script.

    Each request is ``json.dumps`` with compact separators (``","``, ``":"``), as in the release file, and
    ``ensure_ascii=False`` (UTF-8, as ms-swift reads it; the release example is pure ASCII so both agree there).
    Every line ends with ``\\n`` and the text ends with one extra blank line, as the release file does.
    """
    lines = [
        json.dumps(req, ensure_ascii=False, separators=(",", ":"))
        for req in build_requests(script, representation=representation)
    ]
    return "".join(line + "\n" for line in lines) + "\n"


@dataclass(frozen=True)
class PromptContent:
    """What a release user message says: ``descriptions`` of every keyframe in order, ``background``,
    ``emotion`` (``""`` when the line is absent) and ``target``, the 0-based keyframe asked for (``None`` if the
    message has no task line)."""

    descriptions: tuple[str, ...]
    background: str = ""
    emotion: str = ""
    target: int | None = None


def parse_user_message(text: str) -> PromptContent:
    """Read a release user message back (the inverse of :func:`user_message`).

    Lenient about surrounding whitespace and ``\\r\\n``; a line inside the sequence that is not a ``- Keyframe``
    item continues the previous description. Raises :class:`FormatError` naming the line for anything else.
    """
    if not isinstance(text, str):
        raise FormatError(f"expected the user message as a string, got {type(text).__name__}")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    descriptions: list[str] = []
    background = emotion = ""
    target: int | None = None
    section = "start"
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            if section == "sequence":
                section = "after"
            continue
        if section == "start":
            if line != _HEADER:
                raise FormatError(f"user message line {lineno}: expected {_HEADER!r}, got {line[:60]!r}")
            section = "sequence"
        elif line.startswith(_ITEM) and section in ("sequence", "after"):
            words, sep, desc = line[len(_ITEM) :].partition(":")
            number = try_parse_words(words) if sep else None
            if number is None:
                raise FormatError(f"user message line {lineno}: expected '- Keyframe <Number>: ...', got {line[:60]!r}")
            if number != len(descriptions) + 1:
                raise FormatError(
                    f"user message line {lineno}: expected Keyframe {ordinal_word(len(descriptions) + 1)}"
                    f" next, got Keyframe {words.strip()[:40]}"
                )
            descriptions.append(desc.strip())
            section = "sequence"
        elif line.startswith(_BACKGROUND) and section != "start":
            background = line[len(_BACKGROUND) :].strip()
            section = "context"
        elif line.startswith(_EMOTION) and section != "start":
            emotion = line[len(_EMOTION) :].strip()
            section = "context"
        elif line.startswith(_TASK_PREFIX):
            _, sep, tail = line.rpartition(" Keyframe ")
            number = try_parse_words(tail.rstrip(".").strip()) if sep else None
            if number is None or number > len(descriptions):
                raise FormatError(
                    f"user message line {lineno}: expected 'Task Instruction: ... for Keyframe <Number>.' naming "
                    f"one of the {len(descriptions)} keyframes, got {line[:80]!r}"
                )
            target = number - 1
            section = "task"
        elif section == "sequence" and descriptions:
            descriptions[-1] = f"{descriptions[-1]} {line}".strip()
        else:
            raise FormatError(f"user message line {lineno}: unexpected text {line[:60]!r}")
    if not descriptions:
        raise FormatError(f"the user message lists no keyframes; expected {_HEADER!r} and '- Keyframe One: ...' lines")
    return PromptContent(tuple(descriptions), background, emotion, target)



def requested_answer_key(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The answer key (``"Keyframe_two"``) of the keyframe the first release user message in ``messages`` asks
    for, or ``None`` when no user message names one (no user message, no task line, or not a release message)."""
    for message in messages:
        if message.get("role") != "user":
            continue
        try:
            target = parse_user_message(str(message.get("content", ""))).target
        except (FormatError, ScriptError):
            target = None
        return None if target is None else answer_key(target + 1)
    return None
