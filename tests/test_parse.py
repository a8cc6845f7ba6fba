"""Robust parsing of model answers into 61 values (keyframeface.prompt.parse_values): every robustness case, both
policies, error messages, raw_text kept."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.errors import ModelOutputError, ScriptError
from keyframeface.prompt import MAX_NESTING, MAX_RESPONSE_CHARS, ParsedValues, answer_key, parse_values

# A face with a distinct value on every channel, on the release's 0.1-style grid, including negative pose values.
VALUES = {name: round(0.01 * (i % 50) * (-1 if i >= rig.NUM_BLENDSHAPES and i % 2 else 1), 2)
          for i, name in enumerate(rig.CHANNELS)}
EXPECTED = np.array([VALUES[n] for n in rig.CHANNELS], dtype=np.float32)


def body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(VALUES)
    for name, value in changes.items():
        if value is DROP:
            del out[name]
        else:
            out[name] = value
    return out


DROP = object()


def answer(n: int = 1, **changes: Any) -> str:
    """A release-style answer: {"Keyframe_<n>": {61 keys}} with compact separators."""
    return json.dumps({answer_key(n): body(**changes)}, separators=(",", ":"))


def parse(text: str, **kwargs: Any) -> ParsedValues:
    return parse_values(text, **kwargs)


def assert_expected(parsed: ParsedValues, *, warnings: bool | None = False) -> None:
    assert parsed.values.dtype == np.float32 and parsed.values.shape == (rig.NUM_CHANNELS,)
    assert np.array_equal(parsed.values, EXPECTED)
    if warnings is False:
        assert parsed.warnings == []
    elif warnings is True:
        assert parsed.warnings


def strict_error(text: str, pattern: str, **kwargs: Any) -> ModelOutputError:
    with pytest.raises(ModelOutputError, match=pattern) as info:
        parse_values(text, policy="strict", **kwargs)
    assert info.value.raw_text == text
    return info.value


# ----------------------------------------------------------------------------------------- finding the answer


@pytest.mark.parametrize("policy", ["strict", "repair"])
def test_release_style_answer(policy: str) -> None:
    parsed = parse(answer(), policy=policy, index=0)
    assert_expected(parsed)
    assert parsed.key == "Keyframe_one"


def test_bare_object_has_no_key() -> None:
    parsed = parse(json.dumps(body()))
    assert_expected(parsed)
    assert parsed.key is None


@pytest.mark.parametrize(
    "wrap",
    [
        "```json\n{}\n```",
        "```\n{}\n```",
        "Here's the JSON you asked for:\n\n```json\n{}\n```\n\nLet me know if you'd like changes!",
        "<think>\nThe gaze is lowered, so EyeLookDown is up. Let me write {{\"draft\": 1}}.\n</think>\n\n{}",
        "<think></think>{}",
        "<THINK>reasoning</THINK>\n{}",
        "<think>a</think> prose <think>b {{\"JawOpen\": 0.9}}</think>{}",
        "The model reasons without an opening tag (it was in the prompt) {{\"JawOpen\": 1}}</think>\n{}",
        "  \n{}\n  ",
        "Answer: {} -- values are in {{0,1}} and {{-1,1}} as requested.",
        'He said "fine" and {}',
        "{} {{}}",
    ],
)
def test_answer_found_in_surrounding_text(wrap: str) -> None:
    text = wrap.replace("{}", "@@", 1).replace("{{", "{").replace("}}", "}").replace("@@", answer())
    assert_expected(parse(text, index=0), warnings=None)
    assert parse(text).key == "Keyframe_one"


def test_last_object_with_values_wins() -> None:
    first = answer(JawOpen=0.9)
    text = f"First try: {first}\nCorrected:\n{answer()}"
    assert_expected(parse(text))


def test_stray_open_brace_before_answer_warns() -> None:
    parsed = parse("Note: a { is not closed here.\n" + answer())
    assert_expected(parsed, warnings=True)
    assert any("unclosed '{'" in w for w in parsed.warnings)


def test_missing_final_brace_still_reads_complete_values() -> None:
    parsed = parse(answer()[:-1])
    assert_expected(parsed, warnings=True)


def test_nested_extra_wrappers() -> None:
    text = json.dumps({"result": {"Keyframe_one": {"values": body()}}})
    parsed = parse(text, index=0)
    assert_expected(parsed)
    assert parsed.key == "Keyframe_one"
    parsed = parse(json.dumps({"output": {"values": body()}}))
    assert parsed.key == "output"


def test_wrapper_with_extra_fields_warns() -> None:
    text = json.dumps({"Keyframe_one": body(), "explanation": "tense lips"})
    parsed = parse(text)
    assert_expected(parsed, warnings=True)
    assert "explanation" in parsed.warnings[0]


# -------------------------------------------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    ("text", "note"),
    [
        (answer().replace('"', "'"), "single quotes"),
        (answer().replace("}}", ",},}"), "trailing commas"),
        (re.sub(r'"(\w+)":', r"\1:", answer()), "unquoted keys"),
        (answer().replace(",", ",\n").replace(":", " = "), "= for :"),
        (answer().replace(",", "\n", 3), "missing commas"),
        ("{'Keyframe_one': " + repr(body()) + "}", "python dict"),
    ],
)
def test_lenient_syntax_accepted_with_warning(text: str, note: str) -> None:
    for policy in ("strict", "repair"):
        parsed = parse(text, policy=policy)
        assert_expected(parsed, warnings=True)
        assert any("not strict JSON" in w for w in parsed.warnings), note


def test_apostrophes_in_prose_and_strings() -> None:
    inner = json.dumps({"note": "the subject's smile", "Keyframe_one": body()})
    parsed = parse("Here's what I'd use: " + inner + " That's it.")
    assert_expected(parsed, warnings=True)


def styles(name: str) -> dict[str, str]:
    """Spellings of a channel name that rig.try_canonical_name accepts."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    out = {"canonical": name, "camel": name[0].lower() + name[1:], "lower": name.lower(), "upper": name.upper(),
           "snake": snake, "kebab": snake.replace("_", "-"), "spaced": snake.replace("_", " ")}
    for side, short in (("Left", "L"), ("Right", "R")):
        if name.endswith(side) and not name.startswith(side):
            stem = name[: -len(side)]
            out["suffix"] = f"{stem[0].lower()}{stem[1:]}_{short}"
            out["dot"] = f"{stem}.{short.lower()}"
            out["prefix"] = f"{short}_{stem}"
    if name.startswith(("LeftEye", "RightEye")):  # eye rotations: eyeYaw_L, EyeYawLeft
        side = "Left" if name.startswith("Left") else "Right"
        axis = name[len(side) + 3 :]
        out["eye_axis"] = f"eye{axis}_{side[0]}"
        out["eye_axis_long"] = f"Eye{axis}{side}"
    return out


