"""NumPy ``.npz`` animations: lossless, compact, and readable without keyframeface (``numpy.load``).

Arrays in the archive (``allow_pickle=False`` both ways, so loading never runs code):

* ``format``: () str, ``"keyframeface.animation"``; ``version``: () int64, 1;
* ``frames``: (T, 61) float32 in the order of ``channels``; ``channels``: (61,) str, names;
* ``fps``: () float64; ``times_s``: (T,) float64, present only when the animation has its own times;
* ``valid``: (T,) bool, present only when some frames are invalid;
* ``meta``: () str, the animation's ``meta`` as JSON; ``keyframes``: () str, the keyframes document as JSON
  (``""`` when there are none).

Float32 frames are stored as they are, so a round trip is exact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import IO, Any, Final

import numpy as np

from .. import rig
from ..errors import FormatError, ScriptError
from ..script import ANIMATION_FORMAT, FORMAT_VERSION, Animation, Keyframes
from .atomic import atomic_open
from .files import checked_size

__all__ = ["MAX_NPZ_BYTES", "read_npz", "write_npz"]

#: Largest archive :func:`read_npz` opens (compressed size; frames are 244 bytes each uncompressed).
MAX_NPZ_BYTES: Final[int] = 512 * 1024 * 1024
_MAX_FRAMES: Final[int] = 10_000_000  # about 46 hours at 60 fps; bounds the uncompressed size (2.4 GB)


def write_npz(anim: Animation, path: str | os.PathLike[str] | IO[bytes], *, compress: bool = True) -> None:
    """Write ``anim`` to ``path`` (``.npz``) atomically, or to a seekable binary stream; see the module docstring
    for the arrays."""
    if not isinstance(anim, Animation):
        raise FormatError(f"expected an Animation, got {type(anim).__name__}")
    try:
        meta = json.dumps(dict(anim.meta), ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"the animation's meta cannot be written as JSON: {exc}") from None
    kfs = ""
    if anim.keyframes is not None:
        kfs = json.dumps(anim.keyframes.to_dict(digits=None), ensure_ascii=False, allow_nan=False)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(ANIMATION_FORMAT),
        "version": np.array(FORMAT_VERSION, dtype=np.int64),
        "frames": np.ascontiguousarray(anim.frames, dtype=np.float32),
        "channels": np.array(rig.CHANNELS),
        "fps": np.array(anim.fps, dtype=np.float64),
        "meta": np.array(meta),
        "keyframes": np.array(kfs),
    }
    if anim.times_s is not None:
        arrays["times_s"] = np.asarray(anim.times_s, dtype=np.float64)
    if anim.valid is not None and not anim.valid.all():
        arrays["valid"] = np.asarray(anim.valid, dtype=bool)
    save = np.savez_compressed if compress else np.savez
    if not isinstance(path, (str, os.PathLike)):
        save(path, **arrays)  # type: ignore[arg-type]
        return
    with atomic_open(path, "wb") as handle:
        save(handle, **arrays)  # type: ignore[arg-type]


def _get(archive: Any, key: str, label: str) -> np.ndarray:
    try:
        return np.asarray(archive[key])
    except KeyError:
        raise FormatError(f"{label} has no {key!r} array; expected a keyframeface animation .npz") from None


def _string(value: np.ndarray, key: str, label: str) -> str:
    if value.shape != () or value.dtype.kind != "U":
        raise FormatError(f"{label}: {key!r} must be a single string, got {value.dtype} of shape {value.shape}")
    return str(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def read_npz(path: str | os.PathLike[str], *, max_bytes: int = MAX_NPZ_BYTES) -> Animation:
    """Read an animation written by :func:`write_npz` (or any ``.npz`` with ``frames``, ``channels``, ``fps``).

    Channels are matched by name in any accepted spelling; channels missing from the file are 0. Raises
    :class:`FormatError` for a damaged or foreign archive.
    """
    p = Path(path)
    checked_size(p, max_bytes)
    label = str(p)
    try:
        with p.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise FormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):  # np.load would try anything else as a pickle or .npy
        raise FormatError(f"{label} is not a readable .npz archive (it does not start like a zip file)")
    try:
        with np.load(p, allow_pickle=False) as archive:
            fmt = archive["format"] if "format" in archive.files else None
            if fmt is not None and _string(np.asarray(fmt), "format", label) != ANIMATION_FORMAT:
                raise FormatError(f"{label}: expected format {ANIMATION_FORMAT!r}, got {str(fmt)[:60]!r}")
            if "version" in archive.files and (
                archive["version"].shape != () or archive["version"].dtype.kind not in "iu"
            ):
                raise FormatError(f"{label}: 'version' must be a single integer")
            if "version" in archive.files and int(archive["version"]) != FORMAT_VERSION:
                raise FormatError(
                    f"{label}: unsupported version {int(archive['version'])}; this keyframeface reads {FORMAT_VERSION}"
                )
            raw = _get(archive, "frames", label)
            channels = _get(archive, "channels", label)
            fps = _get(archive, "fps", label)
            times = np.asarray(archive["times_s"]) if "times_s" in archive.files else None
            valid = np.asarray(archive["valid"]) if "valid" in archive.files else None
            meta_text = _string(np.asarray(archive["meta"]), "meta", label) if "meta" in archive.files else ""
            kf_text = _string(np.asarray(archive["keyframes"]), "keyframes", label) if "keyframes" in archive.files else ""
    except (zipfile.BadZipFile, EOFError) as exc:
        raise FormatError(f"{label} is not a readable .npz archive ({exc})") from None
    except ValueError as exc:  # object arrays (allow_pickle=False) and damaged members
        raise FormatError(f"{label} cannot be read safely: {exc}") from None
    except OSError as exc:
        raise FormatError(f"cannot read {label}: {exc.strerror or exc}") from None

    if raw.ndim != 2 or raw.dtype.kind not in "fiu" or raw.shape[0] > _MAX_FRAMES:
        raise FormatError(f"{label}: 'frames' must be a (T, C) numeric array, got {raw.dtype} of shape {raw.shape}")
    if channels.ndim != 1 or channels.dtype.kind != "U" or channels.shape[0] != raw.shape[1]:
        raise FormatError(f"{label}: 'channels' must name each of the {raw.shape[1]} columns of 'frames'")
    frames = np.zeros((raw.shape[0], rig.NUM_CHANNELS), dtype=np.float32)
    try:
        names = [rig.canonical_name(str(c), field="channels") for c in channels]
    except (ScriptError, ValueError, TypeError) as exc:
        raise FormatError(f"{label}: {exc}") from None
    if len(set(names)) != len(names):
        raise FormatError(f"{label}: a channel is listed twice in 'channels'")
    frames[:, [rig.CHANNEL_INDEX[n] for n in names]] = raw
    if fps.shape != () or fps.dtype.kind not in "fiu":
        raise FormatError(f"{label}: 'fps' must be a single number")
    try:
        meta = json.loads(meta_text, parse_constant=_refuse_constant) if meta_text else {}
        kf_doc = json.loads(kf_text, parse_constant=_refuse_constant) if kf_text else None
    except (json.JSONDecodeError, ValueError) as exc:
        raise FormatError(f"{label}: 'meta' or 'keyframes' is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise FormatError(f"{label}: 'meta' must be a JSON object")
    try:
        keyframes = Keyframes.from_dict(kf_doc) if kf_doc else None
        return Animation(frames=frames, fps=float(fps), times_s=times, valid=valid, keyframes=keyframes, meta=meta)
    except (ScriptError, ValueError, TypeError) as exc:
        raise FormatError(f"{label}: {exc}") from None
