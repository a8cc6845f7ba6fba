"""The web app end to end in headless Chromium: generate, scrub, edit a slider, regenerate, download, screenshot.

Needs Debian's ``chromium`` (``apt-get install chromium``), Node.js, ``npm ci`` in ``tests/e2e`` (playwright-core)
and in ``src/keyframeface/web`` (three.js, served under /vendor/; without it the page would need a CDN). The
script ``tests/e2e/web_app.mjs`` drives the page and prints what it saw as JSON; the screenshot is kept in
``tests/artifacts/web.png`` (git-ignored).
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
WEB = ROOT / "src" / "keyframeface" / "web"
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
    if not (WEB / "node_modules" / "three" / "build" / "three.module.js").is_file():
        return "three.js is not installed for the page: run `npm ci` in src/keyframeface/web"
    return None


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
    assert result["consoleErrors"] == []

    shot = tmp_path / "web.png"
    assert shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")  # test output, never committed
    shutil.copy(shot, ARTIFACTS / "web.png")
