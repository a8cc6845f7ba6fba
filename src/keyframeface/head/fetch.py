"""Get the ICT-FaceKit head for the 3D preview: download the public release and convert it to the npz it reads.

keyframeface does not ship the head. This module downloads the ICT-FaceKit repository archive from GitHub
(github.com/ICT-VGL/ICT-FaceKit, USC ICT, MIT licence), reads the Light model's OBJ files in ``FaceXModel/``
(``generic_neutral_mesh.obj`` and one OBJ per expression shape, all on the same topology) and writes
``ict_arkit52.npz`` in the layout :func:`keyframeface.head.ict.load_ict_head` reads (documented in
``docs/ict_asset.md``), with the licence beside it::

    keyframeface fetch-ict                               # download and convert into the default folder
    keyframeface fetch-ict --from-dir ICT-FaceKit-checkout   # convert a local copy, offline

The conversion keeps the geometry the preview draws (face, head and neck, mouth and eye sockets, gums and
tongue, teeth, eyeballs, eyelashes) and drops the see-through helper meshes made for Unreal's eye shaders
(lacrimal fluid, eye blend, eye occlusion). Quads become two triangles. ``xxx_L`` / ``xxx_R`` shapes become
``xxxLeft`` / ``xxxRight``; ``browInnerUp`` and ``cheekPuff``, which ICT splits into halves, are the sums of
their halves; ARKit's ``tongueOut`` has no ICT shape and stays zero.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import rig
from ..errors import FormatError
from ..io.atomic import atomic_write_bytes
from .ict import default_asset_dir

__all__ = [
    "DEFAULT_REF",
    "ICT_REPOSITORY",
    "arkit_source_shapes",
    "convert_ict",
    "default_asset_dir",
    "fetch_ict",
    "read_obj",
    "read_obj_vertices",
]

log = logging.getLogger(__name__)

ICT_REPOSITORY = "ICT-VGL/ICT-FaceKit"
#: The commit the project's reference copy was made from (shared/assets/ict-facekit/README.md).
DEFAULT_REF = "da5f95a"
_ARCHIVE_URL = "https://github.com/{repo}/archive/{ref}.zip"
_MODEL_DIR = "FaceXModel"
_NEUTRAL = "generic_neutral_mesh.obj"
# Helper meshes for Unreal's eye shaders (ICT-FaceKit README, "Additional eye geometry"); not drawn here.
_DROPPED_MATERIALS = frozenset({"M_EyeBlend", "M_EyeOcclusion", "M_LacrimalFluid"})
_SPLIT_SHAPES = ("browInnerUp", "cheekPuff")  # ICT has _L and _R halves of these ARKit shapes
_MISSING_SHAPES = ("tongueOut",)
_DELTA_EPS_CM = 1e-3  # offsets shorter than this are noise from the OBJ's printed precision; zeroed
_MAX_DOWNLOAD_BYTES = 2 << 30


def _arkit_name(ict_stem: str) -> str:
    for suffix, side in (("_L", "Left"), ("_R", "Right")):
        if ict_stem.endswith(suffix):
            return ict_stem[: -len(suffix)] + side
    return ict_stem


def arkit_source_shapes() -> dict[str, tuple[str, ...]]:
    """ARKit camelCase name -> the ICT OBJ file stems whose offsets it sums, for the 52 shapes in rig order
    (``()`` for ``tongueOut``, which ICT lacks)."""
    out: dict[str, tuple[str, ...]] = {}
    for name in rig.BLENDSHAPES:
        arkit = name[0].lower() + name[1:]
        if arkit in _MISSING_SHAPES:
            out[arkit] = ()
        elif arkit in _SPLIT_SHAPES:
            out[arkit] = (f"{arkit}_L", f"{arkit}_R")
        elif arkit.endswith("Left"):
            out[arkit] = (arkit[: -len("Left")] + "_L",)
        elif arkit.endswith("Right"):
            out[arkit] = (arkit[: -len("Right")] + "_R",)
        else:
            out[arkit] = (arkit,)
    return out


def read_obj_vertices(text: str, *, source: str = "OBJ") -> np.ndarray:
    """The ``v x y z`` positions of a Wavefront OBJ text: (N, 3) float64 (extra per-vertex colours ignored)."""
    lines = [line[2:] for line in text.splitlines() if line.startswith("v ")]
    tokens = " ".join(lines).split()
    try:
        if len(tokens) == 3 * len(lines):  # the usual case: one joined parse is about twice as fast
            arr = np.array(tokens, dtype=np.float64).reshape(-1, 3)
        else:
            arr = np.array([line.split()[:3] for line in lines], dtype=np.float64)
    except ValueError:
        raise FormatError(f"{source}: a 'v' line does not hold three numbers") from None
    if arr.ndim != 2 or arr.shape[1] != 3 or len(arr) == 0:
        raise FormatError(f"{source}: expected 'v x y z' vertex lines, found {len(lines)} usable ones")
    return arr


def read_obj(text: str, *, source: str = "OBJ") -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Vertices and triangulated faces of an OBJ text.

    Returns ``(vertices (N, 3) float64, tris (M, 3) int64 zero-based, tri_mat (M,) int64, materials)``: each
    polygon ``f a b c d ...`` (``v/vt/vn`` forms and negative indices accepted) becomes the fan ``(a, b, c)``,
    ``(a, c, d)``, ...; ``tri_mat`` indexes ``materials``, the ``usemtl`` names in first-use order
    (``"default"`` before any ``usemtl``).
    """
    vertices = read_obj_vertices(text, source=source)
    n = len(vertices)
    materials: list[str] = []
    index_of: dict[str, int] = {}
    current = -1
    tris: list[tuple[int, int, int]] = []
    mats: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.startswith("usemtl"):
            name = line.split(maxsplit=1)[1].strip() if len(line.split()) > 1 else "default"
            if name not in index_of:
                index_of[name] = len(materials)
                materials.append(name)
            current = index_of[name]
        elif line.startswith("f "):
            try:
                ids = [int(tok.split("/")[0]) for tok in line.split()[1:]]
            except ValueError:
                raise FormatError(f"{source}:{lineno}: a face index is not a number") from None
            ids = [i - 1 if i > 0 else n + i for i in ids]
            if len(ids) < 3 or min(ids) < 0 or max(ids) >= n:
                raise FormatError(f"{source}:{lineno}: a face needs 3+ indices into the {n} vertices")
            if current < 0:
                index_of["default"] = current = len(materials)
                materials.append("default")
            for k in range(1, len(ids) - 1):
                tris.append((ids[0], ids[k], ids[k + 1]))
                mats.append(current)
    if not tris:
        raise FormatError(f"{source}: no faces ('f' lines); is it the ICT neutral mesh?")
    return vertices, np.array(tris, dtype=np.int64), np.array(mats, dtype=np.int64), materials


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from None


