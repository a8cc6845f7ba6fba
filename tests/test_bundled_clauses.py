"""Clause splitting for the bundled backend's learned grounding (keyframeface.models.bundled.clauses)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyframeface.models.bundled.clauses import Clause, split_clauses

JOINERS = ("and", "while", "as", "then", "but", "whereas", "before", "after")
_WORDS = re.compile(r"\w+")


def texts(description: str) -> list[str]:
    return [c.text for c in split_clauses(description)]


def assert_offsets(description: str, clauses: list[Clause]) -> None:
    for c in clauses:
        assert description[c.start:c.start + len(c.text)] == c.text, (description, c)


# ------------------------------------------------------------------------------------------- offsets
@pytest.mark.parametrize("description", [
    "She smiles. He frowns!",
    "  Her brows lower slightly ,   and she looks down; then the head turns to the right.",
    "A slight furrow appears between her brows, while the lips press together.",
    "她笑了。他皱眉，然后点头",
    "She smiles\n\nand\tthen frowns.",
])
def test_offsets_point_at_the_clause_text(description: str) -> None:
    clauses = split_clauses(description)
    assert clauses
    assert_offsets(description, clauses)
    starts = [c.start for c in clauses]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_clause_is_a_frozen_value() -> None:
    c = split_clauses("She smiles.")[0]
    assert c == Clause("She smiles", 0)
    with pytest.raises(AttributeError):
        c.text = "x"  # type: ignore[misc]


# ------------------------------------------------------------------------------------------- joiners
@pytest.mark.parametrize(("description", "expected"), [
    ("She smiles and he frowns.", ["She smiles", "he frowns"]),
    ("She smiles while he frowns", ["She smiles", "he frowns"]),
    ("She smiles, then frowns.", ["She smiles", "frowns"]),
    ("She smiles but her eyes stay cold.", ["She smiles", "her eyes stay cold"]),
    ("He nods as she speaks", ["He nods", "she speaks"]),
    ("Her brows lift whereas his lower", ["Her brows lift", "his lower"]),
    ("She blinks before she speaks, after a pause.", ["She blinks", "she speaks", "a pause"]),
    ("She smiles AND frowns", ["She smiles", "frowns"]),
])
def test_joining_words_are_removed(description: str, expected: list[str]) -> None:
    assert texts(description) == expected
    assert_offsets(description, split_clauses(description))


@pytest.mark.parametrize("description", ["Andrew smiles", "She is astonished", "Thenceforth a butterfly lands",
                                         "The band plays", "an aside"])
def test_joiners_only_split_on_whole_words(description: str) -> None:
    assert texts(description) == [description]


@pytest.mark.parametrize(("description", "expected"), [
    ("She smiles and then frowns.", ["She smiles", "frowns"]),
    ("She smiles, but then frowns", ["She smiles", "frowns"]),
    ("and", []),
])
def test_stacked_joiners_leave_no_bare_joiner_clause(description: str, expected: list[str]) -> None:
    assert texts(description) == expected


# ------------------------------------------------------------------------------------------- CJK
def test_cjk_punctuation_splits() -> None:
    description = "她笑了。他皱眉，然后点头！真的吗？好；来：走、停"
    got = split_clauses(description)
    assert [c.text for c in got] == ["她笑了", "他皱眉", "然后点头", "真的吗", "好", "来", "走", "停"]
    assert_offsets(description, got)


def test_mixed_english_and_chinese() -> None:
    description = "She smiles。他皱眉, and she looks down"
    assert texts(description) == ["She smiles", "他皱眉", "she looks down"]


# ------------------------------------------------------------------------------------------- edges
@pytest.mark.parametrize("description", ["", " ", "   \n\t ", "...", ", , ;", "。，！", "\u3000"])
def test_empty_whitespace_and_punctuation_only_give_no_clause(description: str) -> None:
    assert split_clauses(description) == []


def test_very_long_text_is_split_quickly_and_exactly() -> None:
    description = "She smiles slightly. " * 5000 + "x" * 50_000
    t0 = time.perf_counter()
    got = split_clauses(description)
    elapsed = time.perf_counter() - t0
    assert len(got) == 5001
    assert got[-1].text == "x" * 50_000
    assert_offsets(description, got)
    assert elapsed < 5.0, elapsed  # linear, not quadratic: quadratic splitting of 50,000 characters takes minutes


def test_deterministic() -> None:
    d = "Her brows knit, and the head turns to the left while she blinks."
    assert split_clauses(d) == split_clauses(d)


# ------------------------------------------------------------------------------------------- properties
_PIECES = st.sampled_from([*JOINERS, "She", "smiles", "brows", "Andrew", "astonished", " ", "  ", "\n", "\t", ",",
                           ".", "!", "?", ";", ":", "。", "，", "、", "她笑了", "then", "AND", "x"])
_DESCRIPTIONS = st.one_of(st.lists(_PIECES, max_size=30).map(" ".join), st.lists(_PIECES, max_size=30).map("".join),
                          st.text(max_size=80))


@given(_DESCRIPTIONS)
def test_every_clause_text_occurs_at_its_offset(description: str) -> None:
    got = split_clauses(description)
    assert_offsets(description, got)
    for c in got:
        assert c.text and c.text == c.text.strip()
    ends = [c.start + len(c.text) for c in got]
    assert all(e <= s for e, s in zip(ends, [c.start for c in got[1:]], strict=False))


@given(_DESCRIPTIONS)
def test_no_word_is_lost_except_joiners(description: str) -> None:
    def words(text: str) -> list[str]:
        return [w for w in _WORDS.findall(text) if w.lower() not in JOINERS]

    assert words(description) == [w for c in split_clauses(description) for w in words(c.text)]


def test_a_decimal_point_does_not_end_a_clause() -> None:
    texts = [c.text for c in split_clauses("a furrow forms between her brows at 0.7. Then 1.5 s later she smiles.")]
    assert texts == ["a furrow forms between her brows at 0.7", "1.5 s later she smiles"]
