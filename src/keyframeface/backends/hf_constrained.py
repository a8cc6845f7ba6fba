"""Constrained decoding for the ``hf`` backend: the model may only write a valid release-format answer.

The answer's shape is the representation's grammar spec (:mod:`keyframeface.prompt.grammar`); this decoder handles
object answers (:attr:`~keyframeface.prompt.grammar.GrammarSpec.is_object`, see :func:`constrains`): the release's
compact JSON ``{"Keyframe_one":{"EyeBlinkLeft":0.0,...,"RightEyeRoll":0.0}}`` with all 61 channels in ``rig.CHANNELS``
order (:func:`~keyframeface.prompt.grammar.object_segments`). Only the numbers are free. :class:`AnswerGrammar` is a
character automaton over exactly that text, with numbers limited to
``0``, ``1`` and ``0.d`` / ``1.0`` with at most :data:`MAX_DECIMALS` decimals (a leading ``-`` only for the 9 pose
channels), so every accepted answer parses under ``policy="strict"``. :class:`TokenConstraint` turns the automaton
into allowed token ids per state by walking a trie of the vocabulary's token strings, so a step costs a few dict
lookups rather than a scan of the vocabulary (about 150,000 tokens for Qwen3).

This module is pure Python (no torch): :mod:`keyframeface.backends.hf` wraps it in a transformers logits processor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from .. import rig
from ..prompt import grammar as answer_grammar

__all__ = ["MAX_DECIMALS", "AnswerGrammar", "State", "TokenConstraint", "constrains"]

#: Decimals a number may have: format_answer's default is 3 and the release's answers use 1 (the grammars' limit).
MAX_DECIMALS: Final[int] = answer_grammar.MAX_DECIMALS

#: ``(segment index, position)``: a literal segment's next character offset, or a number segment's sub-state.
State = tuple[int, int]

# Number sub-states. A number is  -? ( 0 (. d{1,N})? | 1 (. 0{1,N})? ).
_START, _SIGN, _INT0, _INT1, _DOT0, _DOT1 = 0, 1, 2, 3, 4, 5
_FRAC0 = 6  # _FRAC0 + k - 1: "0." and k digits (k = 1..MAX_DECIMALS)
_FRAC1 = _FRAC0 + MAX_DECIMALS  # _FRAC1 + k - 1: "1." and k zeros
_DIGITS: Final[frozenset[str]] = frozenset("0123456789")


def _is_terminal(sub: int) -> bool:
    """Whether a number may end in sub-state ``sub``."""
    return sub in (_INT0, _INT1) or _FRAC0 <= sub < _FRAC1 + MAX_DECIMALS


def _number_step(sub: int, ch: str, negative: bool) -> int | None:
    if sub == _START:
        if ch == "-" and negative:
            return _SIGN
        sub = _SIGN
    if sub == _SIGN:
        return _INT0 if ch == "0" else _INT1 if ch == "1" else None
    if sub == _INT0:
        return _DOT0 if ch == "." else None
    if sub == _INT1:
        return _DOT1 if ch == "." else None
    if sub == _DOT0:
        return _FRAC0 if ch in _DIGITS else None
    if sub == _DOT1:
        return _FRAC1 if ch == "0" else None
    if _FRAC0 <= sub < _FRAC1:
        return sub + 1 if ch in _DIGITS and sub + 1 < _FRAC1 else None
    if _FRAC1 <= sub < _FRAC1 + MAX_DECIMALS - 1:
        return sub + 1 if ch == "0" else None
    return None


def constrains(representation: str) -> bool:
    """Whether answers of ``representation`` can be constrained here (its grammar is an object answer); the others
    are generated unconstrained."""
    from ..prompt import grammar_for

    spec = grammar_for(representation)
    return spec is not None and spec.is_object


class AnswerGrammar:
    """The character automaton of one answer: ``{"<key>":{...61 channels...}}``, or a bare ``{...}`` when ``key``
    is ``None``. States are :data:`State` tuples; :attr:`start` is the first, :meth:`done` tells the final one."""

    def __init__(self, key: str | None) -> None:
        self.key = key
        self._segments: tuple[str | answer_grammar.ValueSlot, ...] = answer_grammar.object_segments(key)
        self.start: State = (0, 0)

    def done(self, state: State) -> bool:
        """Whether ``state`` is after the whole answer (only an end-of-sequence token may follow)."""
        return state[0] >= len(self._segments)

    def step(self, state: State, ch: str) -> State | None:
        """The state after writing ``ch`` in ``state``, or ``None`` when ``ch`` is not allowed there."""
        seg, pos = state
        if seg >= len(self._segments):
            return None
        segment = self._segments[seg]
        if isinstance(segment, str):
            if segment[pos] != ch:
                return None
            return (seg + 1, 0) if pos + 1 == len(segment) else (seg, pos + 1)
        sub = _number_step(pos, ch, segment.signed)
        if sub is not None:
            return (seg, sub)
        if _is_terminal(pos):  # the number ended: ch must start the literal that follows it
            return self.step((seg + 1, 0), ch)
        return None

    def walk(self, state: State | None, text: str) -> State | None:
        """The state after writing ``text`` (``None`` once any character is not allowed)."""
        for ch in text:
            if state is None:
                return None
            state = self.step(state, ch)
        return state

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a complete answer of this grammar."""
        state = self.walk(self.start, text)
        return state is not None and self.done(state)


