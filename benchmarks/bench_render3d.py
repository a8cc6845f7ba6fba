"""Benchmark of the 3D head renderer: seconds per frame for the OpenGL (moderngl/EGL) and numpy back ends.

For each back end and image size, renders ``--frames`` different expressions (random poses, fixed seed: posing,
normals, drawing and compositing all included, as ``Head3DRenderer.render`` does them) after one warm-up
frame, and prints the median and best seconds per frame and frames per second. Posing alone is timed too.

Run from the repository root (needs the ICT head in the shared folder, or ``--asset``)::

    .venv/bin/python benchmarks/bench_render3d.py [--sizes 256 512] [--frames 10] [--asset PATH]

A back end that cannot run here (no moderngl / EGL) is reported as unavailable.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from keyframeface import rig
from keyframeface.errors import BackendUnavailableError
from keyframeface.render.head3d import Head3DRenderer


def random_poses(count: int, seed: int) -> np.ndarray:
    """(count, 61) float32 plausible poses: mostly small blendshape values, modest head and eye turns."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(count, rig.NUM_CHANNELS)) ** 2
    v = (rig.LOW + (rig.HIGH - rig.LOW) * u).astype(np.float32)
    v[:, rig.NUM_BLENDSHAPES :] *= 0.3
    return rig.clamp(v)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--backends", nargs="+", default=["gl", "numpy"], choices=["gl", "numpy"])
    parser.add_argument("--asset", default=None, help="ict_arkit52.npz (default: the shared folder's)")
    args = parser.parse_args(argv)
    poses = random_poses(args.frames + 1, seed=0)
    print(
        f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"{'backend':8} {'size':>5} {'median s/frame':>15} {'best s/frame':>13} {'frames/s':>9}")
    for backend in args.backends:
        try:
            renderer = Head3DRenderer(asset=args.asset, backend=backend)
        except BackendUnavailableError as exc:
            print(f"{backend:8} unavailable: {exc}")
            continue
        for size in args.sizes:
            renderer.render(poses[0], size=size)  # warm-up: buffers, shader compile, caches
            runs = []
            for v in poses[1:]:
                start = time.perf_counter()
                renderer.render(v, size=size)
                runs.append(time.perf_counter() - start)
            med = statistics.median(runs)
            print(f"{renderer.backend_name:8} {size:5d} {med:15.4f} {min(runs):13.4f} {1.0 / med:9.1f}")
    mesh = Head3DRenderer(asset=args.asset, backend="numpy").mesh
    runs = []
    for v in poses[1:]:
        start = time.perf_counter()
        mesh.pose(v)
        runs.append(time.perf_counter() - start)
    print(f"posing alone (blendshapes, normals, eyes, head): {statistics.median(runs):.4f} s median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
