"""Fuzz and fault soak: mutated and generated inputs to every parser, through the file, bytes (stdin) and web paths.

    python benchmarks/soak.py --minutes 60 --seed 1          # an hour
    python benchmarks/soak.py --count 2000 --seed 0          # a fixed slice (CI runs one through tests)

Targets: JSON and YAML documents (scripts, keyframes, animations) through ``keyframeface.io.input`` from bytes and
from files; Live Link Face CSV from a stream and a file; KeyframeFace release results (jsonl); model answers through
``keyframeface.prompt.parse_values``; the web API's ``/api/generate`` through FastAPI's TestClient (skipped without
the ``[web]`` extra). A *crash* is any exception that is not a ``KeyframeFaceError`` (web: a 5xx answer); a *hang*
is one input taking over 5 s. Prints one line of counts per target and the peak RSS; exits 1 on a crash or hang.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyframeface import rig
from keyframeface.errors import KeyframeFaceError

HANG_S = 5.0
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------- generators
def _seed_documents() -> list[bytes]:
    docs = [p.read_bytes() for p in sorted((ROOT / "examples").glob("*.json"))[:6]]
    values = {name: 0.1 for name in rig.CHANNELS[:5]}
    docs.append(json.dumps({"format": "keyframeface.keyframes", "version": 1, "meta": {"a": [1, {"b": None}]},
                            "keyframes": [{"description": "smile", "time_s": 0.5, "values": values}]}).encode())
    docs.append(json.dumps({"format": "keyframeface.animation", "version": 1, "fps": 30,
                            "channels": list(rig.CHANNELS[:3]), "frames": [[0.1, 0.2, 0.3]] * 3,
                            "times_s": [0, 0.1, 0.2], "valid": [True, False, True]}).encode())
    docs.append(b"background: A room\nemotion: calm\nkeyframes:\n  - description: She smiles.\n    time_s: 1.5\n"
                b"  - {description: x, values: {JawOpen: 0.2}}\n")
    return docs


def _seed_csv() -> bytes:
    header = "Timecode,BlendShapeCount," + ",".join(rig.CHANNELS)
    rows = [f"00:00:00:{i:02d}.000,61," + ",".join(f"{(i * 7 + j) % 100 / 100:.3f}" for j in range(61))
            for i in range(12)]
    return ("\n".join([header, *rows]) + "\n").encode()


def _seed_answers() -> list[str]:
    return ['{"JawOpen": 0.3, "MouthSmileLeft": 0.5}', "JawOpen=0.2, EyeBlinkLeft=1",
            '```json\n{"values": [' + ", ".join(["0.1"] * 61) + "]}\n```", "I think: mouthSmile 0.4"]


def _seed_release() -> bytes:
    answer = json.dumps({"JawOpen": 0.3})
    return (json.dumps({"response": answer, "messages": [{"role": "user", "content": "smile"}]}) + "\n").encode()


HOSTILE: list[bytes] = [
    b"!!float", b"!!int", b"!!bool maybe", b"!!timestamp 1", b"[" * 100_000, b"{\"a\":" * 50_000,
    b"9" * 5000, b"1e999999", b"NaN", b"-Infinity", b"\x00\xff\xfe", b"\xef\xbb\xbf{}",
    b"a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c]",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to eight byte-level mutations: flips, inserts of interesting tokens, deletes, duplicated spans, cuts."""
    buf = bytearray(data)
    tokens = [b"[", b"]", b"{", b"}", b'"', b",", b":", b"\n", b"-", b"&a", b"*a", b"!!", b"1e400", b"NaN",
              b"\\u0000", b"\\ud800", b"\xff", b"999999999999999999999", b"null", b"true", b"  ", b"#"]
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice(tokens)
        elif op == 2 and buf:
            del buf[pos:pos + rng.randint(1, 16)]
        elif op == 3 and buf:
            end = min(len(buf), pos + rng.randint(1, 64))
            buf[pos:pos] = buf[pos:end] * rng.randint(1, 20)
        elif op == 4:
            del buf[pos:]
        else:
            buf[pos:pos] = rng.choice(HOSTILE)[: rng.randint(1, 400)]
    return bytes(buf[: 2_000_000])


# ------------------------------------------------------------------------------------------------ targets
@dataclass
class Counts:
    inputs: int = 0
    refused: int = 0
    crashes: int = 0
    hangs: int = 0
    slowest_s: float = 0.0
    examples: list[str] = field(default_factory=list)


