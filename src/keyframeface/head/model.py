"""The head geometry that 3D exports and the 3D preview carry: parts with morph targets, two eyes, a neck pivot.

A :class:`HeadModel` is what :func:`keyframeface.io.gltf.write_gltf` turns into a glTF scene and what
:mod:`keyframeface.render.head3d` draws. Two sources build one: the small stylised head generated in code
(:mod:`keyframeface.head.procedural`) and the ICT-FaceKit head read from the shared assets
(:mod:`keyframeface.head.ict`, fetched and converted by :mod:`keyframeface.head.fetch`).

Coordinates follow glTF: metres, right-handed, +Y up, the face looks toward +Z, so the subject's **left** is
at +X (glTF 2.0 spec, "Coordinate System and Units": "+X is left" for an asset whose front faces +Z). Head and
eye rotations (:func:`keyframeface.rig.pose_quaternions`, re-exported here) follow :mod:`keyframeface.rig`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import rig
from ..rig import RADIANS_PER_UNIT, pose_quaternions

__all__ = ["RADIANS_PER_UNIT", "EyeModel", "HeadModel", "Part", "pose_quaternions", "vertex_normals"]


@dataclass(frozen=True, eq=False)
class Part:
    """One drawable piece with one material (one glTF mesh primitive).

    ``positions``: (N, 3) float32 metres. ``normals``: (N, 3) float32 unit vectors.
    ``triangles``: (M, 3) uint32 vertex indices, counter-clockwise seen from outside.
    ``deltas``: (52, N, 3) float32 morph-target offsets in ``rig.BLENDSHAPES`` order (vertex = position +
    sum_i w_i * deltas[i]), or ``None`` for a part without morph targets (the eyeballs).
    ``color``: linear RGBA base colour in [0, 1]. ``double_sided``: draw the back faces too (open shells).
    """

    name: str
    positions: np.ndarray
    normals: np.ndarray
    triangles: np.ndarray
    color: tuple[float, float, float, float]
    deltas: np.ndarray | None = None
    double_sided: bool = False

    def __post_init__(self) -> None:
        n = self.positions.shape[0]
        if self.positions.shape != (n, 3) or self.normals.shape != (n, 3):
            raise ValueError(f"part {self.name!r}: positions and normals must be (N, 3)")
        if self.triangles.ndim != 2 or self.triangles.shape[1] != 3 or self.triangles.size == 0:
            raise ValueError(f"part {self.name!r}: triangles must be a non-empty (M, 3) array")
        if int(self.triangles.max()) >= n or int(self.triangles.min()) < 0:
            raise ValueError(f"part {self.name!r}: a triangle indexes a vertex that does not exist")
        if self.deltas is not None and self.deltas.shape != (rig.NUM_BLENDSHAPES, n, 3):
            raise ValueError(f"part {self.name!r}: deltas must be ({rig.NUM_BLENDSHAPES}, {n}, 3)")


@dataclass(frozen=True, eq=False)
class EyeModel:
    """One eyeball: ``parts`` in eye-local coordinates (the eye's centre at the origin, looking toward +Z) and
    the eye's ``centre`` (3,) float32 in head coordinates, which is the pivot its rotation turns about."""

    parts: tuple[Part, ...]
    centre: np.ndarray


@dataclass(frozen=True, eq=False)
class HeadModel:
    """A head ready to export.

    ``face``: the parts that carry the 52 morph targets (exported as one glTF mesh, one primitive per part).
    ``left_eye`` / ``right_eye``: the subject's own left (+X) and right (-X) eyeballs.
    ``pivot``: (3,) float32, the point the head rotation turns about (the top of the neck), head coordinates.
    ``name``: short label (``"default"``, ``"ict"``). ``copyright``: attribution that must travel with the
    geometry (written to glTF ``asset.copyright``), empty for geometry made by keyframeface.
    ``license_text``: full licence text to embed with the geometry, or empty.
    """

    name: str
    face: tuple[Part, ...]
    left_eye: EyeModel
    right_eye: EyeModel
    pivot: np.ndarray
    copyright: str = ""
    license_text: str = ""

    def __post_init__(self) -> None:
        if not self.face or any(p.deltas is None for p in self.face):
            raise ValueError("a head needs at least one face part, and every face part needs morph deltas")


def vertex_normals(
    positions: np.ndarray, triangles: np.ndarray, *, fallback: np.ndarray | None = None
) -> np.ndarray:
    """Area-weighted vertex normals: (N, 3) positions, (M, 3) triangles -> (N, 3) float32 unit vectors.

    Vertices whose surrounding area is zero (unused or only in degenerate triangles) take ``fallback`` (N, 3)
    normalised, or +Z when no fallback is given, so every normal is unit length as glTF requires.
    """
    p = np.asarray(positions, dtype=np.float64)
    t = np.asarray(triangles, dtype=np.int64)
    a, b, c = p[t[:, 0]], p[t[:, 1]], p[t[:, 2]]
    face_n = np.cross(b - a, c - a)  # length = 2 x area, so the sum is area weighted
    acc = np.zeros_like(p)
    for k in range(3):
        np.add.at(acc, t[:, k], face_n)
    length = np.linalg.norm(acc, axis=1)
    bad = length < 1e-20
    if bad.any():
        fb = np.zeros_like(p)
        fb[:, 2] = 1.0
        if fallback is not None:
            f = np.asarray(fallback, dtype=np.float64)
            fl = np.linalg.norm(f, axis=1)
            ok = fl > 1e-20
            fb[ok] = f[ok] / fl[ok, None]
        acc[bad] = fb[bad]
        length[bad] = 1.0
    return (acc / length[:, None]).astype(np.float32)
