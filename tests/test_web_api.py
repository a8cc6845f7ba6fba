"""The web app's JSON API (FastAPI TestClient): every route, limits, busy and timeout answers, bad input."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web app needs the [web] extra: pip install 'keyframeface[web]'")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx: pip install 'keyframeface[web]'")

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyframeface import prompt, rig
from keyframeface.backends import registry
from keyframeface.backends.base import Backend, Capabilities, DirectResult, GenerationOptions, Message
from keyframeface.errors import BackendError
from keyframeface.script import Keyframes, Script
from keyframeface.web import create_app
from keyframeface.web.limits import Busy, Limits, WorkPool, WorkTimeout
from keyframeface.web.regenerate import regenerate_keyframe

SCRIPT = {
    "background": "A student waits outside an interview room and tries to hide their anxiety.",
    "emotion": "Anxiety concealed by a restrained smile.",
    "keyframes": [
        {"description": "The gaze is lowered and the inner brows lift slightly.", "time_s": 0.0},
        {"description": "Both mouth corners form a small restrained smile.", "time_s": 1.5},
        {"description": "The jaw drops open in surprise.", "time_s": 3.0},
    ],
}


def _app(**options: Any) -> TestClient:
    options.setdefault("mesh", "default")  # the built-in head: fast, and no shared data needed
    # The client's Host is a loopback name: the app never answers TestClient's default "testserver".
    return TestClient(create_app(**options), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with _app() as c:
        yield c


@pytest.fixture(scope="module")
def keyframes(client: TestClient) -> dict[str, Any]:
    r = client.post("/api/generate", json={"script": SCRIPT, "backend": "rules"})
    assert r.status_code == 200, r.text
    return dict(r.json())


# ------------------------------------------------------------------------------------------- simple routes
def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["mesh"] == "default"
    assert body["running"] == 0 and body["max_concurrency"] == 2


def test_backends_lists_bundled_as_default(client: TestClient) -> None:
    body = client.get("/api/backends").json()
    assert body["default"] == "bundled"
    default = [b for b in body["backends"] if b["name"] == "bundled"]
    assert default and default[0]["usable"] and default[0]["default"] and not default[0]["chat"]
    rules = [b for b in body["backends"] if b["name"] == "rules"]
    assert rules and rules[0]["usable"] and not rules[0]["default"]


def test_channels_are_the_rig(client: TestClient) -> None:
    body = client.get("/api/channels").json()
    assert [c["name"] for c in body["channels"]] == list(rig.CHANNELS)
    assert body["groups"] == list(rig.GROUPS)
    assert {c["low"] for c in body["channels"][:52]} == {0.0} and body["channels"][-1]["low"] == -1.0


def test_api_docs_are_off_unless_asked_for(client: TestClient) -> None:
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert client.get(path).status_code == 404, path
    with _app(api_docs=True) as c:
        assert c.get("/docs").status_code == 200 and c.get("/openapi.json").status_code == 200


def test_openapi_documents_every_route() -> None:
    with _app(api_docs=True) as c:
        schema = c.get("/openapi.json").json()
    paths = set(schema["paths"])
    for path in ("/api/health", "/api/backends", "/api/channels", "/api/plan", "/api/generate", "/api/regenerate",
                 "/api/animate", "/api/export/{fmt}", "/api/animations/{anim_id}.{fmt}", "/api/head.glb"):
        assert path in paths, path
    models = set(schema["components"]["schemas"])
    assert {"ScriptDoc", "KeyframesDoc", "GenerateRequest", "AnimateResponse", "ErrorResponse"} <= models
    assert "503" in schema["paths"]["/api/generate"]["post"]["responses"]


def test_page_and_static_files(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    imports = json.loads(page.text.split('<script type="importmap">')[1].split("</script>")[0])["imports"]
    assert imports == {"three": "/static/vendor/three/build/three.module.js",
                       "three/addons/": "/static/vendor/three/addons/"}
    for name in ("boot.js", "report.js", "app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert page.headers["x-content-type-options"] == "nosniff"


def test_three_is_served_from_the_package_and_nothing_from_elsewhere(client: TestClient) -> None:
    import re

    from keyframeface.web.app import STATIC_DIR, THREE_DIR

    assert (THREE_DIR / "VERSION").read_text().strip() == "0.187.0" and (THREE_DIR / "LICENSE").is_file()
    # Every module the page imports, followed through relative and import-map imports, is served here.
    imports = {"three": "/static/vendor/three/build/three.module.js", "three/addons/": "/static/vendor/three/addons/"}
    todo, seen = ["/static/boot.js"], set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        assert r.status_code == 200 and "javascript" in r.headers["content-type"], url
        for spec in re.findall(r"""(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]""", r.text) + \
                re.findall(r"""import\(\s*['"]([^'"]+)['"]\s*\)""", r.text):
            if spec.startswith("."):
                todo.append(url.rsplit("/", 1)[0] + "/" + spec)
            elif spec in imports:
                todo.append(imports[spec])
            else:
                prefix = next((p for p in imports if p.endswith("/") and spec.startswith(p)), None)
                assert prefix is not None, f"{url} imports {spec!r}, which the import map does not resolve"
                todo.append(imports[prefix] + spec[len(prefix):])
    normalized = {re.sub(r"/[^/]+/\.\./", "/", u.replace("/./", "/")) for u in seen}
    assert {"/static/app.js", "/static/vendor/three/build/three.core.js",
            "/static/vendor/three/addons/loaders/GLTFLoader.js"} <= normalized
    # No URL of another host in the page or its own scripts (the vendored files are three.js's, unmodified).
    for text in [client.get("/").text] + [(STATIC_DIR / n).read_text() for n in ("boot.js", "report.js", "app.js",
                                                                             "style.css")]:
        assert not re.search(r"https?://(?!127\.0\.0\.1)", text)


def test_page_has_a_content_security_policy(client: TestClient) -> None:
    import base64
    import hashlib

    page = client.get("/")
    csp = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    import_map = page.text.split('<script type="importmap">')[1].split("</script>")[0]
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert csp["script-src"] == f"'self' 'sha256-{digest}'"  # no 'unsafe-inline': only the import map runs inline
    assert csp["connect-src"] == "'self'" and csp["default-src"] == "'none'"
    assert page.text.count("<script") == 2 and '<script type="module" src="/static/boot.js"></script>' in page.text


def test_client_error_reports_are_logged_one_line_and_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    with _app() as c, caplog.at_level("WARNING", logger="keyframeface.web.api"):
        for i in range(15):
            r = c.post("/api/client-error", json={"kind": "webgl", "message": f"no WebGL\nline two {i}"})
            assert r.status_code == 204
        lines = [rec.getMessage() for rec in caplog.records if "reports a webgl problem" in rec.getMessage()]
        assert len(lines) == 10 and "\n" not in lines[0] and "no WebGL line two 0" in lines[0]
        assert c.post("/api/client-error", json={"kind": "other", "message": "x"}).status_code == 422
        assert c.post("/api/client-error", json={"kind": "module", "message": "x" * 3000}).status_code == 422


def test_unknown_route_and_host(client: TestClient) -> None:
    r = client.get("/api/nope")
    assert r.status_code == 404 and "error" in r.json()
    # Only loopback names are answered: a page on another site cannot reach the app by DNS rebinding.
    r = client.get("/api/health", headers={"Host": "evil.example"})
    assert r.status_code == 400 and "evil.example" in r.json()["error"]
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200


# --------------------------------------------------------------------------------------------------- plan
def test_plan(client: TestClient) -> None:
    r = client.post("/api/plan", json={"text": "A shy girl hears a compliment."})
    assert r.status_code == 200
    script = Script.from_dict(r.json())
    assert 2 <= len(script.keyframes) <= 6 and all(k.time_s is not None for k in script.keyframes)


@pytest.mark.parametrize("body", [{"text": "  "}, {}, {"text": 3}, {"text": "x", "extra": 1}])
def test_plan_bad_input(client: TestClient, body: dict[str, Any]) -> None:
    r = client.post("/api/plan", json=body)
    assert r.status_code == 422 and r.json()["error"]


# ----------------------------------------------------------------------------------------------- generate
def test_generate(keyframes: dict[str, Any]) -> None:
    kfs = Keyframes.from_dict(keyframes)
    assert kfs.array().shape == (3, 61)
    assert kfs.meta["backend"] == "rules"
    jaw = rig.CHANNEL_INDEX["JawOpen"]
    assert kfs.array()[2, jaw] > kfs.array()[0, jaw]


def test_generate_free_text_script(client: TestClient) -> None:
    r = client.post("/api/generate", json={"script": {"text": "She smiles, then frowns."}})
    assert r.status_code == 200 and len(r.json()["keyframes"]) >= 2


@pytest.mark.parametrize(
    ("script", "field"),
    [
        ({"keyframes": []}, "keyframes"),
        ({"keyframes": [{"description": ""}]}, "keyframes[0].description"),
        ({"keyframes": [{"description": "a", "time_s": 2}, {"description": "b", "time_s": 1}]}, "keyframes[1].time_s"),
        ({"keyframes": [{"description": "a", "values": {"NotAChannel": 1}}]}, "keyframes[0].values"),
        ({"keyframes": [{"description": "a", "mood": 1}]}, None),
    ],
)
def test_generate_bad_script(client: TestClient, script: dict[str, Any], field: str | None) -> None:
    r = client.post("/api/generate", json={"script": script})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"]
    if field is not None:
        assert body["field"] == field


def test_generate_unknown_backend_is_400(client: TestClient) -> None:
    r = client.post("/api/generate", json={"script": SCRIPT, "backend": "nope"})
    assert r.status_code == 400 and "rules" in r.json()["error"]


def test_generate_not_json(client: TestClient) -> None:
    r = client.post("/api/generate", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]


def test_limits_on_keyframes_and_text() -> None:
    with _app(limits=Limits(max_keyframes=2, max_text_chars=50, max_description_chars=40)) as c:
        r = c.post("/api/generate", json={"script": SCRIPT})
        assert r.status_code == 413 and r.json()["field"] == "keyframes"
        two = {**SCRIPT, "keyframes": SCRIPT["keyframes"][:2]}
        r = c.post("/api/generate", json={"script": two})
        assert r.status_code == 413 and r.json()["field"] == "background"
        short = {"keyframes": [{"description": "x" * 41}]}
        assert c.post("/api/generate", json={"script": short}).json()["field"] == "keyframes[0].description"
        assert c.post("/api/plan", json={"text": "y" * 51}).status_code == 413


def test_body_size_limit() -> None:
    with _app(limits=Limits(max_body_bytes=2048)) as c:
        big = {"script": {"background": "x" * 4000, "keyframes": [{"description": "a"}]}}
        r = c.post("/api/generate", json=big)
        assert r.status_code == 413 and "limit" in r.json()["error"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
            yield b'{"script": {"background": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'", "keyframes": [{"description": "a"}]}}'

        r = c.post("/api/generate", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert c.post("/api/generate", json={"script": SCRIPT}).status_code == 200


# ------------------------------------------------------------------------------------------ busy / timeout
def test_busy_answer_when_every_slot_is_taken() -> None:
    with _app(max_concurrency=2, limits=Limits(retry_after_s=3)) as c:
        pool = c.app.state.keyframeface.generation  # type: ignore[attr-defined]
        assert pool.try_acquire() and pool.try_acquire() and not pool.try_acquire()
        try:
            r = c.post("/api/generate", json={"script": SCRIPT})
            assert r.status_code == 503
            assert r.headers["Retry-After"] == "3" and "busy" in r.json()["error"]
            assert c.get("/api/health").json()["running"] == 2  # other routes still answer
        finally:
            pool.release()
            pool.release()
        assert c.post("/api/generate", json={"script": SCRIPT}).status_code == 200


class _StuckBackend(Backend):
    """A direct backend that blocks until ``release`` is set (a hung model)."""

    name: ClassVar[str] = "web_test_stuck"
    capabilities: ClassVar[Capabilities] = Capabilities(concurrent=True)
    release = threading.Event()

    def generate_values(
        self, script: Script, index: int, *, previous: np.ndarray | None, options: GenerationOptions
    ) -> DirectResult:
        self.release.wait(30)
        return DirectResult(values=rig.neutral())


class _FailingBackend(Backend):
    """A direct backend whose second keyframe always fails (a backend error that is not transient)."""

    name: ClassVar[str] = "web_test_failing"
    capabilities: ClassVar[Capabilities] = Capabilities(concurrent=True)

    def generate_values(
        self, script: Script, index: int, *, previous: np.ndarray | None, options: GenerationOptions
    ) -> DirectResult:
        if index == 1:
            raise BackendError("the model crashed")
        return DirectResult(values=np.full(61, 0.25, dtype=np.float32))


@pytest.fixture()
def test_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._REGISTRY, "web_test_stuck", f"{__name__}:_StuckBackend")
    monkeypatch.setitem(registry._REGISTRY, "web_test_failing", f"{__name__}:_FailingBackend")


@pytest.mark.usefixtures("test_backends")
def test_stuck_backend_times_out_and_the_server_stays_responsive() -> None:
    _StuckBackend.release.clear()
    with _app(max_concurrency=1, limits=Limits(generate_timeout_s=0.3)) as c:
        start = time.monotonic()
        r = c.post("/api/generate", json={"script": SCRIPT, "backend": "web_test_stuck"})
        assert r.status_code == 504 and "0.3 s" in r.json()["error"]
        assert time.monotonic() - start < 5
        assert c.get("/api/health").status_code == 200
        # The slot is free once the deadline passed, whatever the backend does: generations are answered again.
        pool = c.app.state.keyframeface.generation  # type: ignore[attr-defined]
        assert pool.running == 0 and pool.lingering == 1
        assert c.post("/api/generate", json={"script": SCRIPT}).status_code == 200
        # A backend that ignores its deadline and cancel can linger only so often before new work is refused.
        for _ in range(3):
            assert c.post("/api/generate", json={"script": SCRIPT, "backend": "web_test_stuck"}).status_code == 504
        assert pool.lingering == 4
        assert c.post("/api/generate", json={"script": SCRIPT}).status_code == 503
        _StuckBackend.release.set()
        deadline = time.monotonic() + 10
        while pool.lingering and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pool.lingering == 0 and c.post("/api/generate", json={"script": SCRIPT}).status_code == 200


@pytest.mark.usefixtures("test_backends")
def test_failed_keyframes_answer_502_with_partial_results(client: TestClient) -> None:
    r = client.post("/api/generate", json={"script": SCRIPT, "backend": "web_test_failing"})
    assert r.status_code == 502
    body = r.json()
    assert "crashed" in body["error"] and set(body["failed"]) == {"1"}
    partial = Keyframes.from_dict(body["partial"])
    assert partial.missing == [1] and partial.keyframes[0].values is not None


# --------------------------------------------------------------------------------------------- regenerate
def test_regenerate_changes_one_keyframe_only(client: TestClient, keyframes: dict[str, Any]) -> None:
    edited = json.loads(json.dumps(keyframes))
    edited["keyframes"][0]["values"]["MouthSmileLeft"] = 0.77  # a slider edit the user made
    script = {**SCRIPT, "keyframes": [dict(k) for k in SCRIPT["keyframes"]]}
    script["keyframes"][1]["description"] = "The eyes close tightly."
    r = client.post("/api/regenerate", json={"script": script, "index": 1, "keyframes": edited})
    assert r.status_code == 200, r.text
    body = r.json()
    new = body["keyframe"]["values"]
    assert new["EyeBlinkLeft"] > 0.5 and body["keyframe"]["description"] == "The eyes close tightly."
    out = body["keyframes"]["keyframes"]
    assert out[0]["values"] == edited["keyframes"][0]["values"]
    assert out[2]["values"] == edited["keyframes"][2]["values"]
    assert out[1]["values"] == new and body["keyframes"]["meta"]["regenerated"] == [1]


def test_regenerate_without_previous_keyframes(client: TestClient) -> None:
    r = client.post("/api/regenerate", json={"script": SCRIPT, "index": 2})
    assert r.status_code == 200
    kfs = r.json()["keyframes"]["keyframes"]
    assert "values" in kfs[2] and "values" not in kfs[0]


@pytest.mark.parametrize(("index", "cut"), [(3, False), (0, True)])
def test_regenerate_bad_input(client: TestClient, keyframes: dict[str, Any], index: int, cut: bool) -> None:
    kfs = json.loads(json.dumps(keyframes))
    if cut:
        kfs["keyframes"] = kfs["keyframes"][:2]
    r = client.post("/api/regenerate", json={"script": SCRIPT, "index": index, "keyframes": kfs})
    assert r.status_code == 422 and r.json()["field"] in ("index", "keyframes")


class _RecordingChat(Backend):
    """A chat backend answering every request with fixed values (JawOpen 0.6), recording what it was asked."""

    name: ClassVar[str] = "recording"
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True)

    def __init__(self) -> None:
        self.asked: list[str] = []

    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        self.asked.append(messages[-1]["content"])
        values = rig.neutral()
        values[rig.CHANNEL_INDEX["JawOpen"]] = 0.6
        return prompt.format_answer(values, len(self.asked) - 1)


def test_regenerate_asks_a_chat_model_about_one_keyframe_only() -> None:
    script = Script.from_dict(SCRIPT)
    chat = _RecordingChat()
    kf = regenerate_keyframe(script, 2, backend=chat)
    assert len(chat.asked) == 1
    assert chat.asked[0] == prompt.build_messages(script, 2)[-1]["content"]
    assert kf.values is not None and kf.values[rig.CHANNEL_INDEX["JawOpen"]] == pytest.approx(0.6)


# ------------------------------------------------------------------------------------------ animate/export
def test_animate_and_its_files(client: TestClient, keyframes: dict[str, Any]) -> None:
    r = client.post("/api/animate", json={"keyframes": keyframes, "fps": 24, "include_frames": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fps"] == 24 and body["num_frames"] == len(body["frames"]) and len(body["frames"][0]) == 61
    assert body["keyframe_times_s"] == [0.0, 1.5, 3.0] and body["channels"] == list(rig.CHANNELS)
    assert set(body["urls"]) == {"csv", "gltf", "glb", "json"}
    glb = client.get(body["urls"]["glb"])
    assert glb.status_code == 200 and glb.content[:4] == b"glTF"
    assert glb.headers["content-type"] == "model/gltf-binary"
    gltf = json.loads(client.get(body["urls"]["gltf"]).content)
    assert gltf["meshes"][0]["extras"]["targetNames"] == list(rig.BLENDSHAPES) and gltf["animations"]
    assert client.get(body["urls"]["csv"]).text.startswith("Timecode,BlendShapeCount,EyeBlinkLeft")
    doc = client.get(body["urls"]["json"]).json()
    assert doc["format"] == "keyframeface.animation" and len(doc["frames"]) == body["num_frames"]
    assert client.get("/api/animations/unknown.glb").status_code == 404
    assert client.get(f"/api/animations/{body['id']}.exe").status_code == 422


def test_animate_frames_are_optional_and_options_checked(client: TestClient, keyframes: dict[str, Any]) -> None:
    r = client.post("/api/animate", json={"keyframes": keyframes})
    assert r.status_code == 200 and "frames" not in r.json()
    assert client.post("/api/animate", json={"keyframes": keyframes, "fps": 500}).status_code == 413
    assert client.post("/api/animate", json={"keyframes": keyframes, "duration_s": 10_000}).status_code == 413
    assert client.post("/api/animate", json={"keyframes": keyframes, "method": "magic"}).status_code == 422
    assert client.post("/api/animate", json={"keyframes": keyframes, "fps": 0}).status_code == 422
    missing = json.loads(json.dumps(keyframes))
    del missing["keyframes"][1]["values"]
    r = client.post("/api/animate", json={"keyframes": missing})
    assert r.status_code == 422 and "no values" in r.json()["error"]


def test_head_glb(client: TestClient) -> None:
    r = client.get("/api/head.glb")
    assert r.status_code == 200 and r.content[:4] == b"glTF"


@pytest.mark.parametrize("fmt", ["csv", "gltf", "glb", "json"])
def test_export_formats(client: TestClient, keyframes: dict[str, Any], fmt: str) -> None:
    r = client.post(f"/api/export/{fmt}", json={"keyframes": keyframes, "fps": 30})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'attachment; filename="keyframeface-animation.{fmt}"'
    if fmt == "glb":
        assert r.content[:4] == b"glTF"
    elif fmt == "csv":
        assert r.text.splitlines()[0].startswith("Timecode,BlendShapeCount,")
    else:
        assert json.loads(r.content)["asset" if fmt == "gltf" else "format"]


def test_export_keyframes_json_round_trips(client: TestClient, keyframes: dict[str, Any]) -> None:
    r = client.post("/api/export/json", json={"keyframes": keyframes, "what": "keyframes"})
    assert r.status_code == 200
    back = Keyframes.from_dict(r.json())
    np.testing.assert_allclose(back.array(), Keyframes.from_dict(keyframes).array(), atol=1e-4)


@pytest.mark.parametrize("fmt", ["exe", "..%2F..%2Fetc%2Fpasswd", "npz"])
def test_export_takes_format_names_only(client: TestClient, keyframes: dict[str, Any], fmt: str) -> None:
    r = client.post(f"/api/export/{fmt}", json={"keyframes": keyframes})
    assert r.status_code in (404, 422) and "error" in r.json()


# ----------------------------------------------------------------------------------------------- property
_text = st.text(max_size=40)
_number = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), st.integers(-5, 5), st.none())
_keyframe = st.fixed_dictionaries(
    {"description": _text},
    optional={"time_s": _number, "values": st.dictionaries(st.sampled_from([*rig.CHANNELS[:5], "bogus"]), _number,
                                                            max_size=3)},
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.fixed_dictionaries({"keyframes": st.lists(_keyframe, max_size=4)}, optional={"emotion": _text}))
def test_any_script_gets_an_answer_never_a_crash(client: TestClient, script: dict[str, Any]) -> None:
    r = client.post("/api/generate", json={"script": script})
    assert r.status_code in (200, 413, 422), r.text
    assert r.status_code == 200 or r.json()["error"]


# --------------------------------------------------------------------------------------------- the pieces
def test_work_pool_runs_refuses_and_times_out() -> None:
    import asyncio

    pool = WorkPool(1, retry_after_s=5)
    assert asyncio.run(pool.run(lambda cancel: 41 + 1)) == 42
    assert pool.running == 0
    gate = threading.Event()

    async def scenario() -> None:
        stuck = asyncio.ensure_future(pool.run(lambda cancel: gate.wait(10), timeout_s=0.2))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy) as busy:
            await pool.run(lambda cancel: 1)
        assert busy.value.retry_after_s == 5
        with pytest.raises(WorkTimeout):
            await stuck

    asyncio.run(scenario())
    assert pool.running == 0 and pool.lingering == 1  # its deadline passed: the slot is free, the call lingers
    assert asyncio.run(pool.run(lambda cancel: 7)) == 7
    gate.set()
    deadline = time.monotonic() + 5
    while pool.lingering and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.running == 0 and pool.lingering == 0

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(pool.run(lambda cancel: (_ for _ in ()).throw(ValueError("boom"))))


@pytest.mark.parametrize("bad", [{"max_keyframes": 0}, {"max_keyframes": 10_000}, {"max_body_bytes": 10},
                                 {"max_fps": 0}, {"generate_timeout_s": -1}])
def test_limits_are_checked(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Limits(**bad)


def test_serve_command_is_registered_and_checks_hosts() -> None:
    from keyframeface.cli import cmd_serve
    from keyframeface.cli.main import COMMANDS, build_parser

    assert "serve" in COMMANDS
    args = build_parser().parse_args(["serve", "--port", "0"])
    assert args.host == "127.0.0.1" and args.max_concurrency == 2
    assert cmd_serve._is_loopback("127.0.0.1") and cmd_serve._is_loopback("::1")
    assert cmd_serve._is_loopback("localhost") and not cmd_serve._is_loopback("0.0.0.0")
    assert not cmd_serve._is_loopback("192.168.1.5")


def _fake_servers(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``keyframeface serve`` with uvicorn's serving loop replaced: each run records its app and socket address."""
    from keyframeface.web import serving

    started: list[dict[str, Any]] = []

    class FakeServer:
        def __init__(self, app: Any, **kw: Any) -> None:
            self.app, self.kw = app, kw

        def run(self, sockets: Sequence[Any]) -> None:
            started.append({"app": self.app, "host": sockets[0].getsockname()[0], **self.kw})

    monkeypatch.setattr(serving, "make_server", FakeServer)
    return started