@pytest.mark.parametrize("style", ["canonical", "camel", "lower", "upper", "snake", "kebab", "spaced", "suffix",
                                   "dot", "prefix", "eye_axis", "eye_axis_long"])
def test_key_spelling_variants(style: str) -> None:
    renamed: dict[str, float] = {}
    for name, value in VALUES.items():
        spelled = styles(name).get(style, name)
        assert rig.try_canonical_name(spelled) == name, spelled
        renamed[spelled] = value
    parsed = parse(json.dumps({"Keyframe_one": renamed}))
    assert_expected(parsed)


def test_mediapipe_neutral_is_ignored() -> None:
    parsed = parse(json.dumps({"_neutral": 0.5, **body()}))
    assert_expected(parsed)


# -------------------------------------------------------------------------------------------------- values


def test_numbers_as_strings_accepted_with_warning() -> None:
    text = answer(JawOpen=str(VALUES["JawOpen"]), HeadPitch=f" {VALUES['HeadPitch']} ")
    for policy in ("strict", "repair"):
        parsed = parse(text, policy=policy)
        assert_expected(parsed, warnings=True)
        assert "JawOpen" in parsed.warnings[0] and "string" in parsed.warnings[0]


def test_integers_and_exponents() -> None:
    parsed = parse(answer(JawOpen=1, MouthClose=0, CheekPuff=2e-1, HeadYaw=-1))
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == 1.0
    assert parsed.values[rig.CHANNEL_INDEX["CheekPuff"]] == np.float32(0.2)
    assert parsed.values[rig.CHANNEL_INDEX["HeadYaw"]] == -1.0


