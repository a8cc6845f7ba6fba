"""Atomic file output: write a temporary file beside the target, flush it to disk, then rename over the target.

A crash or an error half-way leaves the previous file (or nothing) in place, never a truncated file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text"]


@overload
def atomic_open(path: str | os.PathLike[str], mode: Literal["w"] = "w", *, newline: str | None = ...) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_open(path: str | os.PathLike[str], mode: Literal["wb"], *, newline: str | None = ...) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def atomic_open(path: str | os.PathLike[str], mode: str = "w", *, newline: str | None = None) -> contextlib.AbstractContextManager[IO[Any]]:
    """Open ``path`` for writing atomically (``mode`` is ``"w"`` for UTF-8 text or ``"wb"``).

    The target appears only when the ``with`` block exits without an exception; parent folders are created.
    """
    return _atomic_open(Path(path), mode, newline)


@contextlib.contextmanager
def _atomic_open(path: Path, mode: str, newline: str | None) -> Iterator[IO[Any]]:
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode == "w":
            handle: IO[Any] = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
        else:
            handle = os.fdopen(fd, "wb")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600 files; give the result the permissions a normal open() would (umask applied).
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_umask() -> int:
    # Read once at import: os.umask is process-wide, so toggling it later could race with other threads.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write_text(path: str | os.PathLike[str], text: str, *, newline: str | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w", newline=newline) as handle:
        handle.write(text)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
