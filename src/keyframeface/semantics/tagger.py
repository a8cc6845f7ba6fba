"""Tokens, tags and a tiny phrase-pattern compiler for the description parsers.

Text is normalised (lower case, straight quotes, ``n't`` -> `` not``, hyphens -> spaces) and split into tokens:
words, single CJK characters and punctuation marks. Lexicon entries are written in a small pattern language and
compiled once into regular expressions indexed by their possible first word, so tagging tries only the few
entries that can start at each token and keeps the longest match (ties: the earlier entry wins).

Pattern language, one pattern per string, slots separated by spaces:

* ``word`` a literal word;
* ``(a|b|c d)`` one of several alternatives, each one or more words;
* ``[a|b]`` an optional slot (at least one slot must be required).

Example: ``"[the|her] (corner|corners) of [the|her|his] (mouth|lips)"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Entry", "PatternSet", "Tag", "Token", "normalize", "tokenize", "verb_forms"]

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": " - "})
_CONTRACTIONS = (
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
)
_HYPHEN = re.compile(r"(?<=[a-z0-9])-(?=[a-z0-9])")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[a-z0-9]+(?:'[a-z]+)*|[{_CJK}]|[^\s]")


def normalize(text: str) -> str:
    """Lower-case, straighten quotes, expand ``n't``, turn word-internal hyphens into spaces, squeeze spaces."""
    t = text.translate(_QUOTES).lower()
    for pattern, repl in _CONTRACTIONS:
        t = pattern.sub(repl, t)
    t = _HYPHEN.sub(" ", t)
    return _SPACES.sub(" ", t).strip()