def test_percentages_strict_error_repair_divides() -> None:
    text = answer(MouthSmileLeft="40%")
    error = strict_error(text, r"MouthSmileLeft is a percentage")
    assert "missing 1" not in str(error)  # reported once, not also as missing
    parsed = parse(text, policy="repair")
    assert parsed.values[rig.CHANNEL_INDEX["MouthSmileLeft"]] == np.float32(0.4)
    assert any("percentage" in w and "MouthSmileLeft" in w for w in parsed.warnings)


def test_duplicate_keys_same_value_warn() -> None:
    text = answer()[:-2] + f',"JawOpen":{VALUES["JawOpen"]}}}}}'
    for policy in ("strict", "repair"):
        parsed = parse(text, policy=policy)
        assert_expected(parsed, warnings=True)
        assert parsed.warnings == ["given more than once with the same value: JawOpen (2 times)"]


def test_duplicate_keys_different_values() -> None:
    text = answer()[:-2] + ',"jaw_open":0.75}}'  # another spelling of the same channel
    strict_error(text, r"given more than once with different values: JawOpen \(0\.\d+, then 0\.75\)")
    parsed = parse(text, policy="repair")
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == np.float32(0.75)  # the last one, as JSON parsers do
    assert any("kept the last" in w for w in parsed.warnings)


def test_missing_channels() -> None:
    text = answer(JawOpen=DROP, HeadRoll=DROP)
    error = strict_error(text, r"missing 2 channel\(s\): JawOpen, HeadRoll")
    assert "policy='repair'" in str(error)
    parsed = parse(text, policy="repair")
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == 0.0 and parsed.values[rig.CHANNEL_INDEX["HeadRoll"]] == 0.0
    assert any("missing 2" in w for w in parsed.warnings)


def test_many_missing_channels_are_summarised() -> None:
    text = json.dumps({"Keyframe_one": {"JawOpen": 0.5}})
    error = strict_error(text, r"missing 60 channel\(s\): EyeBlinkLeft, .* and 52 more")
    assert len(str(error)) < 1000


def test_unknown_keys() -> None:
    text = answer(Smile=0.5, EyebrowRaise=0.2)
    strict_error(text, r"unknown key\(s\) 'Smile', 'EyebrowRaise'")
    parsed = parse(text, policy="repair")
    assert_expected(parsed, warnings=True)
    assert "unknown" in parsed.warnings[0]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" + "0" * 5000])
def test_non_finite_and_huge_numbers(token: str) -> None:
    text = answer()[:-2] + f',"JawOpen":{token}}}}}'
    text = text.replace(f'"JawOpen":{VALUES["JawOpen"]},', "", 1)
    strict_error(text, r"JawOpen")
    parsed = parse(text, policy="repair")
    value = parsed.values[rig.CHANNEL_INDEX["JawOpen"]]
    assert np.isfinite(value) and 0.0 <= value <= 1.0
    assert parsed.warnings and np.all(np.isfinite(parsed.values))


@pytest.mark.parametrize(
    ("name", "value", "clamped"),
    [("JawOpen", 1.5, 1.0), ("MouthSmileLeft", -0.2, 0.0), ("HeadYaw", -2.0, -1.0), ("LeftEyePitch", 3, 1.0)],
)
def test_out_of_range(name: str, value: float, clamped: float) -> None:
    text = answer(1, **{name: value})
    strict_error(text, rf"out of range: {name}={value:g} \(range \[")
    parsed = parse(text, policy="repair")
    assert parsed.values[rig.CHANNEL_INDEX[name]] == np.float32(clamped)
    assert any(name in w and "out of range" in w for w in parsed.warnings)


def test_float_noise_at_the_bounds_is_clipped_silently() -> None:
    parsed = parse(answer(JawOpen=1.0000001, MouthSmileLeft=-1e-9))
    assert parsed.warnings == []
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == 1.0 and parsed.values[rig.CHANNEL_INDEX["MouthSmileLeft"]] == 0.0


