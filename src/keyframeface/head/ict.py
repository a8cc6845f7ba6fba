"""The ICT-FaceKit head (USC ICT, MIT licence) as a :class:`~keyframeface.head.model.HeadModel`.

The asset is not part of keyframeface: it is read at run time from ``assets/ict-facekit/ict_arkit52.npz`` in
the shared data folder (:func:`keyframeface.shared_data.shared_dir`) or from a path the user gives. Its layout
(``neutral`` (V, 3) float32 cm, ``deltas`` (52, V, 3) float16 cm, ``names`` ARKit camelCase, ``tris``,
``tri_mat``, ``mats``) is described in that folder's README.md, and so are the choices made here:

* centimetres become metres (glTF's unit);
* the eyeballs become two separate parts that turn about their centres (the asset's ``eyeLook*`` shapes do not
  move them), with the iris coloured by the angle from the eye's +Z axis (pupil under 14 degrees, iris under
  36) and the sclera's cornea cap cut away so the iris shows;
* the eyelashes (opaque, they look like black rings without a texture) are left out;
* ``tongueOut`` has no ICT shape and stays all zero.

Every file made with this geometry carries the asset's copyright line and MIT licence text (glTF ``asset``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import rig
from ..errors import FormatError
from ..shared_data import shared_dir
from .model import EyeModel, HeadModel, Part, vertex_normals

__all__ = ["ICT_RELATIVE_PATH", "find_ict_asset", "load_ict_head"]

#: Where the asset lives inside the shared data folder.
ICT_RELATIVE_PATH = Path("assets") / "ict-facekit" / "ict_arkit52.npz"

_CM = 0.01  # the asset is in centimetres
_PUPIL_DEG, _IRIS_DEG = 14.0, 36.0  # iris colouring angles from the asset's README
_IRIS_KEEP_DEG = 45.0  # iris sphere kept a little past the cornea cut so no gap shows at grazing angles
_NECK_PIVOT_CM = (0.0, -6.0, -1.0)  # top of the neck, below and behind the head's centre (chosen by eye)
_MAX_BYTES = 256 * 1024 * 1024

_COLORS: dict[str, tuple[float, float, float, float]] = {
    "skin": (0.80, 0.56, 0.44, 1.0),
    "mouth": (0.55, 0.20, 0.22, 1.0),
    "teeth": (0.85, 0.83, 0.76, 1.0),
    "sclera": (0.92, 0.92, 0.90, 1.0),
    "iris": (0.16, 0.33, 0.45, 1.0),
    "pupil": (0.01, 0.01, 0.01, 1.0),
}
# ICT material -> face part; materials not listed (eyelashes, eyes) are not face parts.
_FACE_PARTS: dict[str, tuple[str, ...]] = {
    "skin": ("M_Face", "M_BackHead"),
    "mouth": ("M_GumsTongue",),
    "teeth": ("M_Teeth",),
}


def default_asset_dir() -> Path:
    """Where ``keyframeface fetch-ict`` writes the converted head by default and where it is looked for:
    ``$KEYFRAMEFACE_CACHE/ict-facekit`` or ``~/.cache/keyframeface/ict-facekit`` (``$XDG_CACHE_HOME`` respected)."""
    root = os.environ.get("KEYFRAMEFACE_CACHE")
    if root:
        return Path(root) / "ict-facekit"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "keyframeface" / "ict-facekit"


def _missing_message(where: str) -> str:
    return (
        f"the ICT-FaceKit head was not found ({where}). It is not shipped with keyframeface: download and "
        f"convert it once with `keyframeface fetch-ict` (into {default_asset_dir()}), or put the project's shared "
        f"folder beside the checkout or set KEYFRAMEFACE_SHARED to it (the file is {ICT_RELATIVE_PATH}), or pass "
        "mesh='/path/to/ict_arkit52.npz'; use mesh='default' for the built-in head"
    )


def find_ict_asset(path: str | os.PathLike[str] | None = None) -> Path:
    """The ``ict_arkit52.npz`` to read: ``path`` (a file or a folder holding it), else the shared data copy, else
    the copy ``keyframeface fetch-ict`` wrote into :func:`default_asset_dir`.

    Raises :class:`FormatError` that says how to get the asset when it cannot be found.
    """
    if path is not None:
        p = Path(path)
        if p.is_dir():
            p = p / ICT_RELATIVE_PATH.name
        if not p.is_file():
            raise FormatError(_missing_message(f"no file at {p}"))
        return p
    root = shared_dir()
    candidates = ([root / ICT_RELATIVE_PATH] if root is not None else []) + [default_asset_dir() / ICT_RELATIVE_PATH.name]
    for p in candidates:
        if p.is_file():
            return p
    raise FormatError(_missing_message("looked in " + ", ".join(str(c) for c in candidates)))


def load_ict_head(path: str | os.PathLike[str] | None = None) -> HeadModel:
    """Load the ICT head from ``path`` (see :func:`find_ict_asset`); cached per resolved file and modification
    time.

    Target names are mapped to the rig's with :func:`keyframeface.rig.try_canonical_name`; a target the asset
    lacks stays all zero. Raises :class:`FormatError` for a missing or malformed asset.
    """
    p = find_ict_asset(path).resolve()
    try:
        stat = p.stat()
    except OSError as exc:
        raise FormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    return _load(str(p), stat.st_mtime_ns, stat.st_size)


def _field(data: Any, key: str, path: str) -> np.ndarray:
    if key not in data.files:
        raise FormatError(
            f"{path} is not the ICT head archive: it has no {key!r} array (found {sorted(data.files)})"
        )
    return np.asarray(data[key])


def _numeric(data: Any, key: str, path: str, ndim: int) -> np.ndarray:
    """Field ``key`` checked to be a real-number (or integer) array with ``ndim`` dimensions."""
    arr = _field(data, key, path)
    if arr.dtype.kind not in "biuf" or arr.ndim != ndim:
        raise FormatError(f"{path}: {key!r} must be a {ndim}-D numeric array, got {arr.ndim}-D {arr.dtype}; "
                          "is it the ICT head archive?")
    return arr


@functools.lru_cache(maxsize=2)
def _load(path: str, mtime_ns: int, size: int) -> HeadModel:
    if size > _MAX_BYTES:
        raise FormatError(f"{path} is {size} bytes; an ICT head archive is about 2 MB")
    try:
        with np.load(path, allow_pickle=False) as data:
            neutral = _numeric(data, "neutral", path, 2).astype(np.float64) * _CM
            deltas = _numeric(data, "deltas", path, 3)
            names = [str(n) for n in _field(data, "names", path).reshape(-1)]
            tris = _numeric(data, "tris", path, 2).astype(np.int64)
            tri_mat = _numeric(data, "tri_mat", path, 1).astype(np.int64)
            mats = [str(m) for m in _field(data, "mats", path).reshape(-1)]
    except (OSError, ValueError) as exc:
        raise FormatError(f"cannot read the ICT head archive {path}: {exc}") from None
    n_vert = neutral.shape[0]
    if (
        neutral.ndim != 2
        or neutral.shape[1] != 3
        or deltas.shape != (len(names), n_vert, 3)
        or tris.ndim != 2
        or tris.shape[1] != 3
        or tri_mat.shape != (tris.shape[0],)
        or tris.size == 0
        or tris.min() < 0
        or tris.max() >= n_vert
        or tri_mat.max() >= len(mats)
    ):
        raise FormatError(
            f"{path}: the arrays do not fit together (neutral {neutral.shape}, deltas {deltas.shape}, "
            f"tris {tris.shape}, tri_mat {tri_mat.shape}); is it the ICT head archive?"
        )
    # Targets by canonical rig name, in rig.BLENDSHAPES order.
    full = np.zeros((rig.NUM_BLENDSHAPES, n_vert, 3), dtype=np.float32)
    for i, name in enumerate(names):
        canon = rig.try_canonical_name(name)
        if canon is None or canon not in rig.CHANNEL_INDEX or rig.CHANNEL_INDEX[canon] >= rig.NUM_BLENDSHAPES:
            continue
        full[rig.CHANNEL_INDEX[canon]] = deltas[i].astype(np.float32) * _CM
    if not full.any():
        raise FormatError(f"{path}: none of the target names {names[:3]}... is an ARKit blendshape")

    def tris_of(*materials: str) -> np.ndarray:
        ids = [mats.index(m) for m in materials if m in mats]
        return tris[np.isin(tri_mat, ids)]

    face = []
    for part, materials in _FACE_PARTS.items():
        t = tris_of(*materials)
        if len(t):
            face.append(_face_part(part, neutral, full, t))
    if not face:
        raise FormatError(f"{path}: no face triangles (materials {mats})")
    left = _eye(neutral, tris_of("M_IrisLeft"), tris_of("M_ScleraLeft"), path)
    right = _eye(neutral, tris_of("M_IrisRight"), tris_of("M_ScleraRight"), path)
    license_file = Path(path).parent / "LICENSE"
    try:
        license_text = license_file.read_text(encoding="utf-8") if license_file.is_file() else ""
    except (OSError, UnicodeDecodeError):
        license_text = ""
    return HeadModel(
        name="ict",
        face=tuple(face),
        left_eye=left,
        right_eye=right,
        pivot=(np.array(_NECK_PIVOT_CM) * _CM).astype(np.float32),
        copyright="Head geometry: ICT-FaceKit, Copyright (c) 2020 USC Institute for Creative Technologies, "
        "MIT licence (github.com/ICT-VGL/ICT-FaceKit)",
        license_text=license_text,
    )


def _compact(tris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep only the vertices ``tris`` use: (kept vertex ids, re-indexed triangles)."""
    used, inverse = np.unique(tris.reshape(-1), return_inverse=True)
    return used, inverse.reshape(-1, 3)


