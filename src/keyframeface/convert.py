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
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import FormatError
from .io.livelink_stream import can_stream, convert_streaming
from .io.registry import export, find_reader, find_writer, read_any
from .script import Animation, Script

__all__ = ["convert", "convert_to_folder", "is_folder", "keyframes_to_animation"]


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
    extension). A ``dst`` that is a folder (an existing one, or a path ending in ``/``) receives one file per
    document: a batch results file (:mod:`keyframeface.io.openai_batch`) becomes one keyframes file per script,
    ``NAME.json`` (or ``NAME.<format>``); keyframes that failed in the batch are listed in each file's
    ``meta["failures"]`` with their custom ids and warned about (:class:`UserWarning`), the rest is kept. Any other
    input becomes one file named after it. ``read_options`` go to the reader (for CSV input: ``fps``, ``timecode_fps``, ``policy``);
    ``options`` go to the writer (for CSV output: ``digits``, ``header_count`` ...). A script without values can
    only become JSON. A Live Link Face CSV written as CSV or JSON is converted a block of frames at a time
    (:mod:`keyframeface.io.livelink_stream`: memory bounded by a block, not by the take; the same bytes and
    warnings). Raises :class:`FormatError` (or :class:`~keyframeface.errors.ScriptError` for an invalid
    document) with what was expected and what came.
    """
    if is_folder(dst):
        return convert_to_folder(src, dst, format=format, read_options=read_options, **options)
    writer = find_writer(dst, format=format)  # fail on a bad output format before reading anything
    if can_stream(src, writer):  # a Live Link CSV to CSV or JSON: a block of frames at a time, the same bytes
        return convert_streaming(src, dst, format=writer.name, read_options=read_options, **options)
    obj = read_any(src, **dict(read_options or {}))
    if isinstance(obj, Script) and not writer.scripts:
        raise FormatError(
            f"{src} is a script (descriptions without values), so there is nothing to write as {writer.name}; "
            "run keyframeface generate or animate on it first"
        )
    return export(obj, dst, format=writer.name, **options)


def is_folder(dst: str | os.PathLike[str]) -> bool:
    """Whether ``dst`` names a folder: an existing one, or a path written with a trailing ``/``."""
    text = os.fspath(dst)
    return text.endswith(("/", os.sep)) or Path(text).is_dir()


def convert_to_folder(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    format: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> Path:
    """Write each document of ``src`` into the folder ``dst`` (created if needed) as ``NAME.<ext>`` (``format``,
    default ``json``); returns the folder. A batch results file gives one document per script (see
    :func:`convert`), any other file one document named after it. Options and errors as :func:`convert`."""
    folder = Path(dst)
    writer = find_writer(None, format=format or "json")
    read = dict(read_options or {})
    if find_reader(src).name == "openai-batch":
        from .io.openai_batch import failures_of, read_batch_results_all

        documents: dict[str, Any] = dict(read_batch_results_all(src, **read))
        failures = failures_of(documents)
        if failures:
            shown = ", ".join(f["custom_id"] for f in failures[:5]) + (" ..." if len(failures) > 5 else "")
            warnings.warn(f"{len(failures)} batch request(s) gave no usable answer and are kept without values "
                          f"(listed in meta.failures of each file): {shown}", UserWarning, stacklevel=3)
    elif can_stream(src, writer):
        _make_folder(folder)
        convert_streaming(src, folder / f"{Path(src).stem}{writer.extensions[0]}", format=writer.name,
                          read_options=read, **options)
        return folder
    else:
        documents = {Path(src).stem: read_any(src, **read)}
    for doc in documents.values():
        if isinstance(doc, Script) and not writer.scripts:
            raise FormatError(f"{src} holds a script (descriptions without values); write it as json")
    _make_folder(folder)
    for name, doc in documents.items():
        export(doc, folder / f"{name}{writer.extensions[0]}", format=writer.name, **options)
    return folder


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FormatError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