@pytest.mark.parametrize(("value", "word"), [(True, "boolean"), (None, "null"), ("high", "not a number"),
                                             ([0.1], "a list"), ({"v": 0.1}, "an object")])
def test_non_numbers(value: Any, word: str) -> None:
    text = answer(JawOpen=value)
    error = strict_error(text, rf"JawOpen is .*{word}")
    assert "missing 1" not in str(error)
    parsed = parse(text, policy="repair")
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == 0.0
    assert any("JawOpen" in w for w in parsed.warnings)


def test_eye_pitch_sign_is_kept_as_written() -> None:
    parsed = parse(answer(LeftEyePitch=-0.2, RightEyePitch=-0.2, EyeLookDownLeft=0.2, EyeLookDownRight=0.2))
    assert parsed.values[rig.CHANNEL_INDEX["LeftEyePitch"]] == np.float32(-0.2)
    assert parsed.values[rig.CHANNEL_INDEX["RightEyePitch"]] == np.float32(-0.2)


def test_all_problems_listed_in_one_error() -> None:
    text = answer(JawOpen=DROP, Smile=1, HeadYaw=5)
    error = strict_error(text, "missing 1")
    assert "unknown key" in str(error) and "out of range" in str(error)


# ------------------------------------------------------------------------------------------- keyframe labels


@pytest.mark.parametrize("policy", ["strict", "repair"])
def test_label_mismatch_only_warns(policy: str) -> None:
    parsed = parse(answer(2), policy=policy, index=0)
    assert_expected(parsed, warnings=True)
    assert parsed.key == "Keyframe_two"
    assert "'Keyframe_two'" in parsed.warnings[0] and "'Keyframe_one'" in parsed.warnings[0]
    assert parse(answer(2), policy=policy).warnings == []  # no index: nothing to compare


def test_several_keyframes_in_one_answer() -> None:
    two = {answer_key(1): body(JawOpen=0.9), answer_key(2): body()}
    text = json.dumps(two)
    parsed = parse(text, index=1)  # the requested one is picked, in both policies
    assert_expected(parsed, warnings=True)
    assert parsed.key == "Keyframe_two"
    strict_error(text, r"holds 2 objects .* pass index=")
    strict_error(text, r"none of them is 'Keyframe_three'", index=2)
    repaired = parse(text, policy="repair")
    assert repaired.key == "Keyframe_one" and repaired.values[rig.CHANNEL_INDEX["JawOpen"]] == np.float32(0.9)


def test_values_as_a_list_are_refused() -> None:
    text = json.dumps({"Keyframe_one": list(VALUES.values())})
    for policy in ("strict", "repair"):
        with pytest.raises(ModelOutputError, match="keyed by channel name"):
            parse(text, policy=policy)


# ------------------------------------------------------------------------------------ cut-off and thinking


def test_cut_off_answer() -> None:
    full = answer()
    cut = full[: full.index('"HeadYaw"') + len('"HeadYaw":-')]  # cut inside the HeadYaw number
    strict_error(cut, r"cut off")
    parsed = parse(cut, policy="repair", index=0)
    assert parsed.key == "Keyframe_one"
    head = rig.CHANNEL_INDEX["HeadYaw"]
    assert np.array_equal(parsed.values[:head], EXPECTED[:head])
    assert not parsed.values[head:].any()  # the partial number and everything after it -> 0
    assert any("cut off" in w for w in parsed.warnings) and any("missing 9" in w for w in parsed.warnings)


def test_cut_off_inside_a_string() -> None:
    full = answer()
    cut = full[: full.index('"TongueOut"') + 5]
    parsed = parse(cut, policy="repair")
    assert parsed.values[rig.CHANNEL_INDEX["NoseSneerRight"]] == EXPECTED[rig.CHANNEL_INDEX["NoseSneerRight"]]
    assert any("cut off" in w for w in parsed.warnings)


