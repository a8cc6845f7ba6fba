"""``keyframeface eval motion``: the motion realism report against real captures.

Animates a fixed set of scripts (the packaged ``evaluate/data/motion_scripts.json``, or ``--scripts FILE``) with
the default pipeline (generate with ``--backend``, then animate with each clip's own seed unless ``--seed``), reads
a folder of real Live Link Face CSVs (``--real DIR``; default ``$KEYFRAMEFACE_SHARED/realdata`` or
``../shared/realdata``) and prints one Markdown table: every statistic on the real takes and on the generated
clips, its target and whether the clips meet it, and a Fréchet distance on 1 s windows relative to the
real-vs-real floor. ``--plots DIR`` draws real-vs-generated overlays as PNG; ``--json OUT`` writes the full
report. How each statistic is computed: docs/motion.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_motion_parser(evsub: Any) -> None:
    """Add the ``motion`` suite to the ``eval`` subcommands."""
    p = evsub.add_parser("motion", help="realism of the animation engine against real captures",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real", default=None, metavar="DIR",
                   help="folder of real Live Link Face CSVs (default: $KEYFRAMEFACE_SHARED/realdata or "
                   "../shared/realdata)")
    p.add_argument("--scripts", default=None, metavar="FILE",
                   help="motion scripts JSON to animate (default: the packaged set)")
    p.add_argument("--plots", default=None, metavar="DIR", help="write real-vs-generated overlay PNGs here")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="write the full report as JSON")
    p.add_argument("--backend", default="bundled", help="backend that generates the keyframes (default: %(default)s)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed for every clip's animation (default: each clip's own seed, as animate chooses it)")
    p.set_defaults(run=run_motion)


def run_motion(args: argparse.Namespace) -> int:
    from ..errors import ScriptError
    from ..evaluate.motion.report import motion_report, write_motion_report

    if args.seed is not None and args.seed < 0:
        raise ScriptError(f"--seed must be an integer >= 0, got {args.seed}")
    report = motion_report(args.real, scripts=args.scripts, backend=args.backend, seed=args.seed)
    sys.stdout.write(report.to_markdown())
    sys.stdout.flush()
    if args.json_out:
        write_motion_report(report, args.json_out)
        print(f"wrote {args.json_out}", file=sys.stderr)
    if args.plots:
        from ..evaluate.motion.plots import write_motion_plots

        for path in write_motion_plots(report, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    return 0
