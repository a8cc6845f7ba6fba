"""The prompt package's structure: one registry of representations, each owning its prompt, extractor, formatter and
grammar spec, which every constrained decoder consumes (so a new representation needs no decoder change)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest

import keyframeface.prompt as prompt
from keyframeface import rig
from keyframeface.backends.constrained import DecodeStats, Vocabulary, decode_answer
from keyframeface.backends.hf_constrained import AnswerGrammar, constrains
from keyframeface.errors import ScriptError
from keyframeface.prompt import grammar
from keyframeface.semantics.describe import describe_regions, read_pair


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = np.round(rng.uniform(0.0, 1.0, rig.NUM_CHANNELS) * (rng.uniform(size=rig.NUM_CHANNELS) < 0.3), 2)
    v[rig.NUM_BLENDSHAPES :] = np.round(rng.uniform(-0.5, 0.5, rig.NUM_CHANNELS - rig.NUM_BLENDSHAPES), 2)
    return v


def test_public_names_are_importable() -> None:
    for name in prompt.__all__:
        assert hasattr(prompt, name), name
    assert prompt.REPRESENTATIONS == ("json", "compact", "semantic")


@pytest.mark.parametrize("name", prompt.REPRESENTATIONS)
def test_each_representation_round_trips_and_owns_its_grammar(name: str) -> None:
    rep = prompt.get_representation(name)
    assert rep.name == name and prompt.system_prompt(name) == rep.system_prompt
    assert isinstance(rep.grammar, grammar.GrammarSpec)
    for seed in range(5):
        v = _values(seed)
        text = prompt.format_answer(v, seed, representation=name, digits=2)
        parsed = prompt.parse_values(text, policy="strict", index=seed, representation=name)
        assert np.allclose(parsed.values, v, atol=1e-6)
    text = grammar.gbnf(rep.grammar, prompt.answer_key(1))
    assert text.startswith("root ::= ") and "unit ::= " in text
    schema = grammar.json_schema(rep.grammar, "Keyframe_one")
    assert (schema is not None) == rep.grammar.is_object == constrains(name)


def test_unknown_representation_names_the_valid_ones() -> None:
    with pytest.raises(ScriptError, match="compact"):
        prompt.get_representation("yaml")
    assert prompt.grammar_for("plan") is None and not constrains("plan")


def test_object_segments_spell_the_release_answer() -> None:
    v = _values(3)
    text = prompt.format_answer(v, 1, digits=2)
    assert AnswerGrammar(prompt.answer_key(2)).accepts(text)
    literals = [s for s in grammar.object_segments("Keyframe_two") if isinstance(s, str)]
    assert text.startswith(literals[0]) and text.endswith(literals[-1])
    slots = [s for s in grammar.object_segments(None) if isinstance(s, grammar.ValueSlot)]
    assert [s.channel for s in slots] == list(rig.CHANNELS)
    assert [s.signed for s in slots] == [i >= rig.NUM_BLENDSHAPES for i in range(rig.NUM_CHANNELS)]


class _UniformSource:
    """Every allowed token equally likely: a stand-in language model for the decoders' grammar logic."""

    def __init__(self, pieces: Sequence[str]) -> None:
        self.index = {p: i for i, p in enumerate(pieces)}
        self.size = len(pieces)

    def feed(self, tokens: Sequence[int]) -> None:
        pass

    def logits(self) -> np.ndarray:
        return np.zeros(self.size, dtype=np.float32)

    def tokenize(self, text: str) -> list[int]:
        return [self.index[c] for c in text]


@pytest.mark.parametrize("name", prompt.REPRESENTATIONS)
def test_the_llama_decoder_writes_every_representation_from_its_spec(name: str) -> None:
    pieces = ["", *(chr(c) for c in range(32, 127)), "\n"]
    vocab = Vocabulary(pieces, eog=[0], decimals=2)
    source = _UniformSource(pieces)
    spec = prompt.get_representation(name).grammar

    def free(budget: int, stop: re.Pattern[str]) -> tuple[str, DecodeStats]:
        return "Regions:\n- mouth: smile slight\n", DecodeStats()  # the model ends without the marker

    for seed in range(3):
        text, _ = decode_answer(spec, source, vocab, key=prompt.answer_key(2), temperature=1.0, seed=seed,
                                max_tokens=300, sample_free=free)
        parsed = prompt.parse_values(text, policy="strict", index=1, representation=name)
        assert parsed.values.shape == (rig.NUM_CHANNELS,)


def test_read_pair_thresholds_are_the_callers() -> None:
    assert read_pair(0.01, 0.02, floor=0.05, symmetric_within=0.1) is None
    assert read_pair(0.5, 0.45, floor=0.05, symmetric_within=0.1).balance == "symmetric"  # type: ignore[union-attr]
    one = read_pair(0.5, 0.01, floor=0.05, symmetric_within=0.1, one_sided_below=0.05)
    assert one is not None and (one.balance, one.stronger) == ("one_sided", "left")
    uneven = read_pair(0.2, 0.5, floor=0.05, symmetric_within=0.1, one_sided_below=0.05)
    assert uneven is not None and (uneven.balance, uneven.stronger) == ("uneven", "right")
    shared = read_pair(0.2, 0.5, floor=0.05, symmetric_within=0.1, one_sided_share=0.5)
    assert shared is not None and shared.balance == "one_sided" and shared.mean == pytest.approx(0.35)


def test_the_semantic_description_is_semantics_describe_with_its_thresholds() -> None:
    v = _values(7)
    words = ((0.25, "slight"), (0.5, "moderate"), (0.8, "strong"), (float("inf"), "full"))
    assert prompt.describe_regions(v) == describe_regions(v, min_magnitude=0.05, symmetry_tolerance=0.1,
                                                          intensity_words=words)
    assert describe_regions(v, min_magnitude=2.0, symmetry_tolerance=0.1, intensity_words=words) == []
