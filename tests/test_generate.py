"""Orchestration in generate.py: retries, the repair pass, partial results, concurrency, cancellation, meta.

These use small in-process Backend subclasses that script their answers, to exercise the orchestration logic
deterministically. The real engines (llama.cpp, an OpenAI-compatible server, transformers) are tested in their own
backend tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.backends.base import Backend, Capabilities, DirectResult, GenerationOptions, Message
from keyframeface.errors import BackendError, GenerationError, ModelOutputError, ScriptError
from keyframeface.generate import generate
from keyframeface.script import Script

SCRIPT = Script.from_dict(
    {
        "background": "A test.",
        "emotion": "Calm.",
        "keyframes": [{"description": f"keyframe {i}"} for i in range(4)],
    }
)


def answer(index: int, **values: float) -> str:
    from keyframeface.prompt import answer_key

    body = {name: 0.0 for name in rig.CHANNELS}
    body.update(values)
    return json.dumps({answer_key(index + 1): body})


class ScriptedChat(Backend):
    """A chat backend whose answers come from a function of (keyframe number, attempt)."""

    name = "scripted"
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True, concurrent=True)

    def __init__(self, respond: Any) -> None:
        self.respond = respond
        self.calls: list[tuple[int, int]] = []
        self.lock = threading.Lock()

    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        user = messages[1]["content"]
        from keyframeface.prompt import parse_answer_key

        ordinal = user.rsplit("for Keyframe ", 1)[1].rstrip(".")
        index = parse_answer_key("Keyframe_" + ordinal.replace(" ", "_").replace("-", "_").lower()) - 1
        with self.lock:
            attempt = sum(1 for i, _ in self.calls if i == index)
            self.calls.append((index, len(messages)))
        return str(self.respond(index, attempt))


def test_chat_happy_path_and_meta() -> None:
    backend = ScriptedChat(lambda i, a: answer(i, JawOpen=0.1 * (i + 1)))
    keys = generate(SCRIPT, backend=backend, seed=7)
    arr = keys.array()
    np.testing.assert_allclose(arr[:, rig.CHANNEL_INDEX["JawOpen"]], [0.1, 0.2, 0.3, 0.4], atol=1e-6)
    assert keys.meta["backend"] == "scripted" and keys.meta["seed"] == 7
    assert keys.meta["package_version"]
    assert [k.description for k in keys.keyframes] == [k.description for k in SCRIPT.keyframes]


def test_repair_pass_reasks_with_error() -> None:
    backend = ScriptedChat(lambda i, a: "not json at all" if a == 0 else answer(i, JawOpen=0.5))
    keys = generate(SCRIPT, backend=backend)
    assert keys.array()[:, rig.CHANNEL_INDEX["JawOpen"]].tolist() == pytest.approx([0.5] * 4)
    # the second call carried the previous answer and the error (4 messages)
    assert sorted(n for _, n in backend.calls) == [2, 2, 2, 2, 4, 4, 4, 4]


def test_partial_results_kept() -> None:
    backend = ScriptedChat(lambda i, a: "garbage" if i == 2 else answer(i, JawOpen=0.3))
    with pytest.raises(GenerationError, match="keyframe 3") as info:
        generate(SCRIPT, backend=backend, concurrency=2)
    partial = info.value.partial
    assert partial.missing == [2]
    assert isinstance(info.value.failed[2], ModelOutputError)
    assert info.value.failed[2].raw_text == "garbage"


def test_transient_errors_retried() -> None:
    def respond(i: int, attempt: int) -> str:
        if attempt == 0:
            raise BackendError("connection reset", transient=True)
        return answer(i)

    backend = ScriptedChat(respond)
    keys = generate(SCRIPT, backend=backend, retries=2)
    assert len(keys) == 4


def test_permanent_error_not_retried() -> None:
    backend = ScriptedChat(lambda i, a: (_ for _ in ()).throw(BackendError("bad request", transient=False)))
    with pytest.raises(GenerationError) as info:
        generate(SCRIPT, backend=backend, retries=3)
    assert len(info.value.failed) == 4
    assert len(backend.calls) == 4  # one call per keyframe, no retries


def test_repair_policy_fills_missing() -> None:
    from keyframeface.prompt import answer_key

    backend = ScriptedChat(lambda i, a: json.dumps({answer_key(i + 1): {"JawOpen": 1.2}}))
    keys = generate(SCRIPT, backend=backend, policy="repair")
    assert keys.array()[0, rig.CHANNEL_INDEX["JawOpen"]] == 1.0
    assert keys.meta.get("warnings")


def test_eye_rotations_synced_by_default() -> None:
    # The published model writes a negative pitch for a lowered gaze; keyframeface writes the capture convention.
    backend = ScriptedChat(lambda i, a: answer(i, EyeLookDownLeft=0.4, EyeLookDownRight=0.4, LeftEyePitch=-0.2))
    keys = generate(SCRIPT, backend=backend)
    assert keys.array()[0, rig.CHANNEL_INDEX["LeftEyePitch"]] == pytest.approx(0.51 * 0.4)
    raw = generate(SCRIPT, backend=ScriptedChat(backend.respond), sync_eyes=False)
    assert raw.array()[0, rig.CHANNEL_INDEX["LeftEyePitch"]] == pytest.approx(-0.2)


def test_cancel_stops_scheduling() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(GenerationError, match="4 of 4"):
        generate(SCRIPT, backend=ScriptedChat(lambda i, a: answer(i)), cancel=cancel)


class Direct(Backend):
    name = "direct-test"
    capabilities: ClassVar[Capabilities] = Capabilities(explains=True)

    def __init__(self) -> None:
        self.previous: list[np.ndarray | None] = []

    def generate_values(
        self, script: Script, index: int, *, previous: np.ndarray | None, options: GenerationOptions
    ) -> DirectResult:
        self.previous.append(previous)
        if index == 1 and len(self.previous) == 2:
            raise BackendError("flaky", transient=True)  # the first try at keyframe 2 fails once
        v = rig.neutral()
        v[rig.CHANNEL_INDEX["MouthSmileLeft"]] = 0.2 * index
        return DirectResult(v, [{"phrase": script.keyframes[index].description, "rule": "t", "channels": {}}])


def test_direct_backend_gets_previous_and_explains() -> None:
    backend = Direct()
    keys = generate(SCRIPT, backend=backend, explain=True)
    assert backend.previous[0] is None
    assert backend.previous[-1] is not None
    assert backend.previous[-1][rig.CHANNEL_INDEX["MouthSmileLeft"]] == pytest.approx(0.4)
    assert set(keys.meta["explanations"]) == {"0", "1", "2", "3"}


def test_bad_arguments() -> None:
    with pytest.raises(ScriptError):
        generate({"keyframes": []}, backend=Direct())  # type: ignore[arg-type]
    with pytest.raises(ScriptError, match="policy"):
        generate(SCRIPT, backend=Direct(), policy="lenient")


class BatchedChat(ScriptedChat):
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True, batch=True)

    def __init__(self, respond: Any) -> None:
        super().__init__(respond)
        self.batches = 0

    def complete_batch(self, conversations: Sequence[Sequence[Message]], *, options: GenerationOptions) -> list[str]:
        self.batches += 1
        return [self.complete(c, options=options) for c in conversations]


def test_batched_backend_one_call_then_repairs_individually() -> None:
    backend = BatchedChat(lambda i, a: "oops" if (i == 1 and a == 0) else answer(i, JawOpen=0.2))
    keys = generate(SCRIPT, backend=backend)
    assert backend.batches == 1
    assert len(backend.calls) == 5  # four answers in the batch, one repair for keyframe 2
    assert keys.array()[:, rig.CHANNEL_INDEX["JawOpen"]].tolist() == pytest.approx([0.2] * 4)


def test_indices_generate_only_selected_and_keep_current() -> None:
    current = generate(SCRIPT, backend=ScriptedChat(lambda i, a: answer(i, JawOpen=0.1)))
    backend = ScriptedChat(lambda i, a: answer(i, JawOpen=0.7))
    keys = generate(SCRIPT, backend=backend, indices=[2], current=current)
    assert [i for i, _ in backend.calls] == [2]  # only keyframe 3 reached the model
    assert keys.array()[:, rig.CHANNEL_INDEX["JawOpen"]].tolist() == pytest.approx([0.1, 0.1, 0.7, 0.1])
    assert keys.meta["generated"] == [2]


def test_indices_direct_backend_gets_current_previous() -> None:
    current = generate(SCRIPT, backend=Direct())
    backend = Direct()
    generate(SCRIPT, backend=backend, indices=[3], current=current)
    assert len(backend.previous) == 1
    assert backend.previous[0] is not None
    assert backend.previous[0][rig.CHANNEL_INDEX["MouthSmileLeft"]] == pytest.approx(0.4)


def test_indices_out_of_range() -> None:
    with pytest.raises(ScriptError, match="out of range"):
        generate(SCRIPT, backend=Direct(), indices=[9])


class Crashing(Backend):
    name = "crashing"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def generate_values(
        self, script: Script, index: int, *, previous: np.ndarray | None, options: GenerationOptions
    ) -> DirectResult:
        if index == 1:
            raise RuntimeError("a third-party bug")
        return DirectResult(rig.neutral())


def test_foreign_exceptions_keep_partial_results() -> None:
    with pytest.raises(GenerationError, match="RuntimeError: a third-party bug") as info:
        generate(SCRIPT, backend=Crashing())
    assert info.value.partial.missing == [1]


@pytest.mark.parametrize("timeout_s", [0, -1, float("nan"), "10"])
def test_bad_timeout(timeout_s: object) -> None:
    with pytest.raises(ScriptError, match="timeout_s"):
        generate(SCRIPT, backend=Direct(), timeout_s=timeout_s)  # type: ignore[arg-type]
