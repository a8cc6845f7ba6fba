"""Motion realism: how generated animation moves compared with real Live Link Face captures.

``keyframeface eval motion`` runs :func:`~keyframeface.evaluate.motion.report.motion_report`: it animates a fixed set
of scripts and measures them and a folder of real captures on the same statistics (frozen frames, onset timing and
velocity profile, overshoot, gaze shifts, blinks, micro-motion, head motion, jaw/lip coupling, smile symmetry and a
Fréchet distance on 1 s windows). Modules: :mod:`.signals` (takes on one time grid), :mod:`.events` (movements,
gaze shifts, blinks), :mod:`.stats` (one function per statistic), :mod:`.frechet`, :mod:`.report`, :mod:`.plots`.
See ``docs/motion.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import MotionReport, motion_report

__all__ = ["MotionReport", "motion_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import report

        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
