"""``keyframeface convert IN -o OUT``: between every file format keyframeface reads and writes.

Reading is :func:`keyframeface.io.registry.read_any` (by extension, else by content); writing is
:func:`keyframeface.io.registry.export` (by ``format=`` or the output's extension). Typical uses:

* KeyframeFace release results (``.jsonl``) -> keyframes JSON or a Live Link CSV with one row per keyframe
  (the same values as the release's own converter);
* a Live Link Face capture (``.csv``) -> animation JSON, ``.npz`` or glTF;
* keyframes JSON -> CSV (one row per keyframe) or glTF / npz (one frame per keyframe).

Values pass through unchanged: files the published model wrote keep its eye-pitch sign (see :mod:`keyframeface.rig`).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import rig
from .errors import FormatError
from .io.registry import export, find_writer, read_any
from .script import Animation, Keyframes, Script

__all__ = ["convert", "keyframes_to_animation"]


def keyframes_to_animation(keyframes: Keyframes, *, fps: float = 60.0) -> Animation:
    """Place keyframes as frames at their times: (K, 61) frames, one per keyframe, no interpolation.

    Times are the keyframes' ``time_s`` when every keyframe has one; otherwise keyframe ``k`` sits at ``k`` seconds,
    the KeyframeFace release converter's convention (a warning says so if only some had times). A keyframe without
    values (its generation failed) becomes a zero frame with ``valid=False``. ``fps`` is the nominal rate recorded
    in the animation (and the CSV timecode rate); the keyframes ride along in ``Animation.keyframes``.
    """
    if not isinstance(keyframes, Keyframes):
        raise FormatError(f"expected Keyframes, got {type(keyframes).__name__}")
    k = len(keyframes)
    times = keyframes.times()
    if k and all(t is not None for t in times):
        times_s = np.asarray(times, dtype=np.float64)
    else:
        if any(t is not None for t in times):
            warnings.warn(
                "some keyframes have time_s and some do not; placing keyframe k at k seconds for all of them",
                stacklevel=2,
            )
        times_s = np.arange(k, dtype=np.float64)
    frames = np.zeros((k, rig.NUM_CHANNELS), dtype=np.float32)
    valid = np.ones(k, dtype=bool)
    for i, kf in enumerate(keyframes.keyframes):
        if kf.values is None:
            valid[i] = False
        else:
            frames[i] = kf.array
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or not 0 < fps <= 1000:
        raise FormatError(f"fps must be a number in (0, 1000], got {fps!r}")
    meta = {**dict(keyframes.meta), "source": "keyframes", "timecode_fps": float(fps)}
    return Animation(
        frames=frames, fps=float(fps), times_s=times_s, valid=None if valid.all() else valid,
        keyframes=keyframes, meta=meta,
    )


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    format: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> Path:
    """Read ``src`` in any known format and write it to ``dst``; returns the path written.

    ``format``: the output format name (``csv``, ``json``, ``npz``, ``gltf``, ``glb``; default: ``dst``'s
    extension). ``read_options`` go to the reader (for CSV input: ``fps``, ``timecode_fps``, ``policy``);
    ``options`` go to the writer (for CSV output: ``digits``, ``header_count`` ...). A script without values can
    only become JSON. Raises :class:`FormatError` (or :class:`~keyframeface.errors.ScriptError` for an invalid
    document) with what was expected and what came.
    """
    writer = find_writer(dst, format=format)  # fail on a bad output format before reading anything
    obj = read_any(src, **dict(read_options or {}))
    if isinstance(obj, Script) and not writer.scripts:
        raise FormatError(
            f"{src} is a script (descriptions without values), so there is nothing to write as {writer.name}; "
            "run keyframeface generate or animate on it first"
        )
    return export(obj, dst, format=writer.name, **options)
