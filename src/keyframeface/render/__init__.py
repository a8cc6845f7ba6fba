"""Previews a person can open: a 2D face drawn from the 61 channels (SVG, PNG), contact sheets of keyframes,
GIF/MP4 animations and channel-curve plots; a 3D head renderer registers under the same interface.

==========================================  =================================================================
function                                    writes
==========================================  =================================================================
``face2d.face_svg(values, size=)``          one face as SVG text (pure Python, no extra needed)
``get_renderer("2d").render(values)``       one face as an (H, W, 3) uint8 image
``sheet.write_sheet(keys, "s.png")``        a contact sheet: one panel per keyframe with time and description
``video.write_video(anim, "a.gif")``        a GIF or MP4 of an animation
``curves.write_curves(anim, "c.png")``      chosen channel curves over time with keyframe markers
``write_previews(anim, folder, stem)``      all three beside an animation's other files (``animate --preview``)
==========================================  =================================================================

Nothing heavy is imported here: Pillow / imageio (the ``[render]`` extra) load only when an image is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..script import Animation
from .base import DEFAULT_RENDERER, FaceRenderer, get_renderer, register_renderer, renderer_names

__all__ = [
    "DEFAULT_RENDERER",
    "FaceRenderer",
    "get_renderer",
    "register_renderer",
    "renderer_names",
    "write_previews",
]


def write_previews(
    anim: Animation,
    folder: str | os.PathLike[str],
    stem: str,
    *,
    video: str = "gif",
    renderer: str | FaceRenderer = DEFAULT_RENDERER,
    size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write the previews of an animation beside its other files; returns the paths written.

    ``folder/stem.sheet.png``: a contact sheet of the animation's keyframes (or of frames spread over it);
    ``folder/stem.curves.png``: the most active channel curves with keyframe markers; ``folder/stem.gif`` (or
    ``.mp4`` with ``video="mp4"``): the animation itself. ``progress(done, total)`` follows the video's frames.
    """
    from ..errors import FormatError
    from .curves import write_curves
    from .sheet import write_sheet
    from .video import write_video

    if video not in ("gif", "mp4"):
        raise FormatError(f"the preview video is 'gif' or 'mp4', got {video!r}")
    out = Path(folder)
    face = get_renderer(renderer)
    return [
        write_sheet(anim, out / f"{stem}.sheet.png", renderer=face, size=size),
        write_curves(anim, out / f"{stem}.curves.png"),
        write_video(anim, out / f"{stem}.{video}", renderer=face, size=size, progress=progress),
    ]
