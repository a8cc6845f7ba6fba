"""plan(): the deterministic planner's contract, and LLM planning (robust parsing, validation, fallback)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface.backends.base import Backend, Capabilities, GenerationOptions, Message
from keyframeface.errors import ModelOutputError, ScriptError
from keyframeface.plan import PLAN_SYSTEM_PROMPT, parse_plan, plan, plan_with_llm

PLANNED = {
    "background": "A shy girl hears a compliment.",
    "emotion": "Embarrassed joy.",
    "keyframes": [
        {"description": "The gaze drops and a faint smile appears.", "time_s": 0.0},
        {"description": "The cheeks raise and the smile widens while the head tilts down.", "time_s": 1.4},
        {"description": "The gaze rises again with a small shy smile.", "time_s": 2.8},
    ],
}


class Scripted(Backend):
    """A chat backend answering with fixed text (the orchestration under test is plan.py's, not a server's)."""

    name: ClassVar[str] = "scripted"
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True)

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.seen: list[Sequence[Message]] = []
        self.options: GenerationOptions | None = None

    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        self.seen.append(messages)
        self.options = options
        return self.answer


# -------------------------------------------------------------------------------------- deterministic
def test_deterministic_sequence_keeps_the_users_words() -> None:
    script = plan("She frowns, then she smiles broadly.")
    assert [k.description for k in script.keyframes] == ["She frowns.", "She smiles broadly."]
    assert script.keyframes[0].time_s == 0.0


def test_deterministic_single_emotion_becomes_an_arc() -> None:
    script = plan("a shy girl hears a compliment")
    assert len(script.keyframes) == 3 and script.emotion


def test_rules_and_none_use_the_deterministic_planner() -> None:
    text = "He is surprised and then laughs."
    assert plan(text) == plan(text, backend="rules") == plan(text, backend=None, seed=3)


@pytest.mark.parametrize("text", ["", "   ", 3, "a\x00b", "x" * 8001])
def test_bad_text_is_refused(text: Any) -> None:
    with pytest.raises(ScriptError):
        plan(text)


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=300).filter(lambda t: t.strip() and "\x00" not in t))
def test_any_text_plans_into_two_to_six_increasing_keyframes(text: str) -> None:
    script = plan(text)
    times = [k.time_s for k in script.keyframes]
    assert 2 <= len(script.keyframes) <= 6
    assert all(t is not None for t in times) and times == sorted(times)


# ------------------------------------------------------------------------------------------ LLM planning
def test_llm_plan_reads_the_models_script() -> None:
    engine = Scripted("<think>the user wants a shy face</think>\n```json\n" + json.dumps(PLANNED) + "\n```")
    script = plan("a shy girl hears a compliment", backend=engine, seed=5)
    assert script.emotion == "Embarrassed joy."
    assert [k.time_s for k in script.keyframes] == [0.0, 1.4, 2.8]
    assert engine.seen[0][0]["content"] == PLAN_SYSTEM_PROMPT
    assert engine.seen[0][1]["content"] == "a shy girl hears a compliment"
    assert engine.options is not None and engine.options.seed == 5 and engine.options.temperature == 0.0


def test_llm_plan_accepts_strings_fixes_times_and_cuts_to_six() -> None:
    answer = "Here you go: " + json.dumps(
        {"emotion": "Calm", "keyframes": [f"Step {i}: the brows rise a little." for i in range(9)]}
    )
    script = parse_plan(answer, text="a calm face")
    assert len(script.keyframes) == 6
    times = [k.time_s for k in script.keyframes]
    assert times[0] == 0.0 and times == sorted(times) and len(set(times)) == 6
    assert script.background == "a calm face"  # the text stands in for a missing background


def test_llm_plan_uses_the_last_script_object() -> None:
    draft = {"keyframes": ["draft one", "draft two"]}
    answer = json.dumps(draft) + " no wait, better: " + json.dumps(PLANNED)
    assert parse_plan(answer).emotion == "Embarrassed joy."


@pytest.mark.parametrize(
    "answer",
    ["no json at all", '{"keyframes": ["only one"]}', '{"keyframes": "a string"}', '{"background": "x"}',
     '{"keyframes": [{"description": ""}, {"description": "  "}]}'],
)
def test_unusable_answers_raise_with_the_raw_text(answer: str) -> None:
    with pytest.raises(ModelOutputError) as info:
        plan_with_llm("a face", backend=Scripted(answer))
    assert info.value.raw_text == answer


def test_unusable_answer_falls_back_to_the_deterministic_planner(caplog: pytest.LogCaptureFixture) -> None:
    text = "He is surprised and then laughs."
    with caplog.at_level(logging.WARNING, logger="keyframeface.plan"):
        script = plan(text, backend=Scripted("I cannot help with that."))
    assert script == plan(text)
    assert any("LLM planning failed" in r.getMessage() for r in caplog.records)


def test_unconfigured_chat_backend_falls_back(caplog: pytest.LogCaptureFixture, tmp_path: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFRAMEFACE_CONFIG", str(tmp_path / "none.toml"))  # not the developer's own config
    text = "She frowns, then she smiles."
    with caplog.at_level(logging.WARNING, logger="keyframeface.plan"):
        script = plan(text, backend="openai")  # no base_url: the backend cannot start
    assert script == plan(text)
    assert any("--base-url" in r.getMessage() for r in caplog.records)


def test_unreachable_server_falls_back_quickly() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = "She frowns, then she smiles."
    script = plan(text, backend="openai", backend_options={"base_url": f"http://127.0.0.1:{port}/v1", "model": "m"},
                  timeout_s=5)
    assert script == plan(text)


# -------------------------------------------------------------------------------------- size limits
@pytest.mark.parametrize("text", ["word " * 1500, "word " * 1599 + "word", "x" * 7000, "字" * 7999 + "。",
                                  "A shy girl " + "very " * 1300 + "blushes, then she smiles " + "a lot " * 100])
def test_long_beats_fit_the_script_limits(text: str) -> None:
    from keyframeface.script import MAX_DESCRIPTION_CHARS, Script

    script = plan(text)
    assert Script.from_dict(script.to_dict()) == script
    assert all(len(k.description) <= MAX_DESCRIPTION_CHARS for k in script.keyframes)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab 字.,"), min_size=1, max_size=2500), min_size=1, max_size=3)
       .map(" then ".join).filter(lambda t: t.strip() and len(t) <= 8000))
def test_planned_scripts_always_load_back(text: str) -> None:
    from keyframeface.script import Script

    script = plan(text)
    assert Script.from_dict(script.to_dict()) == script


def test_long_planned_descriptions_are_cut_not_refused() -> None:
    answer = json.dumps({"keyframes": ["word " * 1000, "The brows rise."]})
    script = parse_plan(answer, text="x")
    assert len(script.keyframes[0].description) <= 2000 and script.keyframes[0].description.endswith("...")


@pytest.mark.parametrize("answer", ['{"a":' + "[" * 100_000, '{"a":' + "[" * 100_000 + "}", "{" * 200_000,
                                    "x" * 300_000, '{"k": 1}' * 20_000])
def test_hostile_planning_answers_fail_fast_with_model_output_error(answer: str) -> None:
    import time

    t0 = time.perf_counter()
    with pytest.raises(ModelOutputError):
        parse_plan(answer, text="x")
    assert time.perf_counter() - t0 < 2.0


def test_plan_object_after_unbalanced_prose_is_found() -> None:
    answer = "Sure {not json} and {" + json.dumps(PLANNED) + " and more {"
    assert parse_plan(answer).emotion == "Embarrassed joy."
