"""``keyframeface render IN -o OUT``: previews a person can open (PNG, SVG, GIF, MP4, curve plots).

IN is a keyframes JSON, an animation JSON, a Live Link Face CSV (or .npz) or a script (generated first with the
chosen backend). OUT's extension picks the output:

* ``.png``: a contact sheet (one panel per keyframe), or one face with ``--time-s`` / ``--keyframe``, or a plot of
  channel curves with ``--curves`` (``--channels`` chooses them);
* ``.svg``: one face (``--time-s`` / ``--keyframe``; default the first keyframe or frame), 2D renderer only;
* ``.gif`` / ``.mp4``: the animation (keyframes are animated first).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, ScriptError
from ..script import Animation, Keyframes, Script

__all__ = ["add_parser", "frame_progress", "run", "write_animate_previews"]

OUTPUTS = (".png", ".svg", ".gif", ".mp4")


def add_parser(sub: Any) -> None:
    from .common import add_backend_args

    p = sub.add_parser("render", help="preview images: contact sheet, single face, GIF/MP4, curve plot",
                       description="Render previews of keyframes, animations, captures or scripts. The output "
                       "extension picks the kind: .png (contact sheet, one face with --time-s/--keyframe, or "
                       "--curves), .svg (one face), .gif or .mp4 (the animation).")
    p.add_argument("input", nargs="?",
                   help="keyframes or animation JSON, Live Link Face CSV, .npz, or a script to generate")
    p.add_argument("-o", "--output", required=True, help="output file: .png, .svg, .gif or .mp4")
    p.add_argument("--renderer", default="2d", help="face renderer: 2d (built in) or 3d (default: %(default)s)")
    p.add_argument("--size", type=int, default=None,
                   help="face size in pixels (default: 256 for sheets and videos, 512 for single faces)")
    p.add_argument("--time-s", type=float, default=None, help="render the single face at this time (seconds)")
    p.add_argument("--keyframe", type=int, default=None, help="render the single face of keyframe N (1-based)")
    p.add_argument("--curves", action="store_true", help="plot channel curves over time instead of faces (.png)")
    p.add_argument("--channels", default=None,
                   help="comma-separated channels for --curves (default: the most active ones)")
    p.add_argument("--fps", type=float, default=None, help="video frame rate (default: 25 for GIF, the take's for MP4)")
    p.add_argument("--columns", type=int, default=None, help="contact sheet panels per row (default: up to 4)")
    p.add_argument("--count", type=int, default=8, help="frames shown on a sheet of a capture without keyframes")
    p.add_argument("--gallery", action="store_true",
                   help="no input: a .png of every channel alone at 1.0 (the rig at a glance)")
    p.add_argument("--no-life", dest="life", action="store_false",
                   help="animate keyframes without blinks, saccades or head motion")
    add_backend_args(p)
    p.set_defaults(run=run)


@contextmanager
def frame_progress(desc: str, *, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr (frames) driven by ``callback(done, total)``; silent when quiet or not a terminal."""
    from tqdm import tqdm

    bar: Any = tqdm(total=0, desc=desc, unit="frame", file=sys.stderr, disable=quiet or None, leave=False)
    try:

        def update(done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total=total)
            bar.n = done
            bar.refresh()

        yield update
    finally:
        bar.close()


def write_animate_previews(anim: Animation, outdir: Path, stem: str, *, video: str, quiet: bool) -> list[Path]:
    """``keyframeface animate --preview``: the sheet, the curve plot and the GIF/MP4 beside the other files."""
    from ..render import write_previews

    with frame_progress("preview", quiet=quiet) as update:
        return write_previews(anim, outdir, stem, video=video, progress=update)


def _read_input(args: argparse.Namespace) -> Keyframes | Animation:
    from ..io.registry import read_any

    obj = read_any(args.input)
    if isinstance(obj, Script):
        from .cmd_generate import run_generate

        # run_generate reads the script from args.script / args.text, as ``generate`` does.
        gen_args = argparse.Namespace(**vars(args))
        gen_args.script, gen_args.text = args.input, None
        return run_generate(gen_args)
    return obj


def _animation(obj: Keyframes | Animation, *, life: bool) -> Animation:
    if isinstance(obj, Animation):
        return obj
    from ..animate import animate

    return animate(obj, life=life)


