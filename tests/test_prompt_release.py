"""Release compatibility: requests byte-identical to the release's example.jsonl, answers parsed to the release
CSV's values exactly, ordinals, and the release JSONL reader/writer.

The release files are read at run time from ../shared (skipped when absent); nothing from them is copied here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.errors import FormatError, KeyframeFaceError, ModelOutputError, ScriptError
from keyframeface.io import release_jsonl
from keyframeface.io.release_jsonl import read_release_requests, read_release_results, write_release_requests
from keyframeface.prompt import (
    REPRESENTATIONS,
    SYSTEM_PROMPT,
    answer_key,
    build_messages,
    build_requests,
    format_answer,
    ordinal_word,
    parse_answer_key,
    parse_ordinal_word,
    parse_user_message,
    parse_values,
    requests_jsonl,
    system_prompt,
    user_message,
)
from keyframeface.script import MAX_KEYFRAMES, Keyframe, Script

# ------------------------------------------------------------------------------------------------- helpers


def release_script(release_dir: Path) -> Script:
    """The script behind example.jsonl, extracted with plain string operations independent of the code under
    test (the first request's user message: item lines, then Background/Emotion lines)."""
    first = json.loads((release_dir / "example.jsonl").read_text(encoding="utf-8").splitlines()[0])
    user = next(m["content"] for m in first["messages"] if m["role"] == "user")
    descriptions, background, emotion = [], "", ""
    for line in user.split("\n"):
        if line.startswith("- Keyframe "):
            descriptions.append(line.split(": ", 1)[1])
        elif line.startswith("Background: "):
            background = line[len("Background: ") :]
        elif line.startswith("Emotion: "):
            emotion = line[len("Emotion: ") :]
    return Script.from_dict({"background": background, "emotion": emotion, "keyframes": descriptions})


def release_csv(release_dir: Path) -> tuple[list[str], list[float], np.ndarray]:
    """(channel names, times in seconds, (K, 61) float32) of example_result.csv, read with the csv module."""
    with (release_dir / "example_result.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], [r for r in rows[1:] if r]
    assert header[:2] == ["Timecode", "BlendshapeCount"]
    times = []
    for row in body:
        hh, mm, ss, rest = row[0].split(":")
        frames, _, _ = rest.partition(".")
        assert int(frames) == 0
        times.append(3600.0 * int(hh) + 60.0 * int(mm) + int(ss))
    values = np.array([[float(v) for v in row[2:]] for row in body], dtype=np.float32)
    return header[2:], times, values


def by_name(names: list[str], values: np.ndarray) -> np.ndarray:
    """Reorder CSV columns into rig.CHANNELS order (always key by name)."""
    order = [names.index(c) for c in rig.CHANNELS]
    return values[:, order]


# ------------------------------------------------------------------------------------ byte-exact requests


def test_requests_jsonl_is_byte_identical_to_release(release_dir: Path) -> None:
    script = release_script(release_dir)
    expected = (release_dir / "example.jsonl").read_bytes()
    assert requests_jsonl(script).encode("utf-8") == expected


def test_build_messages_match_release_lines(release_dir: Path) -> None:
    script = release_script(release_dir)
    lines = [json.loads(line) for line in (release_dir / "example.jsonl").read_text().splitlines() if line]
    assert len(lines) == len(script.keyframes)
    for i, line in enumerate(lines):
        assert build_messages(script, i) == line["messages"]
        assert line["messages"][0]["content"] == SYSTEM_PROMPT == system_prompt("json")
    assert build_requests(script) == lines


def test_write_release_requests_byte_identical(release_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "requests.jsonl"
    write_release_requests(release_script(release_dir), out)
    assert out.read_bytes() == (release_dir / "example.jsonl").read_bytes()
    assert [p.name for p in out.parent.iterdir()] == ["requests.jsonl"]  # no temp file left behind


def test_read_release_requests_round_trip(release_dir: Path, tmp_path: Path) -> None:
    script = read_release_requests(release_dir / "example.jsonl")
    assert script == release_script(release_dir)
    out = tmp_path / "again.jsonl"
    write_release_requests(script, out)
    assert read_release_requests(out) == script


# -------------------------------------------------------------------------------- answers == release CSV


def test_release_answers_parse_to_release_csv_exactly(release_dir: Path) -> None:
    names, times, csv_values = release_csv(release_dir)
    expected = by_name(names, csv_values)
    keys = read_release_results(release_dir / "example_result.jsonl")
    assert keys.times() == times == [float(k) for k in range(len(times))]
    got = keys.array()
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.array_equal(got, expected)  # exact, including the published model's negative eye pitch
    assert "warnings" not in keys.meta and keys.meta["options"]["policy"] == "strict"


def test_parse_values_on_each_release_answer(release_dir: Path) -> None:
    names, _, csv_values = release_csv(release_dir)
    expected = by_name(names, csv_values)
    lines = (release_dir / "example_result.jsonl").read_text().splitlines()
    answers = [json.loads(line)["response"] for line in lines if line.strip()]
    for k, text in enumerate(answers):
        for policy in ("strict", "repair"):
            parsed = parse_values(text, policy=policy, index=k)
            assert parsed.warnings == []
            assert parsed.key == answer_key(k + 1)
            assert np.array_equal(parsed.values, expected[k])


def test_release_answers_reformatted_parse_back_identically(release_dir: Path) -> None:
    keys = read_release_results(release_dir / "example_result.jsonl")
    for k, row in enumerate(keys.array()):
        text = format_answer(row, k)
        assert text.startswith('{"' + answer_key(k + 1) + '":{"EyeBlinkLeft":')
        assert np.array_equal(parse_values(text, index=k).values, row)


def test_read_results_with_requests_gives_descriptions(release_dir: Path) -> None:
    script = read_release_requests(release_dir / "example.jsonl")
    keys = read_release_results(release_dir / "example_result.jsonl", requests=release_dir / "example.jsonl")
    assert [kf.description for kf in keys.keyframes] == [kf.description for kf in script.keyframes]
    assert (keys.background, keys.emotion) == (script.background, script.emotion)
    assert read_release_results(release_dir / "example_result.jsonl", requests=script).script().keyframes[0].description


def test_result_lines_with_messages_give_descriptions(release_dir: Path, tmp_path: Path) -> None:
    script = release_script(release_dir)
    answers = [json.loads(line) for line in (release_dir / "example_result.jsonl").read_text().splitlines() if line]
    requests = build_requests(script)
    out = tmp_path / "result.jsonl"
    # ms-swift 3 style: the request messages (with the answer appended) and a labels field beside the response
    rows = [
        {"response": a["response"], "labels": a["response"],
         "messages": [*r["messages"], {"role": "assistant", "content": a["response"]}], "logprobs": None}
        for a, r in zip(answers, requests, strict=True)
    ]
    out.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    keys = read_release_results(out)
    assert [kf.description for kf in keys.keyframes] == [kf.description for kf in script.keyframes]
    assert keys.background == script.background and keys.emotion == script.emotion
    labels = read_release_results(out, answer_field="labels")
    assert np.array_equal(labels.array(), keys.array())


# ------------------------------------------------------------------------------------------------ ordinals


def test_release_ordinals() -> None:
    assert [ordinal_word(1), ordinal_word(2)] == ["One", "Two"]
    assert [answer_key(1), answer_key(2)] == ["Keyframe_one", "Keyframe_two"]
    assert ordinal_word(21) == "Twenty-One" and answer_key(21) == "Keyframe_twenty_one"
    assert ordinal_word(101) == "One Hundred One" and answer_key(101) == "Keyframe_one_hundred_one"
    assert ordinal_word(256) == "Two Hundred Fifty-Six"
    assert parse_answer_key("Keyframe_twenty_one") == 21


def test_ordinals_1_to_max_are_invertible_and_unique() -> None:
    words = [ordinal_word(n) for n in range(1, MAX_KEYFRAMES + 1)]
    keys = [answer_key(n) for n in range(1, MAX_KEYFRAMES + 1)]
    assert len(set(words)) == len(set(keys)) == MAX_KEYFRAMES
    assert len({w.lower() for w in words}) == MAX_KEYFRAMES
    for n, (word, key) in enumerate(zip(words, keys, strict=True), start=1):
        assert parse_ordinal_word(word) == n
        assert parse_answer_key(key) == n
        assert parse_answer_key(key.upper()) == n
        assert parse_answer_key(key.replace("_", "-")) == n
        assert parse_answer_key(f"Keyframe_{n}") == n
        assert key == key.strip() and " " not in key and "-" not in key
        assert word[0].isupper() and ":" not in word


@pytest.mark.parametrize("spelling", ["keyframe one hundred and one", "KEYFRAME_ONE_HUNDRED_AND_ONE",
                                      "Keyframe-One-Hundred-One", "Key_Frame_101", " Keyframe_one_hundred_one "])
def test_answer_key_variants(spelling: str) -> None:
    assert parse_answer_key(spelling) == 101


@pytest.mark.parametrize("bad", ["", "Keyframe_", "Keyframe_zero", "Keyframe_0", "Keyframe_257",
                                 "Keyframe_one_one", "Keyframe_twenty_twenty", "Keyframe_hundred",
                                 "Keyframe_ten_hundred", "Keyframe_one_hundred_and", "Frame_one", "one",
                                 "Keyframe_three_hundred", "Keyframe_twelve_three", "Keyframe_x" * 30])
def test_answer_key_rejects(bad: str) -> None:
    with pytest.raises(ModelOutputError) as info:
        parse_answer_key(bad)
    assert info.value.raw_text == bad


@pytest.mark.parametrize("bad", [0, -1, MAX_KEYFRAMES + 1, True, 1.0, "1", None])
def test_ordinal_word_rejects(bad: object) -> None:
    with pytest.raises(ScriptError):
        ordinal_word(bad)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parse_answer_key_only_raises_model_output_error(text: str) -> None:
    try:
        n = parse_answer_key(text)
    except ModelOutputError:
        return
    assert 1 <= n <= MAX_KEYFRAMES


# ---------------------------------------------------------------------------------------- building details


SCRIPT = Script.from_dict(
    {"background": "A quiet room.", "emotion": "Calm.", "keyframes": ["Eyes open.", "Eyes close.", "A smile."]}
)


def test_user_message_layout() -> None:
    text = user_message(SCRIPT, 2)
    assert text == (
        "Keyframe Description Sequence:\n- Keyframe One: Eyes open.\n- Keyframe Two: Eyes close.\n"
        "- Keyframe Three: A smile.\n\nBackground: A quiet room.\nEmotion: Calm.\n\n"
        "Task Instruction: Generate the facial expression parameters for Keyframe Three."
    )


def test_empty_background_and_emotion_drop_their_lines() -> None:
    only_emotion = Script(emotion="Calm.", keyframes=SCRIPT.keyframes)
    assert "Background" not in user_message(only_emotion, 0)
    assert "\n\nEmotion: Calm.\n\nTask Instruction:" in user_message(only_emotion, 0)
    neither = Script(keyframes=SCRIPT.keyframes)
    text = user_message(neither, 0)
    assert "Background" not in text and "Emotion" not in text
    assert text.endswith("- Keyframe Three: A smile.\n\nTask Instruction: Generate the facial expression "
                         "parameters for Keyframe One.")
    assert parse_user_message(text).background == "" and parse_user_message(text).emotion == ""


def test_multiline_texts_are_written_on_one_line() -> None:
    script = Script(background="Line one.\nLine two.", emotion="a\r\n b",
                    keyframes=(Keyframe("First part,\n  second part."), Keyframe("")))
    text = user_message(script, 1)
    assert "- Keyframe One: First part, second part.\n- Keyframe Two:\n\n" in text
    assert "Background: Line one. Line two.\nEmotion: a b\n" in text
    back = parse_user_message(text)
    assert back.descriptions == ("First part, second part.", "") and back.target == 1


def test_non_ascii_is_written_as_utf8() -> None:
    script = Script(emotion="微笑", keyframes=(Keyframe("Les sourcils se lèvent."),))
    line = requests_jsonl(script).splitlines()[0]
    assert "微笑" in line and "lèvent" in line and "\\u" not in line
    assert json.loads(line)["messages"][1]["content"].endswith("Keyframe One.")


def test_requests_jsonl_layout() -> None:
    text = requests_jsonl(SCRIPT)
    assert text.endswith("}\n\n") and text.count("\n") == len(SCRIPT.keyframes) + 1
    for line in text.splitlines()[:-1]:  # compact separators, as the release file
        assert line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("index", [-1, 3, True, 1.0, None])
def test_build_messages_rejects_bad_index(index: object) -> None:
    with pytest.raises(ScriptError):
        build_messages(SCRIPT, index)  # type: ignore[arg-type]


def test_build_messages_rejects_unplanned_script_and_unknown_representation() -> None:
    with pytest.raises(ScriptError, match="plan"):
        build_messages(Script.from_text("A sad face."), 0)
    with pytest.raises(ScriptError, match="representation"):
        build_messages(SCRIPT, 0, representation="no-such-representation")
    with pytest.raises(ScriptError):
        build_messages({"keyframes": []}, 0)  # type: ignore[arg-type]


def test_compact_representation_builds_and_round_trips() -> None:
    assert set(REPRESENTATIONS) >= {"json", "compact"}
    messages = build_messages(SCRIPT, 0, representation="compact")
    assert messages[0]["content"] != SYSTEM_PROMPT and "Name=value" in messages[0]["content"]
    assert messages[1]["content"] == user_message(SCRIPT, 0)
    values = rig.neutral()
    values[rig.CHANNEL_INDEX["MouthSmileLeft"]] = 0.4
    values[rig.CHANNEL_INDEX["HeadPitch"]] = -0.1
    text = format_answer(values, 0, representation="compact")
    assert text == "MouthSmileLeft=0.4; HeadPitch=-0.1"
    assert np.array_equal(parse_values(text, representation="compact").values, values)
    assert format_answer(rig.neutral(), 0, representation="compact") == "neutral"


# Values on a 3-decimal grid, each channel within its range.
_grid = st.lists(st.integers(min_value=0, max_value=1000), min_size=rig.NUM_CHANNELS, max_size=rig.NUM_CHANNELS)


@settings(max_examples=60, deadline=None)
@given(_grid, st.integers(min_value=0, max_value=MAX_KEYFRAMES - 1), st.sampled_from(REPRESENTATIONS))
def test_format_answer_round_trips(grid: list[int], index: int, representation: str) -> None:
    raw = np.array(grid, dtype=np.float64) / 1000.0
    values = rig.LOW + raw * (rig.HIGH - rig.LOW)
    values = np.round(values.astype(np.float64), 3)
    text = format_answer(values, index, representation=representation)
    parsed = parse_values(text, index=index, representation=representation)
    assert np.array_equal(parsed.values, values.astype(np.float32))
    assert parsed.warnings == []


_line_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.lists(_line_text.filter(lambda t: t.strip()), min_size=1, max_size=12), _line_text, _line_text,
       st.data())
def test_user_message_round_trips(descriptions: list[str], background: str, emotion: str, data: st.DataObject) -> None:
    script = Script.from_dict({"background": background, "emotion": emotion, "keyframes": descriptions})
    index = data.draw(st.integers(min_value=0, max_value=len(descriptions) - 1))

    def one_line(text: str) -> str:
        return " ".join(p.strip() for p in text.splitlines() if p.strip())

    back = parse_user_message(user_message(script, index))
    assert back.descriptions == tuple(one_line(kf.description) for kf in script.keyframes)
    assert (back.background, back.emotion, back.target) == (one_line(script.background), one_line(emotion), index)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hello",
        "Keyframe Description Sequence:\n- Keyframe Two: skipped one",
        "Keyframe Description Sequence:\n- Keyframe Banana: x",
        "Keyframe Description Sequence:\n- Keyframe One x",
        "Keyframe Description Sequence:\n- Keyframe One: a\n\nTask Instruction: Generate ... for Keyframe Two.",
        "Keyframe Description Sequence:\n\nBackground: no keyframes",
        "Keyframe Description Sequence:\n- Keyframe One: a\n\nBackground: b\nstray line",
    ],
)
def test_parse_user_message_rejects(text: str) -> None:
    with pytest.raises(FormatError):
        parse_user_message(text)


