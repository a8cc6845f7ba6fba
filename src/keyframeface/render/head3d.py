"""The 3D head preview: the ICT-FaceKit head posed by 61 channel values, lit and drawn to an RGB image.

:class:`Head3DRenderer` (registered as renderer ``"3d"``) reads the ICT head through
:func:`keyframeface.head.ict.load_ict_head` (the same geometry the glTF export writes: eyeballs as separate
parts, iris and pupil coloured, cornea cap cut, eyelashes dropped), then for each frame:

* blendshapes: ``vertex = neutral + weights @ deltas`` over the 52 ARKit shapes, vectorised, with ``MouthClose``
  limited to ``JawOpen`` (the asset README: ICT's mouthClose only looks right together with jawOpen);
* eyes: each eyeball turns about its centre by its ``Left/RightEye{Yaw,Pitch,Roll}`` channels, or by the
  rotation its ``EyeLook*`` shapes imply (:func:`keyframeface.rig.eye_rotations_from_look`) when the rotation
  channels are all zero, the rule :mod:`keyframeface.io.gltf` follows;
* head: ``HeadYaw/Pitch/Roll`` turn the whole bust rigidly about the neck pivot, with the signs and order of
  :func:`keyframeface.rig.pose_quaternions` (yaw > 0 toward the subject's right, pitch > 0 down);
* drawing: a camera on +Z looking at the face (so the subject's left, +X, is the image's right), a key light,
  a fill light and a rim light (Blinn-Phong, two-sided), shaded in linear light and written as sRGB.

Two drawing back ends share everything above: :mod:`.gl_backend` (moderngl on EGL, Mesa llvmpipe works without
a GPU; extra ``[render]``) and :mod:`.soft_raster` (pure numpy z-buffer, always available, slower).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from .. import rig
from ..errors import BackendUnavailableError
from ..head.model import HeadModel
from ..rig import pose_quaternions
from .base import check_size, check_values

__all__ = [
    "DEFAULT_LIGHTING",
    "Camera",
    "Head3DRenderer",
    "HeadMesh",
    "Light",
    "Lighting",
    "RasterBackend",
]

log = logging.getLogger(__name__)

BackendName = Literal["auto", "gl", "numpy"]


# ------------------------------------------------------------------------------------------------- lighting
@dataclass(frozen=True)
class Light:
    """A directional light. ``direction``: (3,) toward the light, world axes (+X subject's left, +Y up, +Z
    toward the camera). ``color``: linear RGB intensity. ``specular``: weight of its highlight."""

    direction: tuple[float, float, float]
    color: tuple[float, float, float]
    specular: float = 1.0


@dataclass(frozen=True)
class Lighting:
    """Lights of the scene (at most 4) and the shading terms both back ends apply identically.

    Per pixel, with albedo ``a``, unit normal ``n`` turned toward the viewer, view direction ``v``:
    ``a * (ambient + sum_i color_i * max(n.l_i, 0)) + sum_i specular_i * ks * color_i * max(n.h_i, 0)^shininess
    + rim * (1 - n.v)^3 * rim_color``, then clipped to [0, 1] and encoded as sRGB.
    """

    ambient: tuple[float, float, float] = (0.20, 0.20, 0.22)
    lights: tuple[Light, ...] = ()
    rim: float = 0.0
    rim_color: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        if len(self.lights) > 4:
            raise ValueError(f"at most 4 lights, got {len(self.lights)}")

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(4, 3) unit directions, (4, 3) colours, (4,) specular weights; unused slots are zero."""
        d = np.zeros((4, 3), dtype=np.float32)
        c = np.zeros((4, 3), dtype=np.float32)
        s = np.zeros(4, dtype=np.float32)
        for k, light in enumerate(self.lights):
            v = np.asarray(light.direction, dtype=np.float64)
            d[k] = v / max(float(np.linalg.norm(v)), 1e-12)
            c[k] = light.color
            s[k] = light.specular
        return d, c, s


#: Key light above and to the camera's left (the subject's right), a dimmer cool fill from the other side, and
#: a rim light from behind that outlines the silhouette. Values chosen by eye on the ICT head.
DEFAULT_LIGHTING = Lighting(
    ambient=(0.09, 0.09, 0.10),
    lights=(
        Light(direction=(-0.50, 0.55, 0.70), color=(1.10, 1.02, 0.94), specular=1.0),
        Light(direction=(0.75, 0.0, 0.55), color=(0.26, 0.29, 0.34), specular=0.2),
        Light(direction=(0.20, 0.55, -0.80), color=(0.50, 0.50, 0.54), specular=0.6),
    ),
    rim=0.10,
    rim_color=(0.85, 0.88, 0.95),
)


