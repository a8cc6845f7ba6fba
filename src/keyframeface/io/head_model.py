"""The head geometry that 3D exports carry: parts with morph targets, two eyes, a neck pivot.

A :class:`HeadModel` is what :func:`keyframeface.io.gltf.write_gltf` turns into a glTF scene. Two sources
build one: the small stylised head generated in code (:mod:`keyframeface.io.gltf_mesh`) and the ICT-FaceKit
head read from the shared assets (:mod:`keyframeface.io.ict_head`).

Coordinates follow glTF: metres, right-handed, +Y up, the face looks toward +Z, so the subject's **left** is
at +X (glTF 2.0 spec, "Coordinate System and Units": "+X is left" for an asset whose front faces +Z).

Head and eye rotations (:func:`pose_quaternions`), the same convention for ``HeadYaw/Pitch/Roll`` and for each
eye's ``Yaw/Pitch/Roll``, consistent with :mod:`keyframeface.rig`:

* yaw > 0 turns toward the subject's **right** (-X): a rotation of -yaw about +Y;
* pitch > 0 looks **down**: a rotation of +pitch about +X (it carries +Z toward -Y);
* roll > 0 tilts the top of the head toward the subject's **right** shoulder: a rotation of +roll about +Z;
* composed yaw, then pitch, then roll, each about the already turned axes (q = q_yaw * q_pitch * q_roll), the
  order of Unreal's FRotator that MetaHuman uses.

Scale: one normalised unit is one radian (:data:`RADIANS_PER_UNIT`). Unreal's ARKit face support maps the
tracked angle's -180..180 degrees to -1..1 (UE4 ``AppleARKitConversion.h``, ``ToBlendShapeMap``: "Map the
-180..180 range to -1..1"), but the values that the Live Link Face app records do not fit that reading: in the
real captures in ``shared/realdata`` (27,256 frames with rotation columns) the eye yaw reaches 0.66, which
would be 119 degrees, beyond what an eye can turn; read as radians it is 38 degrees, about the eye's limit,
and the eye pitch's 0.40 is 23 degrees. The open-source Live Link senders do the same (MeFaMo sends
``transforms3d.euler.mat2euler`` radians as HeadYaw/HeadPitch/HeadRoll). Pass ``radians_per_unit=math.pi`` for
the UE plugin's reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import rig

__all__ = ["RADIANS_PER_UNIT", "EyeModel", "HeadModel", "Part", "pose_quaternions", "vertex_normals"]

#: Radians per normalised unit of the head and eye rotation channels (evidence in the module docstring).
RADIANS_PER_UNIT = 1.0


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


def _axis_quaternions(angle: np.ndarray, axis: int) -> np.ndarray:
    q = np.zeros((angle.shape[0], 4))
    q[:, axis] = np.sin(angle / 2.0)
    q[:, 3] = np.cos(angle / 2.0)
    return q


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (T, 4) xyzw quaternions: the rotation b, then a."""
    ax, ay, az, aw = a.T
    bx, by, bz, bw = b.T
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def pose_quaternions(
    yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray, *, radians_per_unit: float = RADIANS_PER_UNIT
) -> np.ndarray:
    """Normalised yaw/pitch/roll (T,) each -> (T, 4) float32 unit quaternions (x, y, z, w) in glTF axes.

    Signs and order as in the module docstring. Consecutive quaternions are kept in the same hemisphere, so
    linear interpolation between frames takes the short way round.
    """
    y = np.asarray(yaw, dtype=np.float64).reshape(-1) * radians_per_unit
    p = np.asarray(pitch, dtype=np.float64).reshape(-1) * radians_per_unit
    r = np.asarray(roll, dtype=np.float64).reshape(-1) * radians_per_unit
    q = _multiply(_multiply(_axis_quaternions(-y, 1), _axis_quaternions(p, 0)), _axis_quaternions(r, 2))
    if len(q) > 1:
        flips = np.einsum("ij,ij->i", q[1:], q[:-1]) < 0
        sign = np.concatenate([[1.0], np.where(np.cumsum(flips) % 2 == 1, -1.0, 1.0)])
        q *= sign[:, None]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.astype(np.float32)