def test_serve_binds_loopback_and_warns_for_other_addresses(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from keyframeface.cli.main import main

    started = _fake_servers(monkeypatch)
    assert main(["serve", "--port", "0", "--mesh", "default"]) == 0
    assert started[-1]["host"] == "127.0.0.1" and not caplog.records
    with TestClient(started[-1]["app"]) as c:
        assert c.get("/api/health", headers={"Host": "evil.example"}).status_code == 400
        assert c.get("/api/health").status_code == 400  # TestClient's "testserver" is not a production host
        assert c.get("/api/health", headers={"Host": "127.0.0.1:8000"}).status_code == 200

    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--mesh", "default"]) == 0
    assert started[-1]["host"] == "0.0.0.0"
    assert any("reachable from other machines" in r.getMessage() for r in caplog.records)
    with TestClient(started[-1]["app"]) as c:  # the names clients use for a network address are not known
        assert c.get("/api/health", headers={"Host": "studio.local"}).status_code == 200

    assert main(["serve", "--port", "70000"]) == 1


def test_mesh_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from keyframeface.errors import FormatError
    from keyframeface.web.state import resolve_mesh

    monkeypatch.setenv("KEYFRAMEFACE_SHARED", str(tmp_path))  # a shared folder without the ICT head
    monkeypatch.chdir(tmp_path)
    (tmp_path / "DESIGN.md").write_text("")
    assert resolve_mesh("default") == "default"
    assert resolve_mesh("auto") == "default"
    with pytest.raises(FormatError, match="ICT-FaceKit"):
        resolve_mesh("ict")
    with pytest.raises(ValueError):
        resolve_mesh("fancy")


@pytest.mark.shared
def test_ict_head_when_available(shared: Any) -> None:
    from keyframeface.head.ict import ICT_RELATIVE_PATH

    if not (shared / ICT_RELATIVE_PATH).is_file():
        pytest.skip("the ICT-FaceKit head is not in the shared folder")
    with _app(mesh="auto") as c:
        assert c.get("/api/health").json()["mesh"] == "ict"
        glb = c.get("/api/head.glb").content
        assert glb[:4] == b"glTF" and len(glb) > 1_000_000


# ------------------------------------------------------------------------------------------ review fixes
@pytest.mark.parametrize("route", ["/api/plan", "/api/generate"])
def test_one_long_sentence_plans_and_generates(client: TestClient, route: str) -> None:
    text = "word " * 1500
    body = {"text": text} if route == "/api/plan" else {"script": {"text": text}, "backend": "rules"}
    r = client.post(route, json=body)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("regenerated", [5, [[1]], "ab", [0, True, 99, -1, 1.5, "2"], None])
def test_regenerate_keeps_only_valid_indices_from_client_meta(client: TestClient, keyframes: dict[str, Any],
                                                              regenerated: Any) -> None:
    current = {**json.loads(json.dumps(keyframes)), "meta": {"regenerated": regenerated}}
    r = client.post("/api/regenerate", json={"script": SCRIPT, "index": 2, "keyframes": current})
    assert r.status_code == 200, r.text
    expected = [0, 2] if isinstance(regenerated, list) and 0 in regenerated else [2]
    assert r.json()["keyframes"]["meta"]["regenerated"] == expected


@pytest.mark.parametrize("fmt", ["csv", "json", "glb"])
def test_export_of_keyframes_without_values_is_refused(client: TestClient, keyframes: dict[str, Any],
                                                      fmt: str) -> None:
    missing = json.loads(json.dumps(keyframes))
    del missing["keyframes"][1]["values"]
    r = client.post(f"/api/export/{fmt}", json={"keyframes": missing, "what": "keyframes"})
    assert r.status_code == 422 and "no values" in r.json()["error"] and "[1]" in r.json()["error"]


@pytest.mark.parametrize("fps", [0.5, 0.01])
def test_fps_below_one_is_refused(client: TestClient, keyframes: dict[str, Any], fps: float) -> None:
    r = client.post("/api/animate", json={"keyframes": keyframes, "fps": fps})
    assert r.status_code == 422 and r.json()["field"] == "fps"
    assert client.post("/api/animate", json={"keyframes": keyframes, "fps": 1}).status_code == 200


def test_unexpected_errors_answer_json_500_and_are_logged(monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from keyframeface.web import api

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api, "plan", broken)
    app = create_app(mesh="default")
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        r = c.post("/api/plan", json={"text": "She smiles."})
    assert r.status_code == 500 and r.json() == {"error": "internal error"}
    assert any("internal error" in rec.getMessage() and rec.exc_info for rec in caplog.records)


@pytest.mark.parametrize(("options", "match"), [({"backend": "nosuch"}, "nosuch"),
                                                ({"backend": "rules", "backend_options": {"base_url": "x"}},
                                                 "does not take")])
def test_bad_default_backend_fails_at_startup(options: dict[str, Any], match: str) -> None:
    from keyframeface.errors import KeyframeFaceError

    with pytest.raises(KeyframeFaceError, match=match):
        create_app(mesh="default", **options)


def test_serve_with_an_unknown_backend_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyframeface.cli.main import main

    started = _fake_servers(monkeypatch)
    assert main(["serve", "--port", "0", "--mesh", "default", "--backend", "nosuch"]) != 0
    assert not started


def test_testserver_is_not_a_default_host() -> None:
    from keyframeface.web.app import DEFAULT_ALLOWED_HOSTS

    assert "testserver" not in DEFAULT_ALLOWED_HOSTS
    with TestClient(create_app(mesh="default")) as c:  # TestClient's own Host
        assert c.get("/api/health").status_code == 400


def test_work_pool_sets_cancel_when_the_waiting_request_is_cancelled() -> None:
    import asyncio

    pool = WorkPool(1)
    seen: list[threading.Event] = []
    release = threading.Event()

    def slow(cancel: threading.Event) -> int:
        seen.append(cancel)
        cancel.wait(5)  # cooperative work stops once asked to
        release.set()
        return 1

    async def scenario() -> None:
        task = asyncio.ensure_future(pool.run(slow, timeout_s=10))
        while not seen:
            await asyncio.sleep(0.01)
        task.cancel()  # a client disconnect or server shutdown
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert seen[0].is_set()
    assert release.wait(2)
    deadline = time.monotonic() + 5
    while pool.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.running == 0


# ------------------------------------------------------------------------------ the real server on loopback
def test_serve_on_a_busy_port_says_so_in_one_line(capfd: pytest.CaptureFixture[str]) -> None:
    import socket

    from keyframeface.cli.main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--mesh", "default"]) == 1
    err = capfd.readouterr().err.strip().splitlines()
    assert err == [f"keyframeface: error: port {port} on 127.0.0.1 is already in use (another server?); pick "
                   "another with --port, or --port 0 for a free one"]


@pytest.fixture()
def live_server() -> Iterator[Any]:
    """A factory: ``start(app, limits)`` runs ``app`` with :func:`make_server` on a free loopback port in a thread
    and returns ``(host, port)``; every server is stopped at the end."""
    from keyframeface.web.serving import bind, make_server

    running: list[tuple[Any, threading.Thread]] = []

    def start(app: Any, limits: Limits) -> tuple[str, int]:
        sock = bind("127.0.0.1", 0)
        server = make_server(app, limits=limits)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        running.append((server, thread))
        return sock.getsockname()[:2]

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(10)


def _closed_after(sock: Any, *, send: bytes, every_s: float, limit_s: float) -> float | None:
    """Send ``send`` one byte every ``every_s`` seconds until the server closes the connection; the seconds that
    took, or ``None`` if it stayed open for ``limit_s``."""
    start = time.monotonic()
    sock.settimeout(every_s)
    for byte in send:
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            pass
        except OSError:  # reset or broken pipe: closed
            return time.monotonic() - start
        if time.monotonic() - start > limit_s:
            return None
    return None


def test_slowloris_headers_are_cut_at_the_header_timeout(live_server: Any) -> None:
    import socket

    limits = Limits(header_timeout_s=2.0)
    host, port = live_server(create_app(mesh="default", limits=limits), limits)
    with socket.create_connection((host, port), timeout=5) as sock:  # one header byte a second, never done
        took = _closed_after(sock, send=b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100,
                             every_s=1.0, limit_s=8)
    assert took is not None and took < limits.header_timeout_s + 4, took  # the bound plus slack for a loaded CI machine
    # A prompt client on the same server is answered, also after a kept-alive request.
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=5)
    for _ in range(2):  # one kept-alive connection
        conn.request("GET", "/api/health")
        assert conn.getresponse().read() and conn.sock is not None
    conn.close()


