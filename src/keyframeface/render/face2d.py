"""A stylised 2D face drawn from the 61 channels, with no assets: geometry -> SVG text or a raster image.

Every one of the 52 blendshapes moves some part of the drawing (brows, lids, irises, cheeks, nose, jaw, lips,
tongue) and the head rotations pose it in pseudo-3D (features lie on an ellipsoid that turns; the silhouette only
rolls). Front view: the subject's left is the image's right. Gaze follows the capture convention of ``rig``
(eye yaw positive = toward the subject's right, pitch positive = down; ``docs/conventions.md``).

The drawing is a list of :class:`Shape` (polygons and polylines in canvas units), built once per face by
:func:`face_shapes`; :func:`face_svg` writes them as SVG with pure string building and
:func:`keyframeface.render.raster.rasterize` draws them with Pillow. Both outputs therefore show the same face.

Magnitudes (how far a corner moves at 1.0, the angle of HeadYaw = 1.0) are display choices made by eye for
legibility, not measurements: this is a preview, not a rig.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

import numpy as np

from .. import rig
from .base import check_size, check_values

__all__ = ["HEAD_ANGLES_DEG", "Face2DRenderer", "Shape", "face_shapes", "face_svg"]

#: Degrees of head rotation drawn for HeadYaw / HeadPitch / HeadRoll = 1.0 (display choice; real captures stay
#: within |x| < 0.2, shared/reference/FACS.md, so typical turns are a few degrees).
HEAD_ANGLES_DEG: Final[tuple[float, float, float]] = (40.0, 25.0, 30.0)

# Palette.
BACKGROUND = "#e9eef3"
SKIN = "#f2cba8"
SKIN_SHADE = "#e3b48f"
LINE = "#8a5a40"
CREASE = "#a8745a"
HAIR = "#4a3426"
BROW = "#523624"
SCLERA = "#fbf8f4"
IRIS = "#5b7d9a"
IRIS_RIM = "#2d3e4d"
PUPIL = "#141414"
LASH = "#3b2a20"
LIP = "#c9706c"
LIP_LINE = "#8e3f3d"
MOUTH = "#4a1c22"
TEETH = "#fbfaf5"
TONGUE = "#dd7a82"
BLUSH = "#f0b39c"
SHIRT = "#6d8fb3"

# Layout in face units: x right, y down, the canvas spans [-1, 1] on both axes.
_HEAD_CY = -0.05
_HEAD_RX, _HEAD_RY = 0.56, 0.74
_ROLL_PIVOT_Y = 0.40  # the head rolls about the neck, not its centre
_DEPTH = 0.46  # depth of the face ellipsoid: how far features travel when the head turns
_OUTLINE_FOLLOW = 0.25  # how much of that travel the silhouette, ears and hair take (a head is not a sphere)
_EYE_X, _EYE_Y, _EYE_HW = 0.23, -0.10, 0.115
_MOUTH_Y, _MOUTH_HW = 0.39, 0.17

_N = 21
_U: Final[np.ndarray] = np.linspace(0.0, 1.0, _N)
_BELL: Final[np.ndarray] = np.sin(np.pi * _U)
_SMOOTH: Final[np.ndarray] = _U * _U * (3.0 - 2.0 * _U)
_SIDES: Final[tuple[tuple[str, float], ...]] = (("Right", -1.0), ("Left", 1.0))  # subject's right = image left


@dataclass(frozen=True)
class Shape:
    """One drawing primitive.

    ``points``: (N, 2) float64; in face units while building, in canvas units ([0, 1] x [0, 1], y down) once posed
    by :func:`face_shapes`. ``closed``: a polygon (filled with ``fill``) or an open polyline. ``stroke`` and
    ``width`` (canvas units after posing) draw the outline; ``None`` colours are not drawn. ``layer``: "surface"
    (moves with the face), "outline" (the silhouette: rolls only), "fixed" (neck and body). ``lift``: extra depth
    (the nose sticks out, so it travels further when the head turns). ``follow``: per-point fraction (0..1) of
    the face's turn that a point takes, overriding the layer's (1 for "surface", 0 for "outline"): the hairline
    turns with the face while the hair cap stays on the silhouette, and the chin follows the jaw part way.
    """

    points: np.ndarray
    fill: str | None = None
    stroke: str | None = None
    width: float = 0.0
    closed: bool = True
    layer: str = "surface"
    lift: float = 0.0
    follow: np.ndarray | None = field(default=None, compare=False)


# --------------------------------------------------------------------------------------------- small helpers
def _hex(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _mix(a: str, b: str, t: float) -> str:
    """Colour ``t`` of the way from ``a`` to ``b`` (how faint lines fade in with their channel)."""
    return _mix_steps(a, b, round(min(max(float(t), 0.0), 1.0) * 255))


@lru_cache(maxsize=4096)
def _mix_steps(a: str, b: str, step: int) -> str:
    t = step / 255.0
    ca, cb = _hex(a), _hex(b)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


@lru_cache(maxsize=8)
def _unit_circle(n: int) -> np.ndarray:
    a = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    circle = np.stack([np.cos(a), np.sin(a)], axis=1)
    circle.setflags(write=False)
    return circle


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 36) -> np.ndarray:
    return _unit_circle(n) * (rx, ry) + (cx, cy)


def _curve(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)], axis=1)


def _ring(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """A closed outline from a top edge (left to right) and a bottom edge (left to right)."""
    return np.concatenate([top, bottom[::-1]], axis=0)


def _between(right: float, left: float) -> np.ndarray:
    """Per-point blend of a subject's-right value (image left, u = 0) and a subject's-left value (u = 1)."""
    return right + (left - right) * _SMOOTH


class _Values:
    """Channel access by name for one face."""

    def __init__(self, values: np.ndarray) -> None:
        self._v = values

    def __call__(self, name: str) -> float:
        return float(self._v[rig.CHANNEL_INDEX[name]])

    def side(self, stem: str) -> tuple[float, float]:
        """(subject's right, subject's left) values of a paired channel stem such as ``MouthSmile``."""
        return self(stem + "Right"), self(stem + "Left")


def _gaze(v: _Values, side: str) -> tuple[float, float]:
    """Image-space gaze of one eye, each axis in about [-1, 1]: (+x = image right, +y = down).

    The eyeLook blendshapes and the eye rotations are combined by taking, per axis, the larger in magnitude:
    files keyframeface writes keep both in sync (``rig.sync_eye_rotations``), so this shows either when only one
    was given and never doubles a gaze.
    """
    inward, outward = v(f"EyeLookIn{side}"), v(f"EyeLookOut{side}")
    toward_right = inward - outward if side == "Left" else outward - inward
    yaw_look = rig.EYE_YAW_GAIN * toward_right
    pitch_look = rig.EYE_PITCH_GAIN * (v(f"EyeLookDown{side}") - v(f"EyeLookUp{side}"))
    yaw_rot, pitch_rot = v(f"{side}EyeYaw"), v(f"{side}EyePitch")
    yaw = yaw_look if abs(yaw_look) >= abs(yaw_rot) else yaw_rot
    pitch = pitch_look if abs(pitch_look) >= abs(pitch_rot) else pitch_rot
    # Toward the subject's right is toward the image's left in a front view.
    gx = float(np.clip(-yaw / rig.EYE_YAW_GAIN, -1.2, 1.2))
    gy = float(np.clip(pitch / rig.EYE_PITCH_GAIN, -1.2, 1.2))
    return gx, gy


# ------------------------------------------------------------------------------------------------ the parts
def _body() -> list[Shape]:
    neck = np.array([(-0.19, 0.35), (0.19, 0.35), (0.21, 0.84), (0.62, 0.92), (0.8, 1.05), (-0.8, 1.05),
                     (-0.62, 0.92), (-0.21, 0.84)])
    shirt = np.array([(-0.8, 1.05), (-0.62, 0.92), (-0.21, 0.86), (0.0, 0.97), (0.21, 0.86), (0.62, 0.92),
                      (0.8, 1.05)])
    return [
        Shape(neck, fill=SKIN_SHADE, stroke=LINE, width=0.01, layer="fixed"),
        Shape(shirt, fill=SHIRT, stroke=_mix(SHIRT, "#000000", 0.35), width=0.01, layer="fixed"),
    ]


def _head(v: _Values, jaw_drop: float, jaw_x: float) -> list[Shape]:
    puff = v("CheekPuff")
    forward = v("JawForward")
    a = np.linspace(0.0, 2.0 * np.pi, 96, endpoint=False)
    s = np.sin(a)
    low = np.clip(s, 0.0, 1.0)
    x = _HEAD_RX * np.cos(a) * (1.0 - 0.2 * low**2)
    y = _HEAD_CY + _HEAD_RY * s
    y = y + jaw_drop * 0.9 * low**3 + 0.03 * forward * low**6
    x = x + jaw_x * low**2
    # A puffed cheek pushes the outline out around mouth height.
    x = x + np.sign(np.cos(a)) * 0.07 * puff * np.exp(-(((y - 0.22) / 0.16) ** 2))
    outline = _curve(x, y)
    # The silhouette shifts a little with a turn and the chin follows the jaw part way.
    outline_follow = _OUTLINE_FOLLOW + 0.35 * low**2
    ears = []
    for sg in (-1.0, 1.0):
        ear = _ellipse(sg * 0.545, -0.06, 0.065, 0.115)
        inner = _curve(sg * (0.56 + 0.018 * np.sin(np.linspace(0.3, 2.8, 9))), np.linspace(-0.13, 0.0, 9))
        ears.append(Shape(ear, fill=SKIN, stroke=LINE, width=0.01, layer="outline", follow=np.full(len(ear), _OUTLINE_FOLLOW)))
        ears.append(Shape(inner, stroke=CREASE, width=0.007, closed=False, layer="outline",
                          follow=np.full(len(inner), _OUTLINE_FOLLOW)))
    cap_a = np.linspace(np.pi + 0.32, 2.0 * np.pi - 0.32, 30)
    cap = _curve(1.035 * _HEAD_RX * np.cos(cap_a), _HEAD_CY + 1.035 * _HEAD_RY * np.sin(cap_a))
    hx = np.linspace(0.52, -0.52, 17)
    hairline = _curve(hx, -0.33 - 0.23 * (1.0 - (hx / 0.52) ** 2) ** 0.8)
    hair = np.concatenate([cap, hairline], axis=0)
    # The hairline turns with the face at the centre and stays on the silhouette at the temples.
    follow = np.concatenate([np.full(len(cap), _OUTLINE_FOLLOW),
                             _OUTLINE_FOLLOW + (1.0 - _OUTLINE_FOLLOW) * (1.0 - (hx / 0.52) ** 2)])
    return [
        *ears,
        Shape(outline, fill=SKIN, stroke=LINE, width=0.012, layer="outline", follow=outline_follow),
        Shape(hair, fill=HAIR, stroke=_mix(HAIR, "#000000", 0.3), width=0.008, follow=follow),
    ]


def _forehead_and_cheeks(v: _Values) -> list[Shape]:
    shapes: list[Shape] = []
    inner_up = v("BrowInnerUp")
    out_r, out_l = v.side("BrowOuterUp")
    down_r, down_l = v.side("BrowDown")
    puff = v("CheekPuff")
    # Forehead lines: raised brows wrinkle the forehead (AU1/AU2), each half by its own side.
    for k, y0 in enumerate((-0.43, -0.385)):
        for (_, sg), outer in zip(_SIDES, (out_r, out_l), strict=True):
            amount = max(inner_up, outer) * (0.9 - 0.25 * k)
            if amount < 0.01:
                continue
            t = np.linspace(0.0, 1.0, 9)
            x = sg * (0.02 + 0.2 * t)
            y = y0 - 0.012 * np.sin(np.pi * (0.5 + 0.5 * t)) - 0.01 * t * (outer - inner_up)
            shapes.append(Shape(_curve(x, y), stroke=_mix(SKIN, CREASE, amount), width=0.007, closed=False))
    # Frown lines between the brows (AU4).
    for (_, sg), down in zip(_SIDES, (down_r, down_l), strict=True):
        if down > 0.01:
            pts = _curve(np.array([sg * 0.035, sg * 0.028, sg * 0.032]), np.array([-0.23, -0.19, -0.15]))
            shapes.append(Shape(pts, stroke=_mix(SKIN, CREASE, down), width=0.008, closed=False))
    # Blush: the cheek apples, lifted by cheekSquint (AU6), swollen by cheekPuff.
    for (side, sg) in _SIDES:
        squint = v(f"CheekSquint{side}")
        blush = _ellipse(sg * 0.32, 0.17 - 0.05 * squint, 0.075 + 0.05 * puff, 0.045 + 0.025 * puff + 0.01 * squint)
        shapes.append(Shape(blush, fill=_mix(SKIN, BLUSH, 0.55 + 0.45 * max(squint, puff))))
        if puff > 0.01:  # the puffed cheek's rounded contour
            t = np.linspace(-0.9, 0.9, 13)
            arc = _curve(sg * (0.36 + 0.1 * puff * np.cos(t)), 0.25 + 0.14 * np.sin(t))
            shapes.append(Shape(arc, stroke=_mix(SKIN, CREASE, puff), width=0.008, closed=False))
    return shapes


def _eye(v: _Values, side: str, sg: float) -> list[Shape]:
    blink, squint, wide = v(f"EyeBlink{side}"), v(f"EyeSquint{side}"), v(f"EyeWide{side}")
    cheek = v(f"CheekSquint{side}")
    gx, gy = _gaze(v, side)
    look_down, look_up = max(gy, 0.0), max(-gy, 0.0)
    cx, cy, hw = sg * _EYE_X, _EYE_Y, _EYE_HW
    # Lid heights: wide raises the upper lid (AU5), squint and cheek raise the lower lid (AU7, AU6); the upper lid
    # follows the gaze a little, as real lids do.
    up_h = 0.058 * (1.0 + 0.85 * wide) * (1.0 - 0.3 * squint) * (1.0 - 0.3 * look_down) * (1.0 + 0.25 * look_up)
    lo_h = 0.042 * (1.0 - 0.55 * squint - 0.35 * cheek) * (1.0 + 0.2 * look_down)
    x = cx - hw + 2.0 * hw * _U
    outer = _U if sg > 0 else 1.0 - _U
    base = cy - 0.014 * outer  # the outer corner sits slightly higher
    shape_up = _BELL**0.75
    upper = base - up_h * shape_up + blink * (up_h + 0.6 * lo_h) * shape_up
    lower = base + lo_h * _BELL**0.9 * (1.0 - 0.4 * blink)
    up_pts, lo_pts = _curve(x, upper), _curve(x, lower)
    ix, iy = cx + 0.052 * gx, cy + 0.04 * gy
    pad, top, bottom = 0.035, cy - 0.155, cy + 0.125
    x0, x1 = x[0] - pad, x[-1] + pad
    upper_mask = np.concatenate([[(x0, base[0])], up_pts, [(x1, base[-1]), (x1, top), (x0, top)]])
    lower_mask = np.concatenate([[(x0, base[0])], lo_pts, [(x1, base[-1]), (x1, bottom), (x0, bottom)]])
    crease_y = base - (up_h + 0.028) * shape_up
    shapes = [
        Shape(_ring(up_pts, lo_pts), fill=SCLERA),
        Shape(_ellipse(ix, iy, 0.047, 0.047), fill=IRIS, stroke=IRIS_RIM, width=0.006),
        Shape(_ellipse(ix, iy, 0.02, 0.02, 20), fill=PUPIL),
        Shape(_ellipse(ix + 0.016, iy - 0.016, 0.009, 0.009, 12), fill="#ffffff"),
        Shape(upper_mask, fill=SKIN),
        Shape(lower_mask, fill=SKIN),
        Shape(_curve(x[3:-3], crease_y[3:-3]), stroke=_mix(SKIN, CREASE, 0.75), width=0.006, closed=False),
        Shape(up_pts, stroke=LASH, width=0.012, closed=False),
        Shape(lo_pts[2:-2], stroke=_mix(SKIN, CREASE, 0.8), width=0.006, closed=False),
    ]
    if squint > 0.01:  # lid tension line and crow's feet (AU7)
        shapes.append(Shape(_curve(x[4:-4], lower[4:-4] + 0.02), stroke=_mix(SKIN, CREASE, squint), width=0.006,
                            closed=False))
        for k in (-1, 0, 1):
            ox = cx + sg * (hw + 0.03)
            pts = np.array([(ox, cy + 0.01 * k), (ox + sg * 0.045, cy + 0.028 * k - 0.004)])
            shapes.append(Shape(pts, stroke=_mix(SKIN, CREASE, squint), width=0.006, closed=False))
    if cheek > 0.01:  # the raised cheek's contour under the eye (AU6)
        t = np.linspace(0.0, 1.0, 11)
        arc = _curve(cx - 0.12 + 0.24 * t, cy + 0.16 - 0.025 * cheek - 0.035 * np.sin(np.pi * t))
        shapes.append(Shape(arc, stroke=_mix(SKIN, CREASE, cheek), width=0.008, closed=False))
    return shapes


def _brows(v: _Values) -> list[Shape]:
    shapes = []
    inner_up = v("BrowInnerUp")
    for side, sg in _SIDES:
        outer_up, down = v(f"BrowOuterUp{side}"), v(f"BrowDown{side}")
        t = _U
        y = -0.255 - 0.04 * np.sin(np.pi * (0.1 + 0.8 * t)) + 0.005 * t
        y = y - 0.085 * inner_up * (1.0 - t) ** 1.3 - 0.08 * outer_up * t**1.3 + down * (0.065 * (1.0 - t) + 0.02)
        x = sg * (0.075 + 0.3 * t) - sg * (0.03 * down + 0.01 * inner_up) * (1.0 - t)
        th = (0.034 * (1.0 - t) + 0.016 * t) * (1.0 + 0.15 * down)
        shapes.append(Shape(_ring(_curve(x, y - th / 2), _curve(x, y + th / 2)), fill=BROW,
                            stroke=BROW, width=0.004))
    return shapes


def _nose(v: _Values) -> list[Shape]:
    sneer_r, sneer_l = v.side("NoseSneer")
    shapes: list[Shape] = []
    for (_, sg), sneer in zip(_SIDES, (sneer_r, sneer_l), strict=True):
        bridge = _curve(np.array([sg * 0.045, sg * 0.048, sg * 0.058]), np.array([-0.1, 0.0, 0.09]))
        shapes.append(Shape(bridge, stroke=_mix(SKIN, CREASE, 0.35), width=0.007, closed=False, lift=0.06))
        if sneer > 0.01:  # nose wrinkles (AU9)
            for k in range(3):
                y = -0.05 + 0.03 * k
                pts = np.array([(sg * 0.025, y), (sg * 0.07, y - 0.012)])
                shapes.append(Shape(pts, stroke=_mix(SKIN, CREASE, sneer), width=0.007, closed=False, lift=0.07))
        wing_x, wing_y = sg * (0.062 + 0.014 * sneer), 0.15 - 0.035 * sneer
        a = np.linspace(-1.7, 1.5, 12)
        wing = _curve(wing_x + sg * 0.03 * np.cos(a), wing_y + 0.032 * np.sin(a))
        shapes.append(Shape(wing, stroke=LINE, width=0.009, closed=False, lift=0.1))
        nostril = _ellipse(sg * (0.03 + 0.006 * sneer), 0.178 - 0.022 * sneer, 0.014 * (1 + 0.5 * sneer), 0.008, 14)
        shapes.append(Shape(nostril, fill="#7a4a3a", lift=0.12))
    t = np.linspace(-1.0, 1.0, 11)
    lift_side = np.where(t < 0, sneer_r, sneer_l) * np.abs(t)
    base = _curve(0.04 * t, 0.195 - 0.012 * (1.0 - t**2) - 0.03 * lift_side)
    shapes.append(Shape(base, stroke=LINE, width=0.009, closed=False, lift=0.13))
    return shapes


@dataclass
class _MouthGeometry:
    corners: tuple[tuple[float, float], tuple[float, float]]
    up_outer: np.ndarray
    up_inner: np.ndarray
    lo_inner: np.ndarray
    lo_outer: np.ndarray


def _mouth_geometry(v: _Values, jaw_drop: float, jaw_x: float) -> _MouthGeometry:
    smile, frown = v.side("MouthSmile"), v.side("MouthFrown")
    stretch, dimple, press = v.side("MouthStretch"), v.side("MouthDimple"), v.side("MouthPress")
    upper_up, lower_down = v.side("MouthUpperUp"), v.side("MouthLowerDown")
    sneer = v.side("NoseSneer")
    pucker, funnel, close = v("MouthPucker"), v("MouthFunnel"), v("MouthClose")
    roll_up, roll_lo = v("MouthRollUpper"), v("MouthRollLower")
    shrug_up, shrug_lo = v("MouthShrugUpper"), v("MouthShrugLower")
    tongue, forward = v("TongueOut"), v("JawForward")
    shift = 0.075 * (v("MouthLeft") - v("MouthRight")) + 0.45 * jaw_x
    narrow = 1.0 - 0.45 * pucker - 0.3 * funnel
    corners = []
    for k, sg in enumerate((-1.0, 1.0)):
        cx = sg * (_MOUTH_HW * narrow + 0.06 * smile[k] + 0.07 * stretch[k] + 0.03 * dimple[k]
                   - 0.012 * press[k]) + shift
        cy = (_MOUTH_Y - 0.11 * smile[k] + 0.065 * frown[k] + 0.012 * stretch[k] - 0.012 * dimple[k]
              + 0.3 * jaw_drop)
        corners.append((cx, cy))
    x = corners[0][0] + (corners[1][0] - corners[0][0]) * _U
    bell = _BELL
    # The middle of the mouth lags behind its corners: raised corners bend the lips into a U (smile), lowered
    # ones into an arch (frown).
    sag = 0.085 * 0.5 * (smile[0] + smile[1]) - 0.045 * 0.5 * (frown[0] + frown[1])
    base = corners[0][1] + (corners[1][1] - corners[0][1]) * _U + sag * bell**1.5
    # How far the lips part: the jaw (unless mouthClose holds them together), a funnel's round opening, lip
    # raisers and depressors per side, and the tongue pushing out.
    opening = jaw_drop * (1.0 - 0.85 * close) + 0.05 * funnel + 0.035 * tongue
    raise_up = 0.05 * _between(upper_up[0] + 0.25 * sneer[0], upper_up[1] + 0.25 * sneer[1]) * bell**0.6
    drop_lo = 0.05 * _between(lower_down[0], lower_down[1]) * bell**0.6
    round_shape = bell ** (0.7 - 0.3 * funnel)
    up_inner = base - 0.3 * jaw_drop * bell**0.5 - raise_up - 0.35 * 0.05 * funnel * round_shape - 0.025 * shrug_up * bell
    lo_inner = (base + (opening - 0.3 * jaw_drop - 0.35 * 0.05 * funnel) * round_shape + drop_lo
                - 0.012 * close * bell - 0.03 * shrug_lo * bell)
    # Lips never pass through each other; a pressed or rolled mouth keeps a straight lip line.
    lo_inner = np.maximum(lo_inner, up_inner)
    lo_inner[0], lo_inner[-1] = base[0], base[-1]
    up_inner[0], up_inner[-1] = base[0], base[-1]
    press_side = _between(press[0], press[1])
    stretch_side = _between(stretch[0], stretch[1])
    fuller = 1.0 + 0.55 * pucker + 0.3 * funnel + 0.25 * close + 0.2 * shrug_up
    t_up = (0.042 * (1.0 - 0.85 * roll_up) * (1.0 - 0.5 * press_side) * (1.0 - 0.3 * stretch_side) * fuller)
    t_lo = (0.052 * (1.0 - 0.85 * roll_lo) * (1.0 - 0.5 * press_side) * (1.0 - 0.3 * stretch_side)
            * (fuller + 0.4 * forward + 0.2 * shrug_lo))
    cupid = 1.0 - 0.3 * np.exp(-(((_U - 0.5) / 0.08) ** 2))  # the dip of the cupid's bow
    up_outer = up_inner - t_up * bell**0.55 * cupid
    lo_outer = lo_inner + t_lo * bell**0.65
    return _MouthGeometry(
        corners=(corners[0], corners[1]),
        up_outer=_curve(x, up_outer),
        up_inner=_curve(x, up_inner),
        lo_inner=_curve(x, lo_inner),
        lo_outer=_curve(x, lo_outer),
    )


def _mouth(v: _Values, jaw_drop: float, jaw_x: float) -> list[Shape]:
    g = _mouth_geometry(v, jaw_drop, jaw_x)
    smile, dimple = v.side("MouthSmile"), v.side("MouthDimple")
    sneer, upper_up = v.side("NoseSneer"), v.side("MouthUpperUp")
    pucker, tongue = v("MouthPucker"), v("TongueOut")
    shapes: list[Shape] = []
    # Nasolabial folds deepen with a smile, sneer or raised upper lip (AU12, AU9, AU10).
    for k, sg in enumerate((-1.0, 1.0)):
        amount = max(smile[k], 0.7 * sneer[k], 0.6 * upper_up[k])
        if amount > 0.01:
            cx, cy = g.corners[k]
            t = np.linspace(0.0, 1.0, 9)
            start = np.array([sg * 0.1, 0.16])
            end = np.array([cx + sg * 0.04, cy + 0.02])
            fold = start + (end - start) * t[:, None]
            fold[:, 0] += sg * 0.035 * np.sin(np.pi * t)
            shapes.append(Shape(fold, stroke=_mix(SKIN, CREASE, amount), width=0.008, closed=False))
        if dimple[k] > 0.01:  # the dimple beside the corner (AU14)
            cx, cy = g.corners[k]
            a = np.linspace(-0.9, 0.9, 7)
            arc = _curve(cx + sg * (0.025 + 0.012 * np.cos(a)), cy + 0.03 * np.sin(a))
            shapes.append(Shape(arc, stroke=_mix(SKIN, CREASE, dimple[k]), width=0.008, closed=False))
    gap = g.lo_inner[:, 1] - g.up_inner[:, 1]
    if gap.max() > 0.002:
        shapes.append(Shape(_ring(g.up_inner, g.lo_inner), fill=MOUTH))
        mid = slice(3, _N - 3)
        teeth_up = np.minimum(gap, 0.032)
        top = g.up_inner[mid]
        shapes.append(Shape(_ring(top, top + np.stack([0 * top[:, 0], teeth_up[mid]], axis=1)), fill=TEETH))
        teeth_lo = np.clip(gap - teeth_up - 0.012, 0.0, 0.022)
        bottom = g.lo_inner[mid]
        if teeth_lo.max() > 0.001:
            shapes.append(Shape(_ring(bottom - np.stack([0 * bottom[:, 0], teeth_lo[mid]], axis=1), bottom),
                                fill=TEETH))
    shapes.append(Shape(_ring(g.up_outer, g.up_inner), fill=LIP, stroke=LIP_LINE, width=0.006))
    shapes.append(Shape(_ring(g.lo_inner, g.lo_outer), fill=_mix(LIP, "#ffffff", 0.08), stroke=LIP_LINE,
                        width=0.006))
    shapes.append(Shape(g.up_inner, stroke=LIP_LINE, width=0.009, closed=False))
    if pucker > 0.01:  # pucker lines above and below the lips (AU18)
        for k in (-1, 0, 1):
            top = g.up_outer[_N // 2 + 4 * k]
            pts = np.array([(top[0], top[1] - 0.005), (top[0] + 0.012 * k, top[1] - 0.03)])
            shapes.append(Shape(pts, stroke=_mix(SKIN, CREASE, pucker), width=0.006, closed=False))
            bot = g.lo_outer[_N // 2 + 4 * k]
            pts = np.array([(bot[0], bot[1] + 0.005), (bot[0] + 0.01 * k, bot[1] + 0.025)])
            shapes.append(Shape(pts, stroke=_mix(SKIN, CREASE, pucker), width=0.006, closed=False))
    if tongue > 0.01:  # the tongue over the lower lip (AU19)
        mid = g.lo_inner[_N // 2]
        cx = mid[0]
        length = 0.02 + 0.085 * tongue
        t = np.linspace(0.0, np.pi, 15)
        tip = _curve(cx + 0.065 * np.cos(t), mid[1] + length * np.sin(t))
        root = np.array([(cx - 0.065, mid[1] - 0.012), (cx + 0.065, mid[1] - 0.012)])
        shapes.append(Shape(np.concatenate([root[1:], tip, root[:1]]), fill=TONGUE, stroke=LIP_LINE, width=0.006))
        shapes.append(Shape(_curve(np.array([cx, cx]), np.array([mid[1], mid[1] + 0.6 * length])),
                            stroke=_mix(TONGUE, LIP_LINE, 0.5), width=0.005, closed=False))
    return shapes


def _chin(v: _Values, jaw_drop: float, jaw_x: float) -> list[Shape]:
    shrug = v("MouthShrugLower")
    forward = v("JawForward")
    cy = 0.54 + 0.95 * jaw_drop - 0.025 * shrug + 0.03 * forward
    hw = 0.06 * (1.0 + 0.6 * forward)
    t = np.linspace(-1.0, 1.0, 9)
    arc = _curve(jaw_x + hw * t, cy - 0.012 * (1.0 - t**2))
    shapes = [Shape(arc, stroke=_mix(SKIN, CREASE, 0.35 + 0.6 * max(shrug, forward)), width=0.008, closed=False)]
    if shrug > 0.01:  # the chin boss dimples when the chin raiser pushes up (AU17)
        for dx, dy in ((-0.03, 0.06), (0.0, 0.075), (0.03, 0.06), (-0.015, 0.095), (0.015, 0.095)):
            dot = _ellipse(jaw_x + dx, cy + dy, 0.006, 0.005, 8)
            shapes.append(Shape(dot, fill=_mix(SKIN, CREASE, shrug)))
    if forward > 0.01:  # the jaw thrust's shadow under the chin
        low = _curve(jaw_x + 1.5 * hw * t, cy + 0.1 + 0.02 * (1.0 - t**2))
        shapes.append(Shape(low, stroke=_mix(SKIN, CREASE, forward), width=0.008, closed=False))
    return shapes


# ----------------------------------------------------------------------------------------------------- pose
def _pose_all(shapes: Sequence[Shape], angles: tuple[float, float, float]) -> list[Shape]:
    """Turn face units into canvas units, applying yaw and pitch (surface points) and roll (all but fixed).

    All points are transformed in one batch (a per-shape transform costs more in numpy call overhead than the
    arithmetic itself).
    """
    counts = [len(s.points) for s in shapes]
    p = np.concatenate([s.points for s in shapes])
    x, y = p[:, 0].copy(), p[:, 1] - _HEAD_CY
    yaw, pitch, roll = angles
    if yaw or pitch:
        follow = np.concatenate([
            s.follow if s.follow is not None else np.full(n, 1.0 if s.layer == "surface" else 0.0)
            for s, n in zip(shapes, counts, strict=True)
        ])
        lift = np.repeat([s.lift for s in shapes], counts)
        z = _DEPTH * np.sqrt(np.clip(1.0 - (x / 0.66) ** 2 - (y / 0.84) ** 2, 0.0, 1.0)) + lift
        # Positive yaw turns toward the subject's right (image left); positive pitch looks down.
        x1 = x * math.cos(yaw) - z * math.sin(yaw)
        z1 = x * math.sin(yaw) + z * math.cos(yaw)
        y1 = y * math.cos(pitch) + z1 * math.sin(pitch)
        x, y = x + follow * (x1 - x), y + follow * (y1 - y)
    if roll:
        # Positive roll tilts toward the subject's right shoulder: the top of the head goes to image left.
        moves = np.repeat([s.layer != "fixed" for s in shapes], counts)
        yr = y + _HEAD_CY - _ROLL_PIVOT_Y
        c, sn = math.cos(roll), math.sin(roll)
        x, y = (np.where(moves, x * c + yr * sn, x),
                np.where(moves, -x * sn + yr * c + _ROLL_PIVOT_Y - _HEAD_CY, y))
    canvas = np.stack([(x + 1.0) / 2.0, (y + _HEAD_CY + 1.0) / 2.0], axis=1)
    parts = np.split(canvas, np.cumsum(counts)[:-1])
    return [
        Shape(part, fill=s.fill, stroke=s.stroke, width=s.width / 2.0, closed=s.closed, layer=s.layer)
        for s, part in zip(shapes, parts, strict=True)
    ]


def face_shapes(values: np.ndarray | Sequence[float]) -> list[Shape]:
    """The posed drawing of one face, back to front.

    ``values``: (61,) in ``rig.CHANNELS`` order (clamped to each channel's range; NaN is neutral). Returns shapes
    whose points are in canvas units ([0, 1] on both axes, y down) and whose widths are in canvas units too.
    """
    arr = check_values(values)
    v = _Values(arr)
    jaw_drop = 0.16 * v("JawOpen")
    jaw_x = 0.075 * (v("JawLeft") - v("JawRight"))  # the subject's left is the image's right
    parts: list[Callable[[], list[Shape]]] = [
        lambda: _head(v, jaw_drop, jaw_x),
        lambda: _forehead_and_cheeks(v),
        lambda: _eye(v, "Right", -1.0),
        lambda: _eye(v, "Left", 1.0),
        lambda: _brows(v),
        lambda: _nose(v),
        lambda: _mouth(v, jaw_drop, jaw_x),
        lambda: _chin(v, jaw_drop, jaw_x),
    ]
    yaw_deg, pitch_deg, roll_deg = HEAD_ANGLES_DEG
    angles = (
        math.radians(yaw_deg) * v("HeadYaw"),
        math.radians(pitch_deg) * v("HeadPitch"),
        math.radians(roll_deg) * v("HeadRoll"),
    )
    shapes = _body()
    for part in parts:
        shapes.extend(part())
    return _pose_all(shapes, angles)


# ------------------------------------------------------------------------------------------------------ SVG
def _svg_points(points: np.ndarray, size: int) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points * size)


def svg_elements(shapes: Sequence[Shape], *, size: int) -> list[str]:
    """SVG elements (``<polygon>`` / ``<polyline>``) for posed shapes drawn in a ``size`` x ``size`` box."""
    out = []
    for s in shapes:
        tag = "polygon" if s.closed else "polyline"
        fill = s.fill if (s.closed and s.fill) else "none"
        stroke = (f' stroke="{s.stroke}" stroke-width="{max(s.width * size, 0.5):.2f}" stroke-linejoin="round"'
                  f' stroke-linecap="round"') if s.stroke else ""
        out.append(f'<{tag} points="{_svg_points(s.points, size)}" fill="{fill}"{stroke}/>')
    return out


def face_svg(values: np.ndarray | Sequence[float], *, size: int = 512, background: str | None = BACKGROUND) -> str:
    """One face as a standalone SVG document (UTF-8 text), ``size`` x ``size`` pixels.

    ``values``: (61,) in ``rig.CHANNELS`` order. ``background``: a fill colour, or ``None`` for transparent.
    """
    size = check_size(size)
    body = svg_elements(face_shapes(values), size=size)
    bg = f'<rect width="{size}" height="{size}" fill="{background}"/>' if background else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f"<title>keyframeface 2D face</title>{bg}" + "".join(body) + "</svg>\n"
    )


class Face2DRenderer:
    """The built-in 2D renderer (``"2d"``): :func:`face_shapes` rasterised with Pillow.

    ``supersample``: drawing scale before the box-filter downscale that anti-aliases the edges (1 = none; 2 is a
    good balance of speed and smoothness, 3-4 for stills). ``background``: the fill colour behind the face.
    """

    name = "2d"

    def __init__(self, *, supersample: int = 2, background: str = BACKGROUND) -> None:
        if isinstance(supersample, bool) or not isinstance(supersample, int) or not 1 <= supersample <= 4:
            from ..errors import FormatError

            raise FormatError(f"supersample must be a whole number from 1 to 4, got {supersample!r}")
        self.supersample = supersample
        self.background = background

    def render(self, values: np.ndarray, *, size: int = 512) -> np.ndarray:
        """One face: ``values`` (61,) float32 -> (size, size, 3) uint8 RGB."""
        from .raster import rasterize

        size = check_size(size)
        return rasterize(face_shapes(values), size=size, supersample=self.supersample, background=self.background)

    def svg(self, values: np.ndarray, *, size: int = 512) -> str:
        """The same face as SVG text (see :func:`face_svg`)."""
        return face_svg(values, size=size, background=self.background)
