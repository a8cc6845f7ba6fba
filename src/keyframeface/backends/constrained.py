"""Constrained decoding of keyframe answers: the model chooses only what is free, so no answer can be invalid.

Why not a GBNF grammar: llama.cpp's grammar sampler walks every candidate token of the vocabulary each step,
measured at ~30 ms/token on Gemma 3's 262,144-token vocabulary on this project's 2-core CPU, more than the 270M
model's forward pass. Here the constraint is a precomputed array of token ids per decoder state, so each step
costs a gather of a few dozen logits.

``"json"`` (:func:`decode_json`): the decoder writes the fixed text itself (``{"Keyframe_one":{"EyeBlinkLeft":``,
``,"EyeLookDownLeft":`` ...: keys in :data:`rig.CHANNELS` order, compact separators as in the release's answers) and
the model writes only the numbers. A number is a sequence of *number tokens* (tokens whose text is made of
``0-9 . -`` only) that keeps the text a prefix of the channel's number language; it ends when the model picks a
*terminator* token (text starting with ``,`` or ``}``), which is not kept: the decoder writes its own separator.
The language is ``0.d`` ... ``0.dd`` and ``1.0`` ... ``1.00`` for blendshapes and the same with an optional ``-``
for the nine pose channels, so every value is inside its channel's range by construction. Values always have a
decimal point, as every value in the release's answers does (``reference/keyframeface-release/example_result.jsonl``
writes ``0.0``, ``0.3``, ``-0.2``), and at most ``decimals`` digits after it (default 2; the release uses 1).

Cost: a forward pass is only run when the model has a choice. Fixed text and chosen tokens are queued and
evaluated together just before the next choice (so a key and the number token before it are one pass), and a
forced step (``0`` must be followed by ``.``) takes no pass. A typical ``0.0`` value costs 3 passes at
``decimals=2`` and 2 at ``decimals=1``.

``"compact"`` (:func:`decode_compact`): the model also chooses the channel names, writing ``Name=value`` pairs
separated by ``;``. A name is built from tokens that keep the text a prefix of ``Name=`` (or `` Name=`` after a
``;``) for a channel not yet used (a trie walk over strings, cached per prefix), so names are always valid and
never repeated. After a value, a token starting with ``;`` continues with another pair; an end-of-generation token
or a newline ends the answer. At least one pair is written (``EyeBlinkLeft=0`` is a neutral answer).

Both layouts come from the representation's grammar spec (:mod:`keyframeface.prompt.grammar`): the object's literal
texts from :func:`~keyframeface.prompt.grammar.object_segments`, the pairs' separator from the spec.
:func:`decode_answer` decodes any representation from its spec: a free-text preamble (the ``semantic`` description)
is sampled by the caller's unconstrained sampler until the spec's values marker, then the values are constrained.

Everything here works on token texts and a :class:`TokenSource` (feed tokens, read the next logits), so it is
independent of llama.cpp and testable with any logits.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np

from .. import rig
from ..prompt import grammar as answer_grammar
from ..prompt.grammar import GrammarSpec

__all__ = [
    "DEFAULT_DECIMALS",
    "DecodeStats",
    "TokenSource",
    "Vocabulary",
    "choose_token",
    "decode_answer",
    "decode_compact",
    "decode_json",
    "number_state",
]

#: Digits after the point of a generated value (the release's answers use 1; 2 gives 0.01 steps for subtle motion).
DEFAULT_DECIMALS: Final[int] = 2
_NUMBER_CHARS: Final[frozenset[str]] = frozenset("0123456789.-")
# Worst-case tokens of one compact pair without its value (" Name=" at one token per character, a separator): used
# with the value's worst case to stop before a pair could overrun the token budget half-written.
_NAME_BUDGET: Final[int] = max(len(n) for n in rig.CHANNELS) + 3
# What may follow a value in an object answer: the first characters of the literals after its value slots (",", "}").
_OBJECT_FOLLOWERS: Final[frozenset[str]] = frozenset(
    seg[0] for seg in answer_grammar.object_segments("k") if isinstance(seg, str) and not seg.startswith("{")
)


class TokenSource(Protocol):
    """A language model seen as: append tokens to the context, then read the logits of the next token."""

    def feed(self, tokens: Sequence[int]) -> None:
        """Evaluate ``tokens`` after the current context (the next :meth:`logits` are for what follows them)."""

    def logits(self) -> np.ndarray:
        """(n_vocab,) float32 logits of the next token."""

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` (no BOS, special tokens not parsed)."""


