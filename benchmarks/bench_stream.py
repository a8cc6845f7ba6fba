"""Benchmark of `keyframeface stream`'s pacing: packets received on 127.0.0.1 against their real-time schedule.

Streams a synthetic animation (``--seconds`` at ``--fps``) to a receiver thread on loopback that timestamps each
packet on arrival, then prints the packet count, the mean and spread of the inter-arrival interval against the
nominal ``1/fps``, and the lateness of each arrival against its deadline (median, p99, max), plus the sender's own
lateness report. Run from the repository root::

    .venv/bin/python benchmarks/bench_stream.py [--seconds 10] [--fps 60]

Self-contained; takes ``--seconds`` plus a moment. Jitter depends on the machine's load: run it on an idle one.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import socket
import threading
import time

import numpy as np

from keyframeface import rig
from keyframeface.io.livelink_udp import decode_packet
from keyframeface.script import Animation
from keyframeface.stream import stream


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=60.0)
    args = parser.parse_args(argv)

    n = int(args.seconds * args.fps)
    frames = np.zeros((n, rig.NUM_CHANNELS), dtype=np.float32)
    frames[:, rig.CHANNEL_INDEX["JawOpen"]] = 0.5 + 0.5 * np.sin(np.arange(n) / args.fps * 2 * np.pi)
    anim = Animation(frames=frames, fps=args.fps)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    arrivals: list[float] = []
    packets: list[bytes] = []

    def receive() -> None:
        while len(packets) < n:
            try:
                data = sock.recv(4096)
            except OSError:
                return
            arrivals.append(time.perf_counter())
            packets.append(data)

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    report = stream(anim, "127.0.0.1", sock.getsockname()[1], subject="bench")
    thread.join(3.0)
    sock.close()

    t = np.asarray(arrivals)
    gaps = np.diff(t)
    late = (t - t[0]) - np.arange(t.size) / args.fps
    decoded = [decode_packet(p) for p in packets]
    in_order = all(b.frame - a.frame == 1 for a, b in itertools.pairwise(decoded))
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}; "
          f"{args.seconds:g} s at {args.fps:g} fps = {n} packets to 127.0.0.1")
    print(f"received {t.size} / {n} packets, frame numbers consecutive: {in_order}")
    print(f"wall time {t[-1] - t[0]:.4f} s for {(n - 1) / args.fps:.4f} s scheduled "
          f"(ratio {(t[-1] - t[0]) / ((n - 1) / args.fps):.5f})")
    print(f"inter-arrival: mean {gaps.mean() * 1e3:.3f} ms (nominal {1e3 / args.fps:.3f}), "
          f"std {gaps.std() * 1e3:.3f} ms, min {gaps.min() * 1e3:.3f}, max {gaps.max() * 1e3:.3f}")
    print(f"arrival lateness vs schedule: median {np.median(late) * 1e3:.3f} ms, "
          f"p99 {np.percentile(late, 99) * 1e3:.3f} ms, max {late.max() * 1e3:.3f} ms")
    print(f"sender's report: lateness mean {report.late_mean_s * 1e3:.3f} ms, p99 {report.late_p99_s * 1e3:.3f} ms, "
          f"max {report.late_max_s * 1e3:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
