"""The default head: a small stylised face generated in code (no asset files) with all 52 ARKit blendshapes.

It exists so that every glTF keyframeface writes shows something on any machine, without the ICT asset: an
ellipsoid head with a nose and eye sockets, lids, brows, tube lips, a mouth interior that opens with the jaw,
a tongue, and two eyeballs that turn: about 3,100 face vertices plus 600 for the eyes.

Every morph target moves the region its ARKit name describes (Apple's ARFaceAnchor.BlendShapeLocation
documentation; FACS action units in shared/reference/FACS.md): ``EyeBlinkLeft`` closes the left lids,
``JawOpen`` swings the lower face down about a hinge in front of the ears, ``MouthSmileLeft`` pulls the left
lip corner up and out, and so on. Left and Right are the subject's own sides; the face looks toward +Z, so the
subject's left is +X (glTF's "+X is left"). Sizes are in metres and roughly human (a 15 cm wide head), chosen
by eye: the face is stylised, not measured.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import rig
from .model import EyeModel, HeadModel, Part, vertex_normals

__all__ = ["default_head"]

# ------------------------------------------------------------------------------------------------ proportions
_HEAD_RADII = (0.075, 0.100, 0.090)  # ellipsoid half-width (x), half-height (y), half-depth (z), metres
_EYE_R = 0.0125  # eyeball radius (a human eyeball is ~12 mm; kept close to that)
_EYE_X, _EYE_Y = 0.031, 0.020  # eye centres at (+-_EYE_X, _EYE_Y)
_MOUTH_Y, _MOUTH_W = -0.038, 0.024  # mouth line height and half-width (corners at x = +-_MOUTH_W)
_JAW_PIVOT = np.array([0.0, -0.005, -0.010])  # jaw hinge line (along x), in front of the ears
_JAW_OPEN_RAD = 0.30  # how far JawOpen = 1 swings the jaw (~17 degrees; the mouth opens ~2.7 cm)
_NECK_PIVOT = (0.0, -0.070, -0.010)  # head rotation pivot, the top of the neck
_LID_GAP = (1.14, 1.10)  # upper / lower lid shell radius as a multiple of the eyeball radius
_DEG = math.pi / 180.0

_SKIN = (0.80, 0.56, 0.44, 1.0)
_LIP = (0.62, 0.22, 0.22, 1.0)
_BROW = (0.12, 0.07, 0.05, 1.0)
_MOUTH = (0.10, 0.02, 0.03, 1.0)
_TONGUE = (0.75, 0.30, 0.32, 1.0)
_SCLERA = (0.92, 0.92, 0.90, 1.0)
_IRIS = (0.16, 0.33, 0.45, 1.0)
_PUPIL = (0.01, 0.01, 0.01, 1.0)

# Morph deltas under a micrometre are written as exact zeros, so most targets stay sparse.
_ZERO_BELOW_M = 1e-6


def _ramp(x: np.ndarray, x0: float, x1: float) -> np.ndarray:
    """Smoothstep from 0 at ``x0`` to 1 at ``x1`` (either order)."""
    t = np.clip((np.asarray(x, dtype=np.float64) - x0) / (x1 - x0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _taper(y: np.ndarray) -> np.ndarray:
    """Width factor: the lower face narrows toward the chin."""
    return 1.0 - 0.22 * _ramp(-np.asarray(y), 0.0, 0.1)


def _bumps(x: np.ndarray, y: np.ndarray, *, sockets: bool = True) -> np.ndarray:
    """Depth added to the front of the ellipsoid: the nose, minus two eye sockets."""
    z = 0.017 * np.exp(-((x / 0.0075) ** 2 + ((y + 0.010) / 0.016) ** 2))
    if sockets:
        for side in (1.0, -1.0):
            z = z - 0.006 * np.exp(-(((x - side * _EYE_X) ** 2 + (y - _EYE_Y) ** 2) / 0.013**2))
    return z


def _skin_z(x: np.ndarray, y: np.ndarray, *, sockets: bool = True) -> np.ndarray:
    """z of the front skin surface at (x, y)."""
    a, b, c = _HEAD_RADII
    xr = np.asarray(x, dtype=np.float64) / _taper(y)
    inside = np.clip(1.0 - (xr / a) ** 2 - (np.asarray(y) / b) ** 2, 0.0, None)
    return c * np.sqrt(inside) + _bumps(x, y, sockets=sockets)


def _eye_centre(side: float) -> np.ndarray:
    # Sunk 6 mm behind the socket-free surface, so the eyeball fills the socket and bulges a little.
    z = float(_skin_z(np.array(side * _EYE_X), np.array(_EYE_Y), sockets=False)) - 0.006
    return np.array([side * _EYE_X, _EYE_Y, z])


# ------------------------------------------------------------------------------------------- mesh primitives
def _grid(rows: int, cols: int, *, wrap: bool = False) -> np.ndarray:
    """Two triangles per cell of a row-major rows x cols vertex grid (columns wrap around if ``wrap``)."""
    tris = []
    ncols = cols if wrap else cols - 1
    for r in range(rows - 1):
        for c in range(ncols):
            a, b = r * cols + c, r * cols + (c + 1) % cols
            d, e = a + cols, b + cols
            tris.append((a, d, b))
            tris.append((b, d, e))
    return np.array(tris, dtype=np.int64)


def _orient(positions: np.ndarray, tris: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Flip a consistently wound triangle set if most of its normals point toward ``inside`` (N, 3) points."""
    a, b, c = positions[tris[:, 0]], positions[tris[:, 1]], positions[tris[:, 2]]
    n = np.cross(b - a, c - a)
    out = (a + b + c) / 3.0 - (inside[tris[:, 0]] + inside[tris[:, 1]] + inside[tris[:, 2]]) / 3.0
    if np.mean(np.einsum("ij,ij->i", n, out) > 0) < 0.5:
        return tris[:, ::-1].copy()
    return tris


