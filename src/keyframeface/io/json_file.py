"""keyframeface JSON documents (scripts, keyframes, animations) written to a binary stream.

The same bytes as :func:`keyframeface.script.save_json`: UTF-8, one space of indent for scripts and keyframes, none
for animations (their frames would take a line per number), a final newline. Line ends are the platform's, as a
text-mode file gives them, so a file written through the registry equals one written by ``save_json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import IO

import numpy as np

from ..errors import FormatError
from ..script import Animation, Keyframes, Script, animation_json_chunks, json_chunks

__all__ = ["json_text", "write_json", "write_json_blocks"]


def json_text(obj: Script | Keyframes | Animation) -> str:
    """The document's JSON text with ``\\n`` line ends (NaN or inf refused with :class:`ValueError`)."""
    if not isinstance(obj, (Script, Keyframes, Animation)):
        raise FormatError(f"expected a Script, Keyframes or Animation, got {type(obj).__name__}")
    indent = None if isinstance(obj, Animation) else 1
    return json.dumps(obj.to_dict(), ensure_ascii=False, indent=indent, allow_nan=False) + "\n"


def write_json(obj: Script | Keyframes | Animation, stream: IO[bytes]) -> None:
    """Write ``obj`` as keyframeface JSON (UTF-8) to the binary ``stream``, an animation's frames a block at a
    time (:func:`keyframeface.script.json_chunks`)."""
    if not isinstance(obj, (Script, Keyframes, Animation)):
        raise FormatError(f"expected a Script, Keyframes or Animation, got {type(obj).__name__}")
    for text in json_chunks(obj):
        if os.linesep != "\n":  # what save_json's text-mode file does on this platform
            text = text.replace("\n", os.linesep)
        stream.write(text.encode("utf-8"))


def write_json_blocks(
    head: Animation,
    frames: Iterable[np.ndarray],
    stream: IO[bytes],
    *,
    times_s: np.ndarray | None,
    valid: np.ndarray | None,
) -> None:
    """Write an animation whose frames come as (B, 61) blocks in order, with the bytes :func:`write_json` gives
    for the same animation: ``head`` supplies every field but the frames (its own frames, times and validity are
    not read), ``times_s`` (T,) and ``valid`` (T,) or ``None`` those of the T frames. One block is held at a time
    (the streaming conversion, :mod:`keyframeface.io.livelink_stream`)."""
    if not isinstance(head, Animation):
        raise FormatError(f"expected an Animation, got {type(head).__name__}")
    for text in animation_json_chunks(head, frames, times_s=times_s, valid=valid):
        if os.linesep != "\n":  # what save_json's text-mode file does on this platform
            text = text.replace("\n", os.linesep)
        stream.write(text.encode("utf-8"))
