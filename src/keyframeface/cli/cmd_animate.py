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
from ..pipeline import ALL_FORMATS, DEFAULT_FORMATS
from ..script import Keyframes
from .common import read_script_arg


def add_parser(sub: Any) -> None:
    from .common import add_animate_args, add_backend_args, add_script_args, add_writer_args

    p = sub.add_parser("animate", help="script -> keyframes + animation files (CSV, JSON, glTF): the main job",
                       description="Generate keyframes for a script and animate them into files that MetaHuman / "
                       "Unreal (Live Link Face CSV), Blender and game engines (glTF) open.")
    add_script_args(p)
    add_backend_args(p)
    p.add_argument("-o", "--output", required=True, help="output folder (created if needed)")
    p.add_argument("--name", default=None, help="file name stem (default: the script's stem, or 'animation')")
    p.add_argument("--format", default=",".join(DEFAULT_FORMATS),
                   help=f"comma-separated output formats among {', '.join(ALL_FORMATS)} (default: %(default)s)")
    add_animate_args(p)  # --fps, --duration-s, --method, --no-life ...: declared in keyframeface.options
    add_writer_args(p)  # --mesh, --target-names, --tracking-loss: options of the writers that take them
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
    from ..pipeline import partial_keyframes_path
    from ..pipeline import run as run_pipeline
    from .common import animate_options, backend_options, generate_options
    from .outputs import check_strict, print_explanations, stage_progress

    formats = _formats(args.format)
    from .common import writer_options

    per_format = writer_options(args, formats)
    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise ScriptError(f"--output {outdir} exists and is not a folder")
    stem = args.name or (Path(args.script).stem if args.script and args.script != "-" else "animation")
    script = read_script_arg(args)
    try:
        with stage_progress(quiet=args.quiet) as progress:
            result = run_pipeline(
                script,
                backend=args.backend,
                backend_options=backend_options(args),
                generate_options=generate_options(args),  # --seed, --policy ...: keyframeface.options
                animate_options=animate_options(args),  # --fps, --method, --no-life ...
                explain=args.explain,
                output=outdir,
                name=stem,
                formats=formats,
                format_options=per_format,
                preview=args.preview,
                progress=progress,
            )
    except GenerationError as exc:
        if isinstance(exc.partial, Keyframes):  # run saved the keyframes that succeeded
            print(f"keyframeface: partial keyframes saved to {partial_keyframes_path(outdir, stem)}", file=sys.stderr)
        raise
    keys, anim = result.keyframes, result.animation
    check_strict(args, keys)  # after writing: the files stay for inspection, the exit status says it failed
    assert anim is not None  # run animates unless told to stop after generating
    if args.explain:
        print_explanations(keys)
    if not args.quiet:
        for path in result.written:
            print(f"wrote {path}", file=sys.stderr)
        print(f"{len(keys)} keyframes, {anim.num_frames} frames at {anim.fps:g} fps ({anim.duration_s:.2f} s)",
              file=sys.stderr)
    return 0
