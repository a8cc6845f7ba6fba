"""Benchmark of the animation engine: interpolation throughput and a whole hour of animate() with life layers.

Prints, for one hour at 60 fps (216,000 frames x 61 channels = 13.2 M channel-samples):

(a) ``interpolate()`` for every method with one keyframe per second (3,601 keyframes, the release's pace, plus a
    hold knot after each: 7,202 knots): best and median wall time of ``--repeat`` runs and channel-samples per
    second;
(b) ``animate()`` with every layer (fitted transitions, micro-motion, life) over the same hour, from 256 keyframes
    with given times, with the micro-motion and life layers also timed on their own.

Run from the repository root::

    .venv/bin/python benchmarks/bench_animate.py [--seconds 3600] [--fps 60] [--repeat 3]

Self-contained (random keyframes, fixed seed); takes about ten seconds on two cores.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from keyframeface import rig
from keyframeface.animate import animate, expand_holds, interpolate, interpolators
from keyframeface.animate.engine import frame_times
from keyframeface.animate.life import add_fitted_life
from keyframeface.animate.micro import add_micro_motion
from keyframeface.models.motion import load_motion
from keyframeface.script import MAX_KEYFRAMES, Keyframes


def random_poses(count: int, seed: int) -> np.ndarray:
    """(count, 61) float32 poses within the rig's ranges, eye rotations consistent with eyeLook."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(count, rig.NUM_CHANNELS)) ** 2  # mostly small values, like real expressions
    return rig.sync_eye_rotations((rig.LOW + (rig.HIGH - rig.LOW) * u).astype(np.float32) * 0.8)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    t = frame_times(args.seconds, args.fps)
    samples = t.shape[0] * rig.NUM_CHANNELS
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}; {args.seconds:g} s at {args.fps:g} fps = {t.shape[0]:,} frames x "
        f"{rig.NUM_CHANNELS} channels = {samples:,} channel-samples; best / median of {args.repeat}"
    )

    count = int(args.seconds) + 1  # one keyframe per second
    key_t = np.arange(count, dtype=np.float64)
    knot_t, knot_v = expand_holds(key_t, random_poses(count, 0), np.full(count, 0.4))
    print(f"\n(a) interpolate(): {count:,} keyframes, {knot_t.shape[0]:,} knots with holds")
    print(f"{'method':<8} {'best s':>8} {'median s':>9} {'M samples/s':>12}")
    for method in interpolators():
        run = functools.partial(interpolate, knot_t, knot_v, t, method=method)
        runs = timed(run, args.repeat)
        print(
            f"{method:<8} {min(runs):8.3f} {statistics.median(runs):9.3f} {samples / min(runs) / 1e6:12.1f}"
        )

    k = min(MAX_KEYFRAMES, count)
    keys = Keyframes.from_array(random_poses(k, 1), times_s=list(np.linspace(0.0, args.seconds - 1.0, k)))
    print(f"\n(b) animate(): {k} keyframes over {args.seconds:g} s, fitted transitions, all life layers")
    runs = timed(lambda: animate(keys, fps=args.fps, duration_s=args.seconds), args.repeat)
    anim = animate(keys, fps=args.fps, duration_s=args.seconds)
    base = animate(keys, fps=args.fps, duration_s=args.seconds, life=False)
    model = load_motion()

    def layers() -> None:  # what life adds on top of the transitions: micro-motion, head, saccades, blinks
        t = base.frame_times()
        frames = add_micro_motion(base.frames, t, model=model, rng=np.random.default_rng(0))
        add_fitted_life(frames, t, model=model, seed=0)

    life_runs = timed(layers, args.repeat)
    print(
        f"animate() total      best {min(runs):.3f} s, median {statistics.median(runs):.3f} s "
        f"({samples / min(runs) / 1e6:.1f} M samples/s)"
    )
    print(f"  of which micro+life best {min(life_runs):.3f} s, median {statistics.median(life_runs):.3f} s")
    life = anim.meta["life"]
    print(
        f"  {anim.num_frames:,} frames; {life['blinks']} blinks "
        f"({life['blinks'] / args.seconds * 60:.1f}/min), "
        f"{life.get('saccades', life.get('fixations', 0))} saccades; frames {anim.frames.nbytes / 2**20:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