@dataclass
class DecodeStats:
    """What one decode cost: ``sampled`` tokens chosen (terminators and forced steps included), ``fed`` tokens
    evaluated (fixed text and chosen tokens), ``forward_calls`` evaluation passes, ``seconds`` wall time."""

    sampled: int = 0
    fed: int = 0
    forward_calls: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"sampled_tokens": self.sampled, "fed_tokens": self.fed, "forward_calls": self.forward_calls,
                "seconds": round(self.seconds, 4)}


def choose_token(logits: np.ndarray, allowed: np.ndarray, *, temperature: float, rng: np.random.Generator) -> int:
    """One token id from ``allowed`` ((k,) int, k >= 1): the highest logit at ``temperature <= 0`` (ties: the first
    in ``allowed``), else a sample from the softmax of ``logits[allowed] / temperature``."""
    scores = np.asarray(logits[allowed], dtype=np.float64)
    if temperature <= 0.0 or allowed.size == 1:
        return int(allowed[int(np.argmax(scores))])
    z = scores / float(temperature)
    z -= z.max()
    p = np.exp(z)
    total = p.sum()
    if not np.isfinite(total) or total <= 0.0:  # NaN logits from a broken model: fall back to greedy
        return int(allowed[int(np.nanargmax(scores))]) if np.isfinite(scores).any() else int(allowed[0])
    return int(allowed[int(rng.choice(allowed.size, p=p / total))])


# ---------------------------------------------------------------------------------------------------- numbers
#: ``(kind, integer digit, decimals written)``; kind is "empty", "sign", "int" or "dec".
NumberState = tuple[str, str, int]


def number_state(text: str, *, signed: bool, decimals: int = DEFAULT_DECIMALS) -> NumberState | None:
    """The state of a partly written value, or ``None`` if ``text`` is not a prefix of the number language
    (see the module docstring). States: ``("empty", "", 0)``, ``("sign", "", 0)``, ``("int", head, 0)``,
    ``("dec", head, n)``."""
    if text == "":
        return ("empty", "", 0)
    if text.startswith("-"):
        if not signed:
            return None
        text = text[1:]
        if text == "":
            return ("sign", "", 0)
    head, rest = text[0], text[1:]
    if head not in "01":
        return None
    if rest == "":
        return ("int", head, 0)
    if rest[0] != ".":
        return None
    digits = rest[1:]
    if len(digits) > decimals or (digits and not digits.isdigit()) or (head == "1" and digits.strip("0")):
        return None
    return ("dec", head, len(digits))


def _is_complete(state: NumberState) -> bool:
    return state[0] == "dec" and state[2] >= 1  # a decimal point and at least one digit, as the release writes


def _representative(state: NumberState) -> str:
    """A text in ``state``: continuations valid after it are valid after every text in the state."""
    kind, head, written = state
    if kind == "empty":
        return ""
    if kind == "sign":
        return "-"
    if kind == "int":
        return head
    return f"{head}." + "0" * written


# ------------------------------------------------------------------------------------------------- vocabulary
@dataclass
class _PairTables:
    """Per pair separator: the tokens that end a pair, and the name tries of ``Name=`` / ``<tail>Name=``."""

    terminators: np.ndarray
    name_like: list[int]
    prefix_names: dict[str, frozenset[str]]
    name_cache: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


def _separator_parts(separator: str) -> tuple[str, str]:
    """``"; "`` -> ``(";", " ")``: the part the model's terminator token starts with, and the part that may lead the
    next name (written by the model as part of its name tokens)."""
    head = separator.rstrip() or separator
    return head, separator[len(head):]


