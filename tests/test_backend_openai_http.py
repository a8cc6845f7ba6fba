"""The ``openai`` backend's HTTP behaviour against small recording servers on 127.0.0.1 (threads in the test).

Each engine server answers its detection endpoints the way the real engine does (vLLM ``/version``, Ollama
``/api/version`` and ``owned_by: "library"``, llama.cpp's ``/props``) and records every request body, so the tests
check the request shape each engine documents. Other servers trickle, cut answers short, redirect or drop idle
connections, to check the total deadline, retries, redirects and keep-alive.
"""

from __future__ import annotations

import base64
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from keyframeface import prompt
from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.openai import OpenAIBackend
from keyframeface.backends.openai_engines import detect_engine
from keyframeface.errors import BackendError, BackendUnavailableError, GenerationError
from keyframeface.generate import generate
from keyframeface.script import Script

SCRIPT = Script.from_dict({"background": "A test.", "emotion": "Joy.",
                           "keyframes": [{"description": "A neutral face."}, {"description": "A broad smile."}]})
ANSWER = {"choices": [{"message": {"role": "assistant", "content": "neutral"}, "finish_reason": "stop"}]}


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFRAMEFACE_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("KEYFRAMEFACE_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


class Recorder:
    """A threaded HTTP/1.1 server on 127.0.0.1. ``routes``: ``(method, path) -> (status, JSON or bytes, headers)``
    or a callable taking the handler (which then writes the answer itself). Records ``(method, path, headers,
    body)`` of every request and the client ports seen (one per TCP connection)."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        outer = self
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.ports: set[int] = set()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                outer.ports.add(self.client_address[1])
                route = routes.get((self.command, self.path.split("?")[0]))
                if callable(route):
                    route(self)
                    return
                status, payload, headers = route if route is not None else (404, {"detail": "Not Found"}, {})
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def posts(self) -> list[dict[str, Any]]:
        return [body for method, _, _, body in self.requests if method == "POST"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def serve() -> Iterator[Callable[[dict[tuple[str, str], Any]], Recorder]]:
    servers: list[Recorder] = []

    def start(routes: dict[tuple[str, str], Any]) -> Recorder:
        servers.append(Recorder(routes))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


CHAT = ("POST", "/v1/chat/completions")
MODELS = ("GET", "/v1/models")
#: What each engine answers on its detection endpoints (as the real servers do).
ENGINE_ROUTES: dict[str, dict[tuple[str, str], Any]] = {
    "vllm": {("GET", "/version"): (200, {"version": "0.12.0"}, {}),
             MODELS: (200, {"object": "list", "data": [{"id": "kf", "object": "model", "owned_by": "vllm"}]}, {})},
    "vllm-legacy": {("GET", "/version"): (200, {"version": "0.8.5.post1"}, {}),
                    MODELS: (200, {"data": [{"id": "kf", "owned_by": "vllm"}]}, {})},
    "ollama": {("GET", "/api/version"): (200, {"version": "0.12.3"}, {}),
               MODELS: (200, {"object": "list", "data": [{"id": "qwen3:14b", "owned_by": "library"}]}, {})},
    "llamacpp": {("GET", "/props"): (200, {"default_generation_settings": {"n_ctx": 4096},
                                           "build_info": "b6000-abc"}, {}),
                 MODELS: (200, {"data": [{"id": "m.gguf", "owned_by": "llamacpp"}]}, {})},
    "generic": {MODELS: (200, {"data": [{"id": "m", "owned_by": "me"}]}, {})},  # llama-cpp-python's server
}


# ------------------------------------------------------------------------------------------- engines
@pytest.mark.parametrize("engine", sorted(ENGINE_ROUTES))
def test_engine_is_detected_and_recorded_in_meta(serve: Any, engine: str) -> None:
    srv = serve({**ENGINE_ROUTES[engine], CHAT: (200, ANSWER, {})})
    b = OpenAIBackend(base_url=srv.base_url, structured="off")
    keys = generate(SCRIPT, backend=b, representation="compact", retries=0)
    assert keys.meta["engine"] == engine
    assert keys.meta.get("engine_version") == {"vllm": "0.12.0", "vllm-legacy": "0.8.5.post1", "ollama": "0.12.3",
                                               "llamacpp": "b6000-abc"}.get(engine)
    probes = [path for method, path, _, _ in srv.requests if method == "GET" and path != "/v1/models"]
    assert len(probes) <= 3  # detected once per instance, not per keyframe


def _bodies(srv: Recorder, engine: str, representation: str, **kw: Any) -> dict[str, Any]:
    b = OpenAIBackend(base_url=srv.base_url, model="m", engine=engine, **kw)
    b.complete(prompt.build_messages(SCRIPT, 1, representation=representation),
               options=GenerationOptions(representation=representation, max_tokens=300))
    return srv.posts()[-1]


@pytest.mark.parametrize("forced", [False, True])
def test_vllm_gets_structured_outputs(serve: Any, forced: bool) -> None:
    srv = serve({**ENGINE_ROUTES["vllm"], CHAT: (200, ANSWER, {})})
    body = _bodies(srv, "vllm" if forced else "auto", "json", enable_thinking=False)
    assert body["structured_outputs"]["json"]["required"] == ["Keyframe_two"]
    assert "response_format" not in body and "guided_json" not in body and "grammar" not in body
    assert body["chat_template_kwargs"] == {"enable_thinking": False} and body["max_tokens"] == 300
    compact = _bodies(srv, "vllm", "compact")
    assert "root ::=" in compact["structured_outputs"]["grammar"]


def test_old_vllm_gets_guided_fields(serve: Any) -> None:
    srv = serve({**ENGINE_ROUTES["vllm-legacy"], CHAT: (200, ANSWER, {})})
    body = _bodies(srv, "auto", "json")
    assert body["guided_json"]["required"] == ["Keyframe_two"] and "structured_outputs" not in body
    assert "root ::=" in _bodies(srv, "vllm-legacy", "compact")["guided_grammar"]


def test_ollama_gets_format_and_no_grammar(serve: Any) -> None:
    srv = serve({**ENGINE_ROUTES["ollama"], CHAT: (200, ANSWER, {})})
    body = _bodies(srv, "auto", "json", enable_thinking=False)
    assert body["format"]["required"] == ["Keyframe_two"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["reasoning_effort"] == "none" and "chat_template_kwargs" not in body
    compact = _bodies(srv, "ollama", "compact")  # Ollama ignores grammar: a plain request
    assert not {"grammar", "format", "response_format"} & set(compact)


def test_llamacpp_server_gets_grammar_then_json_schema(serve: Any) -> None:
    rejected: list[int] = []

    def chat(handler: Any) -> None:
        body = json.loads(json.dumps(srv.posts()[-1]))
        if "grammar" in body and not rejected:  # reject the grammar once: the fallback is llama.cpp's json_schema
            rejected.append(1)
            data = json.dumps({"error": {"code": 400, "message": "failed to parse grammar"}}).encode()
            status = 400
        else:
            data, status = json.dumps(ANSWER).encode(), 200
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    srv = serve({**ENGINE_ROUTES["llamacpp"], CHAT: chat})
    b = OpenAIBackend(base_url=srv.base_url, model="m")
    b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions())
    first, second = srv.posts()
    assert '"{\\"Keyframe_one\\":"' in first["grammar"] and "json_schema" not in first
    assert second["json_schema"]["required"] == ["Keyframe_one"] and "grammar" not in second
    assert "response_format" not in second


def test_hosted_openai_gets_max_completion_tokens_and_response_format() -> None:
    b = OpenAIBackend(base_url="https://api.openai.com/v1", model="gpt-5-mini", enable_thinking=False)
    b._ensure_engine(time.monotonic() + 1)  # the host alone says so: no request is made
    assert b.describe()["engine"] == "openai"
    body = b._request_body(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(max_tokens=99),
                           kind=b._first_kind("json"), model="gpt-5-mini")
    assert body["max_completion_tokens"] == 99 and "max_tokens" not in body
    assert body["response_format"]["json_schema"]["strict"] is True
    assert "chat_template_kwargs" not in body and "grammar" not in body
    with pytest.raises(BackendError, match="no request field"):
        b._request_body(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(), kind="grammar", model="m")


def test_engine_option_is_validated() -> None:
    with pytest.raises(BackendUnavailableError, match="engine must be one of"):
        OpenAIBackend(base_url="http://127.0.0.1:9/v1", engine="tgi")


def test_detection_order_with_a_fake_probe() -> None:
    answers = {"http://h/version": None, "http://h/api/version": None, "http://h/props": None,
               "http://h/v1/models": {"data": [{"id": "x", "owned_by": "library"}]}}
    assert detect_engine("http://h/v1", answers.__getitem__) == ("ollama", None)
    assert detect_engine("http://h/v1", lambda url: None) == ("generic", None)
    assert detect_engine("http://h/v1", lambda url: {"version": "0.11.2"} if url.endswith("/version") else None) \
        == ("vllm-legacy", "0.11.2")


# ------------------------------------------------------------------------------------------- transport
def test_one_kept_alive_connection_per_worker_and_reconnect_after_idle_close(serve: Any) -> None:
    srv = serve({CHAT: (200, ANSWER, {})})
    b = OpenAIBackend(base_url=srv.base_url, model="m", engine="generic", structured="off")
    opts = GenerationOptions(representation="compact", timeout_s=5)
    for _ in range(4):
        b.complete(prompt.build_messages(SCRIPT, 0, representation="compact"), options=opts)
    assert len(srv.ports) == 1 and all(h.get("Connection") == "keep-alive" for _, _, h, _ in srv.requests)
    # The server drops idle connections (a restart, an idle timeout): the next request reconnects transparently.
    srv.close()
    srv2 = serve({CHAT: (200, ANSWER, {})})
    b2 = OpenAIBackend(base_url=srv2.base_url, model="m", engine="generic", structured="off")
    b2.complete(prompt.build_messages(SCRIPT, 0, representation="compact"), options=opts)
    conn = b2._client._idle[-1]
    conn.sock._sock.shutdown(socket.SHUT_RDWR)  # as if the server had closed it while idle
    b2.complete(prompt.build_messages(SCRIPT, 0, representation="compact"), options=opts)
    assert len(srv2.posts()) == 2


def test_short_lived_threads_reuse_pooled_connections(serve: Any) -> None:
    # A web request or a generate() call runs on a new thread each time: connections are pooled, not per thread.
    srv = serve({CHAT: (200, ANSWER, {})})
    b = OpenAIBackend(base_url=srv.base_url, model="m", engine="generic", structured="off")
    opts = GenerationOptions(representation="compact", timeout_s=5)
    for _ in range(20):
        t = threading.Thread(target=b.complete, args=(prompt.build_messages(SCRIPT, 0, representation="compact"),),
                             kwargs={"options": opts})
        t.start()
        t.join()
    assert len(srv.ports) == 1 and len(b._client._idle) == 1


def test_trickling_server_is_cut_at_the_deadline(serve: Any) -> None:
    stop = threading.Event()

    def trickle(handler: Any) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not stop.is_set():
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    srv = serve({CHAT: trickle})
    b = OpenAIBackend(base_url=srv.base_url, model="m", engine="generic", structured="off")
    start = time.monotonic()
    try:
        with pytest.raises(GenerationError, match="in time"):
            # Documented bound: (retries + 1) * (repair_attempts + 1) * timeout_s + backoff = 2 s here.
            generate(SCRIPT, backend=b, representation="compact", retries=0, repair_attempts=0, timeout_s=2,
                     concurrency=2)
    finally:
        stop.set()
    assert time.monotonic() - start < 2 + 3.0  # the 2 s bound plus slack for a loaded CI machine (it was 71 s and counting)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_the_key_never_reaches_another_origin(serve: Any, monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    monkeypatch.setenv("KEYFRAMEFACE_API_KEY", "sk-secret-key")
    other = serve({MODELS: (200, {"data": [{"id": "m"}]}, {}), CHAT: (200, ANSWER, {})})
    srv = serve({MODELS: (status, b"", {"Location": f"{other.base_url}/models"}),
                 CHAT: (status, b"", {"Location": f"{other.base_url}/chat/completions"})})
    b = OpenAIBackend(base_url=srv.base_url, engine="generic", structured="off")
    with pytest.raises(BackendError, match="redirected") as info:
        b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5))  # GET /models
    assert f"--base-url {other.base_url}" in str(info.value) and not info.value.transient
    b2 = OpenAIBackend(base_url=srv.base_url, model="m", engine="generic", structured="off")
    with pytest.raises(BackendError, match="redirected"):
        b2.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5))  # POST
    assert other.requests == []  # not even a request without the key
    assert all(h.get("Authorization") == "Bearer sk-secret-key" for _, _, h, _ in srv.requests)


def test_same_origin_get_redirect_is_followed_but_post_is_not(serve: Any) -> None:
    srv = serve({("GET", "/v1/models"): (307, b"", {"Location": "/v2/models"}),
                 ("GET", "/v2/models"): (200, {"data": [{"id": "m2"}]}, {}),
                 CHAT: (308, b"", {"Location": "/v2/chat/completions"})})
    b = OpenAIBackend(base_url=srv.base_url, engine="generic", structured="off")
    assert b._model_name(time.monotonic() + 5) == "m2"
    with pytest.raises(BackendError, match="a POST is never redirected"):
        b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5))


def test_truncated_and_reset_answers_are_retried(serve: Any) -> None:
    sent: list[int] = []

    def flaky(handler: Any) -> None:
        sent.append(1)
        data = json.dumps(ANSWER).encode()
        if len(sent) == 1:  # announces the whole answer, sends 10 bytes, closes
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data[:10])
            handler.close_connection = True
        elif len(sent) == 2:  # resets the connection mid-answer
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data[:5])
            handler.wfile.flush()
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            handler.close_connection = True
        else:
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

    srv = serve({CHAT: flaky})
    b = OpenAIBackend(base_url=srv.base_url, model="m", engine="generic", structured="off")
    keys = generate(Script.from_dict({"background": "b", "emotion": "e", "keyframes": [{"description": "x"}]}),
                    backend=b, representation="compact", retries=2, timeout_s=5)
    assert not keys.missing and len(sent) == 3


def test_always_truncated_fails_with_one_short_line_not_blaming_the_url(serve: Any) -> None:
    def cut(handler: Any) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"choices\"")
        handler.close_connection = True

    srv = serve({CHAT: cut})
    b = OpenAIBackend(base_url=srv.base_url, model="m", engine="generic", structured="off")
    with pytest.raises(GenerationError) as info:
        generate(SCRIPT, backend=b, representation="compact", retries=1, timeout_s=5)
    message = str(info.value)
    assert "cut its answer short" in message and "--base-url" not in message
    assert "\n" not in message and len(message) < 400
    assert all(isinstance(e, BackendError) and e.transient for e in info.value.failed.values())


def test_credentials_in_the_base_url_are_sent_as_basic_auth(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYFRAMEFACE_API_KEY", "sk-not-this-one")
    srv = serve({CHAT: (200, ANSWER, {})})
    url = srv.base_url.replace("http://", "http://al%40ice:p%3Aw@")
    b = OpenAIBackend(base_url=url, model="m", engine="generic", structured="off")
    b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5))
    auth = srv.requests[-1][2]["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"al@ice:p:w").decode()
    assert "p%3Aw" not in json.dumps(b.describe()) and "ice" not in b.base_url


def test_unknown_host_is_one_short_line() -> None:
    b = OpenAIBackend(base_url="http://no-such-host.invalid:8000/v1", model="m", engine="generic")
    with pytest.raises(BackendError, match="cannot reach") as info:
        b.complete(prompt.build_messages(SCRIPT, 0), options=GenerationOptions(timeout_s=5))
    assert info.value.transient and len(str(info.value)) < 200