def _uv_sphere(n_rings: int, n_around: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit sphere with poles on +-Y: (N, 3) points and (M, 3) outward triangles."""
    lat = np.linspace(-math.pi / 2, math.pi / 2, n_rings + 2)[1:-1]
    lon = np.linspace(-math.pi, math.pi, n_around, endpoint=False)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    pts = np.stack([np.cos(la) * np.sin(lo), np.sin(la), np.cos(la) * np.cos(lo)], axis=-1).reshape(-1, 3)
    tris = [_grid(n_rings, n_around, wrap=True)]
    south, north = len(pts), len(pts) + 1
    pts = np.vstack([pts, [[0.0, -1.0, 0.0], [0.0, 1.0, 0.0]]])
    top = (n_rings - 1) * n_around
    for c in range(n_around):
        c2 = (c + 1) % n_around
        tris.append(np.array([[south, c, c2], [north, top + c2, top + c]]))
    t = np.vstack(tris)
    return pts, _orient(pts, t, np.zeros_like(pts))


@dataclass
class _Piece:
    """A piece under construction: float64 positions, triangles, per-vertex parameters used by the targets."""

    material: str
    positions: np.ndarray
    triangles: np.ndarray
    inside: np.ndarray
    params: dict[str, np.ndarray] = field(default_factory=dict)


def _head_piece() -> _Piece:
    pts, tris = _uv_sphere(30, 48)
    a, b, c = _HEAD_RADII
    p = pts * np.array([a, b, c])
    p[:, 0] *= _taper(p[:, 1])
    p[:, 2] += _bumps(p[:, 0], p[:, 1]) * _ramp(p[:, 2], 0.02, 0.05)
    return _Piece("skin", p, tris, np.zeros_like(p))


def _tube(
    centres: np.ndarray, ry: np.ndarray, rz: np.ndarray, n_ring: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tube along x through ``centres`` (n, 3) with elliptic cross-sections in the y-z plane."""
    alpha = np.linspace(0.0, 2 * math.pi, n_ring, endpoint=False)
    ring = np.stack([np.zeros_like(alpha), np.cos(alpha), np.sin(alpha)], axis=-1)  # (r, 3)
    scale = np.stack([np.zeros_like(ry), ry, rz], axis=-1)  # (n, 3)
    p = centres[:, None, :] + scale[:, None, :] * ring[None, :, :]
    inside = np.broadcast_to(centres[:, None, :], p.shape).reshape(-1, 3)
    pts = p.reshape(-1, 3)
    tris = _orient(pts, _grid(len(centres), n_ring, wrap=True), inside)
    return pts, tris, inside


def _lip_centre(u: np.ndarray, upper: bool) -> np.ndarray:
    """Centre line of a lip at parameter u in [-1, 1] (corner to corner, -1 = the subject's right)."""
    bulge = np.sqrt(np.clip(1.0 - u**2, 0.0, None))
    x = u * _MOUTH_W
    y = _MOUTH_Y + (0.0032 * bulge + 0.0008) * (1.0 if upper else -1.15)
    z = _skin_z(x, y) + 0.0012
    return np.stack([x, y, z], axis=-1)


def _lip_piece(upper: bool) -> _Piece:
    u = np.linspace(-1.0, 1.0, 25)
    bulge = np.sqrt(np.clip(1.0 - u**2, 0.0, None))
    ry = (0.0030 * bulge + 0.0006) * (1.0 if upper else 1.15)
    rz = 0.0032 * bulge + 0.0008
    n_ring = 10
    pts, tris, inside = _tube(_lip_centre(u, upper), ry, rz, n_ring)
    return _Piece(
        "lips", pts, tris, inside, {"u": np.repeat(u, n_ring), "centre": inside, "ring": pts - inside}
    )


def _mouth_piece() -> _Piece:
    """The dark mouth interior between the lips: a strip whose top follows the upper lip, bottom the lower."""
    u = np.linspace(-0.9, 0.9, 19)
    t = np.array([0.0, 0.5, 1.0])
    uu, tt = np.meshgrid(u, t, indexing="ij")  # rows along u, columns down the strip
    x = uu * _MOUTH_W
    y = _MOUTH_Y + 0.0012 * (1.0 - 2.0 * tt)
    z = _skin_z(x, y) + 0.0015
    pts = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    inside = pts - np.array([0.0, 0.0, 0.01])
    tris = _orient(pts, _grid(len(u), len(t)), inside)
    return _Piece("mouth", pts, tris, inside, {"u": uu.reshape(-1), "t": tt.reshape(-1)})


def _brow_piece(side: float) -> _Piece:
    v = np.linspace(0.0, 1.0, 10)  # 0 = inner end, 1 = outer end
    x = side * (0.013 + 0.030 * v)
    y = 0.041 + 0.006 * np.sin(math.pi * 0.9 * v)
    z = _skin_z(x, y) + 0.0012
    ry = 0.0022 * (1.0 - 0.5 * v) + 0.0008
    rz = np.full_like(v, 0.0012)
    n_ring = 6
    pts, tris, inside = _tube(np.stack([x, y, z], axis=-1), ry, rz, n_ring)
    return _Piece("brows", pts, tris, inside, {"v": np.repeat(v, n_ring), "side": np.full(len(pts), side)})


def _lid_shape(phi: np.ndarray) -> np.ndarray:
    """How open the lid edge is across the eye: 1 in the middle, ~0 at the corners, so the lids meet there."""
    return 1.0 - (phi / (80.0 * _DEG)) ** 2


# Open lid edges (elevation above the eye's horizontal plane, scaled by _lid_shape) and the fixed far ends.
_UPPER_EDGE, _UPPER_FIXED = 24.0 * _DEG, 80.0 * _DEG
_LOWER_EDGE, _LOWER_FIXED = -28.0 * _DEG, -75.0 * _DEG


def _lid_position(centre: np.ndarray, radius: float, phi: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return centre + radius * np.stack(
        [np.cos(theta) * np.sin(phi), np.sin(theta), np.cos(theta) * np.cos(phi)], -1
    )


def _lid_piece(side: float, upper: bool) -> _Piece:
    phi = np.linspace(-75.0, 75.0, 13) * _DEG
    s = np.linspace(0.0, 1.0, 6)  # 0 = fixed far end, 1 = the moving edge
    ss, pp = np.meshgrid(s, phi, indexing="ij")
    edge = (_UPPER_EDGE if upper else _LOWER_EDGE) * _lid_shape(pp)
    fixed = _UPPER_FIXED if upper else _LOWER_FIXED
    theta = fixed + ss * (edge - fixed)
    centre = _eye_centre(side)
    radius = _EYE_R * (_LID_GAP[0] if upper else _LID_GAP[1])
    pts = _lid_position(centre, radius, pp, theta).reshape(-1, 3)
    inside = np.broadcast_to(centre, pts.shape).copy()
    tris = _orient(pts, _grid(len(s), len(phi)), inside)
    params = {"phi": pp.reshape(-1), "s": ss.reshape(-1), "theta": theta.reshape(-1)}
    return _Piece("skin", pts, tris, inside, params)


def _tongue_piece() -> _Piece:
    pts, tris = _uv_sphere(7, 12)
    z0 = float(_skin_z(np.array(0.0), np.array(_MOUTH_Y))) - 0.020
    p = pts * np.array([0.013, 0.0045, 0.016]) + np.array([0.0, _MOUTH_Y - 0.004, z0])
    return _Piece("tongue", p, tris, np.broadcast_to(np.array([0.0, _MOUTH_Y - 0.004, z0]), p.shape).copy())


# -------------------------------------------------------------------------------------------------- targets
def _gauss(p: np.ndarray, cx: float, cy: float, sx: float, sy: float | None = None) -> np.ndarray:
    """Falloff around (cx, cy) on the front of the head: (N,) weights in [0, 1]."""
    sy = sx if sy is None else sy
    w = np.exp(-(((p[:, 0] - cx) / sx) ** 2 + ((p[:, 1] - cy) / sy) ** 2))
    return w * _ramp(p[:, 2], 0.0, 0.04)


def _jaw_swing(p: np.ndarray) -> np.ndarray:
    """Offsets that swing points (N, 3) about the jaw hinge by JawOpen's angle (chin down and back)."""
    c, s = math.cos(_JAW_OPEN_RAD), math.sin(_JAW_OPEN_RAD)
    q = p - _JAW_PIVOT
    rotated = np.stack([q[:, 0], c * q[:, 1] - s * q[:, 2], s * q[:, 1] + c * q[:, 2]], axis=-1)
    return rotated - q


def _jaw_weight(p: np.ndarray) -> np.ndarray:
    """How much skin follows the jaw: the front of the face below the mouth line, less toward the ears."""
    below = _ramp(p[:, 1], _MOUTH_Y + 0.003, _MOUTH_Y - 0.012)
    front = _ramp(p[:, 2], -0.03, 0.02)
    sides = 1.0 - 0.5 * _ramp(np.abs(p[:, 0]), 0.035, 0.07)
    return below * front * sides


def _vec(w: np.ndarray, v: tuple[float, float, float]) -> np.ndarray:
    return w[:, None] * np.asarray(v, dtype=np.float64)[None, :]


# A lip motion: (u (n,), centre (n, 3), upper?) -> (centre-line offsets (n, 3), ring scale (n, 3) or None).
# The ring scale s moves each vertex by s * (vertex - centre line), i.e. flattens (< 0) or fattens the lip.
_LipFn = Callable[[np.ndarray, np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]


@dataclass
class _TargetSpec:
    """What one morph target does, piece by piece. Missing entries leave a piece still."""

    skin: Callable[[np.ndarray], np.ndarray] | None = None
    lips: _LipFn | None = None
    jaw: tuple[float, float, float] | None = (
        None  # translate everything the jaw carries (weight 1 at the lips)
    )
    jaw_open: bool = False
    brows: Callable[[float, np.ndarray, np.ndarray], np.ndarray] | None = None  # (side, v, p) -> offsets
    # Lid edge moves per eye: side -> (upper d_theta, lower d_theta, d_phi), angles scaled by _lid_shape.
    lids: dict[float, tuple[float, float, float]] = field(default_factory=dict)
    tongue: tuple[float, float, float] | None = None


_SkinFn = Callable[[np.ndarray], np.ndarray]
_Vec3 = tuple[float, float, float]


def _push(cx: float, cy: float, v: _Vec3, sx: float, sy: float | None = None) -> _SkinFn:
    """Skin offsets ``v`` fading out around (cx, cy) (see :func:`_gauss`)."""

    def fn(p: np.ndarray) -> np.ndarray:
        return _vec(_gauss(p, cx, cy, sx, sy), v)

    return fn


def _gather(
    p: np.ndarray, cx: float, cy: float, sx: float, sy: float, pull_x: float, forward: float
) -> np.ndarray:
    """Skin around (cx, cy) drawn toward x = 0 by ``pull_x`` of its x, and pushed forward."""
    w = _gauss(p, cx, cy, sx, sy)
    return w[:, None] * np.stack([-pull_x * p[:, 0], np.zeros(len(p)), np.full(len(p), forward)], -1)


def _gather_mouth(pull_x: float, forward: float) -> _SkinFn:
    def fn(p: np.ndarray) -> np.ndarray:
        return _gather(p, 0.0, _MOUTH_Y, 0.03, 0.016, pull_x, forward)

    return fn


def _both(*fns: _SkinFn) -> _SkinFn:
    def fn(p: np.ndarray) -> np.ndarray:
        out = np.zeros_like(p)
        for f in fns:
            out += f(p)
        return out

    return fn


def _brows(
    only_side: float | None,
    *,
    const: _Vec3 = (0.0, 0.0, 0.0),
    inner: _Vec3 = (0.0, 0.0, 0.0),
    outer: _Vec3 = (0.0, 0.0, 0.0),
    power: float = 1.0,
) -> Callable[[float, np.ndarray, np.ndarray], np.ndarray]:
    """Brow offsets const + inner * (1 - v)^power + outer * v^power, v from 0 (inner end) to 1 (outer end), on
    one side (``only_side``) or on both (``None``)."""

    def move(side: float, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        if only_side is not None and side != only_side:
            return np.zeros_like(p)
        return np.asarray(const) + _vec((1.0 - v) ** power, inner) + _vec(v**power, outer)

    return move


def _corner(u: np.ndarray, side: float) -> np.ndarray:
    """Weight of the lip corner on ``side``: 0 at the middle of the mouth, 1 at that corner."""
    return np.clip(side * u, 0.0, 1.0) ** 1.5


def _half(u: np.ndarray, side: float) -> np.ndarray:
    """Weight of the lip half on ``side`` (soft across the middle)."""
    return _ramp(side * u, -0.7, 0.3)


def _lip_const(upper_v: _Vec3 | None, lower_v: _Vec3 | None, corner_side: float | None = None) -> _LipFn:
    """Both lips (or one, the other ``None``) moved by a constant offset, or only toward ``corner_side``'s
    corner."""

    def fn(u: np.ndarray, centre: np.ndarray, upper: bool) -> tuple[np.ndarray, np.ndarray | None]:
        v = upper_v if upper else lower_v
        if v is None:
            return np.zeros((len(u), 3)), None
        weight = np.ones_like(u) if corner_side is None else _corner(u, corner_side)
        return _vec(weight, v), None

    return fn


def _corner_lips(side: float, v: _Vec3) -> _LipFn:
    return _lip_const(v, v, corner_side=side)


def _corner_skin(side: float, v: _Vec3) -> _SkinFn:
    """The skin around a lip corner following it (80%)."""

    def fn(p: np.ndarray) -> np.ndarray:
        return _vec(0.8 * _gauss(p, side * _MOUTH_W, _MOUTH_Y, 0.010), v)

    return fn


def _pucker_lips(narrow: float, forward: float, open_mm: float) -> _LipFn:
    def fn(u: np.ndarray, centre: np.ndarray, upper: bool) -> tuple[np.ndarray, np.ndarray | None]:
        mid = 1.0 - u**2
        d = np.zeros((len(u), 3))
        d[:, 0] = -u * _MOUTH_W * narrow
        d[:, 1] = (1.0 if upper else -1.0) * open_mm * mid
        d[:, 2] = forward * (1.0 - 0.6 * u**2)
        return d, None

    return fn


def _roll_lip(upper_lip: bool) -> _LipFn:
    def fn(u: np.ndarray, centre: np.ndarray, upper: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if upper != upper_lip:
            return np.zeros((len(u), 3)), None
        w = 1.0 - 0.3 * u**2
        d = _vec(w, (0.0, -0.0012 if upper else 0.0012, -0.0035))
        return d, np.tile([0.0, -0.3, -0.3], (len(u), 1)) * w[:, None]

    return fn


def _press_lips(side: float) -> _LipFn:
    def fn(u: np.ndarray, centre: np.ndarray, upper: bool) -> tuple[np.ndarray, np.ndarray | None]:
        w = _half(u, side)
        d = _vec(w, (0.0, -0.0008 if upper else 0.0008, -0.0012))
        return d, _vec(w, (0.0, -0.35, 0.0))

    return fn


def _close_lips(u: np.ndarray, centre: np.ndarray, upper: bool) -> tuple[np.ndarray, np.ndarray | None]:
    # mouthClose only makes sense with the jaw open (ARKit): it undoes the jaw's opening at the lips, the
    # lower lip coming back 60% of the way and the upper lip meeting it, so JawOpen = MouthClose = 1 leaves
    # the lips touching.
    jaw = _jaw_swing(_lip_centre(u, upper=False))
    return (0.4 * jaw if upper else -0.6 * jaw), None


def _lip_side_move(side: float, amount: float, upper_lip: bool) -> _LipFn:
    def fn(u: np.ndarray, centre: np.ndarray, upper: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if upper != upper_lip:
            return np.zeros((len(u), 3)), None
        return _vec(_half(u, side) * (1.0 - 0.7 * u**2), (0.0, amount, 0.0)), None

    return fn


def _specs() -> dict[str, _TargetSpec]:
    """The 52 targets. Left/Right = the subject's side; +X is the subject's left."""
    specs: dict[str, _TargetSpec] = {}
    for name_side, side in (("Left", 1.0), ("Right", -1.0)):
        # --- eyes: lid edges (upper d_theta, lower d_theta, d_phi); toward the nose is -side in x
        specs[f"EyeBlink{name_side}"] = _TargetSpec(lids={side: (-48 * _DEG, 8 * _DEG, 0.0)})
        specs[f"EyeLookDown{name_side}"] = _TargetSpec(lids={side: (-10 * _DEG, -6 * _DEG, 0.0)})
        specs[f"EyeLookUp{name_side}"] = _TargetSpec(lids={side: (8 * _DEG, 5 * _DEG, 0.0)})
        specs[f"EyeLookIn{name_side}"] = _TargetSpec(lids={side: (0.0, 0.0, -side * 6 * _DEG)})
        specs[f"EyeLookOut{name_side}"] = _TargetSpec(lids={side: (0.0, 0.0, side * 6 * _DEG)})
        specs[f"EyeSquint{name_side}"] = _TargetSpec(
            lids={side: (-5 * _DEG, 13 * _DEG, 0.0)},
            skin=_push(side * _EYE_X, _EYE_Y - 0.016, (0.0, 0.003, 0.001), 0.012),
        )
        specs[f"EyeWide{name_side}"] = _TargetSpec(lids={side: (12 * _DEG, -5 * _DEG, 0.0)})
        # --- brows
        specs[f"BrowDown{name_side}"] = _TargetSpec(
            brows=_brows(side, const=(0.0, -0.005, -0.0005), inner=(-side * 0.0015, 0.0, 0.0)),
            skin=_push(side * 0.028, 0.046, (-side * 0.001, -0.003, 0.0), 0.02, 0.012),
        )
        specs[f"BrowOuterUp{name_side}"] = _TargetSpec(
            brows=_brows(side, outer=(0.0, 0.007, 0.0), power=1.5),
            skin=_push(side * 0.040, 0.05, (0.0, 0.004, 0.0), 0.014),
        )
        # --- cheeks and nose
        specs[f"CheekSquint{name_side}"] = _TargetSpec(
            lids={side: (0.0, 5 * _DEG, 0.0)}, skin=_push(side * 0.036, -0.006, (0.0, 0.004, 0.001), 0.014)
        )
        specs[f"NoseSneer{name_side}"] = _TargetSpec(
            brows=_brows(side, inner=(0.0, -0.0015, 0.0)),
            skin=_both(
                _push(side * 0.009, -0.017, (0.0, 0.004, 0.0005), 0.007),
                _push(side * 0.015, -0.002, (0.0, 0.002, 0.0), 0.010),
            ),
        )
        # --- mouth corners and halves
        smile = (side * 0.005, 0.006, -0.003)
        specs[f"MouthSmile{name_side}"] = _TargetSpec(
            lips=_corner_lips(side, smile),
            skin=_both(_corner_skin(side, smile), _push(side * 0.035, -0.02, (0.0, 0.002, 0.001), 0.014)),
        )
        for shape, v in (
            ("Frown", (side * 0.001, -0.006, 0.0)),
            ("Dimple", (side * 0.003, 0.0, -0.004)),
            ("Stretch", (side * 0.007, -0.002, -0.001)),
        ):
            specs[f"Mouth{shape}{name_side}"] = _TargetSpec(
                lips=_corner_lips(side, v), skin=_corner_skin(side, v)
            )
        specs[f"MouthPress{name_side}"] = _TargetSpec(lips=_press_lips(side))
        specs[f"MouthLowerDown{name_side}"] = _TargetSpec(
            lips=_lip_side_move(side, -0.006, upper_lip=False),
            skin=_push(side * 0.010, _MOUTH_Y - 0.008, (0.0, -0.003, 0.0), 0.010),
        )
        specs[f"MouthUpperUp{name_side}"] = _TargetSpec(
            lips=_lip_side_move(side, 0.005, upper_lip=True),
            skin=_push(side * 0.010, _MOUTH_Y + 0.008, (0.0, 0.0025, 0.0), 0.010),
        )
        # --- jaw and whole mouth sideways (JawLeft / MouthLeft move toward the subject's left, +X)
        specs[f"Jaw{name_side}"] = _TargetSpec(jaw=(side * 0.007, 0.0, 0.0))
        specs[f"Mouth{name_side}"] = _TargetSpec(
            lips=_lip_const((side * 0.007, 0.0, 0.0), (side * 0.007, 0.0, 0.0)),
            skin=_push(0.0, _MOUTH_Y, (side * 0.006, 0.0, 0.0), 0.03, 0.014),
        )

    specs["JawOpen"] = _TargetSpec(jaw_open=True)
    specs["JawForward"] = _TargetSpec(jaw=(0.0, 0.0, 0.006))
    specs["MouthClose"] = _TargetSpec(lips=_close_lips)
    specs["MouthFunnel"] = _TargetSpec(
        lips=_pucker_lips(0.30, 0.006, 0.0035), skin=_gather_mouth(0.25, 0.003)
    )
    specs["MouthPucker"] = _TargetSpec(lips=_pucker_lips(0.45, 0.008, 0.0), skin=_gather_mouth(0.35, 0.004))
    specs["MouthRollUpper"] = _TargetSpec(
        lips=_roll_lip(True), skin=_push(0.0, _MOUTH_Y + 0.008, (0.0, 0.0, -0.001), 0.02, 0.006)
    )
    specs["MouthRollLower"] = _TargetSpec(
        lips=_roll_lip(False), skin=_push(0.0, _MOUTH_Y - 0.008, (0.0, 0.0, -0.001), 0.02, 0.006)
    )
    specs["MouthShrugUpper"] = _TargetSpec(
        lips=_lip_const((0.0, 0.0015, 0.002), None),
        skin=_push(0.0, _MOUTH_Y + 0.010, (0.0, 0.0015, 0.0015), 0.012, 0.008),
    )
    specs["MouthShrugLower"] = _TargetSpec(
        lips=_lip_const(None, (0.0, 0.0025, 0.002)),
        skin=_both(
            _push(0.0, _MOUTH_Y - 0.030, (0.0, 0.004, 0.003), 0.02, 0.014),
            _push(0.0, _MOUTH_Y - 0.010, (0.0, 0.002, 0.001), 0.012),
        ),
    )
    specs["BrowInnerUp"] = _TargetSpec(
        brows=_brows(None, inner=(0.0, 0.007, 0.0), power=1.5),
        skin=_both(
            _push(0.012, 0.05, (0.0, 0.004, 0.0), 0.014), _push(-0.012, 0.05, (0.0, 0.004, 0.0), 0.014)
        ),
    )
    specs["CheekPuff"] = _TargetSpec(skin=_cheek_puff)
    specs["TongueOut"] = _TargetSpec(tongue=(0.0, -0.005, 0.030))
    missing = set(rig.BLENDSHAPES) - set(specs)
    if missing:  # a programming error in this table, not user input
        raise RuntimeError(f"default head: no morph target for {sorted(missing)}")
    return specs


def _cheek_puff(p: np.ndarray) -> np.ndarray:
    a, b, c = _HEAD_RADII
    n = p / np.array([a * a, b * b, c * c])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    w = _gauss(p, 0.040, -0.028, 0.016) + _gauss(p, -0.040, -0.028, 0.016)
    return 0.008 * w[:, None] * n


# ---------------------------------------------------------------------------------------------- assembling
@dataclass
class _Pieces:
    head: _Piece
    lids: dict[tuple[float, bool], _Piece]
    lips: dict[bool, _Piece]
    mouth: _Piece
    brows: dict[float, _Piece]
    tongue: _Piece

    def ordered(self) -> list[_Piece]:
        return [
            self.head,
            *self.lids.values(),
            *self.lips.values(),
            self.mouth,
            *self.brows.values(),
            self.tongue,
        ]


def _build_pieces() -> _Pieces:
    return _Pieces(
        head=_head_piece(),
        lids={(side, upper): _lid_piece(side, upper) for side in (1.0, -1.0) for upper in (True, False)},
        lips={upper: _lip_piece(upper) for upper in (True, False)},
        mouth=_mouth_piece(),
        brows={side: _brow_piece(side) for side in (1.0, -1.0)},
        tongue=_tongue_piece(),
    )


def _lip_offsets(
    spec: _TargetSpec, u: np.ndarray, centre: np.ndarray, upper: bool, ring: np.ndarray | None
) -> np.ndarray:
    d = np.zeros((len(u), 3))
    if spec.lips is not None:
        line, scale = spec.lips(u, centre, upper)
        d += line
        if scale is not None and ring is not None:
            d += scale * ring
    if not upper:  # the lower lip rides on the jaw
        if spec.jaw_open:
            d += _jaw_swing(centre if ring is None else centre + ring)
        if spec.jaw is not None:
            d += np.asarray(spec.jaw)
    return d


def _deltas_for(spec: _TargetSpec, pieces: _Pieces) -> dict[int, np.ndarray]:
    """Offsets of every piece (keyed by id) for one target."""
    out: dict[int, np.ndarray] = {id(p): np.zeros_like(p.positions) for p in pieces.ordered()}
    head = pieces.head.positions
    d = out[id(pieces.head)]
    if spec.skin is not None:
        d += spec.skin(head)
    if spec.jaw_open:
        d += _jaw_weight(head)[:, None] * _jaw_swing(head)
    if spec.jaw is not None:
        d += _vec(_jaw_weight(head), spec.jaw)
    for upper, lip in pieces.lips.items():
        out[id(lip)] += _lip_offsets(spec, lip.params["u"], lip.params["centre"], upper, lip.params["ring"])
    mouth = pieces.mouth
    u, t = mouth.params["u"], mouth.params["t"]
    top = _lip_offsets(spec, u, _lip_centre(u, True), True, None)
    bottom = _lip_offsets(spec, u, _lip_centre(u, False), False, None)
    out[id(mouth)] += (1.0 - t)[:, None] * top + t[:, None] * bottom
    tongue = pieces.tongue.positions
    if spec.jaw_open:
        out[id(pieces.tongue)] += _jaw_swing(tongue)
    if spec.jaw is not None:
        out[id(pieces.tongue)] += np.asarray(spec.jaw)
    if spec.tongue is not None:
        out[id(pieces.tongue)] += np.asarray(spec.tongue)
    if spec.brows is not None:
        for side, brow in pieces.brows.items():
            out[id(brow)] += spec.brows(side, brow.params["v"], brow.positions)
    for (side, upper), lid in pieces.lids.items():
        if side not in spec.lids:
            continue
        d_up, d_low, d_phi = spec.lids[side]
        d_theta = d_up if upper else d_low
        phi, s, theta = lid.params["phi"], lid.params["s"], lid.params["theta"]
        radius = _EYE_R * (_LID_GAP[0] if upper else _LID_GAP[1])
        centre = _eye_centre(side)
        moved = _lid_position(centre, radius, phi + s * d_phi, theta + s * d_theta * _lid_shape(phi))
        out[id(lid)] += moved - lid.positions
    return out


def _merge(
    pieces: list[_Piece],
    deltas: list[dict[int, np.ndarray]],
    name: str,
    color: tuple[float, ...],
    *,
    double_sided: bool = False,
) -> Part:
    positions, tris, inside, offset = [], [], [], 0
    for p in pieces:
        positions.append(p.positions)
        inside.append(p.inside)
        tris.append(p.triangles + offset)
        offset += len(p.positions)
    pos = np.vstack(positions)
    tri = np.vstack(tris)
    normals = vertex_normals(pos, tri, fallback=pos - np.vstack(inside))
    stacked = np.stack([np.vstack([d[id(p)] for p in pieces]) for d in deltas]).astype(np.float32)
    stacked[np.abs(stacked) < _ZERO_BELOW_M] = 0.0
    r, g, b, a = (float(c) for c in color)
    return Part(
        name=name,
        positions=pos.astype(np.float32),
        normals=normals,
        triangles=tri.astype(np.uint32),
        color=(r, g, b, a),
        deltas=stacked,
        double_sided=double_sided,
    )


def _eye(side: float) -> EyeModel:
    """An eyeball looking toward +Z, with rings at the pupil and iris edges so the colours have clean
    borders."""
    rings = (
        np.array([5, 10, 16, 22, 28, 40, 55, 70, 85, 100, 115, 130, 145, 160, 172], dtype=np.float64) * _DEG
    )
    around = np.linspace(0.0, 2 * math.pi, 20, endpoint=False)
    bb, aa = np.meshgrid(rings, around, indexing="ij")
    pts = np.stack([np.sin(bb) * np.cos(aa), np.sin(bb) * np.sin(aa), np.cos(bb)], -1).reshape(-1, 3)
    n_a = len(around)
    body = _grid(len(rings), n_a, wrap=True)
    front, back = len(pts), len(pts) + 1
    pts = np.vstack([pts, [[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]])
    last = (len(rings) - 1) * n_a
    front_fan = np.array([[front, c, (c + 1) % n_a] for c in range(n_a)])
    back_fan = np.array([[back, last + (c + 1) % n_a, last + c] for c in range(n_a)])
    tris = _orient(pts, np.vstack([front_fan, body, back_fan]), np.zeros_like(pts))
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    angle = np.arccos(np.clip(((a + b + c) / 3.0)[:, 2] / np.linalg.norm((a + b + c) / 3.0, axis=1), -1, 1))
    normals = pts.astype(np.float32)
    positions = (pts * _EYE_R).astype(np.float32)
    parts = []
    for name, color, sel in (
        ("pupil", _PUPIL, angle < 10 * _DEG),
        ("iris", _IRIS, (angle >= 10 * _DEG) & (angle < 28 * _DEG)),
        ("sclera", _SCLERA, angle >= 28 * _DEG),
    ):
        parts.append(
            Part(
                name=name,
                positions=positions,
                normals=normals,
                triangles=tris[sel].astype(np.uint32),
                color=color,
            )
        )
    return EyeModel(parts=tuple(parts), centre=_eye_centre(side).astype(np.float32))


@functools.lru_cache(maxsize=1)
def default_head() -> HeadModel:
    """The stylised head (built once, then cached; treat the arrays as read-only).

    Face parts: ``skin`` (head and lids), ``lips``, ``mouth`` (interior), ``brows``, ``tongue``, each with 52
    morph targets in ``rig.BLENDSHAPES`` order; every target moves at least one vertex by more than a
    millimetre.
    """
    pieces = _build_pieces()
    specs = _specs()
    deltas = [_deltas_for(specs[name], pieces) for name in rig.BLENDSHAPES]
    face = (
        _merge([pieces.head, *pieces.lids.values()], deltas, "skin", _SKIN),
        _merge(list(pieces.lips.values()), deltas, "lips", _LIP),
        _merge([pieces.mouth], deltas, "mouth", _MOUTH, double_sided=True),
        _merge(list(pieces.brows.values()), deltas, "brows", _BROW),
        _merge([pieces.tongue], deltas, "tongue", _TONGUE),
    )
    head = HeadModel(
        name="default",
        face=face,
        left_eye=_eye(1.0),
        right_eye=_eye(-1.0),
        pivot=np.array(_NECK_PIVOT, dtype=np.float32),
    )
    for part in (*head.face, *head.left_eye.parts, *head.right_eye.parts):
        for arr in (part.positions, part.normals, part.triangles, part.deltas):
            if arr is not None:
                arr.setflags(write=False)
    return head