# --------------------------------------------------------------------------------------------------- camera
@dataclass(frozen=True)
class Camera:
    """A pinhole camera on +Z looking toward -Z at ``target`` (world metres); ``fov_deg`` vertical field of view.

    The image's right is world +X (the subject's left), its top world +Y.
    """

    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    distance: float = 1.0
    fov_deg: float = 20.0
    near: float = 0.1
    far: float = 10.0

    @property
    def eye(self) -> np.ndarray:
        """(3,) float32 camera position."""
        return np.array(self.target, dtype=np.float32) + np.array([0.0, 0.0, self.distance], dtype=np.float32)

    def view_projection(self) -> np.ndarray:
        """(4, 4) float32 matrix taking world points (column vectors) to OpenGL clip space."""
        view = np.eye(4)
        view[:3, 3] = -self.eye  # the camera looks down -Z with +Y up: a translation is all the view needs
        f = 1.0 / np.tan(np.radians(self.fov_deg) / 2.0)
        n, fa = self.near, self.far
        proj = np.array(
            [
                [f, 0.0, 0.0, 0.0],
                [0.0, f, 0.0, 0.0],
                [0.0, 0.0, (fa + n) / (n - fa), 2.0 * fa * n / (n - fa)],
                [0.0, 0.0, -1.0, 0.0],
            ]
        )
        return (proj @ view).astype(np.float32)


# ----------------------------------------------------------------------------------------------------- mesh
# Per-part material: (specular strength, shininess). Skin is mostly matte, the eyes and teeth are wet.
_MATERIAL: dict[str, tuple[float, float]] = {
    "skin": (0.10, 18.0),
    "mouth": (0.25, 30.0),
    "teeth": (0.30, 40.0),
    "sclera": (0.55, 60.0),
    "iris": (0.55, 60.0),
    "pupil": (0.60, 60.0),
}
_DEFAULT_MATERIAL = (0.15, 20.0)
# The preview's own albedo where it differs from the export's vertex colour (linear RGB): a slightly deeper,
# less saturated skin reads better under the key light than the export's light tone. Chosen by eye.
_ALBEDO: dict[str, tuple[float, float, float]] = {"skin": (0.64, 0.43, 0.31), "mouth": (0.32, 0.09, 0.10)}
# Eye colouring by each vertex's angle from the eye's +Z axis (asset README: pupil under ~14 degrees, iris under
# ~36). Per-vertex colours blend smoothly across these rings, where per-triangle part boundaries are jagged.
_PUPIL_DEG, _IRIS_DEG = 14.0, 35.0
_EYE_COLORS = {
    "pupil": np.array([0.01, 0.01, 0.012], dtype=np.float32),
    "iris": np.array([0.14, 0.30, 0.42], dtype=np.float32),
    "limbus": np.array([0.05, 0.10, 0.15], dtype=np.float32),  # the darker ring at the iris's edge
    "sclera": np.array([0.80, 0.78, 0.75], dtype=np.float32),
}


