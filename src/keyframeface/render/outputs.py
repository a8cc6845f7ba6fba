"""Render outputs by file suffix, and :func:`render`: keyframes or an animation -> a preview file.

==========  ============  =======================================================================================
output      suffixes      writes
==========  ============  =======================================================================================
``face``    .png, .svg    one face: at ``time_s``, of keyframe ``keyframe`` (1-based), else the first pose
                          (SVG: the 2d renderer only)
``sheet``   .png          a contact sheet: one panel per keyframe (or ``count`` frames spread over a capture)
``curves``  .png          a plot of channel curves over time (``channels``: default the most active ones)
``video``   .gif, .mp4    the animation (keyframes are animated first; ``life=False`` without blinks and motion)
``gallery`` .png          no input: every channel alone at 1.0 (the rig at a glance)
==========  ============  =======================================================================================

A new output registers a :class:`RenderOutput` with :func:`register_output`; its function is called as
``function(obj, path, **options)`` with the options of :func:`render` that it names in its signature.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, ScriptError
from ..registry import Registry
from ..script import Animation, Keyframes
from .base import DEFAULT_RENDERER, FaceRenderer

__all__ = ["OUTPUTS", "RenderOutput", "find_output", "output_suffixes", "register_output", "render"]

#: ``progress(done, total)``, called as frames are drawn.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RenderOutput:
    """One kind of preview file: ``write(obj, path, **options)`` writes it; ``suffixes`` are lower-case with the dot.

    ``input``: whether it draws keyframes or an animation (the gallery draws the rig, from nothing).
    """

    name: str
    suffixes: tuple[str, ...]
    write: Callable[..., Path]
    description: str
    input: bool = True


#: Render outputs by name, in the order the suffix lookup tries them.
OUTPUTS: Registry[RenderOutput] = Registry("render output")


def register_output(output: RenderOutput) -> None:
    """Add (or replace) a render output."""
    if not isinstance(output, RenderOutput):
        raise FormatError(f"expected a RenderOutput, got {type(output).__name__}")
    OUTPUTS.register(output.name, output)


def output_suffixes() -> tuple[str, ...]:
    """Every suffix some output writes, in registration order (``.png, .svg, .gif, .mp4``)."""
    return tuple(dict.fromkeys(s for name in OUTPUTS for s in OUTPUTS.entries[name].suffixes))


def find_output(path: str | os.PathLike[str], *, kind: str | None = None, single: bool = False) -> RenderOutput:
    """The output for ``path``: ``kind`` by name, else by suffix (``.png``: ``face`` when ``single``, else
    ``sheet``). Raises :class:`FormatError` for a suffix no output writes or a kind that does not write it."""
    ext = Path(path).suffix.lower()
    if ext not in output_suffixes():
        raise FormatError(
            f"cannot tell what to render from {ext or 'no extension'!r}; use one of {', '.join(output_suffixes())}"
        )
    if kind is None:
        kind = "face" if ext == ".svg" or (ext == ".png" and single) else "sheet" if ext == ".png" else None
        if kind is None:
            kind = next(n for n in OUTPUTS if ext in OUTPUTS.entries[n].suffixes and OUTPUTS.entries[n].input)
    found = OUTPUTS.target(kind)
    if found is None:
        raise FormatError(OUTPUTS.unknown_message(kind))
    if ext not in found.suffixes:
        raise FormatError(f"a {found.name} is written as {' or '.join(found.suffixes)}, got {ext!r}")
    return found


def render(
    obj: Keyframes | Animation | None,
    path: str | os.PathLike[str],
    *,
    kind: str | None = None,
    renderer: str | FaceRenderer = DEFAULT_RENDERER,
    size: int | None = None,
    time_s: float | None = None,
    keyframe: int | None = None,
    channels: list[str] | None = None,
    fps: float | None = None,
    columns: int | None = None,
    count: int = 8,
    life: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Render ``obj`` (keyframes or an animation; ``None`` for the gallery) to ``path``; returns the path written.

    The output follows ``kind`` (``face``, ``sheet``, ``curves``, ``video``, ``gallery``; see the module docstring)
    or, without it, ``path``'s suffix: ``.png`` a contact sheet (one face when ``time_s`` or ``keyframe`` is
    given), ``.svg`` one face, ``.gif`` / ``.mp4`` the animation. ``size``: pixels per face (default 512 for one
    face, 160 for the gallery, 256 otherwise). Files are written atomically. Raises :class:`FormatError` or
    :class:`ScriptError` saying what was expected.
    """
    output = find_output(path, kind=kind, single=time_s is not None or keyframe is not None)
    if output.input and obj is None:
        raise ScriptError("give an INPUT file to render (or --gallery)")
    options: dict[str, Any] = {
        "renderer": renderer, "size": size, "time_s": time_s, "keyframe": keyframe, "channels": channels,
        "fps": fps, "columns": columns, "count": count, "life": life, "progress": progress,
    }
    params = inspect.signature(output.write).parameters
    taken = {k: v for k, v in options.items() if k in params}
    return output.write(obj, Path(path), **taken)


