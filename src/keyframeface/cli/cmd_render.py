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
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from ..errors import FormatError, ScriptError
from ..script import Animation, Keyframes, Script

__all__ = ["add_parser", "frame_progress", "run", "write_animate_previews"]

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
        from ..pipeline import run as run_pipeline
        from .common import backend_options, generate_options
        from .outputs import stage_progress

        with stage_progress(quiet=args.quiet) as progress:
            return run_pipeline(obj, backend=args.backend, backend_options=backend_options(args),
                                generate_options=generate_options(args), stop_after="generate",
                                progress=progress).keyframes
    return obj


def run(args: argparse.Namespace) -> int:
    from ..render.outputs import find_output, output_suffixes, render

    out = Path(args.output)
    ext = out.suffix.lower()
    if ext not in output_suffixes():
        find_output(out)  # raises: no output writes this suffix
    if args.curves and ext != ".png":
        raise FormatError("--curves writes a .png plot; give an output ending in .png")
    if args.channels and not args.curves:
        raise ScriptError("--channels chooses the curves of --curves; add --curves")
    if out.exists() and out.is_dir():
        raise FormatError(f"--output {out} is a folder; give a file name ending in {ext or '.png'}")
    kind: str | None
    if args.gallery:
        if args.input or ext != ".png":
            raise ScriptError("--gallery takes no input file and writes a .png")
        obj = None
        kind = "gallery"
    else:
        if not args.input:
            raise ScriptError("give an INPUT file to render (or --gallery)")
        if not Path(args.input).exists():
            raise FormatError(f"cannot read {args.input}: no such file")
        obj = _read_input(args)
        kind = "curves" if args.curves else None
    output = find_output(out, kind=kind, single=args.time_s is not None or args.keyframe is not None)
    # Progress bars for the outputs that draw many faces, named as before ("sheet", "gif", "mp4", "gallery").
    bar = {"sheet": "sheet", "gallery": "gallery", "video": ext[1:]}.get(output.name)
    channels = [c.strip() for c in args.channels.split(",") if c.strip()] if args.channels else None
    with frame_progress(bar, quiet=args.quiet) if bar else nullcontext(None) as update:
        render(obj, out, kind=output.name, renderer=args.renderer, size=args.size, time_s=args.time_s,
               keyframe=args.keyframe, channels=channels, fps=args.fps, columns=args.columns, count=args.count,
               life=args.life, progress=update)
    if not args.quiet:
        print(f"wrote {os.fspath(out)}", file=sys.stderr)
    return 0