@dataclass(frozen=True, eq=False)
class HeadMesh:
    """All parts of a :class:`HeadModel` in one vertex array, ready to pose and draw.

    Vertices ``[0, n_face)`` are the face parts (with morph targets), then the left eye's, then the right eye's.
    ``neutral``: (V, 3) float32 metres (eye vertices in eye-local axes, centred on the eyeball).
    ``deltas``: (52, n_face * 3) float32. ``eye_normals``: (V - n_face, 3) float32 eye-local unit normals.
    ``albedo``: (V, 3) float32 linear RGB. ``material``: (V, 2) float32 (specular strength, shininess).
    ``triangles``: (M, 3) uint32. ``face_triangles``: (Mf, 3) int64, the triangles among face vertices (the
    ones whose normals change with the blendshapes).
    """

    neutral: np.ndarray
    deltas: np.ndarray
    n_face: int
    left_eye: slice
    right_eye: slice
    left_centre: np.ndarray
    right_centre: np.ndarray
    eye_normals: np.ndarray
    albedo: np.ndarray
    material: np.ndarray
    triangles: np.ndarray
    face_triangles: np.ndarray
    pivot: np.ndarray
    neutral_face_normals: np.ndarray = field(repr=False)

    @classmethod
    def from_model(cls, head: HeadModel) -> HeadMesh:
        """Flatten ``head`` (see :class:`keyframeface.head.model.HeadModel`)."""
        positions: list[np.ndarray] = []
        deltas: list[np.ndarray] = []
        albedo: list[np.ndarray] = []
        material: list[np.ndarray] = []
        tris: list[np.ndarray] = []
        eye_normals: list[np.ndarray] = []
        count = 0

        def add(
            part_positions: np.ndarray, part_tris: np.ndarray, name: str, color: tuple[float, ...]
        ) -> None:
            nonlocal count
            n = part_positions.shape[0]
            positions.append(np.asarray(part_positions, dtype=np.float32))
            albedo.append(np.tile(np.asarray(_ALBEDO.get(name, color[:3]), dtype=np.float32), (n, 1)))
            material.append(
                np.tile(np.asarray(_MATERIAL.get(name, _DEFAULT_MATERIAL), dtype=np.float32), (n, 1))
            )
            tris.append(np.asarray(part_tris, dtype=np.int64) + count)
            count += n

        for part in head.face:
            add(part.positions, part.triangles, part.name, part.color)
            if part.deltas is None:  # HeadModel guarantees deltas on face parts
                raise ValueError(f"face part {part.name!r} has no morph deltas")
            deltas.append(part.deltas)
        n_face = count
        face_tris = np.concatenate(tris)
        eye_slices = []
        for eye in (head.left_eye, head.right_eye):
            start = count
            for part in eye.parts:
                add(part.positions, part.triangles, part.name, part.color)
                eye_normals.append(np.asarray(part.normals, dtype=np.float32))
            eye_slices.append(slice(start, count))
            eye_pos = np.concatenate(positions[-len(eye.parts) :]) if eye.parts else np.zeros((0, 3))
            albedo[-len(eye.parts) :] = [_eye_albedo(eye_pos)] + [np.zeros((0, 3), np.float32)] * (
                len(eye.parts) - 1
            )
        neutral = np.concatenate(positions)
        all_deltas = np.concatenate(deltas, axis=1).reshape(rig.NUM_BLENDSHAPES, n_face * 3)
        return cls(
            neutral=neutral,
            deltas=np.ascontiguousarray(all_deltas, dtype=np.float32),
            n_face=n_face,
            left_eye=eye_slices[0],
            right_eye=eye_slices[1],
            left_centre=np.asarray(head.left_eye.centre, dtype=np.float32),
            right_centre=np.asarray(head.right_eye.centre, dtype=np.float32),
            eye_normals=np.concatenate(eye_normals),
            albedo=np.concatenate(albedo),
            material=np.concatenate(material),
            triangles=np.concatenate(tris).astype(np.uint32),
            face_triangles=face_tris,
            pivot=np.asarray(head.pivot, dtype=np.float32),
            neutral_face_normals=_vertex_normals(neutral[:n_face], face_tris),
        )

    @property
    def n_vertices(self) -> int:
        return int(self.neutral.shape[0])

    def pose(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posed (V, 3) float32 positions and (V, 3) float32 unit normals, world axes, for (61,) clamped values."""
        w = np.array(values[: rig.NUM_BLENDSHAPES], dtype=np.float32)
        i = rig.CHANNEL_INDEX
        # ICT's mouthClose only looks right together with jawOpen (asset README): never close more than open.
        w[i["MouthClose"]] = min(w[i["MouthClose"]], w[i["JawOpen"]])
        pos = np.empty_like(self.neutral)
        nrm = np.empty_like(self.neutral)
        face = self.neutral[: self.n_face]
        active = np.flatnonzero(np.abs(w) > 1e-6)
        if len(active):
            # Only the active shapes: a typical expression uses a handful of the 52.
            offset = (w[active] @ self.deltas[active]).reshape(self.n_face, 3)
            pos[: self.n_face] = face + offset
            nrm[: self.n_face] = _vertex_normals(pos[: self.n_face], self.face_triangles)
        else:
            pos[: self.n_face] = face
            nrm[: self.n_face] = self.neutral_face_normals
        eye_n = 0
        for side, sl, centre in (
            ("Left", self.left_eye, self.left_centre),
            ("Right", self.right_eye, self.right_centre),
        ):
            rot = _matrix(_eye_angles(values, side))
            local = self.neutral[sl]
            pos[sl] = local @ rot.T + centre
            n = sl.stop - sl.start
            nrm[sl] = self.eye_normals[eye_n : eye_n + n] @ rot.T
            eye_n += n
        head = _matrix((values[i["HeadYaw"]], values[i["HeadPitch"]], values[i["HeadRoll"]]))
        pos = (pos - self.pivot) @ head.T + self.pivot
        nrm = nrm @ head.T
        return pos.astype(np.float32), nrm.astype(np.float32)

    def default_camera(self) -> Camera:
        """A camera framing the neutral head from the crown to the chin with a small margin."""
        face = self.neutral[: self.n_face]
        lo, hi = face.min(axis=0), face.max(axis=0)
        # The ICT bust reaches down to the shoulders; frame the top 74% of its height, from the crown to the
        # throat, so a wide-open jaw still fits (chosen by eye).
        top, bottom = float(hi[1]), float(lo[1] + 0.26 * (hi[1] - lo[1]))
        centre = (0.0, (top + bottom) / 2.0, float((lo[2] + hi[2]) / 2.0))
        fov = 20.0
        half = 0.54 * (top - bottom)
        distance = half / np.tan(np.radians(fov) / 2.0) + float(hi[2] - centre[2])
        return Camera(target=centre, distance=float(distance), fov_deg=fov, near=0.05, far=distance * 3.0)


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _eye_albedo(local: np.ndarray) -> np.ndarray:
    """(N, 3) eye-local vertices (centre at the origin, looking along +Z) -> (N, 3) float32 linear albedo."""
    r = np.maximum(np.linalg.norm(local, axis=1), 1e-12)
    deg = np.degrees(np.arccos(np.clip(local[:, 2] / r, -1.0, 1.0)))[:, None]
    c = _EYE_COLORS
    iris = c["iris"] + (c["limbus"] - c["iris"]) * _smoothstep(_IRIS_DEG - 9.0, _IRIS_DEG - 1.0, deg)
    color = c["pupil"] + (iris - c["pupil"]) * _smoothstep(_PUPIL_DEG - 1.5, _PUPIL_DEG + 1.5, deg)
    color = color + (c["sclera"] - color) * _smoothstep(_IRIS_DEG - 1.0, _IRIS_DEG + 1.0, deg)
    return color.astype(np.float32)


def _vertex_normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals, (N, 3) float32; np.bincount is several times faster than np.add.at."""
    p = positions.astype(np.float32, copy=False)
    a, b, c = p[triangles[:, 0]], p[triangles[:, 1]], p[triangles[:, 2]]
    fn = np.cross(b - a, c - a)
    idx = triangles.reshape(-1)
    n = p.shape[0]
    acc = np.empty((n, 3), dtype=np.float32)
    for k in range(3):
        acc[:, k] = np.bincount(idx, weights=np.repeat(fn[:, k], 3), minlength=n)
    length = np.linalg.norm(acc, axis=1, keepdims=True)
    return (acc / np.maximum(length, 1e-20)).astype(np.float32)


def _eye_angles(values: np.ndarray, side: str) -> tuple[float, float, float]:
    """(yaw, pitch, roll) of one eye in one frame (61,): :func:`keyframeface.rig.eye_angles` of that frame."""
    yaw, pitch, roll = rig.eye_angles(np.asarray(values)[None, :], side)
    return float(yaw[0]), float(pitch[0]), float(roll[0])


def _matrix(angles: tuple[float, float, float] | tuple[np.floating, ...]) -> np.ndarray:
    """(3, 3) rotation of normalised (yaw, pitch, roll), conventions of :func:`pose_quaternions`."""
    yaw, pitch, roll = (np.array([float(a)]) for a in angles)
    x, y, z, w = (float(v) for v in pose_quaternions(yaw, pitch, roll)[0])
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=np.float32,
    )


