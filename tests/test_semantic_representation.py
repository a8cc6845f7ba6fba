"""The "semantic" representation: a structured description of the face (regions, intensity, symmetry), then the
values. Format and parse round-trip, the parser finds the values after the description, prompts and policies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from keyframeface import prompt, rig
from keyframeface.errors import ModelOutputError
from keyframeface.script import Script

SCRIPT = Script.from_dict(
    {"background": "A test.", "emotion": "Joy.", "keyframes": [{"description": "A smile."}, {"description": "Calm."}]}
)


def face(**values: float) -> np.ndarray:
    out = rig.neutral().astype(np.float64)
    for name, v in values.items():
        out[rig.CHANNEL_INDEX[name]] = v
    return out


def test_listed_and_prompted() -> None:
    assert "semantic" in prompt.REPRESENTATIONS
    messages = prompt.build_messages(SCRIPT, 0, representation="semantic")
    assert messages[0]["content"] == prompt.SEMANTIC_SYSTEM_PROMPT
    assert "Regions:" in messages[0]["content"] and "Values:" in messages[0]["content"]
    # The user message is the release's, whatever the representation.
    assert messages[1]["content"] == prompt.build_messages(SCRIPT, 0)[1]["content"]


def test_format_describes_regions_intensity_and_symmetry() -> None:
    v = face(MouthSmileLeft=0.6, MouthSmileRight=0.3, BrowInnerUp=0.2, JawOpen=0.9, EyeBlinkRight=0.7, HeadYaw=-0.3)
    text = prompt.format_answer(v, 0, representation="semantic")
    lines = text.splitlines()
    assert lines[0] == "Regions:" and lines[-1].startswith("Values: ")
    assert "- mouth: smile strong, left stronger" in lines
    assert "- brows: inner up slight" in lines
    assert "- jaw: open full" in lines
    assert "- eyes: blink strong, right only" in lines
    assert "- head: yaw negative moderate" in lines


def test_neutral_face() -> None:
    text = prompt.format_answer(rig.neutral(), 0, representation="semantic")
    assert text == "Regions:\n- face: neutral\nValues: neutral"
    assert not prompt.parse_values(text, representation="semantic").values.any()


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, rig.NUM_CHANNELS, elements=st.floats(0, 1, allow_nan=False)))
def test_round_trip(raw: np.ndarray) -> None:
    values = np.where(raw < 0.3, 0.0, raw)  # sparse, like real faces
    values[rig.NUM_BLENDSHAPES :] = values[rig.NUM_BLENDSHAPES :] * 2 - 1  # pose channels in [-1, 1]
    text = prompt.format_answer(values, 1, representation="semantic", digits=3)
    parsed = prompt.parse_values(text, policy="strict", index=1, representation="semantic")
    assert np.allclose(parsed.values, np.round(values, 3), atol=1e-6)
    assert parsed.warnings == []


def test_values_are_read_after_the_description_only() -> None:
    # Numbers and name-like words in the description must not be read as values.
    text = (
        "<think>smile? maybe MouthSmileLeft=0.9</think>\n"
        "Regions:\n- mouth: smile 0.4, symmetric\n- brows: BrowInnerUp=0.8 would be too much\n"
        "**Values:** MouthSmileLeft=0.4; MouthSmileRight=0.4"
    )
    parsed = prompt.parse_values(text, representation="semantic")
    assert parsed.values[rig.CHANNEL_INDEX["MouthSmileLeft"]] == pytest.approx(0.4)
    assert parsed.values[rig.CHANNEL_INDEX["BrowInnerUp"]] == 0.0


def test_last_values_line_wins_and_json_values_are_accepted() -> None:
    text = "Regions:\n- jaw: open\nValues: JawOpen=0.2\nActually:\nValues: {\"JawOpen\": 0.5}"
    parsed = prompt.parse_values(text, representation="semantic")
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == pytest.approx(0.5)
    assert parsed.values.sum() == pytest.approx(0.5)


def test_missing_values_line_strict_fails_repair_reads_pairs() -> None:
    text = "Regions:\n- mouth: smile\nMouthSmileLeft=0.3; MouthSmileRight=0.3"
    with pytest.raises(ModelOutputError, match="Values:") as info:
        prompt.parse_values(text, policy="strict", representation="semantic")
    assert info.value.raw_text == text
    parsed = prompt.parse_values(text, policy="repair", representation="semantic")
    assert parsed.values[rig.CHANNEL_INDEX["MouthSmileRight"]] == pytest.approx(0.3)
    assert any("Values:" in w for w in parsed.warnings)


def test_out_of_range_values_follow_the_policy() -> None:
    text = "Regions:\n- jaw: open full\nValues: JawOpen=1.4"
    with pytest.raises(ModelOutputError, match="out of range"):
        prompt.parse_values(text, policy="strict", representation="semantic")
    assert prompt.parse_values(text, policy="repair", representation="semantic").values.max() == 1.0


def test_describe_regions_skips_eye_rotations_and_tiny_values() -> None:
    v = face(LeftEyePitch=0.5, RightEyePitch=0.5, CheekPuff=0.01)
    assert prompt.describe_regions(v) == []
