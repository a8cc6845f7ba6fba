"""Atomic file output: write a temporary file beside the target, flush it to disk, then rename over the target.

A crash or an error half-way leaves the previous file (or nothing) in place, never a truncated file. Temporary
names start with :data:`TEMP_PREFIX` and the writer's pid, so :func:`remove_stale` can clear a killed run's debris.
Write errors (disk full, read-only folder) are raised as :class:`OSError` naming the target file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

__all__ = ["TEMP_PREFIX", "atomic_open", "atomic_write_bytes", "atomic_write_text", "remove_stale", "temp_prefix"]


@overload
def atomic_open(path: str | os.PathLike[str], mode: Literal["w"] = "w", *, newline: str | None = ...) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_open(path: str | os.PathLike[str], mode: Literal["wb"], *, newline: str | None = ...) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def atomic_open(path: str | os.PathLike[str], mode: str = "w", *, newline: str | None = None) -> contextlib.AbstractContextManager[IO[Any]]:
    """Open ``path`` for writing atomically (``mode`` is ``"w"`` for UTF-8 text or ``"wb"``).

    The target appears only when the ``with`` block exits without an exception; parent folders are created.
    """
    return _atomic_open(Path(path), mode, newline)


#: Prefix of every temporary file and staging folder keyframeface writes beside its outputs: ``.kff-`` then the
#: writing process id, so a later run can tell a dead writer's debris (see :func:`remove_stale`).
TEMP_PREFIX = ".kff-"
_STALE = re.compile(r"^\.kff-(?P<pid>\d{1,10})\.(?:(?P<run>run-[0-9a-f]{16})|.+\.[A-Za-z0-9_]{8}\.tmp)$")


def temp_prefix(name: str) -> str:
    """The temporary-name prefix for ``name`` written by this process: ``.kff-<pid>.<name>.``."""
    return f"{TEMP_PREFIX}{os.getpid()}.{name}."


def _named(exc: OSError, path: Path) -> OSError:
    """``exc`` naming the target ``path`` (not the temporary file, and also when the OS named none: ENOSPC)."""
    try:
        return type(exc)(exc.errno, exc.strerror or str(exc), os.fspath(path))
    except TypeError:  # an OSError subclass with another constructor
        return OSError(exc.errno, exc.strerror or str(exc), os.fspath(path))


@contextlib.contextmanager
def _atomic_open(path: Path, mode: str, newline: str | None) -> Iterator[IO[Any]]:
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path.parent)  # a killed earlier run's temporary files, whatever command wrote them
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    except OSError as exc:  # read-only or missing folder: name the target, not a temporary name
        raise _named(exc, path) from None
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
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if exc.errno in _WRITE_ERRORS:  # disk full, quota, read-only ...: the target's name, one line
            raise _named(exc, path) from None
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: errno values that mean "this file cannot be written here" (ENOSPC: disk full; EDQUOT: quota; EFBIG: file too
#: large for the file system; EROFS/EACCES/EPERM: read-only or forbidden; EIO: device error).
_WRITE_ERRORS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM", "EIO")
    if hasattr(errno, name)
)


def remove_stale(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove keyframeface temporary files and staging folders in ``folder`` left by processes that are gone.

    Only names starting with :data:`TEMP_PREFIX` are considered; one whose writing process (the pid in its name)
    still runs is kept, unless it is older than a day. Returns what was removed; errors are ignored.
    """
    import shutil
    import time

    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        # Only the two shapes keyframeface itself creates: a staging folder ``.kff-<pid>.run-<16 hex>`` and a
        # mkstemp file ``.kff-<pid>.<target name>.<8 random chars>.tmp``; anything else is the user's.
        match = _STALE.match(entry.name)
        if match is None:
            continue
        try:
            is_dir = entry.is_dir() and not entry.is_symlink()
            age_s = time.time() - entry.lstat().st_mtime
        except OSError:
            continue
        if (match["run"] is not None) != is_dir:  # a staging name must be a folder, a temporary name a file
            continue
        if _alive(int(match["pid"])) and age_s < 86_400:
            continue
        try:
            if is_dir:
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # exists, owned by someone else (or a bad number: treated as alive, kept)
    except OSError:
        return True
    return True


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
