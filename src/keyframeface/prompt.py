"""Release-compatible chat messages, and robust parsing of model text into 61 values.

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

Choices this module makes where the release has no example (all documented here, all invertible by
:func:`parse_user_message`):

* Keyframe numbers are spelled as English cardinal words in title case, American style without "And":
  ``One`` ... ``Nineteen``, ``Twenty``, ``Twenty-One``, ``One Hundred``, ``One Hundred One``,
  ``Two Hundred Fifty-Six``. The answer key lowercases the words and joins them with underscores
  (``Keyframe_one``, ``Keyframe_twenty_one``, ``Keyframe_one_hundred_one``), matching the release's
  ``Keyframe_one`` / ``Keyframe_two``. :func:`parse_answer_key` also accepts ``and``, hyphens, spaces, any letter
  case and digits (``Keyframe_21``).
* An empty background or emotion drops its line (``Background: ...``); when both are empty the block and its blank
  line are dropped. An empty description is written as ``- Keyframe One:`` with nothing after the colon.
* Line breaks inside a description, background or emotion would break the line structure the model was trained
  on, so each text is written on one line (its lines joined with single spaces).

Indices: ``index`` arguments are 0-based positions in ``script.keyframes`` (like the rest of the package); keyframe
*numbers* (``ordinal_word(n)``, ``answer_key(n)``) are 1-based, as in the prompt text.

Parsing (:func:`parse_values`) finds the answer in whatever the model wrote; see its docstring for the rules.
Values are returned exactly as written: in particular the published model's eye pitch sign (negative for a lowered
gaze, the opposite of the capture convention in :mod:`keyframeface.rig`) is *not* flipped here; the caller decides.

Representations: ``"json"`` is the release's format (the full 61-key object, wrapped in ``{"Keyframe_x": ...}``).
``"compact"`` lists only the active channels, ``MouthSmileLeft=0.4; BrowInnerUp=0.3`` (absent channels are 0).
``"semantic"`` first describes the face in words, one line per active region under ``Regions:`` (action,
intensity, symmetry), then gives ``Values:`` in the compact form; the parser reads the values after the description.
A new representation is one entry in ``_REPRESENTATIONS``: a system prompt, an extractor from text to
``(name, raw value)`` pairs and a formatter for training targets; validation and policies are shared.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from . import rig
from .errors import FormatError, ModelOutputError, ScriptError
from .script import MAX_KEYFRAMES, Script

__all__ = [
    "COMPACT_SYSTEM_PROMPT",
    "MAX_NESTING",
    "MAX_RESPONSE_CHARS",
    "POLICIES",
    "REPRESENTATIONS",
    "SEMANTIC_SYSTEM_PROMPT",
    "SYSTEM_PROMPT",
    "ParsedValues",
    "PromptContent",
    "answer_key",
    "build_messages",
    "build_requests",
    "describe_regions",
    "format_answer",
    "ordinal_word",
    "parse_answer_key",
    "parse_ordinal_word",
    "parse_user_message",
    "parse_values",
    "requests_jsonl",
    "system_prompt",
    "user_message",
]

_log = logging.getLogger(__name__)

#: The release's system prompt, verbatim (KeyframeFace release, example.jsonl, commit 84ad6e0).
SYSTEM_PROMPT: Final[str] = (
    "You are a professional facial animator. Generate all 61 ARKit facial parameters for exactly one requested "
    "semantic keyframe. The first 52 blendshapes are in [0,1], and the final 9 head/eye pose parameters are in "
    '[-1,1]. Return strict JSON only in the form {"Keyframe_x":{...}}.'
)

#: System prompt of the "compact" representation (this project's; the release has none).
COMPACT_SYSTEM_PROMPT: Final[str] = (
    "You are a professional facial animator. Generate the ARKit facial parameters for exactly one requested "
    "semantic keyframe. The 52 blendshapes are in [0,1], and the 9 head/eye pose parameters are in [-1,1]. "
    "Return only the non-zero parameters as Name=value pairs separated by semicolons, for example "
    "MouthSmileLeft=0.4; BrowInnerUp=0.3. Parameters you leave out are 0; answer neutral for a neutral face."
)

#: System prompt of the "semantic" representation (this project's): a short structured description of the face
#: first (regions, intensities, symmetry, as in the sister project SemanticFace), then the values. Writing the
#: description first lets a model reason in words before committing to numbers, in a form a person can check.
SEMANTIC_SYSTEM_PROMPT: Final[str] = (
    "You are a professional facial animator. Generate the ARKit facial parameters for exactly one requested "
    "semantic keyframe. First describe the face under 'Regions:', one line per active region, as "
    "'- region: action intensity, symmetry' (regions: brows, eyes, gaze, cheeks, nose, jaw, mouth, tongue, head; "
    "intensity: slight, moderate, strong or full; symmetry: symmetric, left stronger, right stronger, left only or "
    "right only). Then write 'Values:' followed by the non-zero parameters as Name=value pairs separated by "
    "semicolons, for example Values: MouthSmileLeft=0.4; BrowInnerUp=0.3. The 52 blendshapes are in [0,1] and the "
    "9 head/eye pose parameters in [-1,1]; parameters you leave out are 0 ('Values: neutral' for a neutral face)."
)

#: Model answers longer than this are refused before any scanning (the release's answers are ~2,500 characters;
#: 1,024 new tokens, the release's ``--max_new_tokens``, are well under 10,000 characters even with thinking).
MAX_RESPONSE_CHARS: Final[int] = 200_000
#: Objects nested deeper than this are refused (answers nest 2 levels; deeper is garbage or hostile).
MAX_NESTING: Final[int] = 32
#: How many complete objects, counted from the end of the answer, are tried before giving up.
_MAX_CANDIDATES: Final[int] = 32
#: Values this close outside a channel's range are clipped silently (float noise, as in script.py's check).
_RANGE_TOLERANCE: Final[float] = 1e-6

POLICIES: Final[tuple[str, ...]] = ("strict", "repair")

_HEADER = "Keyframe Description Sequence:"
_ITEM = "- Keyframe "
_BACKGROUND = "Background:"
_EMOTION = "Emotion:"
_TASK = "Task Instruction: Generate the facial expression parameters for Keyframe "
_TASK_PREFIX = "Task Instruction:"


# ------------------------------------------------------------------------------------------------- ordinals
_ONES: Final[tuple[str, ...]] = (
    "", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
    "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen",
)  # fmt: skip
_TENS: Final[tuple[str, ...]] = (
    "", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety",
)  # fmt: skip
_ONES_VALUE: Final[Mapping[str, int]] = {w.lower(): i for i, w in enumerate(_ONES) if w}
_TENS_VALUE: Final[Mapping[str, int]] = {w.lower(): 10 * i for i, w in enumerate(_TENS) if w}
_WORD_SPLIT = re.compile(r"[\s_\-]+")
_KEY_PATTERN = re.compile(r"key[\s_\-]*frame[\s_\-]*([a-z0-9][a-z0-9\s_\-]*)")


def _check_number(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ScriptError(f"expected a keyframe number (int), got {type(n).__name__}")
    if not 1 <= int(n) <= MAX_KEYFRAMES:
        raise ScriptError(f"keyframe number must be in [1, {MAX_KEYFRAMES}], got {int(n)}")
    return int(n)


def ordinal_word(n: int) -> str:
    """The title-case English words for keyframe number ``n`` (1-based): 1 -> ``"One"``, 21 -> ``"Twenty-One"``,
    101 -> ``"One Hundred One"``, 256 -> ``"Two Hundred Fifty-Six"``.

    ``n`` must be in ``[1, script.MAX_KEYFRAMES]``; otherwise :class:`ScriptError`. Inverse: :func:`parse_ordinal_word`.
    """
    n = _check_number(n)
    parts: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(f"{_ONES[hundreds]} Hundred")
    if rest:
        if rest < 20:
            parts.append(_ONES[rest])
        else:
            tens, ones = divmod(rest, 10)
            parts.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    return " ".join(parts)


def answer_key(n: int) -> str:
    """The answer's wrapper key for keyframe number ``n`` (1-based): ``Keyframe_one``, ``Keyframe_twenty_one``.

    Inverse: :func:`parse_answer_key`.
    """
    return "Keyframe_" + _WORD_SPLIT.sub("_", ordinal_word(n).lower())


def _number_from_tokens(tokens: Sequence[str]) -> int | None:
    """Words (lowercase) -> number, by the grammar ``[ones hundred [and]] [tens [ones] | ones | teens]``."""
    if len(tokens) == 1 and tokens[0].isdigit() and len(tokens[0]) <= 4:
        return int(tokens[0])
    i, n, total = 0, len(tokens), 0
    if n >= 2 and tokens[0] in _ONES_VALUE and _ONES_VALUE[tokens[0]] < 10 and tokens[1] == "hundred":
        total, i = 100 * _ONES_VALUE[tokens[0]], 2
        if i < n - 1 and tokens[i] == "and":
            i += 1
    if i < n and tokens[i] in _TENS_VALUE:
        total += _TENS_VALUE[tokens[i]]
        i += 1
        if i < n and tokens[i] in _ONES_VALUE and _ONES_VALUE[tokens[i]] < 10:
            total += _ONES_VALUE[tokens[i]]
            i += 1
    elif i < n and tokens[i] in _ONES_VALUE:
        total += _ONES_VALUE[tokens[i]]
        i += 1
    if i != n or total == 0:
        return None
    return total


def _try_parse_words(text: str) -> int | None:
    if not isinstance(text, str) or len(text) > 100:
        return None
    tokens = [t for t in _WORD_SPLIT.split(text.strip().lower()) if t]
    number = _number_from_tokens(tokens) if tokens else None
    if number is None or not 1 <= number <= MAX_KEYFRAMES:
        return None
    return number


def parse_ordinal_word(text: str) -> int:
    """Inverse of :func:`ordinal_word`: ``"Twenty-One"`` -> 21 (case, hyphens, spaces, ``and`` and digits accepted).

    Raises :class:`ScriptError` for anything that is not a keyframe number in ``[1, MAX_KEYFRAMES]``.
    """
    number = _try_parse_words(text)
    if number is None:
        shown = text[:60] if isinstance(text, str) else type(text).__name__
        raise ScriptError(
            f"{shown!r} is not a keyframe number; expected English words such as 'One', 'Twenty-One' or "
            f"'Two Hundred Fifty-Six' (1 to {MAX_KEYFRAMES})"
        )
    return number


def _try_parse_answer_key(key: Any) -> int | None:
    if not isinstance(key, str) or len(key) > 100:
        return None
    m = _KEY_PATTERN.fullmatch(key.strip().lower())
    return _try_parse_words(m.group(1)) if m else None


def parse_answer_key(key: str) -> int:
    """Inverse of :func:`answer_key`: ``"Keyframe_twenty_one"`` -> 21 (1-based keyframe number).

    Accepts any letter case, ``_``/``-``/space separators, ``and``, and digits (``Keyframe_21``, ``keyframe 21``).
    Raises :class:`ModelOutputError` (``raw_text`` = the key) for anything else.
    """
    number = _try_parse_answer_key(key)
    if number is None:
        shown = key[:60] if isinstance(key, str) else type(key).__name__
        raise ModelOutputError(
            f"{shown!r} is not a keyframe key; expected 'Keyframe_' and a number in words such as "
            f"'Keyframe_one' or 'Keyframe_twenty_one' (1 to {MAX_KEYFRAMES})",
            raw_text=key if isinstance(key, str) else "",
        )
    return number


# ------------------------------------------------------------------------------------------------- building
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
    return _representation(representation).system_prompt


def build_messages(script: Script, index: int, *, representation: str = "json") -> list[dict[str, str]]:
    """The chat messages asking for ``script.keyframes[index]`` (0-based): ``[system, user]``, each
    ``{"role": ..., "content": ...}``, exactly as in the release's example.jsonl for ``representation="json"``.

    Raises :class:`ScriptError` for a script without keyframes, an index out of range or an unknown representation.
    """
    rep = _representation(representation)
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
            number = _try_parse_words(words) if sep else None
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
            number = _try_parse_words(tail.rstrip(".").strip()) if sep else None
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


# -------------------------------------------------------------------------------------------- representations
def _format_number(value: float, digits: int) -> float:
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0


def _format_json(values: np.ndarray, number: int, digits: int) -> str:
    body = {name: _format_number(v, digits) for name, v in zip(rig.CHANNELS, values, strict=True)}
    return json.dumps({answer_key(number): body}, ensure_ascii=False, separators=(",", ":"))


def _format_compact(values: np.ndarray, number: int, digits: int) -> str:
    pairs = [(name, _format_number(v, digits)) for name, v in zip(rig.CHANNELS, values, strict=True)]
    active = [f"{name}={v!r}" for name, v in pairs if v != 0.0]
    return "; ".join(active) if active else "neutral"


@dataclass(frozen=True)
class _Extracted:
    """What a representation's extractor found: ``(written name, raw value)`` pairs in order, the wrapper key."""

    pairs: list[tuple[Any, Any]]
    key: str | None = None
    absent_is_zero: bool = False  # compact lists only active channels: absence is not an error