def _targets(tmp: Path) -> dict[str, tuple[Callable[[random.Random], Any], Callable[[Any], Any]]]:
    from keyframeface.io.input import read_document_bytes, read_document_path
    from keyframeface.io.livelink_csv import read_livelink_csv
    from keyframeface.io.release_jsonl import read_release_results
    from keyframeface.prompt import parse_values
    from keyframeface.script import document_from_data

    docs, csv_seed, answers, release = _seed_documents(), _seed_csv(), _seed_answers(), _seed_release()

    def doc_input(rng: random.Random) -> tuple[bytes, str | None]:
        return mutate(rng.choice(docs), rng), rng.choice([".json", ".yaml", None])

    def via_bytes(arg: tuple[bytes, str | None]) -> Any:
        return document_from_data(read_document_bytes(arg[0], label="standard input", suffix=arg[1]))

    def via_file(arg: tuple[bytes, str | None]) -> Any:
        path = tmp / f"doc{arg[1] or '.json'}"
        path.write_bytes(arg[0])
        return document_from_data(read_document_path(path))

    def csv_stream(data: bytes) -> Any:
        return read_livelink_csv(io.BytesIO(data))

    def csv_file(data: bytes) -> Any:
        path = tmp / "take.csv"
        path.write_bytes(data)
        return read_livelink_csv(path)

    def release_file(data: bytes) -> Any:
        path = tmp / "results.jsonl"
        path.write_bytes(data)
        return read_release_results(path, policy="repair")

    def answer(text: bytes) -> Any:
        return parse_values(text.decode("utf-8", errors="replace"), policy="repair")

    targets: dict[str, tuple[Callable[[random.Random], Any], Callable[[Any], Any]]] = {
        "document bytes (stdin)": (doc_input, via_bytes),
        "document file": (doc_input, via_file),
        "livelink csv stream": (lambda rng: mutate(csv_seed, rng), csv_stream),
        "livelink csv file": (lambda rng: mutate(csv_seed, rng), csv_file),
        "release jsonl": (lambda rng: mutate(release, rng), release_file),
        "model answer": (lambda rng: mutate(rng.choice(answers).encode(), rng), answer),
    }
    web = _web_target(docs)
    if web is not None:
        targets["web /api/generate"] = web
    return targets


class WebCrash(Exception):
    """A 5xx answer from the web app."""


def _web_target(docs: list[bytes]) -> tuple[Callable[[random.Random], Any], Callable[[Any], Any]] | None:
    try:
        from fastapi.testclient import TestClient

        from keyframeface.web.app import create_app
    except ImportError:
        return None
    client = TestClient(create_app(), base_url="http://127.0.0.1")
    script = json.loads(docs[0]) if docs else {"keyframes": ["smile"]}
    body = json.dumps({"script": script, "backend": "rules"}).encode()

    def post(data: bytes) -> Any:
        r = client.post("/api/generate", content=data, headers={"content-type": "application/json"})
        if r.status_code >= 500 and r.status_code != 503:  # 503: busy, an answer by design
            raise WebCrash(f"HTTP {r.status_code}: {r.text[:200]}")
        return r.status_code

    return (lambda rng: mutate(body, rng)), post


# -------------------------------------------------------------------------------------------------- driver
def soak(*, seed: int, count: int | None = None, minutes: float | None = None,
         log: Callable[[str], None] | None = None) -> dict[str, Counts]:
    """Feed inputs until ``count`` per target or ``minutes`` have passed; return the counts per target."""
    rng = random.Random(seed)
    deadline = time.monotonic() + 60 * minutes if minutes else None
    with tempfile.TemporaryDirectory(prefix="kff-soak-") as folder:
        targets = _targets(Path(folder))
        counts = {name: Counts() for name in targets}
        n = 0
        while (count is None or n < count) and (deadline is None or time.monotonic() < deadline):
            n += 1
            for name, (make, parse) in targets.items():
                c = counts[name]
                arg = make(rng)
                start = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        parse(arg)
                except KeyframeFaceError:
                    c.refused += 1
                except Exception as exc:  # the point: anything else is a crash to report
                    c.crashes += 1
                    if len(c.examples) < 3:
                        c.examples.append(f"{type(exc).__name__}: {str(exc)[:200]} <- {repr(arg)[:200]}\n"
                                          + "".join(traceback.format_exc().splitlines(True)[-4:]))
                took = time.perf_counter() - start
                c.inputs += 1
                c.slowest_s = max(c.slowest_s, took)
                if took > HANG_S:
                    c.hangs += 1
            if log is not None and n % 500 == 0:
                log(f"{n} rounds, {sum(c.inputs for c in counts.values())} inputs, "
                    f"{sum(c.crashes for c in counts.values())} crashes")
    return counts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=None, help="run this long (default: until --count)")
    p.add_argument("--count", type=int, default=None, help="rounds (one input per target each); default 1000 "
                   "without --minutes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    count = args.count if args.count is not None or args.minutes else 1000
    start = time.perf_counter()
    counts = soak(seed=args.seed, count=count, minutes=args.minutes,
                  log=lambda line: print(line, file=sys.stderr, flush=True))
    total = Counts()
    for name, c in counts.items():
        print(f"{name:24s} inputs {c.inputs:8d}  refused {c.refused:8d}  crashes {c.crashes:3d}  hangs {c.hangs:3d}  "
              f"slowest {c.slowest_s:.3f} s")
        for example in c.examples:
            print("    " + example.replace("\n", "\n    "))
        total.inputs += c.inputs
        total.crashes += c.crashes
        total.hangs += c.hangs
    print(f"{'total':24s} inputs {total.inputs:8d}  crashes {total.crashes}  hangs {total.hangs}  "
          f"peak RSS {peak_rss_mb():.0f} MB  in {time.perf_counter() - start:.0f} s  (seed {args.seed})")
    return 1 if total.crashes or total.hangs else 0


if __name__ == "__main__":
    raise SystemExit(main())