# -------------------------------------------------------------------------------------------- the back ends
class RasterBackend(Protocol):
    """What :mod:`.gl_backend` and :mod:`.soft_raster` provide: draw a posed mesh to premultiplied RGBA."""

    name: str

    def draw(
        self, positions: np.ndarray, normals: np.ndarray, *, camera: Camera, lighting: Lighting, size: int
    ) -> np.ndarray:
        """(V, 3) positions and normals -> (size, size, 4) float32 premultiplied RGBA in [0, 1], sRGB colour;
        alpha is the pixel's coverage (0 where only background shows)."""
        ...


def _make_backend(name: BackendName, mesh: HeadMesh) -> RasterBackend:
    if name in ("auto", "gl"):
        from . import gl_backend

        try:
            return gl_backend.GLRasterizer(mesh)
        except BackendUnavailableError as exc:
            if name == "gl":
                raise
            log.info("3D renderer: %s; drawing with the numpy rasteriser instead", exc)
    elif name != "numpy":
        raise BackendUnavailableError(f"unknown 3D render backend {name!r}; expected 'auto', 'gl' or 'numpy'")
    from . import soft_raster

    return soft_raster.SoftRasterizer(mesh)


def _background(size: int, color: tuple[float, float, float] | None) -> np.ndarray:
    """(size, size, 3) float32 sRGB background: ``color`` or a soft vertical grey gradient."""
    if color is not None:
        return np.broadcast_to(np.asarray(color, dtype=np.float32), (size, size, 3)).copy()
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    top, bottom = np.array([0.97, 0.97, 0.98], np.float32), np.array([0.80, 0.81, 0.83], np.float32)
    return np.broadcast_to(top * (1.0 - t) + bottom * t, (size, size, 3)).copy()