@dataclass(frozen=True)
class _Representation:
    name: str
    system_prompt: str
    extract: Callable[[str, _Context], _Extracted]
    format: Callable[[np.ndarray, int, int], str]


@dataclass
class _Context:
    """Per-call parsing state shared by the extractors and the validator."""

    raw: str
    policy: str
    index: int | None
    warnings: list[str] = field(default_factory=list)
    thinking: str | None = None  # text of an unclosed <think> block, if any

    def fail(self, message: str) -> ModelOutputError:
        return ModelOutputError(message, raw_text=self.raw)


def _representation(name: str) -> _Representation:
    rep = _REPRESENTATIONS.get(name) if isinstance(name, str) else None
    if rep is None:
        raise ScriptError(f"unknown representation {name!r}; expected one of {sorted(_REPRESENTATIONS)}",
                          field="representation")
    return rep


def format_answer(values: np.ndarray | Sequence[float], index: int, *, representation: str = "json",
                  digits: int = 3) -> str:
    """The answer text a model should write for keyframe ``index`` (0-based) with ``values`` ((61,) in CHANNELS
    order), e.g. a training target: ``{"Keyframe_one":{...61 keys...}}`` for ``"json"`` (compact separators, as
    the release's answers), ``MouthSmileLeft=0.4; BrowInnerUp=0.3`` for ``"compact"``, ``Regions:`` lines then
    ``Values: ...`` for ``"semantic"``. Values are rounded to
    ``digits`` decimals and written as given (clamp first with :func:`rig.clamp` if they may leave their range).
    :func:`parse_values` reads the text back.
    """
    rep = _representation(representation)
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise ScriptError(f"expected {rig.NUM_CHANNELS} numbers, got {type(values).__name__}") from None
    if arr.shape[0] != rig.NUM_CHANNELS or not np.isfinite(arr).all():
        raise ScriptError(f"expected {rig.NUM_CHANNELS} finite values, got shape {arr.shape}")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise ScriptError(f"index must be a 0-based int, got {index!r}", field="index")
    number = _check_number(int(index) + 1)
    return rep.format(arr, number, digits)


