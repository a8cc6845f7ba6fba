"""Keyframes -> dense animation: timing, interpolation, consistency, life (blinks, saccades, head motion).

``animate(keyframes)`` is the stage's one public function; :func:`interpolate` is the curve primitive that
other stages (keyframe extraction) call directly. Modules: :mod:`.timing`, :mod:`.interpolate`,
:mod:`.consistency`, :mod:`.blinks`, :mod:`.gaze`, :mod:`.head`, :mod:`.life`, :mod:`.engine`.
"""

from __future__ import annotations

from .engine import GROUP_OFFSETS_S, animate
from .interpolate import DEFAULT_METHOD, expand_holds, interpolate, interpolators
from .timing import Timing, plan_timing

__all__ = [
    "DEFAULT_METHOD",
    "GROUP_OFFSETS_S",
    "Timing",
    "animate",
    "expand_holds",
    "interpolate",
    "interpolators",
    "plan_timing",
]
