"""Benchmark of the numpy sentence encoder (keyframeface.models.bundled.encoder) against onnxruntime on the same ONNX file.

Each engine runs in a fresh child process so cold start and peak memory are its own:

* cold load: seconds for ``import`` + read + sha256 + parse + dequantize (numpy), or ``import onnxruntime`` +
  ``InferenceSession`` (ort), measured inside the child from before the import;
* warm ms per sentence at batch 1 (one ``encode([clause])`` call per clause) and at batch 32, for short keyframe
  clauses of 5-15 words, median of ``--repeat`` passes, as wall time and as process CPU time (the CPU time is less
  disturbed by other processes on a shared machine; it counts all of the engine's threads);
* warm ms per keyframe: one call embedding 3 clauses (a keyframe has ~1-4 clauses);
* peak RSS of the child (``ru_maxrss``).

Both engines use the same tokenizer (keyframeface's) and the same mean pooling + L2 normalisation; the table also
gives the smallest cosine between the two engines' vectors. Run from the repository root::

    nice -n 10 .venv/bin/python benchmarks/bench_encoder.py [--repeat 5] [--clauses 64]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

SUBJECTS = ["she", "he", "the old man", "the girl", "her mouth", "his eyes", "the left brow", "their face", "the jaw"]
VERBS = ["slowly", "suddenly", "barely", "gently", "nervously", "warmly", "sharply", "almost", "quietly"]
ACTIONS = [
    "frowns as if something smells bad",
    "breaks into a wide toothy grin",
    "drops open in complete surprise",
    "narrows to a suspicious squint",
    "lifts while the other stays still",
    "purses tight with disapproval",
    "puffs out the cheeks and exhales",
    "looks away toward the floor in shame",
    "knits together in deep concentration",
    "softens into a kind and patient smile",
    "trembles on the edge of tears",
    "rolls upward in exasperation",
]
TAILS = ["", "", "for a moment", "then relaxes", "without a word", "and holds it", "before glancing left"]


def clauses(count: int, seed: int = 0) -> list[str]:
    """Deterministic keyframe-like clauses of 5-15 words."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        words = " ".join([rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(ACTIONS), rng.choice(TAILS)]).split()
        if 5 <= len(words) <= 15:
            out.append(" ".join(words))
    return out


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall seconds and median process CPU seconds (all threads) of ``repeat`` calls of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def child(engine: str, count: int, repeat: int) -> dict[str, Any]:
    """Run one engine in this (fresh) process and return its measurements."""
    start = time.perf_counter()
    import numpy as np

    from keyframeface.models.bundled.encoder import load_encoder

    if engine == "numpy":
        encoder = load_encoder()
        load_s = time.perf_counter() - start

        def encode(texts: list[str], batch_size: int) -> Any:
            return encoder.encode(texts, batch_size=batch_size)

    else:
        import onnxruntime as ort

        from keyframeface.models.bundled.encoder.model_file import resolve_model_file
        from keyframeface.models.bundled.encoder.wordpiece import load_tokenizer

        tokenizer = load_tokenizer()
        session = ort.InferenceSession(str(resolve_model_file().path), providers=["CPUExecutionProvider"])
        load_s = time.perf_counter() - start

        def encode(texts: list[str], batch_size: int) -> Any:
            rows = []
            for first in range(0, len(texts), batch_size):
                ids_list = tokenizer.encode_batch(texts[first : first + batch_size])
                length = max(len(ids) for ids in ids_list)
                ids = np.zeros((len(ids_list), length), dtype=np.int64)
                mask = np.zeros_like(ids)
                for row, item in enumerate(ids_list):
                    ids[row, : len(item)] = item
                    mask[row, : len(item)] = 1
                hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids})[0]
                weights = mask[:, :, None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
                rows.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
            return np.concatenate(rows).astype(np.float32)

    texts = clauses(count)
    encode(texts[:4], 4)  # warm-up: first-call allocations, BLAS thread start
    batch1_s, batch1_cpu = (v / len(texts) for v in _timed(lambda: [encode([t], 1) for t in texts], repeat))
    batch32_s, batch32_cpu = (v / len(texts) for v in _timed(lambda: encode(texts, 32), repeat))
    keyframe_s, _ = (v / 10 for v in _timed(lambda: [encode(texts[i : i + 3], 32) for i in range(0, 30, 3)], repeat))
    import resource

    vectors = encode(texts, 32)
    return {
        "engine": engine,
        "load_s": load_s,
        "batch1_ms": 1000 * batch1_s,
        "batch1_cpu_ms": 1000 * batch1_cpu,
        "batch32_ms": 1000 * batch32_s,
        "batch32_cpu_ms": 1000 * batch32_cpu,
        "keyframe3_ms": 1000 * keyframe_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vectors": vectors.tolist(),
    }


def run_child(engine: str, count: int, repeat: int) -> dict[str, Any] | None:
    command = [sys.executable, __file__, "--child", engine, "--clauses", str(count), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{engine}: failed ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode})")
        return None
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes per measurement (median)")
    parser.add_argument("--clauses", type=int, default=64, help="number of short clauses")
    parser.add_argument("--child", choices=["numpy", "ort"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.clauses, args.repeat)))
        return

    import importlib.util

    import numpy as np

    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{__import__('os').cpu_count()} CPUs; {args.clauses} clauses of 5-15 words, median of {args.repeat}")
    results = {"numpy": run_child("numpy", args.clauses, args.repeat)}
    if importlib.util.find_spec("onnxruntime") is not None:
        results["ort"] = run_child("ort", args.clauses, args.repeat)
    else:
        print("onnxruntime not installed: numpy only")
    print(f"load average {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())} (other processes skew wall times)")
    print(f"{'engine':8} {'load s':>7} {'b1 ms/sent':>11} {'(cpu)':>7} {'b32 ms/sent':>12} {'(cpu)':>7} "
          f"{'3-clause ms':>12} {'peak RSS MB':>12}")
    for name, row in results.items():
        if row:
            print(f"{name:8} {row['load_s']:7.3f} {row['batch1_ms']:11.2f} {row['batch1_cpu_ms']:7.2f} "
                  f"{row['batch32_ms']:12.2f} {row['batch32_cpu_ms']:7.2f} {row['keyframe3_ms']:12.2f} "
                  f"{row['peak_rss_mb']:12.0f}")
    numpy_row, ort_row = results.get("numpy"), results.get("ort")
    if numpy_row and ort_row:
        print("numpy / ort ratios: " + ", ".join(
            f"{key} {numpy_row[key] / ort_row[key]:.2f}x"
            for key in ("load_s", "batch1_ms", "batch32_ms", "keyframe3_ms", "peak_rss_mb")
        ))
        a, b = np.asarray(numpy_row["vectors"]), np.asarray(ort_row["vectors"])
        print(f"min cosine numpy vs ort over {len(a)} clauses: {float((a * b).sum(axis=1).min()):.6f}")


if __name__ == "__main__":
    main()