# ------------------------------------------------------------------------------------------------ pre-cleaning
# Only the exact Qwen3 tags: a looser pattern such as ``<\s*/?\s*think\s*>`` backtracks quadratically on long runs
# of spaces, and the models emit these exact tags.
_THINK_TAG = re.compile(r"</?think>", re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z0-9_+\-]*")


def _strip_reasoning(text: str) -> tuple[str, str | None]:
    """Remove ``<think>...</think>`` blocks. Returns ``(answer text, text of an unclosed <think> block or None)``.

    A closing tag without an opening one means the opening tag was in the prompt (Qwen3 chat templates, vLLM
    reasoning parsers), so everything before it is reasoning and is dropped.
    """
    parts: list[str] = []
    pos = 0
    open_at: int | None = None
    for m in _THINK_TAG.finditer(text):
        closing = m.group().startswith("</")
        if open_at is None:
            if closing:
                parts, pos = [], m.end()
            else:
                parts.append(text[pos : m.start()])
                open_at = m.end()
        elif closing:
            open_at, pos = None, m.end()
    if open_at is not None:
        return "".join(parts), text[open_at:]
    parts.append(text[pos:])
    return "".join(parts), None


# -------------------------------------------------------------------------------------------- object scanning
_SCAN_TOKEN = re.compile(r'[{}"\\]')


