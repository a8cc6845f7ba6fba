"""``keyframeface animate SCRIPT.json -o OUTDIR``: the main job.

Plan (if the script is free text), generate keyframes, animate them (timing, interpolation, life layers) and write
the keyframes JSON plus the animation as Live Link Face CSV, animation JSON and glTF (``--format`` selects).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import GenerationError, ScriptError
from ..script import Keyframes, save_json
from .cmd_generate import run_generate

DEFAULT_FORMATS = ("csv", "json", "glb")
ALL_FORMATS = ("csv", "json", "glb", "gltf", "npz")


def add_parser(sub: Any) -> None:
    from .common import add_backend_args, add_script_args

    p = sub.add_parser("animate", help="script -> keyframes + animation files (CSV, JSON, glTF): the main job",
                       description="Generate keyframes for a script and animate them into files that MetaHuman / "
                       "Unreal (Live Link Face CSV), Blender and game engines (glTF) open.")
    add_script_args(p)
    add_backend_args(p)
    p.add_argument("-o", "--output", required=True, help="output folder (created if needed)")
    p.add_argument("--name", default=None, help="file name stem (default: the script's stem, or 'animation')")
    p.add_argument("--format", default=",".join(DEFAULT_FORMATS),
                   help=f"comma-separated output formats among {', '.join(ALL_FORMATS)} (default: %(default)s)")
    p.add_argument("--fps", type=float, default=60.0, help="frame rate (default: %(default)s)")
    p.add_argument("--duration-s", type=float, default=None, help="total duration when keyframes carry no times")
    p.add_argument("--method", default=None, help="interpolation method (step, linear, cubic, pchip, akima)")
    p.add_argument("--no-life", dest="life", action="store_false", help="no blinks, saccades or head motion")
    p.add_argument("--no-blinks", dest="blinks", action="store_false", help="no automatic blinks")
    p.add_argument("--no-saccades", dest="saccades", action="store_false", help="no eye saccades")
    p.add_argument("--no-head-motion", dest="head_motion", action="store_false", help="no head drift / breathing")
    p.add_argument("--explain", action="store_true", help="record and print which phrase produced which channels")
    p.add_argument("--preview", nargs="?", const="gif", default=None, choices=("gif", "mp4"),
                   help="also write previews: a contact sheet, a curve plot and a GIF (or --preview mp4); "
                   "needs the [render] extra")
    p.set_defaults(run=run)


def _formats(spec: str) -> list[str]:
    formats = [f.strip().lower().lstrip(".") for f in spec.split(",") if f.strip()]
    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown or not formats:
        raise ScriptError(f"unknown --format {','.join(unknown) or spec!r}; choose among {', '.join(ALL_FORMATS)}")
    return list(dict.fromkeys(formats))


def run(args: argparse.Namespace) -> int:
    from ..animate import animate
    from ..io.registry import export
    from .cmd_generate import print_explanations

    formats = _formats(args.format)
    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise ScriptError(f"--output {outdir} exists and is not a folder")
    stem = args.name or (Path(args.script).stem if args.script and args.script != "-" else "animation")
    keys_path = outdir / f"{stem}.keyframes.json"
    try:
        keys = run_generate(args)
    except GenerationError as exc:
        if isinstance(exc.partial, Keyframes):
            save_json(exc.partial, keys_path)
            print(f"keyframeface: partial keyframes saved to {keys_path}", file=sys.stderr)
        raise
    if args.explain:
        print_explanations(keys)
    anim = animate(
        keys,
        fps=args.fps,
        duration_s=args.duration_s,
        method=args.method,
        life=args.life,
        blinks=args.blinks,
        saccades=args.saccades,
        head_motion=args.head_motion,
        seed=args.seed,
    )
    save_json(anim.keyframes if anim.keyframes is not None else keys, keys_path)
    written = [keys_path]
    for fmt in formats:
        written.append(export(anim, outdir / f"{stem}.{fmt}", format=fmt))
    if args.preview:
        from .cmd_render import write_animate_previews

        written.extend(write_animate_previews(anim, outdir, stem, video=args.preview, quiet=args.quiet))
    if not args.quiet:
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
        print(f"{len(keys)} keyframes, {anim.num_frames} frames at {anim.fps:g} fps ({anim.duration_s:.2f} s)",
              file=sys.stderr)
    return 0
