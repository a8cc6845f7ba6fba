"""The rules lexicon is well formed: channels exist, frames name real actions, patterns compile and tag."""

from __future__ import annotations

import pytest

from keyframeface import rig
from keyframeface.semantics import emotions, lexicon
from keyframeface.semantics.intensity import intensity_entries
from keyframeface.semantics.laterality import SIDED_PAIRS, direction_entries, side_entries
from keyframeface.semantics.negation import cue_entries
from keyframeface.semantics.parse import tag_text
from keyframeface.semantics.tagger import compile_pattern, normalize, tokenize, verb_forms


def test_actions_use_real_channels_and_sane_magnitudes() -> None:
    for action in lexicon.ACTIONS.values():
        for ch in (*action.primary, *action.secondary, *action.zeros):
            assert ch in rig.CHANNEL_INDEX or ch in lexicon.AXES, (action.id, ch)
        for ch, value in {**action.primary, **action.secondary}.items():
            limit = 0.5 if ch.startswith("Head") else 1.0
            assert abs(value) <= limit, (action.id, ch, value)
        assert 0.0 < action.level <= 1.0
        assert action.side in ("both", "one")
        assert action.upgrades.keys() <= {"tight", "tightly", "hard", "firmly"}
        for target in (*action.upgrades.values(), *([action.partial_of] if action.partial_of else [])):
            assert target in lexicon.ACTIONS


def test_frames_and_variants_name_real_actions_and_parts() -> None:
    for frame in lexicon.FRAMES:
        assert frame.action in lexicon.ACTIONS
        assert frame.parts <= set(lexicon.PART_REGIONS)
    for act, variants in lexicon.ACT_VARIANTS.items():
        assert act in lexicon.ACTIONS
        for part, target in variants.items():
            assert part in lexicon.PART_REGIONS and target in lexicon.ACTIONS


def test_every_pattern_compiles() -> None:
    entries = [*lexicon.lexicon_entries(), *lexicon.structure_entries(), *cue_entries(),
               *emotions.emotion_entries(), *intensity_entries(), *side_entries(), *direction_entries()]
    assert len(entries) > 250
    for e in entries:
        _regex, firsts = compile_pattern(e.pattern)
        assert firsts, e.pattern


def test_pattern_language_rejects_nesting_and_empty_alternatives() -> None:
    with pytest.raises(ValueError, match="nested"):
        compile_pattern("(as wide as (possible|can))")
    with pytest.raises(ValueError, match="empty"):
        compile_pattern("(the|) eye")
    with pytest.raises(ValueError, match="required"):
        compile_pattern("[the]")
    regex, firsts = compile_pattern("[the|her] (corner|corners) of [the|her] mouth [side]")
    assert firsts == {"the", "her", "corner", "corners"}
    assert regex.match("corners of her mouth side").group() == "corners of her mouth side"


@pytest.mark.parametrize(("base", "forms"), [
    ("raise", ("raise", "raises", "raised", "raising")),
    ("drop", ("drop", "drops", "dropped", "dropping")),
    ("knit", ("knit", "knits", "knitted", "knitting")),
    ("press together", ("press together", "presses together", "pressed together", "pressing together")),
    ("widen", ("widen", "widens", "widened", "widening")),
    ("shut", ("shut", "shuts", "shutting")),
])
def test_verb_forms(base: str, forms: tuple[str, ...]) -> None:
    assert verb_forms(base) == forms


def test_normalisation_and_tokens() -> None:
    text = normalize("She doesn’t  SMILE — one-sided, 50%!")
    assert text == "she does not smile - one sided, 50%!"
    assert [t.text for t in tokenize(text)][-4:] == [",", "50", "%", "!"]
    assert [t.text for t in tokenize("她微笑")] == ["她", "微", "笑"]


def test_longest_match_wins() -> None:
    _, _, tags = tag_text("She looks straight into the camera with a straight face.")
    kinds = [(t.kind, t.text) for t in tags]
    assert ("act", "straight face") in kinds
    assert ("act", "straight into the camera") in kinds  # a gaze action, longer than "straight"


def test_sided_pairs_exclude_directional_and_gaze_pairs() -> None:
    names = {n for pair in SIDED_PAIRS for n in pair}
    assert "MouthSmileLeft" in names and "EyeBlinkRight" in names
    assert not names & {"JawLeft", "JawRight", "MouthLeft", "MouthRight", "EyeLookInLeft"}


def test_emotion_prototypes() -> None:
    for name in emotions.PROTOTYPES:
        vec = emotions.prototype_vector(name, 1.0)
        assert vec.shape == (rig.NUM_CHANNELS,)
        assert float(abs(vec).max()) <= 0.9
    joy = emotions.prototype_vector("joy", 1.0)
    assert joy[rig.CHANNEL_INDEX["MouthSmileLeft"]] == pytest.approx(0.85)
    contempt = emotions.prototype_vector("contempt", 1.0)  # EMFACS R14: the right side only
    assert contempt[rig.CHANNEL_INDEX["MouthDimpleRight"]] > 0 == contempt[rig.CHANNEL_INDEX["MouthDimpleLeft"]]
    assert "brows" in emotions.prototype_regions("sadness")