class _Pairs(list[tuple[Any, Any]]):
    """A decoded JSON object as its ``(key, value)`` pairs in order (keeps duplicate keys)."""


class _Bare(str):
    """An unquoted token that is not a number or a literal (``{EyeBlinkLeft: high}``)."""

    __slots__ = ()


def _scan_objects(text: str, ctx: _Context) -> tuple[list[tuple[int, int]], list[int]]:
    """One linear pass: the ``(start, end)`` of every balanced ``{...}`` and the starts of unclosed ones.

    Only double quotes delimit strings (so apostrophes in prose and single-quoted keys do no harm), and only
    inside braces (so quotes in prose do not). ``}`` without an open ``{`` is ignored.
    """
    spans: list[tuple[int, int]] = []
    stack: list[int] = []
    in_string = False
    skip = -1
    for m in _SCAN_TOKEN.finditer(text):
        i = m.start()
        if i == skip:
            continue
        c = text[i]
        if in_string:
            if c == "\\":
                skip = i + 1
            elif c == '"':
                in_string = False
        elif c == "{":
            stack.append(i)
            if len(stack) > MAX_NESTING:
                raise ctx.fail(f"the answer nests objects deeper than {MAX_NESTING} levels; expected a JSON object of "
                               "61 channel values")
        elif c == "}":
            if stack:
                spans.append((stack.pop(), i + 1))
        elif c == '"' and stack:
            in_string = True
    return spans, stack