def test_unclosed_think_block() -> None:
    text = f"<think>I will answer {answer()} but let me double check the brows"
    strict_error(text, r"unclosed <think>")
    parsed = parse(text, policy="repair")
    assert_expected(parsed, warnings=True)
    assert any("<think>" in w for w in parsed.warnings)
    with pytest.raises(ModelOutputError, match="no JSON object"):
        parse("<think>no draft at all", policy="repair")


# ------------------------------------------------------------------------------------------- compact answers


def test_compact_representation() -> None:
    text = "<think>smile</think>MouthSmileLeft=0.4; mouthSmile_R: 0.4\nBrowInnerUp = '0.3', HeadPitch=-0.1"
    parsed = parse(text, representation="compact")
    expected = rig.neutral()
    for name, value in (("MouthSmileLeft", 0.4), ("MouthSmileRight", 0.4), ("BrowInnerUp", 0.3), ("HeadPitch", -0.1)):
        expected[rig.CHANNEL_INDEX[name]] = value
    assert np.array_equal(parsed.values, expected) and parsed.warnings == [] and parsed.key is None
    assert not parse("Neutral.", representation="compact").values.any()
    assert not parse("```\nneutral\n```", representation="compact").values.any()


def test_compact_problems() -> None:
    with pytest.raises(ModelOutputError, match="no Name=value pairs"):
        parse("A gentle smile.", representation="compact")
    strict_error("Smile=0.4; JawOpen=0.1", r"unknown key\(s\) 'Smile'", representation="compact")
    strict_error("JawOpen=1.4", r"out of range", representation="compact")
    parsed = parse("Smile=0.4; JawOpen=1.4; Note: prose is ignored", policy="repair", representation="compact")
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == 1.0 and len(parsed.warnings) == 2
    strict_error("JawOpen=40%", r"percentage", representation="compact")


# ------------------------------------------------------------------------------------------ guards and args


def test_huge_input_is_refused() -> None:
    text = answer() + " " * MAX_RESPONSE_CHARS
    for policy in ("strict", "repair"):
        with pytest.raises(ModelOutputError, match="limit is 200000") as info:
            parse(text, policy=policy)
        assert info.value.raw_text is text


def test_deep_nesting_is_refused() -> None:
    for text in ("{" * (MAX_NESTING + 1) + "}" * (MAX_NESTING + 1), '{"a":' * 1000 + "1" + "}" * 1000):
        with pytest.raises(ModelOutputError, match="deeper than"):
            parse(text, policy="repair")
    with pytest.raises(ModelOutputError):
        parse('{"Keyframe_one": ' + "[" * 100_000 + "]" * 100_000 + "}", policy="repair")


@pytest.mark.parametrize("text", ["", "   ", "no json here", "{}", "{ }", "[1, 2]", '{"a": 1}', "}{", "{'a'}"])
@pytest.mark.parametrize("policy", ["strict", "repair"])
def test_no_values_found(text: str, policy: str) -> None:
    with pytest.raises(ModelOutputError) as info:
        parse(text, policy=policy)
    assert info.value.raw_text == text
    assert "expected" in str(info.value)


def test_non_string_input() -> None:
    with pytest.raises(ModelOutputError, match="as a string, got bytes"):
        parse(answer().encode())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"policy": "lenient"}, {"index": -1}, {"index": True}, {"index": "0"}, {"representation": "no-such-representation"}],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ScriptError):
        parse(answer(), **kwargs)


def test_repeated_keys_give_bounded_warnings() -> None:
    text = "{" + '"jaw_open": 0.5, "JawOpen": "50%", "Smile": 1, ' * 4000 + "}"
    parsed = parse(text, policy="repair")
    assert len(parsed.warnings) <= 8
    assert parsed.values[rig.CHANNEL_INDEX["JawOpen"]] == np.float32(0.5)
    assert any("unknown key(s) 'Smile' (4000 in all)" in w for w in parsed.warnings)
    with pytest.raises(ModelOutputError) as info:
        parse(text)
    assert len(str(info.value)) < 1500


def test_warnings_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="keyframeface.prompt"):
        parsed = parse(answer(JawOpen=2.0), policy="repair", index=0)
    assert parsed.warnings
    assert any("keyframe 1" in r.getMessage() and "out of range" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="keyframeface.prompt"):
        parse(answer())
    assert not caplog.records
