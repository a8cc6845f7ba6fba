"""The motion model: how real faces move, fitted from real Live Link Face captures.

``motion.json`` holds the fitted parameters (blinks, saccades, onsets, micro-motion, head spectrum, lid / gaze
coupling; see :mod:`.fit` for how each is measured) and ``motion.recipe.json`` how it was made (inputs' sha256,
config, command). Rebuild with ``keyframeface train motion --real ../shared/realdata -o motion.json``.
:func:`load_motion` reads the shipped file once (plain JSON; no scipy needed at run time).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from ...errors import FormatError

__all__ = ["MOTION_FORMAT", "load_motion"]

MOTION_FORMAT = "keyframeface.motion"


@functools.lru_cache(maxsize=4)
def load_motion(path: str | None = None) -> dict[str, Any]:
    """The motion parameters: the shipped ``motion.json`` by default, or the file at ``path``.

    Raises :class:`FormatError` when the file is not a keyframeface motion model.
    """
    if path is None:
        text = resources.files(__name__).joinpath("motion.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != MOTION_FORMAT:
        raise FormatError(f"{path or 'motion.json'} is not a {MOTION_FORMAT} file; rebuild it with "
                          "keyframeface train motion")
    return data
