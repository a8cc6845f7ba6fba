"""A bounded scanner for ``{...}`` spans and a forgiving JSON reader, for model answers.

:func:`scan_objects` finds every balanced object in one linear pass; :func:`decode` reads one span as strict JSON
first, then with :class:`Lenient` (single quotes, unquoted keys, trailing or missing commas, ``=`` for ``:``, Python
literals, ``NaN``/``Infinity``; with ``allow_eof`` a cut-off object yields what was complete). Objects decode to
:class:`Pairs` (their ``(key, value)`` pairs in order, duplicates kept). Nesting is capped at :data:`MAX_NESTING`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from .context import ParseContext

__all__ = [
    "MAX_CANDIDATES", "MAX_NESTING", "NUMBER", "Bare", "Lenient", "Pairs", "SyntaxProblem", "decode", "maximal_spans",
    "scan_objects",
]

#: Objects nested deeper than this are refused (answers nest 2 levels; deeper is garbage or hostile).
MAX_NESTING: Final[int] = 32
#: How many complete objects, counted from the end of the answer, are tried before giving up.
MAX_CANDIDATES: Final[int] = 32
_SCAN_TOKEN = re.compile(r'[{}"\\]')


class Pairs(list[tuple[Any, Any]]):
    """A decoded JSON object as its ``(key, value)`` pairs in order (keeps duplicate keys)."""


class Bare(str):
    """An unquoted token that is not a number or a literal (``{EyeBlinkLeft: high}``)."""

    __slots__ = ()


def scan_objects(text: str, ctx: ParseContext) -> tuple[list[tuple[int, int]], list[int]]:
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


def maximal_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans not inside another span, last first (spans arrive in order of their end, properly nested)."""
    out: list[tuple[int, int]] = []
    bound = math.inf
    for start, end in reversed(spans):
        if end <= bound:
            out.append((start, end))
            bound = start
            if len(out) >= MAX_CANDIDATES:
                break
    return out


class SyntaxProblem(Exception):
    """Internal: the lenient reader could not read an object."""


#: A JSON-like number token (also ``1.``, ``.5``, ``+2``), as the lenient reader and the compact extractor read them.
NUMBER: Final[re.Pattern[str]] = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class Lenient:
    """A forgiving JSON reader: single quotes, unquoted keys, trailing or missing commas, ``=`` for ``:``,
    Python literals (``True``, ``None``), ``NaN``/``Infinity``. With ``allow_eof`` an answer cut off mid-object
    yields what was complete (an incomplete last value is dropped). Iteration is bounded by the text length and
    recursion by :data:`MAX_NESTING`.
    """

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

    def read(self) -> Pairs:
        self._ws()
        if self.i >= self.n or self.s[self.i] != "{":
            raise SyntaxProblem("expected '{'")
        value = self._object(1)
        return value

    def _ws(self) -> None:
        s, n, i = self.s, self.n, self.i
        while i < n and s[i].isspace():
            i += 1
        self.i = i

    def _eof(self, what: str) -> None:
        if not self.allow_eof:
            raise SyntaxProblem(f"the text ends inside {what}")
        self.truncated = True

    def _object(self, depth: int) -> Pairs:
        if depth > MAX_NESTING:
            raise SyntaxProblem(f"objects nest deeper than {MAX_NESTING} levels")
        self.i += 1  # the "{"
        pairs = Pairs()
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
                raise SyntaxProblem(f"expected ':' after the key {str(key)[:40]!r}")
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
            raise SyntaxProblem(f"lists nest deeper than {MAX_NESTING} levels")
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
                raise SyntaxProblem("a list is closed with '}'")
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
            raise SyntaxProblem(f"expected a key, got {self.s[self.i]!r}")
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
            raise SyntaxProblem(f"expected a value, got {self.s[self.i]!r}")
        return self._scalar(token), True

    def _scalar(self, token: str) -> Any:
        if len(token) <= 64:
            if NUMBER.fullmatch(token):
                return float(token)
            lowered = token.lower()
            if lowered in self._LITERALS:
                return self._LITERALS[lowered]
        return Bare(token)

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


def decode(span: str, *, allow_eof: bool) -> tuple[Pairs, bool, bool]:
    """Decode one object: strict JSON first, then the lenient reader.

    Returns ``(object, read_leniently, truncated)``; raises :class:`SyntaxProblem`.
    """
    if not allow_eof:
        try:
            value = json.loads(span, object_pairs_hook=Pairs)
        except (ValueError, RecursionError):  # JSONDecodeError, too many digits, too deep
            pass
        else:
            if isinstance(value, Pairs):
                return value, False, False
    try:
        reader = Lenient(span, allow_eof=allow_eof)
        value = reader.read()
    except RecursionError:  # not expected (depth is capped), but never let it escape
        raise SyntaxProblem("nests too deeply") from None
    return value, True, reader.truncated