def _face_part(name: str, neutral: np.ndarray, full: np.ndarray, tris: np.ndarray) -> Part:
    used, local = _compact(tris)
    pos = neutral[used]
    centre = pos.mean(axis=0)
    return Part(
        name=name,
        positions=pos.astype(np.float32),
        normals=vertex_normals(pos, local, fallback=pos - centre),
        triangles=local.astype(np.uint32),
        color=_COLORS[name],
        deltas=np.ascontiguousarray(full[:, used]),
    )


def _fit_sphere(points: np.ndarray) -> np.ndarray:
    """Least-squares sphere centre of (N, 3) points."""
    a = np.c_[2.0 * points, np.ones(len(points))]
    b = (points**2).sum(axis=1)
    solution, *_ = np.linalg.lstsq(a, b, rcond=None)
    return np.asarray(solution[:3])


def _eye(neutral: np.ndarray, iris: np.ndarray, sclera: np.ndarray, path: str) -> EyeModel:
    if len(iris) == 0 or len(sclera) == 0:
        raise FormatError(f"{path}: an eye's iris or sclera triangles are missing")
    # The README's eye centre (about (+-3.16, 3.61, 8.06) cm) is the centre of the iris sphere.
    centre = _fit_sphere(neutral[np.unique(iris)])

    def angle_deg(t: np.ndarray) -> np.ndarray:
        c = neutral[t].mean(axis=1) - centre
        return np.degrees(np.arccos(np.clip(c[:, 2] / np.linalg.norm(c, axis=1), -1.0, 1.0)))

    ia, sa = angle_deg(iris), angle_deg(sclera)
    groups = (
        ("pupil", iris[ia < _PUPIL_DEG]),
        ("iris", iris[(ia >= _PUPIL_DEG) & (ia < _IRIS_KEEP_DEG)]),
        ("sclera", sclera[sa >= _IRIS_DEG]),  # the cornea cap (< 36 degrees) is cut away
    )
    used = np.unique(np.concatenate([g.reshape(-1) for _, g in groups]))
    remap = np.full(neutral.shape[0], -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    pos = neutral[used] - centre
    all_tris = np.concatenate([remap[g] for _, g in groups])
    normals = vertex_normals(pos, all_tris, fallback=pos)
    parts = tuple(
        Part(
            name=name,
            positions=pos.astype(np.float32),
            normals=normals,
            triangles=remap[g].astype(np.uint32),
            color=_COLORS[name],
        )
        for name, g in groups
        if len(g)
    )
    return EyeModel(parts=parts, centre=centre.astype(np.float32))
