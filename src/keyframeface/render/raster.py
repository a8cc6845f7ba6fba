"""Rasterising and writing images with Pillow (the ``[render]`` extra): shapes -> RGB arrays, PNG files, text.

Pillow is imported inside the functions, so this module imports without it; a missing Pillow raises a
:class:`~keyframeface.errors.FormatError` naming the extra to install.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError
from ..io.atomic import atomic_write_bytes
from .base import require_package

__all__ = ["CJK_FONT_FILES", "cjk_font_file", "load_font", "missing_glyphs", "png_bytes", "rasterize", "text_width", "wrap_text", "write_png"]


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


#: Fonts with CJK glyphs, tried in order when a caption has characters Pillow's default font lacks: the
#: ``manimgx-fonts-cjk`` package (Noto Sans CJK, SIL OFL 1.1; installed with the ``[render]`` extra), then
#: Debian / Ubuntu's ``fonts-noto-cjk`` and a few other system places.
CJK_FONT_FILES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
_warned_missing: set[str] = set()


def _packaged_cjk_font() -> str | None:
    """The Noto Sans CJK file of the ``manimgx-fonts-cjk`` package, if installed."""
    try:
        from importlib.resources import files

        path = files("manimgx_fonts_cjk") / "NotoSansCJK-VF.otf.ttc"
    except (ImportError, ModuleNotFoundError, TypeError):
        return None
    return str(path) if path.is_file() else None


@lru_cache(maxsize=1)
def cjk_font_file() -> str | None:
    """The first font file with CJK glyphs found here (see :data:`CJK_FONT_FILES`), or ``None``."""
    packaged = _packaged_cjk_font()
    if packaged:
        return packaged
    return next((f for f in CJK_FONT_FILES if os.path.isfile(f)), None)


@lru_cache(maxsize=16)
def _default_font(size: int) -> Any:
    require_package("PIL", purpose="drawing text")
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow < 10.1 or no FreeType: the fixed bitmap font
        return ImageFont.load_default()


@lru_cache(maxsize=8)
def _cjk_font(size: int) -> Any:
    from PIL import ImageFont

    path = cjk_font_file()
    if path is None:
        return None
    try:
        return ImageFont.truetype(path, size=size)
    except OSError:  # unreadable file or no FreeType
        return None


@lru_cache(maxsize=4096)
def _default_lacks(char: str) -> bool:
    """Whether Pillow's default font draws ``char`` as its missing-glyph box (or nothing)."""
    if char.isspace() or ord(char) < 0x250:  # Latin, the default font's own range
        return False
    font = _default_font(16)
    missing = font.getmask("\U0010fffd")  # a private-use code point: no font has it, so this is .notdef
    mask = font.getmask(char)
    return mask.size == missing.size and bytes(mask) == bytes(missing)


def missing_glyphs(text: str) -> str:
    """The distinct characters of ``text`` that Pillow's default font lacks (drawn as boxes), in order."""
    return "".join(dict.fromkeys(c for c in text if _default_lacks(c)))


def load_font(size: int, text: str = "") -> Any:
    """A font at ``size`` pixels for drawing ``text``: Pillow's built-in scalable font (bitmap fallback on a Pillow
    without FreeType), or a CJK font (:func:`cjk_font_file`) when ``text`` has glyphs the built-in font lacks.

    When no font here has them, warns once per missing script's first character and returns the built-in font
    (the text then shows boxes).
    """
    lacking = missing_glyphs(text) if text else ""
    if lacking:
        font = _cjk_font(size)
        if font is not None:
            return font
        if lacking[0] not in _warned_missing:
            _warned_missing.update(lacking)
            warnings.warn(
                f"captions have characters the default font lacks ({lacking[:12]!r}); they are drawn as boxes. "
                "Install a font with them: pip install 'keyframeface[render]' (Noto Sans CJK) or the "
                "fonts-noto-cjk system package",
                stacklevel=2,
            )
    return _default_font(size)


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
