"""Reading JSON Lines files safely: one JSON object per non-blank line, with caps on file size, line length and
line count, and errors that name the file and line (shared by the release and batch readers)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import FormatError
from .files import checked_size

__all__ = ["iter_json_lines"]


def iter_json_lines(
    path: str | os.PathLike[str],
    *,
    max_file_bytes: int,
    max_line_bytes: int,
    max_objects: int,
    what: str,
    too_many: str,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line of ``path`` (1-based line numbers; a UTF-8 BOM on the
    first line is accepted).

    Raises :class:`FormatError` naming ``path:line`` for a file larger than ``max_file_bytes`` (``what`` names the
    kind of file), a line longer than ``max_line_bytes``, text that is not UTF-8, a line that is not one JSON
    object, or more than ``max_objects`` objects (the message ends with ``too_many``, which says what one file
    may hold).
    """
    p = Path(path)
    checked_size(p, max_file_bytes, what=what)
    count = 0
    try:
        with p.open("rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                where = f"{p}:{lineno}"
                if len(raw) > max_line_bytes:
                    raise FormatError(f"{where}: the line is {len(raw)} bytes long; the limit is {max_line_bytes}")
                try:
                    text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
                except UnicodeDecodeError:
                    raise FormatError(f"{where}: not UTF-8 text") from None
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise FormatError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); expected one "
                                      "JSON object per line") from None
                except (ValueError, RecursionError):  # a number with too many digits, or absurd nesting
                    raise FormatError(f"{where}: not a readable JSON line (a huge number or deep nesting)") from None
                if not isinstance(obj, dict):
                    raise FormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
                count += 1
                if count > max_objects:
                    raise FormatError(f"{where}: more than {max_objects} lines; {too_many}")
                yield lineno, obj
    except OSError as exc:
        raise FormatError(f"cannot read {p}: {exc.strerror or exc}") from None