def convert_ict(model_dir: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Convert ICT-FaceKit's ``FaceXModel`` folder (or a checkout holding it) to ``out`` (an ``.npz`` file or a
    folder that receives ``ict_arkit52.npz``); returns the written file. A ``LICENSE`` found beside the model
    folder is copied next to the output (the head's MIT licence must travel with it).

    Output arrays: ``neutral`` (V, 3) float32 cm, ``deltas`` (52, V, 3) float16 cm, ``names`` (52,) ARKit
    camelCase, ``tris`` (M, 3) uint16 (uint32 if V > 65535), ``tri_mat`` (M,) uint8, ``mats`` material names.
    Raises :class:`FormatError` when a file is missing or the shapes do not share the neutral's topology.
    """
    folder = Path(model_dir)
    if (folder / _MODEL_DIR / _NEUTRAL).is_file():
        folder = folder / _MODEL_DIR
    neutral_path = folder / _NEUTRAL
    if not neutral_path.is_file():
        raise FormatError(
            f"no {_NEUTRAL} in {folder}; point at ICT-FaceKit's {_MODEL_DIR} folder (or a checkout of "
            f"github.com/{ICT_REPOSITORY})"
        )
    verts, tris, tri_mat, materials = read_obj(_read_text(neutral_path), source=str(neutral_path))
    kept_mats = [m for m in materials if m not in _DROPPED_MATERIALS]
    keep_tri = np.isin(tri_mat, [materials.index(m) for m in kept_mats])
    tris, tri_mat = tris[keep_tri], tri_mat[keep_tri]
    used = np.unique(tris)  # vertices in their original order, helper-mesh vertices left out
    remap = np.full(len(verts), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    # Materials sorted by name, as in the reference asset.
    mats = sorted(kept_mats)
    mat_index = np.array([mats.index(m) if m in mats else 0 for m in materials], dtype=np.int64)
    neutral = verts[used]

    names: list[str] = []
    deltas = np.zeros((rig.NUM_BLENDSHAPES, len(used), 3), dtype=np.float64)
    for k, (arkit, stems) in enumerate(arkit_source_shapes().items()):
        names.append(arkit)
        for stem in stems:
            path = folder / f"{stem}.obj"
            if not path.is_file():
                raise FormatError(f"the ICT expression shape {path.name} is missing from {folder}")
            shape = read_obj_vertices(_read_text(path), source=str(path))
            if shape.shape != verts.shape:
                raise FormatError(
                    f"{path}: {len(shape)} vertices, but the neutral mesh has {len(verts)}; the shapes must "
                    "share its topology"
                )
            deltas[k] += shape[used] - neutral
    deltas[np.linalg.norm(deltas, axis=2) < _DELTA_EPS_CM] = 0.0
    index_dtype = np.uint16 if len(used) <= np.iinfo(np.uint16).max else np.uint32
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        neutral=neutral.astype(np.float32),
        deltas=deltas.astype(np.float16),
        names=np.array(names),
        tris=remap[tris].astype(index_dtype),
        tri_mat=mat_index[tri_mat].astype(np.uint8),
        mats=np.array(mats),
    )
    target = Path(out)
    if target.suffix.lower() != ".npz":
        target = target / "ict_arkit52.npz"
    atomic_write_bytes(target, buf.getvalue())
    for candidate in (folder / "LICENSE", folder.parent / "LICENSE"):
        if candidate.is_file():
            atomic_write_bytes(target.parent / "LICENSE", candidate.read_bytes())
            break
    else:
        log.warning(
            "no LICENSE found beside %s; the ICT-FaceKit MIT licence must travel with the head", folder
        )
    log.info("wrote %s (%d vertices, %d triangles)", target, len(used), len(tris))
    return target


def _download(url: str, dest: Path, *, timeout_s: float, progress: Callable[[int, int], None] | None) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "keyframeface-asset-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response, dest.open("wb") as handle:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                done += len(chunk)
                if done > _MAX_DOWNLOAD_BYTES:
                    raise FormatError(
                        f"{url} is larger than {_MAX_DOWNLOAD_BYTES} bytes; is it the right file?"
                    )
                handle.write(chunk)
                if progress is not None:
                    progress(done, total)
    except OSError as exc:
        raise FormatError(
            f"could not download {url} ({exc}); check the network, or download the archive yourself and run "
            "keyframeface fetch-ict --from-dir FOLDER"
        ) from None


def _extract_model(archive: Path, dest: Path) -> Path:
    """Extract ``FaceXModel/*.obj`` and ``LICENSE`` from a GitHub archive into ``dest``; returns the model dir."""
    model = dest / _MODEL_DIR
    model.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                parts = Path(info.filename).parts  # "<repo>-<ref>/FaceXModel/x.obj"
                if info.is_dir() or len(parts) < 2:
                    continue
                inner = parts[1:]
                if inner == ("LICENSE",):
                    (dest / "LICENSE").write_bytes(zf.read(info))
                elif len(inner) == 2 and inner[0] == _MODEL_DIR and inner[1].endswith(".obj"):
                    # Only plain names are written (no path from the archive reaches the file system).
                    (model / Path(inner[1]).name).write_bytes(zf.read(info))
    except zipfile.BadZipFile:
        raise FormatError(f"{archive} is not a zip archive; the download may have failed") from None
    if not (model / _NEUTRAL).is_file():
        raise FormatError(f"the archive has no {_MODEL_DIR}/{_NEUTRAL}; is it the ICT-FaceKit repository?")
    return model


def fetch_ict(
    out: str | os.PathLike[str] | None = None,
    *,
    ref: str = DEFAULT_REF,
    url: str | None = None,
    timeout_s: float = 120.0,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Download ICT-FaceKit at ``ref`` (or from ``url``, a zip of the repository), convert it with
    :func:`convert_ict` into ``out`` (default :func:`default_asset_dir`) and return the ``.npz`` path.

    ``progress(done_bytes, total_bytes)`` is called while downloading (total 0 when unknown). The download
    (large: the repository also holds 100 identity meshes) goes to a temporary folder removed afterwards.
    """
    target = Path(out) if out is not None else default_asset_dir()
    source = url or _ARCHIVE_URL.format(repo=ICT_REPOSITORY, ref=ref)
    with tempfile.TemporaryDirectory(prefix="keyframeface-ict-") as tmp:
        archive = Path(tmp) / "ict-facekit.zip"
        log.info("downloading %s", source)
        _download(source, archive, timeout_s=timeout_s, progress=progress)
        model = _extract_model(archive, Path(tmp) / "extracted")
        archive.unlink()
        return convert_ict(model, target)