class Vocabulary:
    """The token texts of a model, classified once for constrained decoding.

    ``pieces``: the text of every token id (``""`` for special/control tokens and tokens that are not valid UTF-8
    on their own). ``eog``: end-of-generation token ids. Pair tables (for ``Name=value`` answers) are built on
    first use per pair separator.
    """

    def __init__(self, pieces: Sequence[str], eog: Sequence[int] = (), *, decimals: int = DEFAULT_DECIMALS) -> None:
        if not 1 <= decimals <= 6:
            raise ValueError(f"decimals must be in [1, 6], got {decimals}")
        self.pieces = list(pieces)
        self.size = len(self.pieces)
        self.decimals = decimals
        self.eog = np.array(sorted({int(t) for t in eog if 0 <= int(t) < self.size}), dtype=np.int64)
        number, json_end, answer_end = [], [], []
        seen_numbers: set[str] = set()
        for i, text in enumerate(self.pieces):
            if not text:
                continue
            if len(text) <= 8 and set(text) <= _NUMBER_CHARS and text not in seen_numbers:
                seen_numbers.add(text)  # one id per text, so a single valid continuation counts as forced
                number.append(i)
            first = text[0]
            if first in _OBJECT_FOLLOWERS:
                json_end.append(i)
            elif first == "\n":
                answer_end.append(i)
        self.number_ids = np.array(number, dtype=np.int64)
        self.json_terminators = np.array(json_end, dtype=np.int64)
        self.answer_terminators = np.union1d(np.array(answer_end, dtype=np.int64), self.eog)
        if self.number_ids.size == 0 or not any(self.pieces[int(i)] == "0" for i in self.number_ids):
            raise ValueError("the vocabulary has no token '0'; constrained decoding needs single-digit tokens")
        self._number_cache: dict[tuple[bool, NumberState], np.ndarray] = {}
        self._pair_tables: dict[str, _PairTables] = {}

    def pair_tables(self, separator: str) -> _PairTables:
        """The (cached) pair tables for answers whose pairs are separated by ``separator``."""
        tables = self._pair_tables.get(separator)
        if tables is None:
            head, tail = _separator_parts(separator)
            targets = [t for name in rig.CHANNELS for t in dict.fromkeys((f"{name}=", f"{tail}{name}="))]
            joined = "\x00".join(targets)
            ends, name_like = [], []
            for i, text in enumerate(self.pieces):
                if not text:
                    continue
                if text[0] == head[0] and text[0] not in _OBJECT_FOLLOWERS and text[0] != "\n":
                    ends.append(i)
                if "\x00" not in text and text in joined:
                    name_like.append(i)
            by_prefix: dict[str, set[str]] = {}
            for name in rig.CHANNELS:
                for target in (f"{name}=", f"{tail}{name}="):
                    for k in range(1, len(target) + 1):
                        by_prefix.setdefault(target[:k], set()).add(name)
            tables = _PairTables(np.array(ends, dtype=np.int64), name_like,
                                 {p: frozenset(n) for p, n in by_prefix.items()})
            self._pair_tables[separator] = tables
        return tables

    def number_continuations(self, state: NumberState, *, signed: bool) -> np.ndarray:
        """Number token ids whose text keeps a value in ``state`` inside the language (terminators excluded)."""
        key = (signed, state)
        cached = self._number_cache.get(key)
        if cached is None:
            base = _representative(state)
            cached = np.array(
                [t for t in self.number_ids
                 if number_state(base + self.pieces[int(t)], signed=signed, decimals=self.decimals) is not None],
                dtype=np.int64,
            )
            self._number_cache[key] = cached
        return cached

    def name_continuations(self, prefix: str, remaining: frozenset[str], *, separator: str) -> list[tuple[int, str]]:
        """``(token id, new prefix)`` for tokens that keep ``prefix`` a prefix of ``Name=`` (or the separator's
        tail and ``Name=``, `` Name=`` for ``"; "``) for a channel in ``remaining``."""
        tables = self.pair_tables(separator)
        options = tables.name_cache.get(prefix)
        if options is None:
            options = []
            for t in tables.name_like:
                extended = prefix + self.pieces[t]
                if extended in tables.prefix_names:
                    options.append((t, extended))
            tables.name_cache[prefix] = options
        return [(t, p) for t, p in options if tables.prefix_names[p] & remaining]


