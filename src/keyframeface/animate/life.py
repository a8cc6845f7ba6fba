"""The life layers together: head motion, saccades, blinks; each optional and seedable.

Each layer draws from its own random stream (``numpy.random.default_rng([seed, layer])``), so switching one
layer off never changes what the others do, and the same seed gives the same motion on any machine with the
same numpy. Layers are applied in the order head motion -> saccades -> blinks and the result is clamped with
``rig.clamp``.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from .. import rig
from ..errors import ScriptError
from .blinks import add_blinks
from .gaze import add_saccades
from .head import add_head_motion

__all__ = ["add_life", "check_seed"]

# Stream numbers of the layers (fixed forever: changing one changes every seeded animation).
_STREAM: Final[dict[str, int]] = {"blinks": 1, "saccades": 2, "head_motion": 3}


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int >= 0 or raise :class:`ScriptError`."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise ScriptError(f"expected a whole number >= 0, got {seed!r}", field="seed")
    return int(seed)


def _rng(seed: int, layer: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[layer]])


def add_life(
    frames: np.ndarray,
    times_s: np.ndarray,
    *,
    seed: int = 0,
    blinks: bool = True,
    saccades: bool = True,
    head_motion: bool = True,
    sync_eyes: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Add the selected life layers to ``frames`` (T, 61) sampled at ``times_s`` (T,) increasing seconds.

    ``sync_eyes``: saccades recompute eye rotations from eyeLook (see :mod:`.gaze`). Returns (frames (T, 61)
    float32, clamped to every channel's range; a summary ``{"blinks": n, "fixations": n, "head_motion":
    bool}``).
    """
    seed = check_seed(seed)
    out = np.array(frames, dtype=np.float32, copy=True)
    t = np.asarray(times_s, dtype=np.float64)
    if out.ndim != 2 or out.shape[1] != rig.NUM_CHANNELS or t.shape != (out.shape[0],):
        raise ScriptError(
            f"expected frames (T, {rig.NUM_CHANNELS}) and times (T,), got {out.shape} and {t.shape}"
        )
    info: dict[str, Any] = {"blinks": 0, "fixations": 0, "head_motion": bool(head_motion)}
    if head_motion:
        out = add_head_motion(out, t, rng=_rng(seed, "head_motion"))
    if saccades:
        out, info["fixations"] = add_saccades(out, t, rng=_rng(seed, "saccades"), sync_eyes=sync_eyes)
    if blinks:
        out, info["blinks"] = add_blinks(out, t, rng=_rng(seed, "blinks"))
    out, _ = rig.clamp(out, max_reports=0)
    return out, info
