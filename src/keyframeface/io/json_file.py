"""keyframeface JSON documents (scripts, keyframes, animations) written to a binary stream.

The same bytes as :func:`keyframeface.script.save_json`: UTF-8, one space of indent for scripts and keyframes, none
for animations (their frames would take a line per number), a final newline. Line ends are the platform's, as a
text-mode file gives them, so a file written through the registry equals one written by ``save_json``.
"""

from __future__ import annotations

import json
import os
from typing import IO

from ..errors import FormatError
from ..script import Animation, Keyframes, Script

__all__ = ["json_text", "write_json"]


def json_text(obj: Script | Keyframes | Animation) -> str:
    """The document's JSON text with ``\\n`` line ends (NaN or inf refused with :class:`ValueError`)."""
    if not isinstance(obj, (Script, Keyframes, Animation)):
        raise FormatError(f"expected a Script, Keyframes or Animation, got {type(obj).__name__}")
    indent = None if isinstance(obj, Animation) else 1
    return json.dumps(obj.to_dict(), ensure_ascii=False, indent=indent, allow_nan=False) + "\n"


def write_json(obj: Script | Keyframes | Animation, stream: IO[bytes]) -> None:
    """Write ``obj`` as keyframeface JSON (UTF-8) to the binary ``stream``."""
    text = json_text(obj)
    if os.linesep != "\n":  # what save_json's text-mode file does on this platform
        text = text.replace("\n", os.linesep)
    stream.write(text.encode("utf-8"))