# ---------------------------------------------------------------------------------------------------- decoding
@dataclass
class _Run:
    source: TokenSource
    vocab: Vocabulary
    temperature: float
    rng: np.random.Generator
    stats: DecodeStats = field(default_factory=DecodeStats)

    pending: list[int] = field(default_factory=list)

    def feed(self, tokens: Sequence[int]) -> None:
        """Queue ``tokens``; they are evaluated (one pass) when the model next has a choice."""
        self.pending.extend(int(t) for t in tokens)

    def feed_text(self, text: str) -> None:
        self.feed(self.source.tokenize(text))

    def pick(self, allowed: np.ndarray) -> int:
        """The model's choice among ``allowed``; a single option is taken without running the model."""
        self.stats.sampled += 1
        if allowed.size == 1:
            return int(allowed[0])
        if self.pending:
            self.source.feed(self.pending)
            self.stats.fed += len(self.pending)
            self.stats.forward_calls += 1
            self.pending = []
        return choose_token(self.source.logits(), allowed, temperature=self.temperature, rng=self.rng)

    def number(self, *, signed: bool, terminators: np.ndarray, ask_end: bool = False) -> tuple[str, int | None]:
        """Write one value; returns its text and the terminator token the model chose. When the value cannot be
        continued (all decimals written) it ends there: with ``ask_end`` the model still picks the terminator
        (compact: another pair or the end), otherwise ``None`` is returned without spending a step."""
        text = ""
        while True:
            state = number_state(text, signed=signed, decimals=self.vocab.decimals)
            assert state is not None  # only tokens that keep a valid prefix are ever appended
            continuations = self.vocab.number_continuations(state, signed=signed)
            complete = _is_complete(state)
            if continuations.size == 0:
                return text, (self.pick(terminators) if ask_end and terminators.size else None)
            allowed = np.concatenate([continuations, terminators]) if complete else continuations
            token = self.pick(allowed)
            if complete and token not in continuations:
                return text, token
            text += self.vocab.pieces[token]
            self.feed([token])


def _run(source: TokenSource, vocab: Vocabulary, temperature: float, seed: int | None) -> _Run:
    return _Run(source, vocab, float(temperature), np.random.default_rng(seed))


def decode_json(
    source: TokenSource, vocab: Vocabulary, *, key: str, temperature: float = 0.0, seed: int | None = None
) -> tuple[str, DecodeStats]:
    """The release-format answer ``{"<key>":{"EyeBlinkLeft":v,...,"RightEyeRoll":v}}`` with all 61 channels in
    ``rig.CHANNELS`` order (:func:`keyframeface.prompt.grammar.object_segments`), the model choosing only the values
    (see the module docstring).

    ``source`` holds the prompt already (its next logits are for the answer's first token). Returns the text and
    its :class:`DecodeStats`; the text always parses under ``policy="strict"``.
    """
    start = time.perf_counter()
    run = _run(source, vocab, temperature, seed)
    parts: list[str] = []
    for segment in answer_grammar.object_segments(key):
        if isinstance(segment, str):
            parts.append(segment)
            continue
        # The literal before a value is fed with it; the closing literal is written, never fed.
        run.feed_text(parts[-1])
        value, _ = run.number(signed=segment.signed, terminators=vocab.json_terminators)
        parts[-1] += value
    run.stats.seconds = time.perf_counter() - start
    return "".join(parts), run.stats