def _maximal_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans not inside another span, last first (spans arrive in order of their end, properly nested)."""
    out: list[tuple[int, int]] = []
    bound = math.inf
    for start, end in reversed(spans):
        if end <= bound:
            out.append((start, end))
            bound = start
            if len(out) >= _MAX_CANDIDATES:
                break
    return out


class _SyntaxProblem(Exception):
    """Internal: the lenient reader could not read an object."""


class _Lenient:
    """A forgiving JSON reader: single quotes, unquoted keys, trailing or missing commas, ``=`` for ``:``,
    Python literals (``True``, ``None``), ``NaN``/``Infinity``. With ``allow_eof`` an answer cut off mid-object
    yields what was complete (an incomplete last value is dropped). Iteration is bounded by the text length and
    recursion by :data:`MAX_NESTING`.
    """

    _NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
    _LITERALS: Final[Mapping[str, Any]] = {
        "true": True, "false": False, "null": None, "none": None, "nan": math.nan,
        "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf, "inf": math.inf,
        "+inf": math.inf, "-inf": -math.inf,
    }  # fmt: skip
    _SCALAR_END = frozenset(",}]{[\n")
    _KEY_END = frozenset(":=,}{\n")

    def __init__(self, text: str, *, allow_eof: bool) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.allow_eof = allow_eof
        self.truncated = False

    def read(self) -> _Pairs:
        self._ws()
        if self.i >= self.n or self.s[self.i] != "{":
            raise _SyntaxProblem("expected '{'")
        value = self._object(1)
        return value

    def _ws(self) -> None:
        s, n, i = self.s, self.n, self.i
        while i < n and s[i].isspace():
            i += 1
        self.i = i

    def _eof(self, what: str) -> None:
        if not self.allow_eof:
            raise _SyntaxProblem(f"the text ends inside {what}")
        self.truncated = True

    def _object(self, depth: int) -> _Pairs:
        if depth > MAX_NESTING:
            raise _SyntaxProblem(f"objects nest deeper than {MAX_NESTING} levels")
        self.i += 1  # the "{"
        pairs = _Pairs()
        while True:
            self._ws()
            if self.i >= self.n:
                self._eof("an object")
                return pairs
            c = self.s[self.i]
            if c == "}":
                self.i += 1
                return pairs
            if c == ",":
                self.i += 1
                continue
            key = self._key()
            if key is None:  # cut off inside the key
                return pairs
            self._ws()
            if self.i >= self.n:
                self._eof("an object")
                return pairs
            if self.s[self.i] not in ":=":
                raise _SyntaxProblem(f"expected ':' after the key {str(key)[:40]!r}")
            self.i += 1
            self._ws()
            if self.i >= self.n:
                self._eof("an object")
                return pairs
            value, complete = self._value(depth)
            if not complete:  # cut off: a partial scalar may be wrong ("0." of "0.25"), so drop it
                return pairs
            pairs.append((key, value))
            if self.truncated:  # an inner object or list was cut off: keep what it held, stop here
                return pairs
            self._ws()
            if self.i < self.n and self.s[self.i] == ",":
                self.i += 1
            # anything else: "}" ends the loop, a missing comma is forgiven on the next key

    def _array(self, depth: int) -> list[Any]:
        if depth > MAX_NESTING:
            raise _SyntaxProblem(f"lists nest deeper than {MAX_NESTING} levels")
        self.i += 1  # the "["
        items: list[Any] = []
        while True:
            self._ws()
            if self.i >= self.n:
                self._eof("a list")
                return items
            c = self.s[self.i]
            if c == "]":
                self.i += 1
                return items
            if c == ",":
                self.i += 1
                continue
            if c == "}":
                raise _SyntaxProblem("a list is closed with '}'")
            value, complete = self._value(depth)
            if not complete:
                return items
            items.append(value)
            if self.truncated:
                return items

    def _key(self) -> Any:
        c = self.s[self.i]
        if c in "\"'":
            text = self._string()
            if text is None:
                return None
            return text
        start = self.i
        while self.i < self.n and self.s[self.i] not in self._KEY_END:
            self.i += 1
        if self.i >= self.n:
            self._eof("a key")
            return None
        key = self.s[start : self.i].strip()
        if not key:
            raise _SyntaxProblem(f"expected a key, got {self.s[self.i]!r}")
        return key

    def _value(self, depth: int) -> tuple[Any, bool]:
        c = self.s[self.i]
        if c == "{":
            return self._object(depth + 1), True
        if c == "[":
            return self._array(depth + 1), True
        if c in "\"'":
            text = self._string()
            return text, text is not None
        start = self.i
        while self.i < self.n and self.s[self.i] not in self._SCALAR_END:
            self.i += 1
        if self.i >= self.n:
            self._eof("a value")
            return None, False
        token = self.s[start : self.i].strip()
        if not token:
            raise _SyntaxProblem(f"expected a value, got {self.s[self.i]!r}")
        return self._scalar(token), True

    def _scalar(self, token: str) -> Any:
        if len(token) <= 64:
            if self._NUMBER.fullmatch(token):
                return float(token)
            lowered = token.lower()
            if lowered in self._LITERALS:
                return self._LITERALS[lowered]
        return _Bare(token)

    _ESCAPES: Final[Mapping[str, str]] = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}

    def _string(self) -> str | None:
        s, n = self.s, self.n
        quote = s[self.i]
        i = self.i + 1
        out: list[str] = []
        while i < n:
            c = s[i]
            if c == quote:
                self.i = i + 1
                return "".join(out)
            if c == "\\" and i + 1 < n:
                e = s[i + 1]
                if e == "u" and i + 6 <= n and all(h in "0123456789abcdefABCDEF" for h in s[i + 2 : i + 6]):
                    out.append(chr(int(s[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                out.append(self._ESCAPES.get(e, e))
                i += 2
                continue
            out.append(c)
            i += 1
        self.i = n
        self._eof("a string")
        return None


def _decode(span: str, *, allow_eof: bool) -> tuple[_Pairs, bool, bool]:
    """Decode one object: strict JSON first, then the lenient reader.

    Returns ``(object, read_leniently, truncated)``; raises :class:`_SyntaxProblem`.
    """
    if not allow_eof:
        try:
            value = json.loads(span, object_pairs_hook=_Pairs)
        except (ValueError, RecursionError):  # JSONDecodeError, too many digits, too deep
            pass
        else:
            if isinstance(value, _Pairs):
                return value, False, False
    try:
        reader = _Lenient(span, allow_eof=allow_eof)
        value = reader.read()
    except RecursionError:  # not expected (depth is capped), but never let it escape
        raise _SyntaxProblem("nests too deeply") from None
    return value, True, reader.truncated


# ------------------------------------------------------------------------------------------------ interpreting
def _is_channel_key(key: Any) -> bool:
    return isinstance(key, str) and (rig.try_canonical_name(key) is not None or rig.is_ignored_name(key))


def _show(key: Any) -> str:
    return repr(key[:40]) if isinstance(key, str) else type(key).__name__


def _channel_pairs(obj: Any, ctx: _Context) -> tuple[list[tuple[Any, Any]], str | None]:
    """Find the channel mapping inside ``obj``: a bare ``{channel: value}`` object, or one under wrappers
    (``{"Keyframe_one": {...}}``, ``{"result": {"Keyframe_one": {"values": {...}}}}``).

    Returns the pairs and the wrapper key: the first one naming a keyframe, else the outermost, else ``None``.
    """
    keys: list[str] = []
    node = obj
    for _ in range(MAX_NESTING):
        if not isinstance(node, _Pairs):
            raise ctx.fail("expected a JSON object of channel: value pairs")
        if any(_is_channel_key(k) for k, _ in node):
            named = [k for k in keys if _try_parse_answer_key(k) is not None]
            return list(node), named[0] if named else (keys[0] if keys else None)
        subs = [(k, v) for k, v in node if isinstance(v, _Pairs)]
        if not subs:
            if any(isinstance(v, list) for _, v in node):
                raise ctx.fail("the values come as a list; keyframeface reads values keyed by channel name only "
                               '(e.g. {"Keyframe_one": {"EyeBlinkLeft": 0.0, ...}})')
            raise ctx.fail("the JSON object has no channel names; expected keys such as EyeBlinkLeft, JawOpen or "
                           'HeadYaw, optionally inside {"Keyframe_one": {...}}')
        ignored = [k for k, v in node if not isinstance(v, _Pairs)]
        if ignored:
            ctx.warnings.append(f"ignored field(s) beside the values: {', '.join(_show(k) for k in ignored[:5])}")
        if len(subs) > 1:
            subs = [_choose_keyframe(subs, ctx)]
        key, node = subs[0]
        keys.append(key if isinstance(key, str) else str(key))
    raise ctx.fail(f"the answer nests wrappers deeper than {MAX_NESTING} levels")


def _choose_keyframe(subs: list[tuple[Any, Any]], ctx: _Context) -> tuple[Any, Any]:
    """Several objects side by side (``{"Keyframe_one": {...}, "Keyframe_two": {...}}``): pick one."""
    names = ", ".join(_show(k) for k, _ in subs[:5])
    if ctx.index is not None:
        for key, value in subs:
            if _try_parse_answer_key(key) == ctx.index + 1:
                ctx.warnings.append(f"the answer holds {len(subs)} objects ({names}); used {_show(key)}")
                return key, value
    if ctx.policy == "strict":
        wanted = f"none of them is {answer_key(ctx.index + 1)!r}" if ctx.index is not None else "pass index="
        raise ctx.fail(f"the answer holds {len(subs)} objects ({names}) where one keyframe was expected; {wanted}")
    ctx.warnings.append(f"the answer holds {len(subs)} objects ({names}); used the first")
    return subs[0]


def _extract_json(text: str, ctx: _Context) -> _Extracted:
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


def _find_object(text: str, ctx: _Context) -> _Extracted | None:
    """The last complete object holding channel values; failing that, a cut-off one (repair only).

    Complete objects win even when an unclosed ``{`` surrounds them (a stray brace in prose, or a missing final
    ``}``). Only when no complete object holds values does an unclosed one mean the answer was cut off.
    """
    spans, unclosed = _scan_objects(text, ctx)
    first_error: ModelOutputError | None = None
    for start, end in _maximal_spans(spans):
        mark = len(ctx.warnings)
        try:
            obj, lenient, _ = _decode(text[start:end], allow_eof=False)
            pairs, key = _channel_pairs(obj, ctx)
        except (_SyntaxProblem, ModelOutputError) as exc:
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
        return _Extracted(pairs, key)
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
            obj, _, _ = _decode(text[start:], allow_eof=True)
            pairs, key = _channel_pairs(obj, ctx)
        except (_SyntaxProblem, ModelOutputError):
            del ctx.warnings[mark:]
            continue
        ctx.warnings.append("the answer was cut off inside the JSON object; read the complete values before the cut")
        return _Extracted(pairs, key)
    if first_error is not None:
        raise first_error
    return None


_COMPACT_SPLIT = re.compile(r"[;,\n]")
_COMPACT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,99}")
_NEUTRAL_WORDS = frozenset({"neutral", "none", "neutral face"})


def _extract_compact(text: str, ctx: _Context) -> _Extracted:
    """The ``"compact"`` representation: ``Name=value`` (or ``Name: value``) pairs separated by ``;``, ``,`` or
    newlines; other text is ignored; ``neutral`` alone means all zeros."""
    text = _FENCE.sub("\n", text)
    pairs: list[tuple[Any, Any]] = []
    for segment in _COMPACT_SPLIT.split(text):
        item = segment.strip().lstrip("-*• \t").strip()
        if not item:
            continue
        cut = min((p for p in (item.find("="), item.find(":")) if p >= 0), default=-1)
        if cut < 0:
            continue
        name = item[:cut].strip().strip("\"'`").strip()
        value = item[cut + 1 :].strip().strip("\"'`").strip()
        if _is_channel_key(name) or (_COMPACT_NAME.fullmatch(name) and _Lenient._NUMBER.fullmatch(value[:64])):
            pairs.append((name, value))
    if not pairs and text.strip().strip(".").strip().lower() not in _NEUTRAL_WORDS:
        raise ctx.fail("no Name=value pairs found in the answer; expected e.g. 'MouthSmileLeft=0.4; BrowInnerUp=0.3' "
                       "or 'neutral'")
    return _Extracted(pairs, None, absent_is_zero=True)


#: Intensity words of the semantic description, by upper bound of the magnitude (FACS-like A-E scale folded
#: into four words; the bounds are this project's choice and only shape the text, not the values).
_INTENSITY_WORDS: Final[tuple[tuple[float, str], ...]] = (
    (0.25, "slight"), (0.5, "moderate"), (0.8, "strong"), (math.inf, "full"),
)  # fmt: skip
#: Below this magnitude a channel is not mentioned in the description (still written in the values).
_DESCRIBE_MIN: Final[float] = 0.05
#: Left and right differing by less than this are "symmetric".
_SYMMETRY_TOLERANCE: Final[float] = 0.1
_CAMEL = re.compile(r"[A-Z][a-z]*")
_VALUES_MARKER = re.compile(r"^[ \t>*_#-]*values[ \t*_]*[:=]", re.IGNORECASE | re.MULTILINE)


def _intensity_word(magnitude: float) -> str:
    return next(word for bound, word in _INTENSITY_WORDS if magnitude < bound)


def _action_words(name: str) -> str:
    """``MouthSmileLeft`` -> ``smile``, ``BrowInnerUp`` -> ``inner up``, ``HeadYaw`` -> ``yaw``: the channel
    name without its side and its region word, in lowercase words."""
    words = [w.lower() for w in _CAMEL.findall(name) if w not in ("Left", "Right")]
    region_words = {"brow", "eye", "jaw", "mouth", "cheek", "nose", "tongue", "head"}
    kept = [w for i, w in enumerate(words) if not (i == 0 and w in region_words)]
    return " ".join(kept) or " ".join(words)


def describe_regions(values: np.ndarray) -> list[str]:
    """The semantic representation's description of ``values`` ((61,) in CHANNELS order): one line per active
    region, ``"- mouth: smile moderate, left stronger; jaw open slight"``-style. Empty for a neutral face."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    partner = {**{a: b for a, b in rig.MIRROR_PAIRS}, **{b: a for a, b in rig.MIRROR_PAIRS}}
    lines: list[str] = []
    for region, names in rig.GROUPS.items():
        if region == "eye_rotation":  # follows the gaze channels (rig.sync_eye_rotations); not described twice
            continue
        actions: list[str] = []
        done: set[str] = set()
        for name in names:
            if name in done:
                continue
            v = float(arr[rig.CHANNEL_INDEX[name]])
            other = partner.get(name)
            if other is not None and other in names:
                done.update((name, other))
                w = float(arr[rig.CHANNEL_INDEX[other]])
                left, right = (v, w) if "Left" in name else (w, v)
                peak = max(abs(left), abs(right))
                if peak < _DESCRIBE_MIN:
                    continue
                if abs(left - right) < _SYMMETRY_TOLERANCE:
                    side = "symmetric"
                elif min(abs(left), abs(right)) < _DESCRIBE_MIN:
                    side = "left only" if abs(left) > abs(right) else "right only"
                else:
                    side = "left stronger" if abs(left) > abs(right) else "right stronger"
                actions.append(f"{_action_words(name)} {_intensity_word(peak)}, {side}")
            else:
                done.add(name)
                if abs(v) < _DESCRIBE_MIN:
                    continue
                direction = ""
                if name in rig.POSE:  # sign words for head rotation (yaw + = toward the subject's right; rig.py)
                    direction = " positive" if v > 0 else " negative"
                actions.append(f"{_action_words(name)}{direction} {_intensity_word(abs(v))}")
        if actions:
            lines.append(f"- {region}: " + "; ".join(actions))
    return lines


