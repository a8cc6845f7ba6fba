"""Keyframe numbers in words: ``ordinal_word(21) == "Twenty-One"``, ``answer_key(21) == "Keyframe_twenty_one"``.

Keyframe numbers are spelled as English cardinal words in title case, American style without "And": ``One`` ...
``Nineteen``, ``Twenty``, ``Twenty-One``, ``One Hundred``, ``One Hundred One``, ``Two Hundred Fifty-Six``. The
answer key lowercases the words and joins them with underscores (``Keyframe_one``, ``Keyframe_twenty_one``),
matching the release's ``Keyframe_one`` / ``Keyframe_two``. The parsers also accept ``and``, hyphens, spaces, any
letter case and digits (``Keyframe_21``). Numbers are 1-based, as in the prompt text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from ..errors import ModelOutputError, ScriptError
from ..script import MAX_KEYFRAMES

__all__ = [
    "answer_key", "check_number", "ordinal_word", "parse_answer_key", "parse_ordinal_word", "try_parse_answer_key",
    "try_parse_words",
]

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


def check_number(n: Any) -> int:
    """``n`` as an int keyframe number in ``[1, MAX_KEYFRAMES]``; otherwise :class:`ScriptError`."""
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
    n = check_number(n)
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


def try_parse_words(text: str) -> int | None:
    """Like :func:`parse_ordinal_word`, but ``None`` instead of an error."""
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
    number = try_parse_words(text)
    if number is None:
        shown = text[:60] if isinstance(text, str) else type(text).__name__
        raise ScriptError(
            f"{shown!r} is not a keyframe number; expected English words such as 'One', 'Twenty-One' or "
            f"'Two Hundred Fifty-Six' (1 to {MAX_KEYFRAMES})"
        )
    return number


def try_parse_answer_key(key: Any) -> int | None:
    """Like :func:`parse_answer_key`, but ``None`` instead of an error (also for a key that is not a string)."""
    if not isinstance(key, str) or len(key) > 100:
        return None
    m = _KEY_PATTERN.fullmatch(key.strip().lower())
    return try_parse_words(m.group(1)) if m else None


def parse_answer_key(key: str) -> int:
    """Inverse of :func:`answer_key`: ``"Keyframe_twenty_one"`` -> 21 (1-based keyframe number).

    Accepts any letter case, ``_``/``-``/space separators, ``and``, and digits (``Keyframe_21``, ``keyframe 21``).
    Raises :class:`ModelOutputError` (``raw_text`` = the key) for anything else.
    """
    number = try_parse_answer_key(key)
    if number is None:
        shown = key[:60] if isinstance(key, str) else type(key).__name__
        raise ModelOutputError(
            f"{shown!r} is not a keyframe key; expected 'Keyframe_' and a number in words such as "
            f"'Keyframe_one' or 'Keyframe_twenty_one' (1 to {MAX_KEYFRAMES})",
            raw_text=key if isinstance(key, str) else "",
        )
    return number

