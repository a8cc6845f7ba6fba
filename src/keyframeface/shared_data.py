"""Locating the project's shared data folder (real captures, the release fixture, the ICT head).

Order: the ``KEYFRAMEFACE_SHARED`` environment variable, then ``../shared`` beside the repository checkout.
Nothing from it is ever copied into the package.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_dir"]


def shared_dir() -> Path | None:
    """The shared folder if it exists, else ``None``."""
    env = os.environ.get("KEYFRAMEFACE_SHARED")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    # src/keyframeface/shared_data.py -> repo root is parents[2]; ../shared sits beside the repo root.
    if len(here.parents) > 3:
        candidates.append(here.parents[3] / "shared")
    candidates.append(Path.cwd().parent / "shared")
    for c in candidates:
        if (c / "DESIGN.md").is_file() or (c / "realdata").is_dir():
            return c
    return None