# -------------------------------------------------------------------------------------------- built-in outputs
def _animation(obj: Keyframes | Animation, *, life: bool) -> Animation:
    if isinstance(obj, Animation):
        return obj
    from ..animate import animate

    return animate(obj, life=life)


def _single_values(obj: Keyframes | Animation, *, time_s: float | None, keyframe: int | None) -> np.ndarray:
    """The (61,) values of one face: at ``time_s``, of keyframe ``keyframe`` (1-based), else the first pose."""
    if time_s is not None and keyframe is not None:
        raise ScriptError("give --time-s or --keyframe, not both")
    if keyframe is not None:
        keys = obj.keyframes if isinstance(obj, Animation) else obj
        if keys is None or not len(keys):
            raise ScriptError("--keyframe needs keyframes; this input has none (use --time-s)")
        if not 1 <= keyframe <= len(keys):
            raise ScriptError(f"--keyframe must be between 1 and {len(keys)}, got {keyframe}")
        return keys.keyframes[keyframe - 1].array
    if time_s is None:
        if isinstance(obj, Keyframes):
            return obj.keyframes[0].array if len(obj) else np.zeros(61, np.float32)
        if obj.num_frames == 0:
            raise FormatError("the animation has no frames")
        return obj.frames[0]
    anim = _animation(obj, life=False)
    if not 0.0 <= time_s <= anim.duration_s + 1e-9:
        raise ScriptError(f"--time-s must be within [0, {anim.duration_s:.3f}] seconds, got {time_s:g}")
    times = anim.frame_times() - anim.frame_times()[0]
    return np.array([np.interp(time_s, times, anim.frames[:, j]) for j in range(anim.frames.shape[1])],
                    dtype=np.float32)


def _face(
    obj: Keyframes | Animation, path: Path, *, renderer: str | FaceRenderer, size: int | None,
    time_s: float | None, keyframe: int | None,
) -> Path:
    values = _single_values(obj, time_s=time_s, keyframe=keyframe)
    size = size or 512
    if path.suffix.lower() == ".svg":
        if renderer != "2d":
            raise FormatError("SVG is drawn by the 2d renderer only; use --renderer 2d or write a .png")
        from ..io.atomic import atomic_write_text
        from .face2d import face_svg

        atomic_write_text(path, face_svg(values, size=size))
        return path
    from .base import get_renderer
    from .raster import write_png

    return write_png(get_renderer(renderer).render(values, size=size), path)


def _sheet(
    obj: Keyframes | Animation, path: Path, *, renderer: str | FaceRenderer, size: int | None,
    columns: int | None, count: int, progress: Progress | None,
) -> Path:
    from .sheet import write_sheet

    return write_sheet(obj, path, renderer=renderer, size=size or 256, columns=columns, count=count,
                       progress=progress)


def _curves(obj: Keyframes | Animation, path: Path, *, channels: list[str] | None) -> Path:
    from .curves import write_curves

    return write_curves(_animation(obj, life=False) if isinstance(obj, Keyframes) else obj, path, channels=channels)


def _video(
    obj: Keyframes | Animation, path: Path, *, renderer: str | FaceRenderer, size: int | None, fps: float | None,
    life: bool, progress: Progress | None,
) -> Path:
    from .video import write_video

    anim = _animation(obj, life=life)
    return write_video(anim, path, renderer=renderer, size=size or 256, fps=fps, progress=progress)


def _gallery(
    _obj: None, path: Path, *, renderer: str | FaceRenderer, size: int | None, columns: int | None,
    progress: Progress | None,
) -> Path:
    from .raster import write_png
    from .sheet import channel_gallery

    return write_png(channel_gallery(renderer=renderer, size=size or 160, columns=columns or 8, progress=progress),
                     path)


for _output in (
    RenderOutput("face", (".png", ".svg"), _face, "one face at a time or keyframe"),
    RenderOutput("sheet", (".png",), _sheet, "a contact sheet of the keyframes"),
    RenderOutput("curves", (".png",), _curves, "channel curves over time"),
    RenderOutput("video", (".gif", ".mp4"), _video, "the animation as GIF or MP4"),
    RenderOutput("gallery", (".png",), _gallery, "every channel alone at 1.0", input=False),
):
    register_output(_output)