def _format_semantic(values: np.ndarray, number: int, digits: int) -> str:
    lines = describe_regions(values) or ["- face: neutral"]
    return "Regions:\n" + "\n".join(lines) + "\nValues: " + _format_compact(values, number, digits)


def _extract_semantic(text: str, ctx: _Context) -> _Extracted:
    """The ``"semantic"`` representation: a description, then ``Values:`` and the compact pairs (or a JSON
    object). The *last* ``Values:`` line is used, so a draft in the description does not count. Without one,
    ``strict`` fails; ``repair`` reads ``Name=value`` pairs anywhere in the answer, with a warning."""
    text = _FENCE.sub("\n", text)
    marks = list(_VALUES_MARKER.finditer(text))
    if not marks:
        if ctx.policy == "strict":
            raise ctx.fail("no 'Values:' line after the description; expected 'Regions:' lines, then "
                           "'Values: MouthSmileLeft=0.4; BrowInnerUp=0.3' (or 'Values: neutral')")
        ctx.warnings.append("no 'Values:' line after the description; read Name=value pairs from the whole answer")
        return _extract_compact(text, ctx)
    tail = text[marks[-1].end():]
    if "{" in tail:
        found = _extract_json(tail, ctx)
        return _Extracted(found.pairs, found.key, absent_is_zero=True)
    return _extract_compact(tail, ctx)


