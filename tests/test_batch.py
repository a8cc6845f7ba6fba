"""Batch generation through existing engines: ``prompt --format openai-batch`` request lines (bodies built by the
``openai`` backend, custom ids that round-trip) and ``convert`` of the results back into one keyframes file per
script, with failures listed and partial results kept.

The round trip is driven as a batch engine does it: each request line's body is POSTed to ``/v1/chat/completions``
and the answers are written in the OpenAI Batch output format. Fast: a recording server on 127.0.0.1 answering in
llama.cpp's chat-completion format with known values. Slow: llama-cpp-python's real server with Gemma 3 270M.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keyframeface import prompt, rig
from keyframeface.backends.base import GenerationOptions
from keyframeface.backends.openai import OpenAIBackend
from keyframeface.cli.main import main
from keyframeface.convert import convert
from keyframeface.errors import FormatError, ScriptError
from keyframeface.io.openai_batch import (
    BatchId,
    batch_requests,
    batch_requests_jsonl,
    read_batch_requests,
    read_batch_results,
    read_batch_results_all,
    script_digest,
    script_name,
)
from keyframeface.io.registry import find_reader, read_any
from keyframeface.script import Keyframes, Script, load_keyframes
from test_backend_openai import Server, gguf_path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SMILE = Script.from_dict({"background": "A test.", "emotion": "Joy.",
                          "keyframes": [{"description": "A neutral face."}, {"description": "A broad smile."}]})
FROWN = Script.from_dict({"background": "Bad news.", "emotion": "Sadness.",
                          "keyframes": [{"description": "The brows pull together and down."}]})


def answer_values(user_text: str) -> np.ndarray:
    """The values the recording server answers for a request: a pseudo-random point of the rig's range seeded by
    the user message, so every keyframe of every script gets its own known values."""
    seed = int.from_bytes(user_text.encode("utf-8")[-64:].ljust(8, b"\0")[:8], "little") ^ len(user_text)
    rng = np.random.default_rng(seed)
    return np.round(rng.uniform(rig.LOW, rig.HIGH), 3).astype(np.float32)


class RecordingEngine:
    """A chat server on 127.0.0.1 that records each ``POST /v1/chat/completions`` body and answers in llama.cpp's
    chat-completion format (``id``, ``object``, ``created``, ``model``, ``choices[0].message.content``, ``usage``)
    with :func:`answer_values` in the representation and keyframe the request asks for."""

    def __init__(self) -> None:
        outer = self
        self.bodies: list[dict[str, Any]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                outer.bodies.append(body)
                user = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
                target = prompt.parse_user_message(user).target or 0
                system = body["messages"][0]["content"]
                rep = next(n for n in ("compact", "semantic", "json") if prompt.system_prompt(n) == system)
                text = prompt.format_answer(answer_values(user), target, representation=rep)
                reply = json.dumps({
                    "id": f"chatcmpl-{len(outer.bodies)}", "object": "chat.completion", "created": 0,
                    "model": body.get("model", "gemma"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def engine() -> Iterator[RecordingEngine]:
    srv = RecordingEngine()
    yield srv
    srv.close()


def run_batch(requests: Path, root: str, results: Path, *, timeout_s: float = 30.0,
              skip: frozenset[str] = frozenset()) -> None:
    """Answer every request line as a batch engine does (POST its body to ``root + url``) and write the results in
    the OpenAI Batch output format; custom ids in ``skip`` get an error line instead (a request that failed)."""
    out = []
    for n, raw in enumerate(requests.read_text(encoding="utf-8").splitlines()):
        line = json.loads(raw)
        record: dict[str, Any] = {"id": f"batch_req_{n}", "custom_id": line["custom_id"]}
        if line["custom_id"] in skip:
            out.append({**record, "response": None, "error": {"code": "server_error", "message": "engine crashed"}})
            continue
        assert line["method"] == "POST"
        req = urllib.request.Request(root + line["url"], data=json.dumps(line["body"]).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as r:
                status, body = r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            status, body = exc.code, json.loads(exc.read() or b"{}")
        out.append({**record, "response": {"status_code": status, "request_id": f"req_{n}", "body": body},
                    "error": None})
    results.write_text("".join(json.dumps(o) + "\n" for o in out), encoding="utf-8")


# ------------------------------------------------------------------------------------------------- custom ids
def test_custom_ids_round_trip_and_stay_short() -> None:
    ident = BatchId(script_name("a very long scene name: take 12 (final)!"), script_digest(SMILE), "semantic",
                    256, 255)
    assert BatchId.parse(str(ident)) == ident
    assert len(str(ident)) <= 64 and ident.script == "a-very-long-scene-name-take"
    assert script_name("渲染") == "script"  # nothing of the name survives: a placeholder
    assert script_digest(SMILE) != script_digest(FROWN) and len(script_digest(SMILE)) == 10
    for foreign in ("request-1", "kff1:a:xyz:json:2:0", "kff1:a:17d0c60480:json:2:2", None, 7):
        assert BatchId.parse(foreign) is None


# -------------------------------------------------------------------------------------------------- requests
def test_request_bodies_are_the_openai_backends_and_keep_the_shared_prefix() -> None:
    lines = batch_requests({"smile": SMILE, "frown": FROWN}, model="qwen3-kf", max_tokens=512)
    assert [BatchId.parse(x["custom_id"]) for x in lines] == [
        BatchId("smile", script_digest(SMILE), "json", 2, 0), BatchId("smile", script_digest(SMILE), "json", 2, 1),
        BatchId("frown", script_digest(FROWN), "json", 1, 0)]
    backend = OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="qwen3-kf", engine="openai", max_tokens=512)
    for line, (script, k) in zip(lines, [(SMILE, 0), (SMILE, 1), (FROWN, 0)], strict=True):
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
        expected = backend.request_body(prompt.build_messages(script, k), options=GenerationOptions())
        assert line["body"] == expected
    # hosted OpenAI's shape by default: strict JSON schema, max_completion_tokens
    assert lines[0]["body"]["response_format"]["json_schema"]["strict"] is True
    assert lines[0]["body"]["max_completion_tokens"] == 512 and "max_tokens" not in lines[0]["body"]
    # one script's requests differ only after the shared prefix: the task line naming the keyframe comes last
    a, b = (x["body"]["messages"][1]["content"] for x in lines[:2])
    common = len(next(iter(a[i:] for i in range(len(a)) if a[i] != b[i]), ""))
    assert a[: len(a) - common].endswith("for Keyframe ") and a.count("\n") == b.count("\n")


def test_engine_option_shapes_the_body() -> None:
    vllm = batch_requests(SMILE, model="m", engine="vllm", representation="compact")[0]["body"]
    assert "grammar" in vllm["structured_outputs"] and vllm["max_tokens"] == 1024
    llama = batch_requests(SMILE, model="m", engine="llamacpp", representation="compact", seed=3)[0]["body"]
    assert isinstance(llama["grammar"], str) and llama["seed"] == 3
    adapter = batch_requests(SMILE, adapter="keyframeface-lora")[0]["body"]
    assert adapter["model"] == "keyframeface-lora"


def test_bad_batches_are_refused_clearly() -> None:
    with pytest.raises(ScriptError, match="--model"):
        batch_requests(SMILE)
    with pytest.raises(ScriptError, match="given twice"):
        batch_requests([("a", SMILE), ("a", SMILE)], model="m")
    with pytest.raises(ScriptError, match="plan it"):
        batch_requests(Script.from_text("A shy smile."), model="m")
    with pytest.raises(ScriptError, match="representation"):
        batch_requests(SMILE, model="m", representation="poetry")


def test_prompt_cli_writes_batch_lines_for_several_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["prompt", str(EXAMPLES / "bad_news.json"), str(EXAMPLES / "smirk.json"), "--format", "openai-batch",
                 "--model", "m", "--option", "engine=vllm", "--option", "max_tokens=300", "-o", "req.jsonl"]) == 0
    lines = [json.loads(x) for x in Path("req.jsonl").read_text(encoding="utf-8").splitlines()]
    names = [BatchId.parse(x["custom_id"]).script for x in lines]  # type: ignore[union-attr]
    assert names[0] == "bad_news" and names[-1] == "smirk" and names == sorted(names)
    assert all(x["body"]["max_tokens"] == 300 and "structured_outputs" in x["body"] for x in lines)
    assert main(["prompt", str(EXAMPLES / "bad_news.json"), str(EXAMPLES / "smirk.json"), "-o", "r.jsonl"]) == 1
    scripts = read_batch_requests("req.jsonl")
    assert [g[0] for g in scripts] == ["bad_news", "smirk"]


# -------------------------------------------------------------------------------------------- the round trip
def _expected(script: Script, k: int) -> np.ndarray:
    return answer_values(prompt.user_message(script, k))


def test_round_trip_through_a_recording_engine(engine: RecordingEngine, tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(batch_requests_jsonl({"smile": SMILE, "frown": FROWN}, model="gemma", engine="llamacpp",
                                             representation="compact"), encoding="utf-8")
    results = tmp_path / "results.jsonl"
    failed = str(BatchId("smile", script_digest(SMILE), "compact", 2, 1))
    run_batch(requests, engine.root, results, skip=frozenset({failed}))
    assert len(engine.bodies) == 2 and all("grammar" in b for b in engine.bodies)
    with pytest.warns(UserWarning, match="1 batch request"):
        out = convert(results, f"{tmp_path}/out/", read_options={"requests": requests})
    smile, frown = load_keyframes(out / "smile.json"), load_keyframes(out / "frown.json")
    # values as the engine answered them, by name; the failed request is listed and its keyframe kept empty
    assert np.allclose(frown.array()[0], _expected(FROWN, 0), atol=1e-4)
    assert smile.missing == [1] and np.allclose(smile.keyframes[0].array, _expected(SMILE, 0), atol=1e-4)
    assert smile.meta["failures"] == [{"custom_id": failed, "keyframe": 2, "error": "server_error: engine crashed"}]
    assert smile.meta["options"]["representation"] == "compact" and smile.meta["model"] == "gemma"
    assert [k.description for k in smile.keyframes] == [k.description for k in SMILE.keyframes]
    assert (smile.background, frown.emotion) == (SMILE.background, FROWN.emotion)

    # the retry: ask again for the failures only, concatenate, and nothing is missing any more
    retry = tmp_path / "retry.jsonl"
    retry.write_text("".join(x + "\n" for x in requests.read_text(encoding="utf-8").splitlines() if failed in x))
    run_batch(retry, engine.root, tmp_path / "retry_results.jsonl")
    both = tmp_path / "both.jsonl"
    both.write_text(results.read_text() + (tmp_path / "retry_results.jsonl").read_text())
    docs = read_batch_results_all(both, requests=requests)
    assert not docs["smile"].missing and "failures" not in docs["smile"].meta
    assert np.allclose(docs["smile"].array()[1], _expected(SMILE, 1), atol=1e-4)


def test_results_are_sniffed_and_read_alone(engine: RecordingEngine, tmp_path: Path) -> None:
    requests = tmp_path / "req.jsonl"
    requests.write_text(batch_requests_jsonl({"frown": FROWN}, model="m"), encoding="utf-8")
    run_batch(requests, engine.root, tmp_path / "res.jsonl")
    assert find_reader(tmp_path / "res.jsonl").name == "openai-batch"
    (tmp_path / "results").write_bytes((tmp_path / "res.jsonl").read_bytes())  # no extension: content decides
    assert find_reader(tmp_path / "results").name == "openai-batch"
    keys = read_any(tmp_path / "results")
    assert isinstance(keys, Keyframes) and np.allclose(keys.array()[0], _expected(FROWN, 0), atol=1e-4)
    assert keys.keyframes[0].description == ""  # no request file: values only
    out = convert(tmp_path / "res.jsonl", tmp_path / "frown.csv")  # one script: straight to a file
    assert out.read_text(encoding="utf-8-sig").startswith("Timecode,BlendShapeCount")


def test_release_jsonl_is_still_the_release_reader(release_dir: Path) -> None:
    assert find_reader(release_dir / "example_result.jsonl").name == "jsonl"


def test_bad_answers_and_status_codes_become_failures(tmp_path: Path) -> None:
    ids = [str(BatchId("s", script_digest(SMILE), "json", 2, k)) for k in range(2)]
    lines = [
        {"id": "1", "custom_id": ids[0], "response": {"status_code": 200, "request_id": "a", "body": {
            "choices": [{"message": {"content": "I cannot do faces."}}]}}, "error": None},
        {"id": "2", "custom_id": ids[1], "response": {"status_code": 400, "request_id": "b", "body": {
            "error": {"message": "max_tokens is not supported", "code": "unsupported_parameter"}}}, "error": None},
        {"id": "3", "custom_id": "someone-else", "response": None, "error": None},
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    keys = read_batch_results(path)
    assert keys.missing == [0, 1]
    errors = [f["error"] for f in keys.meta["failures"]]
    assert errors[0].startswith("the answer does not parse") and "HTTP 400: unsupported_parameter" in errors[1]
    path.write_text(json.dumps(lines[2]) + "\n")
    with pytest.raises(FormatError, match="no keyframeface batch results"):
        read_batch_results(path)


def test_several_scripts_need_a_folder(engine: RecordingEngine, tmp_path: Path) -> None:
    requests = tmp_path / "req.jsonl"
    requests.write_text(batch_requests_jsonl({"a": SMILE, "b": FROWN}, model="m", representation="compact"))
    run_batch(requests, engine.root, tmp_path / "res.jsonl")
    with pytest.raises(FormatError, match="-o out/"):
        convert(tmp_path / "res.jsonl", tmp_path / "one.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing failed: no warning
        convert(tmp_path / "res.jsonl", f"{tmp_path}/csv/", format="csv")
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["a.csv", "b.csv"]


# ------------------------------------------------------------------------------------------ real engine (slow)
@pytest.fixture(scope="module")
def llama_server() -> Iterator[Server]:
    srv = Server(gguf_path())
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.slow
def test_round_trip_through_llama_cpp_server(llama_server: Server, tmp_path: Path) -> None:
    # Gemma 3 270M is not fine-tuned: the values mean nothing, the plumbing is what is checked. The compact answer
    # under llama.cpp's GBNF grammar fits in 120 tokens (see test_backend_openai's compact test).
    requests = tmp_path / "requests.jsonl"
    requests.write_text(batch_requests_jsonl({"smile": SMILE, "frown": FROWN}, model="gemma", engine="llamacpp",
                                             representation="compact", max_tokens=120), encoding="utf-8")
    results = tmp_path / "results.jsonl"
    run_batch(requests, llama_server.base_url.removesuffix("/v1"), results, timeout_s=300)
    for line in results.read_text().splitlines():
        assert json.loads(line)["response"]["status_code"] == 200
    out = convert(results, f"{tmp_path}/out/", read_options={"requests": requests})
    smile, frown = load_keyframes(out / "smile.json"), load_keyframes(out / "frown.json")
    for keys in (smile, frown):
        values = keys.array()  # every keyframe answered and parsed (strict policy)
        assert np.isfinite(values).all() and ((values >= rig.LOW) & (values <= rig.HIGH)).all()
    assert len(smile) == 2 and smile.keyframes[1].description == "A broad smile."