def decode_compact(
    source: TokenSource,
    vocab: Vocabulary,
    *,
    temperature: float = 0.0,
    seed: int | None = None,
    max_tokens: int = 1024,
    grammar: GrammarSpec | None = None,
) -> tuple[str, DecodeStats]:
    """A ``Name=value`` pairs answer (``grammar``'s pair separator; default: the ``compact`` representation's,
    the model writing ``;`` and the space as part of the next name): valid names, each channel at most once, values
    in range (see the module docstring). Stops when the model ends the answer, when every channel is used, or
    before a pair could exceed ``max_tokens`` sampled tokens; at least one pair is written.
    """
    if grammar is None:
        from ..prompt import get_representation

        grammar = get_representation("compact").grammar
    separator = grammar.pair_separator
    head, _ = _separator_parts(separator)
    tables = vocab.pair_tables(separator)
    start = time.perf_counter()
    run = _run(source, vocab, temperature, seed)
    remaining = frozenset(rig.CHANNELS)
    pairs: list[str] = []
    pair_end = np.union1d(tables.terminators, vocab.answer_terminators)
    while remaining:
        prefix = ""
        while True:  # the name, up to and including "="
            options = vocab.name_continuations(prefix, remaining, separator=separator)
            if not options:  # cannot happen for a vocabulary holding single characters; guard anyway
                break
            token = run.pick(np.array([t for t, _ in options], dtype=np.int64))
            prefix = dict(options)[token]
            run.feed([token])
            if prefix.endswith("="):
                break
        name = prefix.strip().rstrip("=")
        if name not in remaining:
            break
        remaining = remaining - {name}
        signed = answer_grammar.signed(name)
        worst_pair = _NAME_BUDGET + vocab.decimals + 4  # sign, digit, point, decimals, terminator
        has_more = bool(remaining) and run.stats.sampled + worst_pair <= max_tokens
        value, end = run.number(signed=signed, terminators=pair_end if has_more else vocab.answer_terminators,
                                ask_end=has_more)
        pairs.append(prefix + value)
        if not has_more or end is None or end not in tables.terminators:
            break
        run.feed_text(head)
    run.stats.seconds = time.perf_counter() - start
    text = head.join(pairs)
    return text, run.stats


#: Samples free text: ``(max_tokens, stop pattern) -> (text, stats)``, stopping after text matching the pattern
#: (that token fed), at an end-of-generation token or at ``max_tokens``.
FreeSampler = Callable[[int, re.Pattern[str]], tuple[str, DecodeStats]]


def decode_answer(
    grammar: GrammarSpec,
    source: TokenSource,
    vocab: Vocabulary,
    *,
    key: str,
    temperature: float = 0.0,
    seed: int | None = None,
    max_tokens: int = 1024,
    sample_free: FreeSampler | None = None,
) -> tuple[str, DecodeStats]:
    """An answer of any representation, from its ``grammar`` spec: an object answer (:func:`decode_json`, wrapped
    in ``key``) or pairs (:func:`decode_compact`). With a preamble (the ``semantic`` description) ``sample_free``
    writes it first, unconstrained, until the spec's values marker (at most half of ``max_tokens``; the marker is
    written for the model if it ends or runs out first); then the values are constrained, so the answer always
    parses. Raises :class:`ValueError` for a preamble without ``sample_free`` or without a marker pattern.
    """
    if grammar.preamble is None:
        return _decode_values(grammar, source, vocab, key=key, temperature=temperature, seed=seed,
                              max_tokens=max_tokens)
    marker = grammar.values_marker_pattern
    if sample_free is None or marker is None:
        raise ValueError("an answer with a preamble needs sample_free and the spec's values_marker_pattern")
    start = time.perf_counter()
    budget = max(1, int(max_tokens) // 2)
    preamble, stats = sample_free(budget, marker)
    if not marker.search(preamble):
        written = grammar.values_marker.rstrip()
        text = written if preamble.endswith("\n") else "\n" + written
        tokens = source.tokenize(text)
        source.feed(tokens)
        stats.fed += len(tokens)
        preamble += text
    values, more = _decode_values(grammar, source, vocab, key=key, temperature=temperature, seed=seed,
                                  max_tokens=max(16, int(max_tokens) - budget))
    stats.sampled += more.sampled
    stats.fed += more.fed
    stats.forward_calls += more.forward_calls
    stats.seconds = time.perf_counter() - start
    return preamble + values, stats


def _decode_values(
    grammar: GrammarSpec, source: TokenSource, vocab: Vocabulary, *, key: str, temperature: float,
    seed: int | None, max_tokens: int,
) -> tuple[str, DecodeStats]:
    if grammar.values == "object":
        return decode_json(source, vocab, key=key, temperature=temperature, seed=seed)
    return decode_compact(source, vocab, temperature=temperature, seed=seed, max_tokens=max_tokens, grammar=grammar)