def test_oversized_headers_and_slow_bodies_are_refused(live_server: Any) -> None:
    import socket

    limits = Limits(max_header_bytes=4096, body_timeout_s=1.5)
    host, port = live_server(create_app(mesh="default", limits=limits), limits)
    with socket.create_connection((host, port), timeout=5) as sock:  # headers that grow past the limit
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 3000)
        time.sleep(0.2)
        sock.sendall(b"a" * 3000)
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")
    with socket.create_connection((host, port), timeout=5) as sock:  # headers at once, then a trickled body
        sock.sendall(b"POST /api/plan HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200\r\n\r\n{")
        start = time.monotonic()
        answer = b""
        sock.settimeout(1.0)
        while time.monotonic() - start < 6 and not answer:
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                sock.sendall(b" ")
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - start < limits.body_timeout_s + 4


def _trickling_upstream() -> tuple[Any, int]:
    """An HTTP server on loopback that answers every request one byte a second, for ever (a stalled LLM server)."""
    import socketserver

    class Trickle(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(60)
            try:
                self.request.recv(65536)
                for byte in b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"':
                    self.request.sendall(bytes([byte]))
                    if self.server.stop.wait(1.0):  # type: ignore[attr-defined]
                        return
            except OSError:
                return

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    server.stop = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def test_generate_answers_again_within_the_deadline_after_an_upstream_stalls(live_server: Any) -> None:
    import http.client

    upstream, up_port = _trickling_upstream()
    try:
        limits = Limits(generate_timeout_s=2.0)
        app = create_app(mesh="default", max_concurrency=2, limits=limits, backend="openai",
                         backend_options={"base_url": f"http://127.0.0.1:{up_port}/v1", "model": "m"})
        host, port = live_server(app, limits)

        def post(backend: str) -> tuple[int, float]:
            conn = http.client.HTTPConnection(host, port, timeout=30)
            start = time.monotonic()
            conn.request("POST", "/api/generate", json.dumps({"script": SCRIPT, "backend": backend}),
                         {"Content-Type": "application/json"})
            status = conn.getresponse().status
            conn.close()
            return status, time.monotonic() - start

        # Two stalled generations take both slots ...
        results: list[tuple[int, float]] = []
        threads = [threading.Thread(target=lambda: results.append(post("openai"))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert [r[0] for r in results] == [504, 504] and max(r[1] for r in results) < limits.generate_timeout_s + 4
        # ... and once their deadline passed, the app generates again at once (the upstream still trickles).
        status, took = post("rules")
        assert status == 200 and took < 5
    finally:
        upstream.stop.set()  # type: ignore[attr-defined]
        upstream.shutdown()
        upstream.server_close()


def test_numbers_are_strict_as_in_the_files(client: TestClient, keyframes: dict[str, Any]) -> None:
    bad = json.loads(json.dumps(keyframes))
    bad["keyframes"][0]["values"]["JawOpen"] = "1"  # the file loader refuses this too
    r = client.post("/api/animate", json={"keyframes": bad})
    assert r.status_code == 422 and r.json()["field"] == "keyframes.keyframes.0.values.JawOpen"
    bad["keyframes"][0]["values"]["JawOpen"] = True
    assert client.post("/api/animate", json={"keyframes": bad}).status_code == 422
    assert client.post("/api/animate", json={"keyframes": keyframes, "fps": "30"}).status_code == 422
    script = {"keyframes": [{"description": "A smile.", "time_s": "0"}]}
    assert client.post("/api/generate", json={"script": script}).status_code == 422
    assert client.post("/api/animate", json={"keyframes": keyframes, "fps": 30}).status_code == 200  # ints are numbers


def test_the_page_uses_the_apis_default_fps(client: TestClient, keyframes: dict[str, Any]) -> None:
    from keyframeface.options import AnimateOptions
    from keyframeface.web.app import STATIC_DIR

    assert "fps:" not in (STATIC_DIR / "app.js").read_text()  # the page never re-types a rate
    assert client.post("/api/animate", json={"keyframes": keyframes}).json()["fps"] == AnimateOptions().fps
