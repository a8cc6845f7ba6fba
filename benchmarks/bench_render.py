"""Benchmark of the 2D face renderer and the preview writers.

Prints, for each size: seconds per frame for the geometry alone (``face_shapes``), for SVG text and for a raster
frame (Pillow, supersample 2), then the time to render a 10 s animation (600 frames at 60 fps, 300 at 30 fps)
and to write it as GIF (25 fps) and MP4 (30 fps).

Run from the repository root::

    .venv/bin/python benchmarks/bench_render.py [--sizes 256,512] [--seconds 10] [--repeat 3]

Self-contained (an animation of random keyframes, fixed seed); needs the [render] extra.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from keyframeface import rig
from keyframeface.animate import animate
from keyframeface.render.face2d import Face2DRenderer, face_shapes, face_svg
from keyframeface.render.video import resample, write_video
from keyframeface.script import Keyframes


def random_poses(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(count, rig.NUM_CHANNELS)) ** 2
    return rig.sync_eye_rotations((rig.LOW + (rig.HIGH - rig.LOW) * u).astype(np.float32) * 0.6)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import PIL

    sizes = [int(s) for s in args.sizes.split(",")]
    k = max(2, int(args.seconds / 1.5))
    keys = Keyframes.from_array(random_poses(k, 0), times_s=list(np.linspace(0.0, args.seconds - 0.5, k)))
    anim = animate(keys, fps=60.0, duration_s=args.seconds)
    print(f"# {platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}, "
          f"Pillow {PIL.__version__}, {platform.machine()}; {anim.num_frames} frames at 60 fps "
          f"({anim.duration_s:.2f} s); best / median of {args.repeat}")
    face = Face2DRenderer()
    sample = anim.frames[:: max(1, anim.num_frames // 60)]  # 60 varied frames for per-frame timings

    def per_frame(fn: Callable[[np.ndarray], object]) -> list[float]:
        return [r / len(sample) for r in timed(lambda: [fn(v) for v in sample], args.repeat)]

    geo = per_frame(face_shapes)
    print(f"\ngeometry (face_shapes)       {min(geo) * 1e3:7.2f} ms/frame (median {statistics.median(geo) * 1e3:.2f})")
    for size in sizes:
        svg = per_frame(lambda v, s=size: face_svg(v, size=s))  # type: ignore[misc]
        ras = per_frame(lambda v, s=size: face.render(v, size=s))  # type: ignore[misc]
        print(f"size {size:4d}: svg {min(svg) * 1e3:6.2f} ms/frame, raster {min(ras) * 1e3:6.2f} ms/frame "
              f"(median {statistics.median(ras) * 1e3:.2f})")
    print()
    for size in sizes:
        for fps in (60.0, 30.0):
            _, values = resample(anim, fps=fps)
            runs = timed(lambda values=values, s=size: [face.render(v, size=s) for v in values], 1)  # type: ignore[misc]
            print(f"size {size:4d}: render {values.shape[0]:4d} frames ({args.seconds:g} s at {fps:g} fps) "
                  f"{runs[0]:6.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            for ext, fps in ((".gif", 25.0), (".mp4", 30.0)):
                path = Path(tmp) / f"a{size}{ext}"
                runs = timed(lambda path=path, fps=fps, s=size: write_video(anim, path, size=s, fps=fps), 1)  # type: ignore[misc]
                print(f"size {size:4d}: write {ext} at {fps:g} fps  {runs[0]:6.2f} s, "
                      f"{path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
