"""The web app in headless Chromium.

* ``test_page_works_offline_after_a_plain_pip_install``: a wheel built from this repository, installed with
  ``pip install 'keyframeface[web]'`` into a fresh virtual environment (no npm, no import from the source tree),
  ``keyframeface serve`` on 127.0.0.1, and the page loaded in Chromium with every other host unresolvable: the
  head is drawn, and Chromium's network log shows that every request of the page went to the server. Then the
  same page without WebGL says why in its status area, and the server logs the page's report.
* ``test_web_app_in_chromium``: generate, scrub, edit a slider, regenerate, download, screenshot, driven by
  ``tests/e2e/web_app.mjs`` (playwright-core: ``npm ci`` in ``tests/e2e``); the screenshot is kept in
  ``tests/artifacts/web.png`` (git-ignored).

Both need Debian's ``chromium`` (``apt-get install chromium``, or set ``CHROMIUM``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web app needs the [web] extra: pip install 'keyframeface[web]'")
pytest.importorskip("uvicorn", reason="the web app needs the [web] extra: pip install 'keyframeface[web]'")

ROOT = Path(__file__).resolve().parents[1]
E2E = ROOT / "tests" / "e2e"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.slow


def _requirements() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)"
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (E2E / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed: run `npm ci` in tests/e2e"
    return None


#: Chromium flags for a quiet, offline, GPU-less run: WebGL through SwiftShader, and no host but 127.0.0.1
#: resolvable (the browser's own services included), so anything fetched from elsewhere would fail.
_OFFLINE = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    missing = _requirements()
    if missing:
        pytest.skip(missing)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    # The server's output goes to a file, not a pipe: nobody reads a pipe while the tests run, and a full pipe
    # would stall the server.
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "keyframeface", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:  # wait for the health answer, not a fixed time
                try:
                    with urllib.request.urlopen(url + "api/health", timeout=2) as r:
                        if json.load(r)["status"] == "ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the server did not start: {log.read()[-2000:]}")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_web_app_in_chromium(server: str, tmp_path: Path) -> None:
    run = subprocess.run(
        ["node", str(E2E / "web_app.mjs"), server, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser script (rc {run.returncode}): {run.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["ok"], result.get("error")
    steps = {s["name"]: s for s in result["steps"]}

    assert "rules" in steps["ready"]["backends"]
    gen = steps["generate"]
    assert gen["generated"] and gen["rows"] == 4 and gen["markers"] == 4 and gen["duration"] > 4
    assert steps["scrub"]["changed"] > 0  # the head's morph weights follow the scrubber
    assert steps["slider"]["value"] == pytest.approx(0.9) and steps["slider"]["shown"] == pytest.approx(0.9, abs=0.02)
    regen = steps["regenerate"]
    assert regen["jawOpen"] > 0.3 and regen["othersKept"] and regen["smileKept"] == pytest.approx(0.9)
    download = steps["download"]
    assert download["file"].endswith(".csv") and download["header"].startswith("Timecode,BlendShapeCount,EyeBlinkLeft")
    assert download["lines"] > 100
    assert steps["play"]["paused"]
    assert steps["reorder"]["swapped"] and steps["reorder"]["timesKept"]
    added = steps["add-remove"]
    assert added["rows"] == 5 and added["markers"] == 5 and added["smile"] > 0.3 and added["afterRemove"] == [4, 4]
    planned = steps["plan"]
    assert planned["anim"] is None and planned["markers"] == 0 and planned["rows"] >= 1 and not planned["generated"]
    assert result["consoleErrors"] == []  # a Content-Security-Policy violation would be one

    shot = tmp_path / "web.png"
    assert shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")  # test output, never committed
    shutil.copy(shot, ARTIFACTS / "web.png")


def _wait_healthy(url: str, proc: subprocess.Popen[str], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url + "api/health", timeout=2) as r:
                if json.load(r)["status"] == "ok":
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def _chromium_dom(url: str, tmp: Path, *extra: str, net_log: Path | None = None) -> str:
    """The page's DOM after Chromium ran it for a while (virtual time: the page's fetches and frames all run)."""
    args = [CHROMIUM, *_OFFLINE, f"--user-data-dir={tempfile.mkdtemp(dir=tmp)}", "--virtual-time-budget=30000",
            *extra, "--dump-dom", url]
    if net_log is not None:
        args.insert(-2, f"--log-net-log={net_log}")
    run = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert "<body" in run.stdout, run.stderr[-2000:]
    return run.stdout


def _page_requests(net_log: Path) -> list[tuple[str, str]]:
    """(initiator, url) of every request in a Chromium net log whose initiator is a web page (the browser's own
    background requests have none)."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    out = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start_job and "url" in params:
            out.append((str(params.get("initiator")), str(params["url"])))
    return out


def test_page_works_offline_after_a_plain_pip_install(tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # A wheel of this repository (its static files and vendored three.js included), then a fresh environment.
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
                   check=True, env=env, timeout=600)
    wheel = next(dist.glob("keyframeface-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"{wheel}[web]"], check=True, env=env, timeout=900)
    where = subprocess.run([str(python), "-c", "import keyframeface; print(keyframeface.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout
    assert Path(where.strip()).is_relative_to(venv), where  # the installed package, not the source tree

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(venv / "bin" / "keyframeface"), "serve", "--port", str(port), "--mesh", "default"],
                                stdout=out, stderr=subprocess.STDOUT, text=True, cwd=tmp_path, env=env)
        try:
            _wait_healthy(url, proc, log)
            net_log = tmp_path / "net.json"
            dom = _chromium_dom(url, tmp_path, "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                                net_log=net_log)
            body = dom.split("<body", 1)[1].split(">", 1)[0]
            assert 'data-head="shown"' in body and 'data-ready="1"' in body, body
            requests = _page_requests(net_log)
            page = [u for i, u in requests if i.startswith("http://127.0.0.1")]
            assert url in [u for _, u in requests] and f"{url}static/vendor/three/build/three.module.js" in page
            assert f"{url}api/head.glb" in page
            assert all(u.startswith(url) for u in page), [u for u in page if not u.startswith(url)]
            assert "reports a" not in log.read_text()

            # Without WebGL: the page says why, the rest of it works, and the server's log has the page's report.
            dom = _chromium_dom(url, tmp_path, "--disable-webgl", "--disable-3d-apis")
            status = dom.split('id="status"', 1)[1].split(">", 1)[1].split("<", 1)[0]
            assert "No 3D view" in status and "WebGL" in status, status
            assert 'data-ready="1"' in dom
            deadline = time.monotonic() + 10
            while "reports a webgl problem" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "reports a webgl problem" in log.read_text(), log.read_text()[-2000:]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
