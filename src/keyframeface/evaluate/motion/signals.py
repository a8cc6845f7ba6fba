"""Motion takes on one time grid: what every realism statistic reads.

A :class:`MotionTake` holds a take's 61 channels resampled onto a uniform grid at :data:`ANALYSIS_FPS` (linear
interpolation in time), with a validity mask. Real Live Link Face captures come at 59.88 or 30 fps with dropped
frames and tracking-loss rows; generated animations at any ``fps``: on one grid every statistic measures time the
same way. Grid samples are invalid where the source was invalid (tracking loss: the reader holds the last valid
frame there, which would otherwise look like a frozen face) or inside a gap of more than :data:`MAX_GAP_FRAMES`
source frames.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from ... import rig
from ...errors import FormatError
from ...script import Animation

__all__ = [
    "ANALYSIS_FPS",
    "MAX_GAP_FRAMES",
    "MotionTake",
    "find_real_takes",
    "load_real_takes",
    "take_from_animation",
]

log = logging.getLogger(__name__)

#: The rate every take is resampled to (Live Link Face records at ~60 fps; 30 fps takes are interpolated).
ANALYSIS_FPS: Final[float] = 60.0
#: A source gap longer than this many source frames (dropped frames) makes the grid samples inside it invalid.
MAX_GAP_FRAMES: Final[float] = 3.0

_I = rig.CHANNEL_INDEX


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: the detectors cache their events per take
class MotionTake:
    """One take on the analysis grid.

    ``name``: a label (file name or script name). ``values``: (T, 61) float64 in ``rig.CHANNELS`` order, sample
    ``i`` at ``i / fps`` seconds from the take's start. ``valid``: (T,) bool. ``fps``: the grid rate.
    ``source_fps``: the rate the take was recorded or animated at.
    """

    name: str
    values: np.ndarray
    valid: np.ndarray
    fps: float = ANALYSIS_FPS
    source_fps: float = ANALYSIS_FPS

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    @property
    def times_s(self) -> np.ndarray:
        """(T,) float64 seconds from the take's start."""
        return np.arange(self.num_frames, dtype=np.float64) / self.fps

    def channel(self, name: str) -> np.ndarray:
        """(T,) float64 values of one channel (canonical name)."""
        return self.values[:, _I[name]]

    def mean_of(self, names: Sequence[str]) -> np.ndarray:
        """(T,) float64 mean of several channels (e.g. both eyes' blink)."""
        return self.values[:, [_I[n] for n in names]].mean(axis=1)


def take_from_animation(anim: Animation, *, name: str = "take", fps: float = ANALYSIS_FPS) -> MotionTake:
    """Resample an :class:`Animation` (generated, or a capture read with the Live Link reader) onto a uniform
    grid at ``fps``. Times come from ``anim.frame_times()`` (real timecodes, gaps included) and start at 0.
    Raises :class:`FormatError` for an animation with fewer than 2 frames."""
    if anim.num_frames < 2:
        raise FormatError(f"{name}: a take needs at least 2 frames to measure motion, got {anim.num_frames}")
    t = anim.frame_times().astype(np.float64)
    t = t - t[0]
    src = anim.frames.astype(np.float64)
    src_valid = np.ones(anim.num_frames, bool) if anim.valid is None else np.asarray(anim.valid, bool)
    n = int(np.floor(t[-1] * fps + 1e-6)) + 1
    grid = np.arange(n, dtype=np.float64) / fps
    if np.allclose(np.diff(t), 1.0 / fps, rtol=1e-3, atol=1e-6) and n == anim.num_frames:
        values, valid = src, src_valid.copy()  # already on the grid: no interpolation at all
    else:
        values = np.empty((n, rig.NUM_CHANNELS))
        for c in range(rig.NUM_CHANNELS):
            values[:, c] = np.interp(grid, t, src[:, c])
        right = np.clip(np.searchsorted(t, grid, side="left"), 1, len(t) - 1)
        left = right - 1
        step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0 / fps
        gap_ok = (t[right] - t[left]) <= MAX_GAP_FRAMES * step + 1e-9
        valid = src_valid[left] & src_valid[right] & gap_ok
    source_fps = float(anim.fps)
    return MotionTake(name=name, values=values, valid=np.asarray(valid, bool), fps=fps, source_fps=source_fps)


def _looks_like_livelink(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
            head = fh.readline(4096).lower()
    except OSError:
        return False
    return head.startswith("timecode") and "blendshapecount" in head


def find_real_takes(folder: str | os.PathLike[str]) -> list[Path]:
    """Every Live Link Face CSV under ``folder`` (recursively, sorted by path; other CSVs such as an
    ``index.csv`` are skipped; byte-identical copies are kept once). Raises :class:`FormatError` when the folder
    does not exist or holds none."""
    root = Path(folder)
    if not root.is_dir():
        raise FormatError(f"real captures folder {root} does not exist; pass --real DIR with Live Link Face CSVs")
    seen: set[str] = set()
    out: list[Path] = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() != ".csv" or not path.is_file() or not _looks_like_livelink(path):
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        out.append(path)
    if not out:
        raise FormatError(f"no Live Link Face CSV (header Timecode,BlendShapeCount,...) under {root}")
    return out


def load_real_takes(folder: str | os.PathLike[str], *, fps: float = ANALYSIS_FPS) -> list[MotionTake]:
    """Read every Live Link Face CSV under ``folder`` (:func:`find_real_takes`) with the project's reader and
    resample it (:func:`take_from_animation`). Takes are named by their path relative to ``folder``. The reader's
    repair warnings (tracking loss, clamped values) are logged, not raised."""
    from ...io.livelink_csv import read_livelink_csv

    root = Path(folder)
    takes = []
    for path in find_real_takes(root):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            anim = read_livelink_csv(path)
        for w in caught:
            log.info("%s", w.message)
        takes.append(take_from_animation(anim, name=path.relative_to(root).as_posix(), fps=fps))
    return takes