@dataclass(frozen=True)
class Token:
    """One token: ``text`` and its character span ``[start, end)`` in the normalised text."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Tokens of already normalised text: words, single CJK characters, punctuation marks."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


@dataclass(frozen=True, eq=False)
class Tag:
    """A lexicon match: ``kind`` (part, pred, act, emo, int, side, dir, neg, stop, keep, mode, ...), ``value``
    (the entry's id), ``data`` (the entry's payload), token span ``[start, end)`` and the matched ``text``.

    Tags compare by identity: two equal-looking matches at different places are different tags."""

    kind: str
    value: str
    start: int
    end: int
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """A lexicon entry before compilation."""

    kind: str
    value: str
    pattern: str
    data: Mapping[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ verb forms
_IRREGULAR: dict[str, tuple[str, ...]] = {
    "rise": ("rises", "rose", "risen", "rising"),
    "shake": ("shakes", "shook", "shaken", "shaking"),
    "draw": ("draws", "drew", "drawn", "drawing"),
    "fall": ("falls", "fell", "fallen", "falling"),
    "shut": ("shuts", "shutting"),
    "knit": ("knits", "knitted", "knitting"),
    "set": ("sets", "setting"),
    "grow": ("grows", "grew", "grown", "growing"),
    "bite": ("bites", "bit", "bitten", "biting"),
    "hang": ("hangs", "hung", "hanging"),
    "stick": ("sticks", "stuck", "sticking"),
    "hold": ("holds", "held", "holding"),
    "keep": ("keeps", "kept", "keeping"),
    "go": ("goes", "went", "gone", "going"),
    "come": ("comes", "came", "coming"),
    "shoot": ("shoots", "shot", "shooting"),
    "fly": ("flies", "flew", "flown", "flying"),
    "sink": ("sinks", "sank", "sunk", "sinking"),
    "swing": ("swings", "swung", "swinging"),
    "light": ("lights", "lit", "lighted", "lighting"),
    "grind": ("grinds", "ground", "grinding"),
    "cast": ("casts", "casting"),
    "throw": ("throws", "threw", "thrown", "throwing"),
    "break": ("breaks", "broke", "broken", "breaking"),
    "lose": ("loses", "lost", "losing"),
    "slit": ("slits", "slitting"),
    "leave": ("leaves", "leaving"),
    "spread": ("spreads", "spreading"),
    "tear": ("tears", "tore", "torn", "tearing"),
    "wring": ("wrings", "wrung", "wringing"),
    "screw": ("screws", "screwed", "screwing"),
    "lie": ("lies", "lay", "lying"),
    "sit": ("sits", "sat", "sitting"),
    "die": ("dies", "died", "dying"),
    "tie": ("ties", "tied", "tying"),
    "see": ("sees", "saw", "seen", "seeing"),
    "wear": ("wears", "wore", "worn", "wearing"),
    "give": ("gives", "gave", "given", "giving"),
    "get": ("gets", "got", "gotten", "getting"),
    "bring": ("brings", "brought", "bringing"),
    "make": ("makes", "made", "making"),
    "take": ("takes", "took", "taken", "taking"),
    "hide": ("hides", "hid", "hidden", "hiding"),
    "fight": ("fights", "fought", "fighting"),
    "freeze": ("freezes", "froze", "frozen", "freezing"),
    "burst": ("bursts", "bursting"),
    "split": ("splits", "splitting"),
    "stay": ("stays", "stayed", "staying"),
}
# Monosyllables ending consonant-vowel-consonant double the last letter (drop -> dropped, dropping).
_DOUBLE = frozenset({
    "drop", "stop", "nod", "grin", "grit", "jut", "dip", "tip", "sob", "bob", "pop", "flap", "snap", "pat", "trim",
    "quit", "slip", "rub", "tug", "plan", "shrug", "slam", "clap", "wag", "zip", "flip", "step", "rip",
    "knot", "dim", "bat", "sag", "scan", "thin", "trap", "tap", "wrap", "clip", "spot", "jot", "pin", "hum",
})  # fmt: skip


def verb_forms(base: str) -> tuple[str, ...]:
    """The base, third person, past/participle and -ing forms of an English verb (``"raise"`` -> raises ...).

    Multi-word verbs inflect their first word (``"press together"`` -> ``"pressed together"``).
    """
    head, _, rest = base.partition(" ")
    suffix = f" {rest}" if rest else ""
    if head in _IRREGULAR:
        forms: tuple[str, ...] = (head, *_IRREGULAR[head])
    elif head in _DOUBLE:
        c = head[-1]
        forms = (head, head + "s", head + c + "ed", head + c + "ing")
    elif head.endswith("ee"):
        forms = (head, head + "s", head + "d", head + "ing")
    elif head.endswith("e"):
        forms = (head, head + "s", head + "d", head[:-1] + "ing")
    elif head.endswith("y") and len(head) > 2 and head[-2] not in "aeiou":
        forms = (head, head[:-1] + "ies", head[:-1] + "ied", head + "ing")
    elif head.endswith(("s", "sh", "ch", "x", "z")):
        forms = (head, head + "es", head + "ed", head + "ing")
    else:
        forms = (head, head + "s", head + "ed", head + "ing")
    return tuple(dict.fromkeys(f + suffix for f in forms))


# --------------------------------------------------------------------------------------------- pattern compiler
def _split_slots(pattern: str) -> list[tuple[tuple[str, ...], bool]]:
    slots: list[tuple[tuple[str, ...], bool]] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == " ":
            i += 1
            continue
        if ch in "([":
            close = ")" if ch == "(" else "]"
            j = pattern.index(close, i)
            body = pattern[i + 1 : j]
            if "(" in body or "[" in body:
                raise ValueError(f"nested groups are not supported in pattern {pattern!r}")
            alts = tuple(a.strip() for a in body.split("|"))
            if not all(alts):
                raise ValueError(f"empty alternative in pattern {pattern!r}")
            slots.append((alts, ch == "["))
            i = j + 1
        else:
            j = pattern.find(" ", i)
            j = n if j < 0 else j
            slots.append(((pattern[i:j],), False))
            i = j
    if not slots or all(optional for _, optional in slots):
        raise ValueError(f"pattern {pattern!r} needs at least one required slot")
    return slots


def _alt_regex(alt: str) -> str:
    return r"\s+".join(re.escape(w) for w in alt.split())


def first_words(pattern: str) -> frozenset[str]:
    """The words a match of ``pattern`` can start with (its optional leading slots' words and the first required
    slot's), without compiling it: the index :class:`PatternSet` looks candidates up by."""
    firsts: set[str] = set()
    for alts, optional in _split_slots(pattern):
        firsts.update(a.split()[0] for a in alts)
        if not optional:
            break
    return frozenset(firsts)


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], frozenset[str]]:
    """Compile one pattern: the regular expression (matched at a token start) and its possible first words."""
    slots = _split_slots(pattern)
    last_required = max(k for k, (_, optional) in enumerate(slots) if not optional)
    pieces = []
    for k, (alts, optional) in enumerate(slots):
        body = "|".join(_alt_regex(a) for a in sorted(alts, key=len, reverse=True))
        if k < last_required:
            pieces.append(f"(?:(?:{body})\\s+){'?' if optional else ''}")
        elif k == last_required:
            pieces.append(f"(?:{body})")
        else:  # trailing optional slots: greedy, so the longest phrase is taken
            pieces.append(f"(?:\\s+(?:{body}))?")
    firsts: set[str] = set()
    for alts, optional in slots:
        firsts.update(a.split()[0] for a in alts)
        if not optional:
            break
    return re.compile("".join(pieces) + r"(?![a-z0-9'])"), frozenset(firsts)