_REPRESENTATIONS: Final[Mapping[str, _Representation]] = {
    "json": _Representation("json", SYSTEM_PROMPT, _extract_json, _format_json),
    "compact": _Representation("compact", COMPACT_SYSTEM_PROMPT, _extract_compact, _format_compact),
    "semantic": _Representation("semantic", SEMANTIC_SYSTEM_PROMPT, _extract_semantic, _format_semantic),
}
#: The representation names :func:`build_messages` and :func:`parse_values` accept.
REPRESENTATIONS: Final[tuple[str, ...]] = tuple(_REPRESENTATIONS)


# ------------------------------------------------------------------------------------------------- validating
_NUMERIC_STRING = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(raw: Any, *, strings_expected: bool) -> tuple[float | None, str | None]:
    """A raw value -> ``(number or None, note)``. ``note`` says what was unusual (or why it is not a number)."""
    if isinstance(raw, bool):
        return None, "a boolean"
    if isinstance(raw, int):
        try:
            return float(raw), None
        except OverflowError:
            return (math.inf if raw > 0 else -math.inf), None
    if isinstance(raw, float):
        return raw, None
    if raw is None:
        return None, "null"
    if isinstance(raw, str):
        token = raw.strip()[:64]
        if _NUMERIC_STRING.fullmatch(token):
            return float(token), None if strings_expected else "a number written as a string"
        if token.endswith("%") and _NUMERIC_STRING.fullmatch(token[:-1].strip()):
            return float(token[:-1]) / 100.0, "a percentage"
        return None, f"not a number ({raw[:20]!r})"
    return None, f"not a number ({'an object' if isinstance(raw, _Pairs) else 'a list'})"


