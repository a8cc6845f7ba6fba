"""The life layers together: head motion, saccades, blinks; each optional and seedable.

Each layer draws from its own random stream (``numpy.random.default_rng([seed, layer])``), so switching one
layer off never changes what the others do, and the same seed gives the same motion on any machine with the
same numpy. Layers are applied in the order head motion -> saccades -> blinks and the result is clamped with
``rig.clamp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from .. import rig
from ..errors import ScriptError
from .blinks import add_blinks
from .fitted_life import add_fitted_blinks, add_fitted_head, add_fitted_saccades
from .gaze import add_saccades
from .head import add_head_motion

__all__ = ["add_fitted_life", "add_life", "check_seed"]

# Stream numbers of the layers (fixed forever: changing one changes every seeded animation).
_STREAM: Final[dict[str, int]] = {"blinks": 1, "saccades": 2, "head_motion": 3}
# Eye rotation channels shifted with the eyeLook change when the keyframes use another convention.
_EYE_ROT = np.array([rig.CHANNEL_INDEX[n] for n in (
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll")])


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int >= 0 or raise :class:`ScriptError`."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise ScriptError(f"expected a whole number >= 0, got {seed!r}", field="seed")
    return int(seed)


def _rng(seed: int, layer: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[layer]])



def _frames_and_times(frames: np.ndarray, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A float32 copy of ``frames`` (T, 61) and ``times_s`` as (T,) float64; :class:`ScriptError` on other shapes."""
    out = np.array(frames, dtype=np.float32, copy=True)
    t = np.asarray(times_s, dtype=np.float64)
    if out.ndim != 2 or out.shape[1] != rig.NUM_CHANNELS or t.shape != (out.shape[0],):
        raise ScriptError(
            f"expected frames (T, {rig.NUM_CHANNELS}) and times (T,), got {out.shape} and {t.shape}"
        )
    return out, t

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
    out, t = _frames_and_times(frames, times_s)
    info: dict[str, Any] = {"blinks": 0, "fixations": 0, "head_motion": bool(head_motion)}
    if head_motion:
        out = add_head_motion(out, t, rng=_rng(seed, "head_motion"))
    if saccades:
        out, info["fixations"] = add_saccades(out, t, rng=_rng(seed, "saccades"), sync_eyes=sync_eyes)
    if blinks:
        out, info["blinks"] = add_blinks(out, t, rng=_rng(seed, "blinks"))
    out, _ = rig.clamp(out, max_reports=0)
    return out, info


def add_fitted_life(
    frames: np.ndarray,
    times_s: np.ndarray,
    *,
    model: Mapping[str, Any],
    seed: int = 0,
    blinks: bool = True,
    saccades: bool = True,
    head_motion: bool = True,
    sync_eyes: bool = True,
    eyes_down: bool = True,
    lids_follow_gaze: bool = True,
    blink_rate_factor: float = 1.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The life layers of the motion model fitted on real captures (:mod:`.fitted_life`), same streams and
    contract as :func:`add_life`: head motion -> saccades -> blinks, then eye rotations follow the eyeLook
    channels (``sync_eyes``; otherwise they are shifted by the change) and everything is clamped."""
    seed = check_seed(seed)
    out, t = _frames_and_times(frames, times_s)
    info: dict[str, Any] = {"blinks": 0, "saccades": 0, "head_motion": bool(head_motion), "model": "fitted"}
    before = None if sync_eyes else rig.eye_rotations_from_look(out)
    if head_motion:
        out = add_fitted_head(out, t, model=model, rng=_rng(seed, "head_motion"))
    if saccades:
        out, info["saccades"] = add_fitted_saccades(out, t, model=model, rng=_rng(seed, "saccades"),
                                                    lids=lids_follow_gaze)
    if blinks:
        out, info["blinks"] = add_fitted_blinks(out, t, model=model, rng=_rng(seed, "blinks"),
                                                rate_factor=blink_rate_factor, eyes_down=eyes_down)
    if saccades or (blinks and eyes_down):
        if sync_eyes:
            out = rig.sync_eye_rotations(out)
        elif before is not None:
            out[:, _EYE_ROT] += rig.eye_rotations_from_look(out) - before
    np.clip(out, rig.LOW, rig.HIGH, out=out)  # the layers make no NaN: a plain clip (rig.clamp costs 4x more)
    return out, info
