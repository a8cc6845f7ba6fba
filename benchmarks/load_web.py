"""A bounded load test of the web app: a fixed number of ``POST /api/generate`` requests (rules backend).

Usage::

    .venv/bin/python benchmarks/load_web.py [--requests 200] [--concurrency 8] [--max-concurrency 2]
    .venv/bin/python benchmarks/load_web.py --url http://127.0.0.1:8000/   # a server you started

Without ``--url`` it starts ``keyframeface serve`` on a free loopback port with ``--max-concurrency`` generation
slots and stops it afterwards. ``--concurrency`` client threads (one keep-alive connection each) send
``--requests`` requests in all, each generating the 4-keyframe example script with the ``rules`` backend. Only
loopback addresses are accepted: this never loads anyone else's server. Prints throughput, latency percentiles
of the successful requests, and counts of 200, 503 (busy, counted apart, as the server's designed answer to
overload) and other answers. ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

SCRIPT = {
    "background": "A nurse reads a text message in a hospital corridor: the test results are not good.",
    "emotion": "Shock turning into quiet grief.",
    "keyframes": [
        {"description": "She reads calmly, the gaze lowered to the phone and the face relaxed.", "time_s": 0.0},
        {"description": "The brows shoot up, the eyes widen and the jaw drops slightly.", "time_s": 1.2},
        {"description": "The inner brows rise and pull together, the mouth corners turn down.", "time_s": 2.6},
        {"description": "She closes her eyes and bows her head slightly, the brows remain worried.", "time_s": 4.4},
    ],
}


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(max_concurrency: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "keyframeface", "-q", "serve", "--port", str(port), "--mesh", "default",
         "--max-concurrency", str(max_concurrency)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def run(url: str, *, requests: int, concurrency: int, timeout_s: float) -> dict[str, object]:
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    if not _loopback(host):
        raise SystemExit(f"refusing {host!r}: this load test only targets loopback addresses")
    body = json.dumps({"script": SCRIPT, "backend": "rules"}).encode()
    local = threading.local()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_i: int) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/generate", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            status = -1
            conn.close()
            local.conn = None
        elapsed = time.perf_counter() - start
        with lock:
            statuses[status] += 1
            if status == 200:
                latencies.append(elapsed)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    wall = time.perf_counter() - t0
    lat = sorted(latencies)

    def pct(q: float) -> float | None:
        return round(1000 * lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None

    return {
        "requests": requests,
        "concurrency": concurrency,
        "wall_s": round(wall, 2),
        "ok": statuses[200],
        "busy_503": statuses[503],
        "errors": sum(n for s, n in statuses.items() if s not in (200, 503)),
        "throughput_ok_per_s": round(statuses[200] / wall, 1),
        "throughput_answers_per_s": round(requests / wall, 1),
        "latency_ms_p50": pct(0.50),
        "latency_ms_p95": pct(0.95),
        "latency_ms_mean": round(1000 * statistics.fmean(lat), 1) if lat else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--url", help="a running server on a loopback address (default: start one)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8, help="client threads")
    ap.add_argument("--max-concurrency", type=int, default=2, help="server generation slots (when started here)")
    ap.add_argument("--timeout-s", type=float, default=60.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (1 <= args.requests <= 10_000 and 1 <= args.concurrency <= 64):
        raise SystemExit("--requests must be in [1, 10000] and --concurrency in [1, 64]")
    proc = None
    url = args.url
    if url is None:
        proc, url = _start_server(args.max_concurrency)
    try:
        result = run(url, requests=args.requests, concurrency=args.concurrency, timeout_s=args.timeout_s)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    result["server_max_concurrency"] = args.max_concurrency if args.url is None else None
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['requests']} requests, {result['concurrency']} client threads, "
          f"server slots {result['server_max_concurrency'] or '?'}: {result['wall_s']} s")
    print(f"  200 ok {result['ok']}   503 busy {result['busy_503']}   other errors {result['errors']}")
    print(f"  throughput: {result['throughput_ok_per_s']} ok/s ({result['throughput_answers_per_s']} answers/s)")
    print(f"  latency of ok answers: p50 {result['latency_ms_p50']} ms, p95 {result['latency_ms_p95']} ms, "
          f"mean {result['latency_ms_mean']} ms")


if __name__ == "__main__":
    main()
