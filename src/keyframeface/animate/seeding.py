"""Per-clip seeds and the re-synthesis of extracted keyframes.

``content_seed``: a seed derived from what the keyframes say (values rounded to 4 digits, times, descriptions,
emotion, background), so animating the same script twice gives the same take and two scripts get different
blinks, saccades and micro-motion. ``is_extracted`` / ``resynthesis_timing``: keyframes that came from
:func:`keyframeface.extract` are a capture's own samples; they are replayed at their times with no holds.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

import numpy as np

from ..errors import ScriptError
from ..script import EXTRACTED_BY, Keyframes
from .timing import Timing

__all__ = ["EXTRACTOR", "content_seed", "extracted_interpolation", "is_extracted", "resynthesis_timing"]

#: ``meta["extractor"]`` written by :func:`keyframeface.extract`.
EXTRACTOR: Final[str] = EXTRACTED_BY


def content_seed(keyframes: Keyframes) -> int:
    """A seed in [0, 2**32) from the keyframes' content (stable across runs, machines and Python versions)."""
    payload = {
        "emotion": keyframes.emotion,
        "background": keyframes.background,
        "keyframes": [
            [kf.description, None if kf.time_s is None else round(kf.time_s, 4),
             None if kf.values is None else [round(float(v), 4) for v in kf.array]]
            for kf in keyframes.keyframes
        ],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=True).encode()).hexdigest()
    return int(digest[:8], 16)


def is_extracted(keyframes: Keyframes) -> bool:
    """True when ``keyframes.meta`` says :func:`keyframeface.extract` made them from a capture."""
    meta = keyframes.meta if isinstance(keyframes.meta, dict) else dict(keyframes.meta)
    return meta.get("extractor") == EXTRACTOR


def extracted_interpolation(keyframes: Keyframes) -> str | None:
    """The interpolation method :func:`keyframeface.extract` fitted the keys with (``meta["interpolation"]``), when
    it names one of :func:`keyframeface.animate.interpolate.interpolators`; else ``None`` (a custom callable)."""
    from .interpolate import interpolators

    name = keyframes.meta.get("interpolation") if is_extracted(keyframes) else None
    return name if isinstance(name, str) and name in interpolators() else None


def resynthesis_timing(keyframes: Keyframes, *, duration_s: float | None, tail_s: float | None) -> Timing:
    """Every keyframe at its own ``time_s`` with no hold; the animation ends at the last one (plus ``tail_s``),
    or at ``duration_s``. Raises :class:`ScriptError` when a time is missing or ``duration_s`` ends too early."""
    times = keyframes.times()
    if any(t is None for t in times):
        raise ScriptError("re-synthesis needs every keyframe's time_s (extracted keyframes have them); "
                          "pass resynthesis=False to time them", field="keyframes")
    ts = np.asarray(times, dtype=np.float64)
    end = float(ts[-1]) + (tail_s or 0.0) if duration_s is None else float(duration_s)
    if end < ts[-1]:
        raise ScriptError(f"{end:g} s ends before the last keyframe at {ts[-1]:g} s", field="duration_s")
    holds = np.zeros(ts.shape[0])
    holds[-1] = end - ts[-1]
    return Timing(times_s=tuple(float(x) for x in ts), holds_s=tuple(float(h) for h in holds), duration_s=end,
                  chosen=tuple(False for _ in ts))
