"""Consistent output folders: the files of one run are written to a staging folder, then moved in with a manifest.

:class:`StagedOutput` is what :func:`keyframeface.run` writes through. The run writes into a hidden staging folder
inside the output folder (``.kff-<pid>.run-<run id>``, on the same file system, so moving in is a rename); at the
end :meth:`StagedOutput.commit` writes ``<name>.manifest.json`` (the run id, and each file's sha256 and size), then
moves the files in and the manifest last. The previous manifest of the same name is removed first, so an output
folder holds a manifest only when every file it lists is in place: :func:`check_manifest` proves which run each
file came from. A run that fails or is killed leaves its staging folder, which the next run removes
(:func:`~keyframeface.io.atomic.remove_stale`); files the previous manifest listed that this run does not write
(a preview asked for last time) are removed when they are still byte for byte what that run wrote (sha256), since
they belonged to the previous result; a file edited since is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Final

from ..errors import FormatError
from .atomic import TEMP_PREFIX, atomic_write_text, remove_stale
from .files import sha256_file

__all__ = ["MANIFEST_FORMAT", "StagedOutput", "check_manifest", "manifest_path"]

MANIFEST_FORMAT: Final[str] = "keyframeface.manifest"


def manifest_path(folder: str | os.PathLike[str], name: str) -> Path:
    """Where the manifest of the run that wrote ``name``'s files lives: ``<folder>/<name>.manifest.json``."""
    return Path(folder) / f"{name}.manifest.json"


class StagedOutput:
    """Stage the files of one run and move them into ``folder`` together.

    Use as a context manager: ``path(filename)`` gives where to write each file; :meth:`commit` moves them in and
    returns their final paths. Leaving the ``with`` block without committing removes the staging folder.
    """

    def __init__(self, folder: str | os.PathLike[str], name: str) -> None:
        self.folder = Path(folder)
        self.name = name
        self.run_id = uuid.uuid4().hex[:16]
        self.staging = self.folder / f"{TEMP_PREFIX}{os.getpid()}.run-{self.run_id}"
        self._committed = False

    def __enter__(self) -> StagedOutput:
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale(self.folder)
        self.staging.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed:
            shutil.rmtree(self.staging, ignore_errors=True)

    def path(self, filename: str | os.PathLike[str]) -> Path:
        """Where to write ``filename`` (a name relative to the output folder) during the run."""
        return self.staging / filename

    def commit(self, staged: list[Path]) -> tuple[Path, ...]:
        """Write the manifest, move ``staged`` (paths from :meth:`path`) into the folder, manifest last.

        Returns the final paths in the order given. Raises :class:`OSError` naming the file when a move fails.
        """
        relative = [p.relative_to(self.staging) for p in staged]
        files = {str(rel.as_posix()): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
                 for rel, p in zip(relative, staged, strict=True)}
        manifest = {"format": MANIFEST_FORMAT, "version": 1, "run_id": self.run_id, "name": self.name,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": files}
        final_manifest = manifest_path(self.folder, self.name)
        staged_manifest = self.staging / final_manifest.name
        atomic_write_text(staged_manifest, json.dumps(manifest, indent=1) + "\n")
        previous = _listed(final_manifest)
        with contextlib.suppress(FileNotFoundError):
            final_manifest.unlink()  # from here until the new one lands, the folder claims no consistent result
        finals: list[Path] = []
        for rel, src in zip(relative, staged, strict=True):
            dst = self.folder / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            finals.append(dst)
        for old, digest in previous.items():
            if old in files:
                continue
            target = self.folder / old
            # Only a file still exactly as the previous run wrote it: one the user edited since is theirs now.
            with contextlib.suppress(OSError):
                if _inside(target, self.folder) and target.is_file() and sha256_file(target) == digest:
                    target.unlink()
        _fsync_dir(self.folder)
        os.replace(staged_manifest, final_manifest)
        _fsync_dir(self.folder)
        self._committed = True
        shutil.rmtree(self.staging, ignore_errors=True)
        return tuple(finals)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return ".." not in path.parts


def _listed(manifest: Path) -> dict[str, str]:
    """File name -> sha256 of what a previous keyframeface manifest lists (empty when there is none, it cannot be
    read, or it is not a keyframeface manifest)."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return {}
    files = data.get("files", {})
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v.get("sha256")) for k, v in files.items() if isinstance(v, dict) and v.get("sha256")}


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_manifest(folder: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """Verify that every file ``<name>.manifest.json`` lists is in ``folder`` with its recorded sha256.

    Returns the manifest. Raises :class:`FormatError` naming the first file that is missing or differs, or when
    there is no manifest (a run was interrupted while moving its files in).
    """
    path = manifest_path(folder, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(f"{path} is missing: the folder holds no complete run of {name!r}") from None
    except (OSError, ValueError) as exc:
        raise FormatError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), dict):
        raise FormatError(f"{path} is not a keyframeface manifest")
    for rel, entry in data["files"].items():
        target = Path(folder) / rel
        if not target.is_file():
            raise FormatError(f"{target} is listed in {path.name} but missing")
        if sha256_file(target) != entry.get("sha256"):
            raise FormatError(f"{target} differs from run {data.get('run_id')} recorded in {path.name}")
    return data