def _single_values(obj: Keyframes | Animation, *, time_s: float | None, keyframe: int | None) -> np.ndarray:
    """The (61,) values of one face: at ``time_s``, of keyframe ``keyframe`` (1-based), else the first pose."""
    if time_s is not None and keyframe is not None:
        raise ScriptError("give --time-s or --keyframe, not both")
    if keyframe is not None:
        keys = obj.keyframes if isinstance(obj, Animation) else obj
        if keys is None or not len(keys):
            raise ScriptError("--keyframe needs keyframes; this input has none (use --time-s)")
        if not 1 <= keyframe <= len(keys):
            raise ScriptError(f"--keyframe must be between 1 and {len(keys)}, got {keyframe}")
        return keys.keyframes[keyframe - 1].array
    if time_s is None:
        if isinstance(obj, Keyframes):
            return obj.keyframes[0].array if len(obj) else np.zeros(61, np.float32)
        if obj.num_frames == 0:
            raise FormatError("the animation has no frames")
        return obj.frames[0]
    anim = _animation(obj, life=False)
    if not 0.0 <= time_s <= anim.duration_s + 1e-9:
        raise ScriptError(f"--time-s must be within [0, {anim.duration_s:.3f}] seconds, got {time_s:g}")
    times = anim.frame_times() - anim.frame_times()[0]
    return np.array([np.interp(time_s, times, anim.frames[:, j]) for j in range(anim.frames.shape[1])],
                    dtype=np.float32)


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    ext = out.suffix.lower()
    if ext not in OUTPUTS:
        raise FormatError(f"cannot tell what to render from {ext or 'no extension'!r}; use one of {', '.join(OUTPUTS)}")
    if args.curves and ext != ".png":
        raise FormatError("--curves writes a .png plot; give an output ending in .png")
    if args.channels and not args.curves:
        raise ScriptError("--channels chooses the curves of --curves; add --curves")
    if out.exists() and out.is_dir():
        raise FormatError(f"--output {out} is a folder; give a file name ending in {ext or '.png'}")
    if args.gallery:
        if args.input or ext != ".png":
            raise ScriptError("--gallery takes no input file and writes a .png")
        from ..render.raster import write_png
        from ..render.sheet import channel_gallery

        with frame_progress("gallery", quiet=args.quiet) as update:
            write_png(channel_gallery(renderer=args.renderer, size=args.size or 160,
                                      columns=args.columns or 8, progress=update), out)
        if not args.quiet:
            print(f"wrote {os.fspath(out)}", file=sys.stderr)
        return 0
    if not args.input:
        raise ScriptError("give an INPUT file to render (or --gallery)")
    if not Path(args.input).exists():
        raise FormatError(f"cannot read {args.input}: no such file")
    obj = _read_input(args)
    single = args.time_s is not None or args.keyframe is not None
    if ext == ".svg" or (ext == ".png" and single and not args.curves):
        values = _single_values(obj, time_s=args.time_s, keyframe=args.keyframe)
        size = args.size or 512
        if ext == ".svg":
            if args.renderer != "2d":
                raise FormatError("SVG is drawn by the 2d renderer only; use --renderer 2d or write a .png")
            from ..io.atomic import atomic_write_text
            from ..render.face2d import face_svg

            atomic_write_text(out, face_svg(values, size=size))
        else:
            from ..render import get_renderer
            from ..render.raster import write_png

            write_png(get_renderer(args.renderer).render(values, size=size), out)
    elif ext == ".png" and args.curves:
        from ..render.curves import write_curves

        channels = [c.strip() for c in args.channels.split(",") if c.strip()] if args.channels else None
        write_curves(_animation(obj, life=False) if isinstance(obj, Keyframes) else obj, out, channels=channels)
    elif ext == ".png":
        from ..render.sheet import write_sheet

        with frame_progress("sheet", quiet=args.quiet) as update:
            write_sheet(obj, out, renderer=args.renderer, size=args.size or 256, columns=args.columns,
                        count=args.count, progress=update)
    else:
        from ..render.video import write_video

        anim = _animation(obj, life=args.life)
        with frame_progress(ext[1:], quiet=args.quiet) as update:
            write_video(anim, out, renderer=args.renderer, size=args.size or 256, fps=args.fps, progress=update)
    if not args.quiet:
        print(f"wrote {os.fspath(out)}", file=sys.stderr)
    return 0