def _names(channels: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(channels[:limit])
    return shown + (f" and {len(channels) - limit} more" if len(channels) > limit else "")


def _validate(extracted: _Extracted, ctx: _Context) -> np.ndarray:
    """Pairs -> (61,) float32 under the policy. Strict: collect every problem and raise one error. Repair: fix
    each (missing -> 0, out of range -> clamped, non-number -> 0, unknown -> dropped) and warn.

    Findings are gathered per channel (at most 61 of each kind), so a hostile answer repeating one key thousands
    of times yields a handful of warnings, not thousands.
    """
    strict = ctx.policy == "strict"
    values = np.zeros(rig.NUM_CHANNELS, dtype=np.float64)
    seen: dict[int, float] = {}
    not_numbers: dict[str, str] = {}  # channel -> what it was
    percentages: dict[str, str] = {}  # channel -> the text written
    strings: dict[str, None] = {}
    repeated: dict[str, int] = {}  # channel -> extra occurrences with the same value
    conflicting: dict[str, tuple[float, float]] = {}  # channel -> (first value, last value)
    unknown: dict[str, None] = {}
    unknown_count = 0
    for name, raw in extracted.pairs:
        if rig.is_ignored_name(name):
            continue
        channel = rig.try_canonical_name(name) if isinstance(name, str) else None
        if channel is None:
            unknown_count += 1
            if len(unknown) < 5:
                unknown.setdefault(_show(name))
            continue
        j = rig.CHANNEL_INDEX[channel]
        number, note = _number(raw, strings_expected=extracted.absent_is_zero)
        if note == "a number written as a string":
            strings.setdefault(channel)
        elif note == "a percentage":
            percentages.setdefault(channel, str(raw)[:20])
            if strict:
                continue
        if number is None:
            not_numbers.setdefault(channel, str(note))
            continue
        if j in seen:
            if seen[j] == number or (math.isnan(number) and math.isnan(seen[j])):
                repeated[channel] = repeated.get(channel, 0) + 1
            else:
                conflicting[channel] = (conflicting.get(channel, (seen[j], number))[0], number)
        seen[j] = number
        values[j] = number

    problems: list[str] = []  # strict: errors; repair: warnings
    if unknown_count:
        total = f" ({unknown_count} in all)" if unknown_count > len(unknown) else ""
        problems.append(f"unknown key(s) {', '.join(unknown)}{total}")
    for channel, raw_text in percentages.items():
        if strict:
            problems.append(f"{channel} is a percentage ({raw_text!r}); expected a plain number")
    if percentages and not strict:
        ctx.warnings.append(f"read percentage(s) as fractions (/ 100): {_names(list(percentages))}")
    problems.extend(f"{channel} is {note}" for channel, note in not_numbers.items())
    if strings:
        ctx.warnings.append(f"number(s) written as strings: {_names(list(strings))}")
    if repeated:
        ctx.warnings.append("given more than once with the same value: "
                            + _names([f"{c} ({n + 1} times)" for c, n in repeated.items()]))
    if conflicting:
        shown = _names([f"{c} ({a:g}, then {b:g})" for c, (a, b) in conflicting.items()], 5)
        if strict:
            problems.append(f"given more than once with different values: {shown}")
        else:
            ctx.warnings.append(f"given more than once with different values: {shown}; kept the last")
    reported = {rig.CHANNEL_INDEX[c] for c in (*not_numbers, *percentages)}
    missing = [rig.CHANNELS[j] for j in range(rig.NUM_CHANNELS) if j not in seen and j not in reported]
    if missing and not extracted.absent_is_zero:
        problems.append(f"missing {len(missing)} channel(s): {_names(missing)}")
    bad = ~np.isfinite(values)
    if bad.any():
        problems.append(f"not finite (NaN or infinity): {_names([rig.CHANNELS[j] for j in np.flatnonzero(bad)])}")
        values[bad] = 0.0
    low, high = rig.LOW.astype(np.float64), rig.HIGH.astype(np.float64)
    outside = (values < low - _RANGE_TOLERANCE) | (values > high + _RANGE_TOLERANCE)
    if outside.any():
        shown = _names([f"{rig.CHANNELS[j]}={values[j]:g} (range [{low[j]:g}, {high[j]:g}])"
                        for j in np.flatnonzero(outside)], 5)
        problems.append(f"out of range: {shown}")
    if problems and strict:
        raise ctx.fail(
            "the model's answer is not 61 valid values: " + "; ".join(problems[:6])
            + (f"; and {len(problems) - 6} more problem(s)" if len(problems) > 6 else "")
            + ". Fix the answer, or parse with policy='repair' (missing -> 0, out of range -> clamped)"
        )
    ctx.warnings.extend(f"repaired: {problem}" for problem in problems)
    return np.clip(values, low, high).astype(np.float32)


# ---------------------------------------------------------------------------------------------------- parsing
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
    rep = _representation(representation)
    if not isinstance(text, str):
        raise ModelOutputError(f"expected the model's answer as a string, got {type(text).__name__}")
    if len(text) > MAX_RESPONSE_CHARS:
        raise ModelOutputError(
            f"the answer is {len(text)} characters long; the limit is {MAX_RESPONSE_CHARS}. A keyframe answer is a "
            "few thousand characters: the model is probably looping (lower max_tokens or the temperature)",
            raw_text=text,
        )
    ctx = _Context(raw=text, policy=policy, index=None if index is None else int(index))
    answer, ctx.thinking = _strip_reasoning(text)
    extracted = rep.extract(answer, ctx)
    values = _validate(extracted, ctx)
    key = extracted.key
    if ctx.index is not None and key is not None:
        number = _try_parse_answer_key(key)
        if number is not None and number != ctx.index + 1:
            ctx.warnings.append(f"the answer is labelled {key!r} but keyframe {ctx.index + 1} "
                                f"({answer_key(ctx.index + 1)!r}) was asked for; used its values")
    if ctx.warnings:  # INFO, not WARNING: the returned list is the contract and callers report it
        _log.info("model answer%s read with %d warning(s): %s",
                     "" if ctx.index is None else f" for keyframe {ctx.index + 1}",
                     len(ctx.warnings), "; ".join(ctx.warnings[:3]))
    return ParsedValues(values=values, warnings=ctx.warnings, key=key)