def test_parse_user_message_continuation_and_crlf() -> None:
    text = "Keyframe Description Sequence:\r\n- Keyframe One: first\r\n  continued\r\n\r\nEmotion: e\r\n"
    back = parse_user_message(text)
    assert back.descriptions == ("first continued",) and back.emotion == "e" and back.target is None


# ------------------------------------------------------------------------------------- release jsonl files


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_requests_rejects_inconsistent_lines(tmp_path: Path) -> None:
    other = Script.from_dict({"keyframes": ["Another face.", "Eyes close.", "A smile."]})
    lines = [json.dumps(build_requests(SCRIPT)[0]), json.dumps(build_requests(other)[1])]
    with pytest.raises(FormatError, match=r":2: .*different script than line 1"):
        read_release_requests(write_lines(tmp_path / "r.jsonl", lines))


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("{not json", r"r\.jsonl:2: not valid JSON"),
        ("[1, 2]", r":2: expected a JSON object"),
        ('{"messages": "hi"}', r":2: 'messages' must be a list"),
        ('{"messages": [{"role": "system", "content": "x"}]}', r":2: 'messages' has no user message"),
        ('{"messages": [{"role": "user", "content": 5}]}', r":2: the user message's content"),
        ('{"messages": [{"role": "user", "content": "Hello"}]}', r":2: user message line 1"),
        ('{"other": 1}', r":2: expected a request with 'messages'"),
        ("1" * 5000, r":2: "),
        ("[" * 100000, r":2: "),
    ],
)
def test_read_requests_bad_line_names_line(tmp_path: Path, line: str, pattern: str) -> None:
    path = write_lines(tmp_path / "r.jsonl", [json.dumps(build_requests(SCRIPT)[0]), line])
    with pytest.raises(FormatError, match=pattern):
        read_release_requests(path)


