"""``keyframeface fetch-ict``: download the ICT-FaceKit head (MIT) and convert it for the 3D preview."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["add_parser", "main", "run"]


def add_parser(sub: Any) -> None:
    from ..head.fetch import DEFAULT_REF, default_asset_dir

    p = sub.add_parser(
        "fetch-ict",
        help="download the ICT-FaceKit head for 3D previews and glTF (needs network)",
        description="Download the ICT-FaceKit head (MIT licence) from its public GitHub repository and convert it "
        "to the .npz the 3D renderer and the glTF exporter read (see docs/ict_asset.md).",
    )
    p.add_argument("-o", "--output", default=None, help=f"output folder or .npz file (default {default_asset_dir()})")
    p.add_argument("--ref", default=DEFAULT_REF, help="git commit, tag or branch to download (default %(default)s)")
    p.add_argument("--url", default=None, help="a zip of the repository to download instead of GitHub's archive")
    p.add_argument("--from-dir", default=None, help="convert a local ICT-FaceKit checkout instead (no download)")
    p.add_argument("--timeout-s", type=float, default=120.0, help="network timeout in seconds")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..head.fetch import convert_ict, default_asset_dir, fetch_ict

    out = args.output or default_asset_dir()
    if args.from_dir:
        path = convert_ict(args.from_dir, out)
    else:
        from tqdm import tqdm

        with tqdm(unit="B", unit_scale=True, desc="ICT-FaceKit", file=sys.stderr, disable=args.quiet or None) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total or None
                bar.update(done - bar.n)

            path = fetch_ict(out, ref=args.ref, url=args.url, timeout_s=args.timeout_s, progress=progress)
    sys.stdout.write(f"{path}\n")
    return 0


def main(argv: Sequence[str]) -> int:
    """``keyframeface fetch-ict ARGV`` : exit code."""
    from .main import main as cli_main

    return cli_main(["fetch-ict", *argv])
