"""Rasterising and writing images with Pillow (the ``[render]`` extra): shapes -> RGB arrays, PNG files, text.

Pillow is imported inside the functions, so this module imports without it; a missing Pillow raises a
:class:`~keyframeface.errors.FormatError` naming the extra to install.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError
from ..io.atomic import atomic_write_bytes
from .base import require_package

__all__ = ["load_font", "png_bytes", "rasterize", "text_width", "wrap_text", "write_png"]


def _pil(purpose: str) -> Any:
    require_package("PIL", purpose=purpose)
    from PIL import Image, ImageDraw

    return Image, ImageDraw


def rasterize(shapes: Sequence[Any], *, size: int, supersample: int = 2, background: str = "#ffffff") -> np.ndarray:
    """Draw posed shapes (canvas units, see :class:`keyframeface.render.face2d.Shape`) into (size, size, 3) uint8.

    Shapes are drawn at ``size * supersample`` pixels, then box-filtered down: the anti-aliasing.
    """
    image_mod, draw_mod = _pil("drawing a face as an image")
    big = size * supersample
    img = image_mod.new("RGB", (big, big), background)
    draw = draw_mod.Draw(img)
    for s in shapes:
        n = len(s.points)
        if n < 2:
            continue
        pts = (s.points * big).ravel().tolist()  # a flat [x0, y0, x1, y1, ...] list is what Pillow takes fastest
        if s.closed and s.fill and n >= 3:
            draw.polygon(pts, fill=s.fill)
        if s.stroke and s.width > 0:
            width = max(1, round(s.width * big))
            line = [*pts, pts[0], pts[1]] if s.closed else pts
            draw.line(line, fill=s.stroke, width=width, joint="curve" if width > 2 else None)
            if not s.closed and width > 2:  # round caps, as the SVG has
                r = width / 2.0
                for x, y in ((pts[0], pts[1]), (pts[-2], pts[-1])):
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=s.stroke)
    if supersample > 1:
        img = img.reduce(supersample)
    return np.asarray(img, dtype=np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W, 3) or (H, W, 4) uint8 -> PNG file bytes."""
    image_mod, _ = _pil("writing PNG images")
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise FormatError(f"expected an (H, W, 3) uint8 image, got shape {arr.shape} {arr.dtype}")
    buf = io.BytesIO()
    image_mod.fromarray(arr).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_png(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an (H, W, 3) uint8 image as PNG, atomically; returns the path."""
    target = Path(path)
    atomic_write_bytes(target, png_bytes(image))
    return target


@lru_cache(maxsize=16)
def load_font(size: int) -> Any:
    """Pillow's built-in scalable font at ``size`` pixels (bitmap fallback on a Pillow without FreeType)."""
    require_package("PIL", purpose="drawing text")
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow < 10.1 or no FreeType: the fixed bitmap font
        return ImageFont.load_default()


def text_width(font: Any, text: str) -> float:
    """Width of ``text`` in pixels."""
    return float(font.getlength(text))


def wrap_text(text: str, font: Any, width_px: float, *, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap of ``text`` to lines at most ``width_px`` wide; ``max_lines`` ends with an ellipsis."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split()
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if text_width(font, candidate) <= width_px or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
            while text_width(font, line) > width_px and len(line) > 1:  # one word longer than the line
                cut = len(line)
                while cut > 1 and text_width(font, line[:cut]) > width_px:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        if line:
            lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(font, last + "…") > width_px:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines
