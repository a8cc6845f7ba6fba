"""Animated previews: an :class:`~keyframeface.script.Animation` as a GIF (Pillow) or MP4 (imageio-ffmpeg).

Both need the ``[render]`` extra (Pillow, imageio, imageio-ffmpeg; imageio-ffmpeg ships its own ffmpeg binary).
Frames are resampled to the output frame rate by linear interpolation between the animation's frames. GIF frame
delays are whole centiseconds and browsers slow down delays under 20 ms, so a GIF plays at 25 fps by default; an
MP4 plays at the animation's own rate (at most 60 fps). A GIF stores a run of identical frames (a held pose without
life layers) as one frame lasting as long (Pillow's encoder does this), so its frame count can be lower than the
MP4's while its timing is the same. Files are written to a temporary name beside the target and renamed when
complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import numpy as np

from ..errors import FormatError
from ..script import Animation, Keyframes
from .base import DEFAULT_RENDERER, FaceRenderer, check_size, get_renderer, require_package

__all__ = ["GIF_FPS", "MAX_VIDEO_FRAMES", "VIDEO_FORMATS", "render_frames", "resample", "write_video"]

#: Default GIF frame rate: delays of 40 ms are exact in GIF's centisecond units and play alike in every browser.
GIF_FPS: Final[float] = 25.0
#: Longest preview, in frames (10 minutes at 60 fps); longer takes fail fast with a clear message.
MAX_VIDEO_FRAMES: Final[int] = 36_000
VIDEO_FORMATS: Final[tuple[str, ...]] = (".gif", ".mp4")


def _read_umask() -> int:
    # Read once at import: os.umask is process-wide, so toggling it later could race with other threads.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK: Final[int] = _read_umask()


def resample(anim: Animation, *, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Frames of ``anim`` at ``fps``: returns (times_s (N,) float64 from 0, values (N, 61) float32).

    Values are linearly interpolated between the animation's frames (its own ``times_s`` when it has them, gaps
    and all); N covers the whole duration, at least one frame.
    """
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240:
        raise FormatError(f"fps must be a number in (0, 240], got {fps!r}")
    if anim.num_frames == 0:
        raise FormatError("the animation has no frames to render")
    src_t = anim.frame_times() - anim.frame_times()[0]
    count = int(np.floor(src_t[-1] * fps + 1e-9)) + 1
    if count > MAX_VIDEO_FRAMES:
        raise FormatError(
            f"a {src_t[-1]:.0f} s preview at {fps:g} fps has {count} frames; the limit is {MAX_VIDEO_FRAMES}: "
            "lower --fps or render a part of the take"
        )
    t = np.arange(count, dtype=np.float64) / fps
    return t, anim.sample(t)


def render_frames(
    values: np.ndarray, *, renderer: str | FaceRenderer = DEFAULT_RENDERER, size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[np.ndarray]:
    """Render (N, 61) values one by one: yields N images (size, size, 3) uint8; ``progress(done, total)``."""
    face = get_renderer(renderer)
    size = check_size(size)
    total = int(values.shape[0])
    for i in range(total):
        yield face.render(values[i], size=size)
        if progress is not None:
            progress(i + 1, total)


@contextlib.contextmanager
def _temporary_beside(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` (same extension) that replaces it on success and vanishes on error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes 0600 files; give the result the permissions a plain open() would (umask applied).
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


_GIF_MIN_FPS = 1000.0 / 655_350  # frames per second at the longest GIF frame duration (65535 centiseconds)


def _write_gif(frames: Iterator[np.ndarray], count: int, path: Path, fps: float) -> None:
    require_package("PIL", purpose="writing a GIF")
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    # One palette for the whole clip (from a mosaic of frames spread over it): colours do not flicker between
    # frames and quantising against a fixed palette is fast.
    picks = np.unique(np.linspace(0, count - 1, min(count, 9)).round().astype(int))
    w, h = images[0].size
    mosaic = Image.new("RGB", (w * len(picks), h))
    for k, i in enumerate(picks):
        mosaic.paste(images[int(i)], (k * w, 0))
    palette = mosaic.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    quantised = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    quantised[0].save(path, format="GIF", save_all=True, append_images=quantised[1:],
                      duration=round(1000.0 / fps), loop=0, optimize=False)


def _write_mp4(frames: Iterator[np.ndarray], size: int, path: Path, fps: float) -> None:
    require_package("imageio_ffmpeg", purpose="writing an MP4")
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path), (size, size), fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
        quality=7, macro_block_size=2, ffmpeg_log_level="error",
    )
    writer.send(None)  # start the ffmpeg process
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


def write_video(
    obj: Animation | Keyframes,
    path: str | os.PathLike[str],
    *,
    renderer: str | FaceRenderer = DEFAULT_RENDERER,
    size: int = 256,
    fps: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write an animated preview of ``obj`` as ``.gif`` or ``.mp4`` (by extension); returns the path.

    ``obj``: an Animation, or Keyframes (animated first with ``keyframeface.animate`` defaults). ``fps``: output
    frame rate (default: 25 for GIF, the animation's rate up to 60 for MP4). ``size``: pixels (MP4 rounds odd
    sizes up to even, as H.264 needs). ``progress(done, total)`` is called after each frame.
    Raises :class:`FormatError` for another extension or a missing ``[render]`` package.
    """
    target = Path(path)
    ext = target.suffix.lower()
    if ext not in VIDEO_FORMATS:
        raise FormatError(f"an animated preview is written as {' or '.join(VIDEO_FORMATS)}, got {ext or 'no extension'!r}")
    require_package("PIL" if ext == ".gif" else "imageio_ffmpeg", purpose=f"writing a {ext[1:].upper()}")
    if isinstance(obj, Keyframes):
        from ..animate import animate

        obj = animate(obj)
    if not isinstance(obj, Animation):
        raise FormatError(f"expected an Animation or Keyframes, got {type(obj).__name__}")
    size = check_size(size)
    if ext == ".mp4":
        size += size % 2
    rate = float(fps) if fps is not None else (GIF_FPS if ext == ".gif" else min(obj.fps, 60.0))
    # GIF stores each frame's duration as a 16-bit count of centiseconds (GIF89a spec), so at most 655.35 s a frame
    if ext == ".gif" and isinstance(rate, float) and 0 < rate < _GIF_MIN_FPS:
        raise FormatError(f"a GIF frame lasts at most 655.35 s, so fps must be at least {_GIF_MIN_FPS:.5f}; "
                          f"got {rate:g}: raise --fps or write an .mp4")
    _, values = resample(obj, fps=rate)
    frames = render_frames(values, renderer=renderer, size=size, progress=progress)
    with _temporary_beside(target) as tmp:
        if ext == ".gif":
            _write_gif(frames, int(values.shape[0]), tmp, rate)
        else:
            _write_mp4(frames, size, tmp, rate)
    return target
