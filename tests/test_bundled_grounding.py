"""Learned grounding (keyframeface.models.bundled.grounding) with a fake encoder and a hand-built head: no model needed.

The fake encoder is a hashed bag of words (unit vectors); nonsense keywords ("zorp", "swivvles", "blick", "glumph",
"zing") get dimensions of their own, and the head's weights map each keyword's dimension to one label, so which
clause is read as what is known exactly.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.errors import ScriptError
from keyframeface.models.bundled.clauses import Clause
from keyframeface.models.bundled.grounding import (
    MAX_CLAUSE_CHARS,
    Grounder,
    Grounding,
    needs_grounding,
    rewrite_clause,
)
from keyframeface.models.bundled.head import NONE_LABEL, GroundingHead
from keyframeface.semantics.composer import compose
from keyframeface.semantics.mentions import Side
from keyframeface.semantics.parse import parse

DIM = 64
#: keyword -> (label, canonical phrase); each canonical phrase is read by the rule parser as its label.
KEYWORDS: dict[str, tuple[str, str]] = {
    "zorp": ("action:brow_lower:", "the brows lower"),
    "swivvles": ("action:head_yaw:", "the head turns"),
    "blick": ("action:smile:", "a smile"),
    "glumph": ("emotion:sadness", "sad"),
    "zing": ("emotion:joy", "happy"),
}
_KEY_DIM = {word: i for i, word in enumerate(KEYWORDS)}
_WORD = re.compile(r"\w+")


def embed(text: str) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for w in _WORD.findall(text.lower()):
        k = _KEY_DIM.get(w)
        v[k if k is not None else len(KEYWORDS) + zlib.crc32(w.encode()) % (DIM - len(KEYWORDS))] += 1.0
    n = float(np.linalg.norm(v))
    return v / n if n else v


class FakeEncoder:
    """Texts -> (N, DIM) unit vectors; records every call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
        return np.stack([embed(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]


def fake_head(threshold: float = 0.5) -> GroundingHead:
    labels = (*(lab for lab, _ in KEYWORDS.values()), NONE_LABEL)
    phrases = (*(ph for _, ph in KEYWORDS.values()), "")
    w = np.zeros((DIM, len(labels)), dtype=np.float32)
    for i in range(len(KEYWORDS)):
        w[i, i] = 12.0
    b = np.zeros(len(labels), dtype=np.float32)
    b[-1] = 1.0  # a clause without a keyword: "none" is the most likely label
    return GroundingHead(w, b, labels, phrases, threshold)


@pytest.fixture()
def encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture()
def grounder(encoder: FakeEncoder) -> Grounder:
    return Grounder(fake_head(), encoder)


def only(groundings: list[Grounding]) -> Grounding:
    assert len(groundings) == 1, groundings
    return groundings[0]


def test_the_fixture_phrases_mean_what_the_tests_assume() -> None:
    from keyframeface.models.bundled.phrases import label_of

    for word, (label, phrase) in KEYWORDS.items():
        assert label_of(phrase) == label
        assert parse(word) == ()


# ------------------------------------------------------------------------------------------- grounding
def test_an_ignored_clause_is_grounded_and_rewritten(grounder: Grounder, encoder: FakeEncoder) -> None:
    g = only(grounder.ground_description("A zorp appears."))
    assert g.label == "action:brow_lower:" and g.clause == "A zorp appears" and g.start == 0
    assert g.rewrite == "the brows lower" and g.probability > 0.9
    (m,) = g.mentions
    assert m.kind == "action" and m.name == "brow_lower"
    assert m.position == 0 and m.phrase == "A zorp appears"
    assert encoder.texts == ["A zorp appears"]


@pytest.mark.parametrize("word", ["slight", "a little", "hard", "strongly", "50 %"])
def test_intensity_words_are_kept(grounder: Grounder, word: str) -> None:
    g = only(grounder.ground_description(f"A zorp pulls {word}." if word == "hard" else f"A {word} zorp."))
    assert word in g.rewrite
    (m,) = g.mentions
    (expected,) = parse(f"the brows lower {word}")
    assert m.name == "brow_lower" and m.level == expected.level
    assert m.level != parse("the brows lower")[0].level


@pytest.mark.parametrize(("clause", "side"), [
    ("a zorp on her left side", Side.LEFT),
    ("a zorp on the right", Side.RIGHT),
    ("a zorp on the viewer's left", Side.RIGHT),
    ("a zorp on the viewer's right", Side.LEFT),
])
def test_sides_are_kept_and_the_viewers_side_mirrored(grounder: Grounder, clause: str, side: Side) -> None:
    (m,) = only(grounder.ground_description(f"She smiles, then {clause}.")).mentions
    assert m.name == "brow_lower" and m.side is side


def test_a_viewer_side_inside_the_clause_does_not_change_the_action(grounder: Grounder) -> None:
    (m,) = only(grounder.ground_description("a zorp between the viewer's left brows")).mentions
    assert m.kind == "action" and m.name == "brow_lower" and m.side is Side.RIGHT


@pytest.mark.parametrize(("clause", "direction"), [("He swivvles to the right", "right"),
                                                   ("he swivvles to the left", "left")])
def test_direction_words_are_kept(grounder: Grounder, clause: str, direction: str) -> None:
    g = only(grounder.ground_description(clause))
    assert g.label == "action:head_yaw:"
    (m,) = g.mentions
    assert m.name == "head_yaw" and direction in m.directions


def test_grounded_mentions_are_positioned_at_their_clause(grounder: Grounder) -> None:
    d = "Her head turns left, then a strong zorp, and a blick."
    gs = grounder.ground_description(d)
    assert [g.label for g in gs] == ["action:brow_lower:", "action:smile:"]
    for g in gs:
        assert d[g.start:g.start + len(g.clause)] == g.clause
        assert all(m.position == g.start and m.phrase == g.clause for m in g.mentions)


@pytest.mark.parametrize("clause", ["no zorp appears", "he does not zorp", "a zorp without a word", "never a zorp",
                                    "not a single zorp"])
def test_a_negated_clause_is_not_grounded(grounder: Grounder, clause: str) -> None:
    assert grounder.ground_description(clause) == []
    assert rewrite_clause(clause, "the brows lower") is None


@pytest.mark.parametrize("clause", ["she no longer makes a zorp", "she stops the zorp"])
def test_a_stopped_action_is_not_grounded(grounder: Grounder, clause: str) -> None:
    assert grounder.ground_description(clause) == []


def test_low_confidence_gives_nothing(encoder: FakeEncoder) -> None:
    assert Grounder(fake_head(threshold=1.0), encoder).ground_description("A zorp appears.") == []
    long_clause = "a zorp " + " ".join(f"word{i}" for i in range(60))  # the keyword is diluted: "none" wins
    assert Grounder(fake_head(), encoder).ground_description(long_clause) == []


def test_a_clause_without_a_keyword_is_left_alone(grounder: Grounder, encoder: FakeEncoder) -> None:
    assert grounder.ground_description("A moment passes.") == []
    assert encoder.texts == ["A moment passes"]


def test_record_names_the_learned_grounding(grounder: Grounder) -> None:
    rec = only(grounder.ground_description("A zorp appears.")).record()
    assert rec["phrase"] == "A zorp appears" and rec["channels"] == {}
    assert "learned grounding" in str(rec["rule"]) and "action:brow_lower:" in str(rec["rule"])
    assert re.search(r"p=0\.\d\d", str(rec["rule"]))


# ------------------------------------------------------------------------------------------- encoder calls
@pytest.mark.parametrize("description", ["She smiles.", "Her brows lower slightly, and she looks down.",
                                         "The head turns to the left while she blinks.", "她笑了。", "", "   ",
                                         "3, 4, 5.", "...!"])
def test_understood_descriptions_never_call_the_encoder(grounder: Grounder, encoder: FakeEncoder,
                                                        description: str) -> None:
    assert grounder.ground_description(description) == []
    assert encoder.calls == []


def test_and_then_does_not_call_the_encoder(grounder: Grounder, encoder: FakeEncoder) -> None:
    grounder.ground_description("She smiles and then frowns.")
    assert encoder.calls == []


def test_overlong_clauses_are_not_encoded(grounder: Grounder, encoder: FakeEncoder) -> None:
    clause = "zorp " * (MAX_CLAUSE_CHARS // 5 + 1)
    assert not needs_grounding(Clause(clause.strip(), 0))
    assert grounder.ground_description(clause) == []
    assert encoder.calls == []


def test_needs_grounding() -> None:
    assert needs_grounding(Clause("a zorp", 0))
    assert needs_grounding(Clause("他zorp了", 0))
    assert not needs_grounding(Clause("she smiles", 0))
    assert not needs_grounding(Clause("42 %", 0))


def test_results_are_cached(grounder: Grounder, encoder: FakeEncoder) -> None:
    first = grounder.ground_description("A zorp appears. A zorp appears!")
    assert len(first) == 2 and encoder.calls == [["A zorp appears"]]  # one embedding per distinct clause
    assert grounder.ground_description("A zorp appears.") == first[:1]
    assert len(encoder.calls) == 1
    grounder.ground_description("A zorp appears, then a blick.")
    assert encoder.calls[1:] == [["a blick"]]


def test_a_full_cache_does_not_lose_entries_being_returned(grounder: Grounder) -> None:
    grounder.ground_description("A zorp appears.")
    # Reach the cache bound without 65k encoder round trips: fill the private cache directly.
    for i in range(65536):
        grounder._cache[("", f"filler {i}")] = (NONE_LABEL, 1.0)
    gs = grounder.ground_description("A zorp appears, then a blick.")
    assert [g.label for g in gs] == ["action:brow_lower:", "action:smile:"]


def test_thread_safety(encoder: FakeEncoder) -> None:
    descriptions = [f"A zorp appears {i}, then a blick on the left {i % 3}." for i in range(20)]
    expected = [Grounder(fake_head(), FakeEncoder()).ground_description(d) for d in descriptions]
    shared = Grounder(fake_head(), encoder)
    results: list[list[list[Grounding]]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append([shared.ground_description(d) for d in descriptions])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 and all(r == expected for r in results)


# ------------------------------------------------------------------------------------------- emotion field
def test_a_known_emotion_is_not_grounded(grounder: Grounder, encoder: FakeEncoder) -> None:
    assert grounder.ground_emotion("sad") is None
    assert grounder.ground_emotion("She smiles.") is None
    assert encoder.calls == []


def test_an_unknown_emotion_is_read_as_a_known_one(grounder: Grounder) -> None:
    g = grounder.ground_emotion("  glumph  ")
    assert g is not None and g.label == "emotion:sadness" and g.rewrite == "sad" and g.clause == "glumph"
    assert [m.kind for m in g.mentions] == ["emotion"]
    assert "learned grounding" in str(g.record()["rule"])


def test_emotion_grounding_chooses_among_emotions_only(grounder: Grounder) -> None:
    assert only(grounder.ground_description("zorp zorp glumph")).label == "action:brow_lower:"
    em = grounder.ground_emotion("zorp zorp glumph")
    assert em is not None and em.label == "emotion:sadness"
    assert grounder.ground_emotion("a zorp") is None  # an action word is no emotion


@pytest.mark.parametrize("emotion", ["", "   ", "!!!", "quietly", "glumph " * 61])
def test_emotion_fields_left_alone(grounder: Grounder, emotion: str) -> None:
    assert grounder.ground_emotion(emotion) is None


# ------------------------------------------------------------------------------------------- composer
def test_compose_merges_grounded_mentions(grounder: Grounder) -> None:
    d = "She smiles, then a strong zorp."
    gs = grounder.ground_description(d)
    extra = [m for g in gs for m in g.mentions]
    plain = compose(d).values
    grounded = compose(d, extra_mentions=extra).values
    brow = rig.CHANNEL_INDEX["BrowDownLeft"]
    smile = rig.CHANNEL_INDEX["MouthSmileLeft"]
    assert plain[brow] == 0.0 and grounded[brow] > 0.2
    assert grounded[smile] == pytest.approx(plain[smile], abs=0.05)
    assert np.all(grounded >= rig.LOW) and np.all(grounded <= rig.HIGH)


def test_compose_refuses_extra_mentions_that_are_not_mentions() -> None:
    with pytest.raises(ScriptError, match="Mention"):
        compose("She smiles.", extra_mentions=["the brows lower"])  # type: ignore[list-item]


@pytest.mark.parametrize(("clause", "expected"), [
    ("a furrow appears right away", "the brows knit"),
    ("a furrow forms as she left the room", "the brows knit"),
    ("a furrow forms over her left eye", "the brows knit on the left"),
    ("a furrow forms on the viewer's left", "the brows knit on the right"),
])
def test_only_a_named_side_becomes_a_side(clause: str, expected: str) -> None:
    from keyframeface.models.bundled.grounding import rewrite_clause

    assert rewrite_clause(clause, "the brows knit") == expected