def test_read_requests_empty_missing_binary(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no requests"):
        read_release_requests(write_lines(tmp_path / "e.jsonl", ["", "  "]))
    with pytest.raises(FormatError, match="cannot read"):
        read_release_requests(tmp_path / "missing.jsonl")
    (tmp_path / "b.jsonl").write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(FormatError, match="UTF-8"):
        read_release_requests(tmp_path / "b.jsonl")
    with pytest.raises(FormatError, match="cannot read"):
        read_release_requests(tmp_path)


def test_size_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_lines(tmp_path / "r.jsonl", [json.dumps(r) for r in build_requests(SCRIPT)])
    monkeypatch.setattr(release_jsonl, "MAX_LINE_BYTES", 100)
    with pytest.raises(FormatError, match=r":1: the line is \d+ bytes"):
        read_release_requests(path)
    monkeypatch.setattr(release_jsonl, "MAX_FILE_BYTES", 100)
    with pytest.raises(FormatError, match=r"the limit for a release \.jsonl file"):
        read_release_requests(path)


def test_too_many_lines(tmp_path: Path) -> None:
    answer = format_answer(rig.neutral(), 0)
    path = write_lines(tmp_path / "r.jsonl", [json.dumps({"response": answer})] * (MAX_KEYFRAMES + 1))
    with pytest.raises(FormatError, match=f"more than {MAX_KEYFRAMES}"):
        read_release_results(path)


def test_read_results_errors(tmp_path: Path) -> None:
    good = json.dumps({"response": format_answer(rig.neutral(), 0)})
    with pytest.raises(FormatError, match=r":2: expected the answer as a string in 'response'"):
        read_release_results(write_lines(tmp_path / "a.jsonl", [good, '{"labels": "x"}']))
    with pytest.raises(FormatError, match="no results"):
        read_release_results(write_lines(tmp_path / "b.jsonl", [""]))
    bad_answer = '{"Keyframe_two": {"JawOpen": 0.5}}'
    path = write_lines(tmp_path / "c.jsonl", [good, json.dumps({"response": bad_answer})])
    with pytest.raises(ModelOutputError, match=r"c\.jsonl:2: .*missing 60 channel") as info:
        read_release_results(path)
    assert info.value.raw_text == bad_answer
    repaired = read_release_results(path, policy="repair")
    assert repaired.array()[1, rig.CHANNEL_INDEX["JawOpen"]] == np.float32(0.5)
    assert "missing 60" in " ".join(repaired.meta["warnings"]["1"]) and "0" not in repaired.meta["warnings"]
    with pytest.raises(ScriptError, match="policy"):
        read_release_results(path, policy="lenient")
    with pytest.raises(ScriptError, match="requests"):
        read_release_results(path, requests=42)  # type: ignore[arg-type]


def test_read_results_ms_swift2_query_field(tmp_path: Path) -> None:
    rows = [
        {"query": user_message(SCRIPT, i), "response": format_answer(rig.neutral(), i), "history": []}
        for i in range(len(SCRIPT.keyframes))
    ]
    keys = read_release_results(write_lines(tmp_path / "q.jsonl", [json.dumps(r) for r in rows]))
    assert [kf.description for kf in keys.keyframes] == [kf.description for kf in SCRIPT.keyframes]
    assert keys.times() == [0.0, 1.0, 2.0]


def test_errors_are_keyframeface_errors() -> None:
    for cls in (FormatError, ModelOutputError, ScriptError):
        assert issubclass(cls, KeyframeFaceError)