class Head3DRenderer:
    """Draws 61 channel values on the ICT-FaceKit head.

    ``asset``: the ``ict_arkit52.npz`` file or its folder; default the shared data copy (see
    :func:`keyframeface.head.ict.find_ict_asset`; ``docs/ict_asset.md`` tells how to get it).
    ``backend``: ``"auto"`` (moderngl on EGL when it works, else numpy), ``"gl"`` or ``"numpy"``.
    ``background``: sRGB colour in [0, 1], or ``None`` for a light grey gradient.
    ``camera`` / ``lighting``: override the default framing and lights.

    Raises :class:`keyframeface.errors.FormatError` when the asset is missing or malformed, and
    :class:`keyframeface.errors.BackendUnavailableError` for ``backend="gl"`` without moderngl / EGL.
    Safe to call from several threads (drawing is serialised).
    """

    name = "3d"

    def __init__(
        self,
        *,
        asset: str | os.PathLike[str] | None = None,
        backend: BackendName = "auto",
        background: tuple[float, float, float] | None = None,
        camera: Camera | None = None,
        lighting: Lighting = DEFAULT_LIGHTING,
    ) -> None:
        self.mesh = _mesh_for(_load_head(asset))
        self.camera = camera or self.mesh.default_camera()
        self.lighting = lighting
        self.background = background
        self._backend = _make_backend(backend, self.mesh)
        self._lock = threading.Lock()

    @property
    def backend_name(self) -> str:
        """``"gl"`` or ``"numpy"``: the back end that draws."""
        return self._backend.name

    def render_rgba(self, values: np.ndarray, *, size: int = 512) -> np.ndarray:
        """(61,) values -> (size, size, 4) uint8 RGBA, transparent where the head is not (straight alpha)."""
        premul = self._draw(values, size)
        alpha = premul[..., 3:4]
        rgb = np.where(alpha > 1e-6, premul[..., :3] / np.maximum(alpha, 1e-6), 0.0)
        out = np.concatenate([rgb, alpha], axis=-1)
        return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)

    def render(self, values: np.ndarray, *, size: int = 512) -> np.ndarray:
        """(61,) float32 channel values (``rig.CHANNELS`` order; out-of-range values are clamped, NaN is 0) ->
        (size, size, 3) uint8 sRGB image of the head on the background. ``size`` in pixels, 16 to 4096;
        anything else raises :class:`keyframeface.errors.FormatError` (so do values of the wrong shape)."""
        premul = self._draw(values, size)
        bg = _background(size, self.background)
        rgb = premul[..., :3] + bg * (1.0 - premul[..., 3:4])
        return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)

    def _draw(self, values: np.ndarray, size: int) -> np.ndarray:
        v = check_values(values)
        n = check_size(size)
        positions, normals = self.mesh.pose(v)
        with self._lock:
            return self._backend.draw(positions, normals, camera=self.camera, lighting=self.lighting, size=n)


def _load_head(asset: str | os.PathLike[str] | None) -> HeadModel:
    """The ICT head from ``asset``, else the shared folder, else the ``keyframeface fetch-ict`` cache."""
    from ..head.ict import load_ict_head

    return load_ict_head(asset)


# Keyed by the model's id; the model is kept in the value so that id cannot be reused while cached.
_MESH_CACHE: dict[int, tuple[HeadModel, HeadMesh]] = {}
_MESH_LOCK = threading.Lock()


def _mesh_for(head: HeadModel) -> HeadMesh:
    """One :class:`HeadMesh` per loaded model (``load_ict_head`` caches the model, so renderers share it)."""
    with _MESH_LOCK:
        key = id(head)
        hit = _MESH_CACHE.get(key)
        if hit is not None:
            return hit[1]
        if len(_MESH_CACHE) >= 2:
            _MESH_CACHE.clear()
        mesh = HeadMesh.from_model(head)
        _MESH_CACHE[key] = (head, mesh)
        return mesh
