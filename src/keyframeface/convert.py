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

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import FormatError
from .io.registry import export, find_writer, read_any
from .script import Animation, Script

__all__ = ["convert", "keyframes_to_animation"]


#: Keyframes placed as frames at their times (one frame per keyframe, no interpolation); kept for callers of the
#: old name: :meth:`keyframeface.script.Animation.from_keyframes` is the one implementation.
keyframes_to_animation = Animation.from_keyframes


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