class _Compiled:
    """One entry of a :class:`PatternSet`; its regular expression is compiled on first use.

    Compiling every entry up front cost ~0.6 s of a cold start (297 alternation-heavy patterns); a description
    only ever reaches the entries indexed under its own words, so most are never compiled in a short run.
    """

    __slots__ = ("_regex", "_required", "entry", "order")

    def __init__(self, order: int, entry: Entry) -> None:
        self.order = order
        self.entry = entry
        self._required: tuple[tuple[tuple[str, ...], ...], ...] | None = None
        self._regex: re.Pattern[str] | None = None

    def possible(self, words: frozenset[str]) -> bool:
        """Whether a text made of ``words`` holds every required slot of the pattern (a necessary condition)."""
        if self._required is None:
            # per required slot, its alternatives as token tuples: a text lacking every alternative of one slot
            # cannot match, so the pattern is skipped without compiling it
            self._required = tuple(
                tuple(tuple(t.text for t in tokenize(a)) for a in alts)
                for alts, optional in _split_slots(self.entry.pattern) if not optional
            )
        return all(any(all(w in words for w in alt) for alt in alts) for alts in self._required)

    @property
    def regex(self) -> re.Pattern[str]:
        if self._regex is None:  # a race compiles the same pattern twice, harmlessly
            self._regex = compile_pattern(self.entry.pattern)[0]
        return self._regex


class PatternSet:
    """Lexicon entries indexed by first word; :meth:`tag` finds the longest match at each token.

    Patterns are checked (slots split, first words indexed) when the set is built, and compiled lazily.
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._index: dict[str, list[_Compiled]] = {}
        self.size = 0
        for order, entry in enumerate(entries):
            compiled = _Compiled(order, entry)
            for word in sorted(first_words(entry.pattern)):
                self._index.setdefault(word, []).append(compiled)
            self.size += 1

    def tag(self, text: str, tokens: Sequence[Token], *, skip: Iterable[int] = ()) -> list[Tag]:
        """Tag normalised ``text`` whose tokens are ``tokens``; token indices in ``skip`` are never tagged."""
        skipped = set(skip)
        end_to_token = {tok.end: i + 1 for i, tok in enumerate(tokens)}
        words = frozenset(tok.text for tok in tokens)
        tags: list[Tag] = []
        i = 0
        while i < len(tokens):
            if i in skipped:
                i += 1
                continue
            best: tuple[int, int, _Compiled] | None = None
            for cand in self._index.get(tokens[i].text, ()):
                if not cand.possible(words):
                    continue
                m = cand.regex.match(text, tokens[i].start)
                if m is None:
                    continue
                stop = end_to_token.get(m.end())
                if stop is None or any(k in skipped for k in range(i, stop)):
                    continue
                if best is None or stop > best[0] or (stop == best[0] and cand.order < best[1]):
                    best = (stop, cand.order, cand)
            if best is None:
                i += 1
                continue
            stop, _, cand = best
            tags.append(
                Tag(cand.entry.kind, cand.entry.value, i, stop, text[tokens[i].start : tokens[stop - 1].end],
                    cand.entry.data)
            )
            i = stop
        return tags
