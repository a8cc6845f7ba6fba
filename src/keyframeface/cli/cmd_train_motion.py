"""``keyframeface train motion``: fit the motion model (blinks, saccades, onsets, micro-motion, head) from real takes.

Writes OUTPUT (the parameters, JSON) and OUTPUT with ``.recipe.json`` beside it (inputs' sha256, config, command).
Needs scipy (installed with the ``[train]`` tooling). Replace ``keyframeface/models/motion/motion.json`` to ship it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any


def add_motion_parser(tsub: Any) -> None:
    m = tsub.add_parser("motion", help="fit the motion model from real Live Link Face captures (needs scipy)",
                        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("--real", required=True, help="folder of Live Link Face CSV takes (e.g. ../shared/realdata)")
    m.add_argument("-o", "--output", default="motion.json", help="parameters file, .json (default: %(default)s)")
    m.add_argument("--max-error", type=float, default=0.05,
                   help="extraction bound of the keyframe interpolation whose residual is the micro-motion "
                   "(default: %(default)s)")
    m.set_defaults(run=run_motion)


def run_motion(args: argparse.Namespace) -> int:
    from ..errors import BackendUnavailableError
    from ..io.atomic import atomic_write_text
    from ..models.motion.fit import fit_motion

    try:
        import scipy  # noqa: F401  (the fit's peak finding and spectra)
    except ImportError:
        raise BackendUnavailableError("train motion needs scipy: pip install 'keyframeface[motion]'") from None

    params, recipe = fit_motion(args.real, max_error=args.max_error)
    out = Path(args.output)
    text = json.dumps(params, indent=1) + "\n"
    atomic_write_text(out, text)
    recipe["sha256"] = {out.name: hashlib.sha256(text.encode()).hexdigest()}
    recipe_path = out.with_suffix(".recipe.json")
    atomic_write_text(recipe_path, json.dumps(recipe, indent=1) + "\n")
    summary = {"parameters": str(out), "recipe": str(recipe_path), "seconds": params["seconds"],
               "blinks": params["blinks"]["count"], "saccades": params["saccades"]["count"],
               "onsets": params["onsets"]["count"]}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0
