"""Peak memory of converting a big Live Link Face CSV: the streaming path against reading the whole take.

Writes a synthetic take of ``--mb`` megabytes (default 200) to ``/tmp`` (kept for the next run), then converts it
in a child process for each output format asked for, twice: with ``keyframeface.convert`` (the streaming path for
CSV and JSON output, :mod:`keyframeface.io.livelink_stream`) and with the whole-take path (``read_any`` then
``export``, what ``convert`` did before). Prints the child's peak RSS, its ratio to the input size, the wall time,
and whether both paths wrote the same bytes. Run from the repository root::

    .venv/bin/python benchmarks/bench_convert_memory.py [--mb 200] [--formats json csv] [--skip-baseline]

The take is 60 fps with a 60 fps frame field, 10-decimal values like the app, a tracking-loss row (``timecode,0``)
every 997 rows, a ragged row every 50,000 rows and values just past 1.0 (clamped on reading) every 1,000 rows.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from keyframeface import rig

_ROW_BYTES = 13 * rig.NUM_CHANNELS + 20  # "0.1234567890," per value plus the timecode and count


def timecode(frame: int) -> str:
    """``HH:MM:SS:FF.000`` of frame ``frame`` at 60 fps, starting at 10:00:00."""
    seconds, ff = divmod(frame, 60)
    seconds += 10 * 3600
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}.000"


def make_take(path: Path, megabytes: float, seed: int = 0) -> int:
    """Write the synthetic take to ``path`` (atomically); returns its number of rows."""
    rows = int(megabytes * 1e6 / _ROW_BYTES)
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    fmt = ",".join(["%.10f"] * rig.NUM_CHANNELS)
    with tmp.open("w", newline="") as out:
        out.write(",".join(["Timecode", "BlendShapeCount", *rig.CHANNELS]) + "\n")
        for start in range(0, rows, 4096):
            n = min(4096, rows - start)
            values = rng.random((n, rig.NUM_CHANNELS)) * (rig.HIGH - rig.LOW) + rig.LOW
            lines = []
            for i, row in enumerate(values.tolist()):
                frame = start + i
                if frame % 1000 == 500:
                    row[3] = 1.0125  # a capture's overshoot: clamped on reading
                text = fmt % tuple(row)
                if frame % 997 == 996:
                    lines.append(f"{timecode(frame)},0\n")  # tracking lost
                elif frame % 50000 == 25000:
                    lines.append(f"{timecode(frame)},61,{text.rsplit(',', 5)[0]}\n")  # a truncated row
                else:
                    lines.append(f"{timecode(frame)},61,{text}\n")
            out.write("".join(lines))
    os.replace(tmp, path)
    return rows


_STREAMED = "from keyframeface.convert import convert; import sys; convert(sys.argv[1], sys.argv[2])"
_WHOLE = ("from keyframeface.io.registry import read_any, export; import sys; "
          "export(read_any(sys.argv[1]), sys.argv[2])")


def run_child(code: str, src: Path, dst: Path) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; returns (peak RSS in MB, wall seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-W", "ignore", "-c", code, str(src), str(dst)])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the conversion to {dst} failed")
    return usage.ru_maxrss / 1024.0, wall  # ru_maxrss is in KiB on Linux


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the synthetic take in MB")
    parser.add_argument("--formats", nargs="+", default=["json", "csv"], help="output formats to convert to")
    parser.add_argument("--skip-baseline", action="store_true", help="only run the streaming path")
    parser.add_argument("--folder", type=Path, default=Path("/tmp"), help="where the take and outputs go")
    args = parser.parse_args()
    src = args.folder / f"kff-bench-take-{args.mb:g}mb.csv"
    if not src.exists():
        start = time.perf_counter()
        rows = make_take(src, args.mb)
        print(f"wrote {src}: {rows:,} rows in {time.perf_counter() - start:.1f} s")
    size_mb = src.stat().st_size / 1e6
    print(f"input {src}: {size_mb:.1f} MB; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    baseline_rss, _ = run_child("import keyframeface.convert", src, src)
    print(f"interpreter with keyframeface imported: {baseline_rss:.0f} MB")
    for fmt in args.formats:
        streamed_out = args.folder / f"kff-bench-out-stream.{fmt}"
        rss, wall = run_child(_STREAMED, src, streamed_out)
        print(f"{fmt:5s} streamed: peak RSS {rss:7.0f} MB = {rss / size_mb:.2f}x input, {wall:6.1f} s")
        if not args.skip_baseline:
            whole_out = args.folder / f"kff-bench-out-whole.{fmt}"
            rss_w, wall_w = run_child(_WHOLE, src, whole_out)
            same = digest(streamed_out) == digest(whole_out)
            print(f"{fmt:5s} whole:    peak RSS {rss_w:7.0f} MB = {rss_w / size_mb:.2f}x input, {wall_w:6.1f} s; "
                  f"same bytes: {same}")
            whole_out.unlink()
        streamed_out.unlink()


if __name__ == "__main__":
    main()
