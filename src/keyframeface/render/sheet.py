"""Contact sheets: one panel per keyframe (face, number, time, wrapped description) under the script's emotion.

Needs Pillow (the ``[render]`` extra). An :class:`~keyframeface.script.Animation` is shown by its keyframes when it
carries them, else by ``count`` frames evenly spaced in time (a capture).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError
from ..script import Animation, Keyframes
from .base import DEFAULT_RENDERER, FaceRenderer, check_size, get_renderer, require_package
from .raster import load_font, wrap_text, write_png

__all__ = ["Panel", "channel_gallery", "contact_sheet", "gallery_panels", "sheet_panels", "write_sheet"]

_PAPER = "#ffffff"
_INK = "#1f2328"
_MUTED = "#59636e"


@dataclass(frozen=True)
class Panel:
    """One panel of a sheet: ``values`` (61,) float32 or ``None`` (no values: drawn as a blank face),
    a ``label`` such as ``"#2  1.20 s"`` and a ``description``."""

    values: np.ndarray | None
    label: str
    description: str = ""


def _time_text(t: float | None) -> str:
    return "time not set" if t is None else f"{t:.2f} s"


def sheet_panels(obj: Keyframes | Animation, *, count: int = 8) -> tuple[list[Panel], str]:
    """The panels of a sheet and its title text (emotion, else background).

    Keyframes (and animations that carry them) give one panel per keyframe; other animations give ``count``
    frames evenly spaced in time.
    """
    if isinstance(obj, Animation):
        if obj.keyframes is not None and len(obj.keyframes) and not obj.keyframes.missing:
            return sheet_panels(obj.keyframes)
        if obj.num_frames == 0:
            raise FormatError("the animation has no frames to show")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FormatError(f"count must be a positive whole number, got {count!r}")
        times = obj.frame_times()
        picks = np.unique(np.linspace(0, obj.num_frames - 1, min(count, obj.num_frames)).round().astype(int))
        panels = [Panel(obj.frames[i], f"frame {i}  {times[i] - times[0]:.2f} s") for i in picks]
        return panels, ""
    if not isinstance(obj, Keyframes):
        raise FormatError(f"a contact sheet shows Keyframes or an Animation, got {type(obj).__name__}")
    if not len(obj):
        raise FormatError("the keyframes document has no keyframes to show")
    panels = [
        Panel(None if kf.values is None else kf.array, f"#{i + 1}  {_time_text(kf.time_s)}",
              kf.description if kf.values is not None else (kf.description + " [no values]").strip())
        for i, kf in enumerate(obj.keyframes)
    ]
    return panels, obj.emotion or obj.background


def contact_sheet(
    obj: Keyframes | Animation,
    *,
    renderer: str | FaceRenderer = DEFAULT_RENDERER,
    size: int = 256,
    columns: int | None = None,
    count: int = 8,
    max_lines: int = 6,
    progress: Any = None,
) -> np.ndarray:
    """Render a contact sheet: returns (H, W, 3) uint8.

    ``size``: each face in pixels. ``columns``: panels per row (default: up to 4). ``count``: frames shown for an
    animation without keyframes. ``max_lines``: description lines per panel (longer text ends with an ellipsis).
    ``progress``: optional ``callback(done, total)``.
    """
    panels, title = sheet_panels(obj, count=count)
    return draw_panels(panels, title=title, renderer=renderer, size=size, columns=columns, max_lines=max_lines,
                       progress=progress)


def gallery_panels(*, value: float = 1.0, channels: list[str] | None = None) -> list[Panel]:
    """One panel per channel (default: neutral, the 52 blendshapes, then the head and eye rotations) at ``value``."""
    from .. import rig

    names = channels if channels is not None else list(rig.CHANNELS)
    panels = [Panel(rig.neutral(), "neutral")] if channels is None else []
    for name in names:
        canonical = rig.canonical_name(name)
        values = rig.neutral()
        values[rig.CHANNEL_INDEX[canonical]] = value
        if canonical.endswith("EyeRoll"):
            continue  # a round iris does not show eye roll
        panels.append(Panel(values, canonical))
    return panels


def channel_gallery(
    *,
    value: float = 1.0,
    renderer: str | FaceRenderer = DEFAULT_RENDERER,
    size: int = 160,
    columns: int = 8,
    progress: Any = None,
) -> np.ndarray:
    """Every channel alone at ``value`` (the rig at a glance, e.g. for docs): returns (H, W, 3) uint8."""
    return draw_panels(gallery_panels(value=value), title=f"Each channel alone at {value:g}", renderer=renderer,
                       size=size, columns=columns, max_lines=0, progress=progress)


def draw_panels(
    panels: list[Panel],
    *,
    title: str = "",
    renderer: str | FaceRenderer = DEFAULT_RENDERER,
    size: int = 256,
    columns: int | None = None,
    max_lines: int = 6,
    progress: Any = None,
) -> np.ndarray:
    """Lay out panels in a grid under a title: returns (H, W, 3) uint8 (see :func:`contact_sheet`)."""
    require_package("PIL", purpose="a contact sheet")
    from PIL import Image, ImageDraw

    size = check_size(size)
    face = get_renderer(renderer)
    ncols = columns if columns is not None else min(4, len(panels))
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise FormatError(f"columns must be a positive whole number, got {columns!r}")
    nrows = -(-len(panels) // ncols)
    pad = max(6, size // 24)
    # A CJK font where a caption needs one (Pillow's default draws Chinese / Japanese / Korean as boxes).
    captions = " ".join(p.description for p in panels if p.description) if max_lines > 0 else ""
    body_font = load_font(max(10, size // 18), captions)
    label_font = load_font(max(11, size // 15), " ".join(p.label for p in panels))
    title_font = load_font(max(13, size // 11), title)
    line_h = int(body_font.size * 1.3) if hasattr(body_font, "size") else 14
    label_h = int(getattr(label_font, "size", 12) * 1.5)
    text_w = size
    wrapped = [wrap_text(p.description, body_font, text_w, max_lines=max_lines) if max_lines > 0 and p.description
               else [] for p in panels]
    text_h = label_h + line_h * max((len(w) for w in wrapped), default=0)
    cell_w, cell_h = size + 2 * pad, size + text_h + 2 * pad
    width = ncols * cell_w + pad
    title_lines = wrap_text(title, title_font, width - 2 * pad, max_lines=2) if title else []
    title_line_h = int(getattr(title_font, "size", 14) * 1.35)
    top = pad + len(title_lines) * title_line_h + (pad if title_lines else 0)
    sheet = Image.new("RGB", (width, top + nrows * cell_h), _PAPER)
    draw = ImageDraw.Draw(sheet)
    for k, line in enumerate(title_lines):
        draw.text((pad, pad + k * title_line_h), line, fill=_INK, font=title_font)
    for k, (panel, lines) in enumerate(zip(panels, wrapped, strict=True)):
        x0 = pad + (k % ncols) * cell_w
        y0 = top + (k // ncols) * cell_h
        if panel.values is not None:
            image = face.render(panel.values, size=size)
            if image.shape[:2] != (size, size):
                image = np.asarray(Image.fromarray(image).resize((size, size)))
            sheet.paste(Image.fromarray(image), (x0, y0))
        else:
            draw.rectangle((x0, y0, x0 + size - 1, y0 + size - 1), fill="#dddddd")
        draw.rectangle((x0, y0, x0 + size - 1, y0 + size - 1), outline="#c9d1d9")
        draw.text((x0, y0 + size + pad // 2), panel.label, fill=_INK, font=label_font)
        for j, line in enumerate(lines):
            draw.text((x0, y0 + size + pad // 2 + label_h + j * line_h), line, fill=_MUTED, font=body_font)
        if progress is not None:
            progress(k + 1, len(panels))
    return np.asarray(sheet, dtype=np.uint8)


def write_sheet(obj: Keyframes | Animation, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write :func:`contact_sheet` of ``obj`` as a PNG file, atomically; ``options`` as for that function."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise FormatError(f"a contact sheet is written as .png, got {target.suffix or 'no extension'!r}")
    return write_png(contact_sheet(obj, **options), target)