@dataclass
class _TrieNode:
    children: dict[str, _TrieNode] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)


class TokenConstraint:
    """Allowed token ids per grammar state, for one vocabulary.

    ``token_strings[i]``: the text token ``i`` adds to an answer (``None`` or ``""`` for tokens never allowed,
    such as special tokens). ``eos_ids``: the tokens that end generation, allowed only when the answer is complete.
    Results are memoised per (grammar key, state); a state with no allowed token (a vocabulary that cannot write a
    needed character) allows the end-of-sequence tokens, so generation stops and the repair pass takes over.
    """

    def __init__(self, token_strings: Sequence[str | None], eos_ids: Iterable[int]) -> None:
        self.eos_ids: tuple[int, ...] = tuple(sorted(set(eos_ids)))
        charset = set("".join(rig.CHANNELS)) | set('{}":,.-_0123456789') | set("Keyframe_abcdefghijklmnopqrstuvwxyz")
        self._strings: dict[int, str] = {}
        self._root = _TrieNode()
        for token_id, text in enumerate(token_strings):
            if not text or not set(text) <= charset or token_id in self.eos_ids:
                continue
            self._strings[token_id] = text
            node = self._root
            for ch in text:
                node = node.children.setdefault(ch, _TrieNode())
            node.ids.append(token_id)
        self._grammars: dict[str | None, AnswerGrammar] = {}
        self._allowed: dict[tuple[str | None, State | None], tuple[int, ...]] = {}
        self._next: dict[tuple[str | None, State, int], State | None] = {}

    def grammar(self, key: str | None) -> AnswerGrammar:
        """The (cached) grammar of answers wrapped in ``key`` (``None``: a bare object)."""
        if key not in self._grammars:
            self._grammars[key] = AnswerGrammar(key)
        return self._grammars[key]

    def advance(self, key: str | None, state: State | None, token_id: int) -> State | None:
        """The state after token ``token_id``; ``None`` (dead: only end-of-sequence allowed) if it did not fit."""
        if state is None:
            return None
        memo = (key, state, token_id)
        if memo not in self._next:
            text = self._strings.get(token_id)
            self._next[memo] = None if text is None else self.grammar(key).walk(state, text)
        return self._next[memo]

    def allowed(self, key: str | None, state: State | None) -> tuple[int, ...]:
        """Sorted token ids allowed in ``state`` (end-of-sequence ids once the answer is complete or dead)."""
        memo = (key, state)
        cached = self._allowed.get(memo)
        if cached is not None:
            return cached
        grammar = self.grammar(key)
        if state is None or grammar.done(state):
            result = self.eos_ids
        else:
            found: list[int] = []
            stack: list[tuple[_TrieNode, State]] = [(self._root, state)]
            while stack:
                node, at = stack.pop()
                for ch, child in node.children.items():
                    nxt = grammar.step(at, ch)
                    if nxt is not None:
                        found.extend(child.ids)
                        stack.append((child, nxt))
            result = tuple(sorted(found)) or self.eos_ids
        self._allowed[memo] = result
        return result
