"""Small checks shared by every reader before it opens a user's file, and the sha256 every weight file is checked by."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import FormatError

__all__ = ["checked_size", "sha256_file"]


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (OSError propagates)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checked_size(path: str | os.PathLike[str], max_bytes: int, *, what: str = "", hint: str = "") -> int:
    """The size of ``path`` in bytes.

    Raises :class:`FormatError` when it cannot be read (naming the OS reason) or is larger than ``max_bytes``
    (``what`` names the kind of file in the message, ``hint`` says what to do).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise FormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    if size > max_bytes:
        kind = f" for {what}" if what else ""
        tail = f" ({hint})" if hint else ""
        raise FormatError(f"{p} is {size} bytes; the limit{kind} is {max_bytes} bytes{tail}")
    return size
