"""Channel curves over time with keyframe markers, drawn with Pillow (no matplotlib): a PNG an animator can read.

Needs Pillow (the ``[render]`` extra). Keyframes are animated first (``keyframeface.animate`` without life layers,
so the plot shows the interpolation itself); an animation that carries keyframes gets a dashed marker and a dot
per channel at each keyframe time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from .. import rig
from ..errors import FormatError
from ..script import Animation, Keyframes
from .base import require_package
from .raster import load_font, text_width, write_png

__all__ = ["PALETTE", "active_channels", "plot_curves", "write_curves"]

#: Line colours, distinct and colour-blind friendly (Okabe & Ito 2008, "Color Universal Design"), then a few more.
PALETTE: Final[tuple[str, ...]] = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#7f3c8d",
    "#11a579", "#3969ac", "#e73f74", "#c9b400",
)  # fmt: skip
# (Okabe-Ito's yellow #f0e442 is too faint on white; a darker yellow comes last.)
MAX_CHANNELS: Final[int] = len(PALETTE)
_DEFAULT_COUNT: Final[int] = 8


#: Right channel -> Left channel of the bilateral pairs. JawLeft/JawRight and MouthLeft/MouthRight are directions of
#: one motion, not two sides, so equal curves there are not "L = R" and both are kept.
_RIGHT_TO_LEFT: Final[dict[str, str]] = {
    right: left for left, right in rig.MIRROR_PAIRS if left not in ("JawLeft", "MouthLeft")
}


def _merge_pairs(frames: np.ndarray, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Drop the Right channel of Left/Right pairs whose curves are identical; label the Left one "Stem L = R"."""
    labels = {n: n for n in names}
    keep = []
    for name in names:
        left = _RIGHT_TO_LEFT.get(name)
        if left is not None and left in labels:
            a, b = frames[:, rig.CHANNEL_INDEX[left]], frames[:, rig.CHANNEL_INDEX[name]]
            if np.abs(a - b).max(initial=0.0) < 1e-3:
                labels[left] = left.replace("Left", "") + " L = R"
                continue
        keep.append(name)
    return keep, labels


def active_channels(frames: np.ndarray, *, limit: int = 8, threshold: float = 0.02) -> list[str]:
    """The ``limit`` channels with the largest peak |value| above ``threshold``, in ``rig.CHANNELS`` order.

    ``frames``: (T, 61). Returns ``["JawOpen"]`` when nothing moves, so a plot always has a curve.
    """
    arr = np.asarray(frames, dtype=np.float32).reshape(-1, rig.NUM_CHANNELS)
    peak = np.abs(arr).max(axis=0) if arr.size else np.zeros(rig.NUM_CHANNELS)
    order = [int(i) for i in np.argsort(-peak, kind="stable")[:limit] if peak[i] > threshold]
    return [rig.CHANNELS[i] for i in sorted(order)] or ["JawOpen"]


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _dashed(draw: object, x: float, y0: float, y1: float, *, fill: str, width: int, dash: float) -> None:
    y = y0
    while y < y1:
        draw.line([(x, y), (x, min(y + dash, y1))], fill=fill, width=width)  # type: ignore[attr-defined]
        y += 2 * dash


def plot_curves(
    obj: Animation | Keyframes,
    *,
    channels: Sequence[str] | None = None,
    width: int = 1200,
    height: int = 560,
    markers: bool = True,
    title: str | None = None,
) -> np.ndarray:
    """Plot channel curves over time: returns (height, width, 3) uint8.

    ``channels``: names in any accepted spelling (``rig.canonical_name``), at most 12; default: the most active
    ones (:func:`active_channels`), a Left/Right pair with identical curves shown once as "Stem L = R". ``markers``: dashed lines and dots at the keyframe times. ``title``: text above
    the plot (default: the emotion, else a summary).
    """
    require_package("PIL", purpose="a curve plot")
    from PIL import Image, ImageDraw

    if isinstance(obj, Keyframes):
        from ..animate import animate

        obj = animate(obj, life=False)
    if not isinstance(obj, Animation):
        raise FormatError(f"a curve plot shows an Animation or Keyframes, got {type(obj).__name__}")
    if obj.num_frames == 0:
        raise FormatError("the animation has no frames to plot")
    for name, value, low in (("width", width, 320), ("height", height, 200)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 8192:
            raise FormatError(f"{name} must be a whole number of pixels in [{low}, 8192], got {value!r}")
    if channels:
        names = list(dict.fromkeys(rig.canonical_name(c, field="channels") for c in channels))
        labels = dict(zip(names, names, strict=True))
    else:
        names, labels = _merge_pairs(obj.frames, active_channels(obj.frames, limit=2 * _DEFAULT_COUNT))
        names = names[:_DEFAULT_COUNT]
    if len(names) > MAX_CHANNELS:
        raise FormatError(f"at most {MAX_CHANNELS} channels fit one plot, got {len(names)}; choose fewer")
    idx = [rig.CHANNEL_INDEX[n] for n in names]
    t = obj.frame_times() - obj.frame_times()[0]
    data = obj.frames[:, idx].astype(np.float64)
    kf_times: list[float] = []
    if markers and obj.keyframes is not None:
        start = float(obj.frame_times()[0])
        kf_times = [float(kf.time_s) - (start if obj.times_s is not None else 0.0)
                    for kf in obj.keyframes.keyframes if kf.time_s is not None]

    ss = 2  # supersampling for smooth lines
    W, H = width * ss, height * ss
    img = Image.new("RGB", (W, H), "#ffffff")
    draw = ImageDraw.Draw(img)
    font, small = load_font(13 * ss), load_font(11 * ss)
    legend_w = int(max(text_width(font, labels[n]) for n in names) + 40 * ss)
    left, right, top, bottom = 56 * ss, W - legend_w - 12 * ss, 54 * ss, H - 44 * ss
    if right - left < 100 * ss:
        raise FormatError(f"width {width} leaves no room for the plot and its legend; use a larger width")
    t_end = max(float(t[-1]), 1e-3)
    lo = min(0.0, math.floor(float(data.min()) * 10) / 10)
    hi = max(lo + 0.1, math.ceil(float(data.max()) * 10) / 10)

    def px(tt: np.ndarray | float, vv: np.ndarray | float) -> tuple[np.ndarray | float, np.ndarray | float]:
        return left + (right - left) * np.asarray(tt) / t_end, bottom - (bottom - top) * (np.asarray(vv) - lo) / (hi - lo)

    # Grid and axes.
    ystep = _nice_step(hi - lo, 5)
    v = math.ceil(lo / ystep) * ystep
    while v <= hi + 1e-9:
        _, y = px(0.0, v)
        draw.line([(left, float(y)), (right, float(y))], fill="#e6e9ed" if abs(v) > 1e-9 else "#9aa4ae", width=ss)
        label = f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) > 1e-9 else "0"
        draw.text((left - 8 * ss, float(y)), label, fill="#444c56", font=small, anchor="rm")
        v += ystep
    tstep = _nice_step(t_end, 10)
    tt = 0.0
    while tt <= t_end + 1e-9:
        x, _ = px(tt, lo)
        draw.line([(float(x), top), (float(x), bottom)], fill="#f0f2f4", width=ss)
        draw.text((float(x), bottom + 6 * ss), f"{tt:g}", fill="#444c56", font=small, anchor="mt")
        tt += tstep
    draw.rectangle((left, top, right, bottom), outline="#9aa4ae", width=ss)
    draw.text(((left + right) / 2, H - 6 * ss), "time (s)", fill="#444c56", font=small, anchor="md")
    heading = title if title is not None else (
        (obj.keyframes.emotion if obj.keyframes is not None else "")
        or f"{obj.num_frames} frames at {obj.fps:g} fps ({obj.duration_s:.2f} s)"
    )
    draw.text((left, 8 * ss), heading[:140], fill="#1f2328", font=load_font(13 * ss, heading[:140]))
    # Keyframe markers.
    for k, when in enumerate(kf_times):
        x, _ = px(when, lo)
        _dashed(draw, float(x), top, bottom, fill="#8c959f", width=ss, dash=5 * ss)
        draw.text((float(x), top - 4 * ss), str(k + 1), fill="#444c56", font=small, anchor="md")
    # Curves, thinned to about two points per output pixel.
    step = max(1, int(len(t) / (2 * (right - left) / ss)))
    for j, name in enumerate(names):
        colour = PALETTE[j % len(PALETTE)]
        xs, ys = px(t[::step], data[::step, j])
        pts = list(zip(np.atleast_1d(xs).tolist(), np.atleast_1d(ys).tolist(), strict=True))
        if len(pts) == 1:
            pts.append((float(right), pts[0][1]))
        draw.line(pts, fill=colour, width=2 * ss, joint="curve")
        for when in kf_times:
            at = float(np.interp(when, t, data[:, j]))
            mx, my = (float(c) for c in px(when, at))
            r = 3.5 * ss
            draw.ellipse((mx - r, my - r, mx + r, my + r), fill=colour, outline="#ffffff")
        ly = top + j * 20 * ss + 8 * ss
        draw.line([(right + 12 * ss, ly), (right + 30 * ss, ly)], fill=colour, width=3 * ss)
        draw.text((right + 36 * ss, ly), labels[name], fill="#1f2328", font=font, anchor="lm")
    return np.asarray(img.reduce(ss), dtype=np.uint8)


def write_curves(obj: Animation | Keyframes, path: str | os.PathLike[str], **options: object) -> Path:
    """Write :func:`plot_curves` of ``obj`` as PNG, atomically; ``options`` as for that function."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise FormatError(f"a curve plot is written as .png, got {target.suffix or 'no extension'!r}")
    return write_png(plot_curves(obj, **options), target)  # type: ignore[arg-type]
