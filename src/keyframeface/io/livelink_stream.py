"""Convert a big Live Link Face CSV with memory bounded by a block of frames, not by the take.

:func:`~keyframeface.io.livelink_csv.read_livelink_csv` must see every timecode before it can place a frame (the
frame field's rate and the capture rate are inferred from all of them), so reading a take whole costs about 2.5x
the CSV. Here the same row pass (:func:`~keyframeface.io.livelink_csv._read_rows`, its checks, repairs and line
numbers) keeps only the timecodes, line numbers and validity in memory and spills the repaired values of full
rows, float32, to an anonymous temporary file (about 0.3x the CSV on disk, removed by the system even when the
process is killed). The same summary step then checks, warns and infers times and rates; the frames are read back
:data:`BLOCK_ROWS` at a time, placed in ``rig.CHANNELS`` order with tracking loss held across block edges, and
handed to a block writer. Output bytes, warnings and errors are those of reading the take whole and exporting it.

Which formats stream (:data:`STREAM_FORMATS`): ``csv`` (rows) and ``json`` (the frames array in chunks). ``npz``,
``gltf``/``glb`` and USD hold the take as one array or buffer and take the whole-take path; so does output to
standard output (``-o -``), whose bytes are gathered before writing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import numpy as np

from .. import rig
from ..errors import FormatError
from ..script import Animation
from .atomic import atomic_open
from .json_file import write_json_blocks
from .livelink_csv import (
    MAX_CSV_BYTES,
    Source,
    _check_read_options,
    _Header,
    _open_lines,
    _place,
    _read_rows,
    _summarise,
    write_livelink_csv_blocks,
)
from .registry import READERS, Writer, _check_options, find_reader, find_writer

__all__ = ["BLOCK_ROWS", "STREAM_FORMATS", "StreamedTake", "can_stream", "convert_streaming", "open_livelink_take"]

#: Frames read back, placed and written at once: 1024 x 61 float32 = 250 KB; writing one block as JSON makes
#: ~5 MB of Python floats and strings for a moment (measured with tracemalloc), the largest cost of a block.
BLOCK_ROWS: Final[int] = 1024
#: Output formats written a block at a time, and the built-in writer each stands for (a writer registered in its
#: place takes the whole-take path).
STREAM_FORMATS: Final[Mapping[str, str]] = {
    "csv": "keyframeface.io.livelink_csv:write_livelink_csv",
    "json": "keyframeface.io.json_file:write_json",
}
_CSV_READER: Final[str] = "keyframeface.io.livelink_csv:read_livelink_csv"
_VALUE_BYTES: Final[int] = np.dtype(np.float32).itemsize


@dataclass
class StreamedTake:
    """A Live Link Face take read once, its frames on disk until asked for.

    ``head``: an :class:`Animation` without frames holding the take's ``fps`` and ``meta`` (what
    :func:`~keyframeface.io.livelink_csv.read_livelink_csv` would give); ``times_s`` (T,) float64 or ``None``;
    ``valid`` (T,) bool or ``None`` (all valid); ``num_frames`` T. :meth:`blocks` gives the frames.
    """

    head: Animation
    times_s: np.ndarray | None
    valid: np.ndarray | None
    num_frames: int
    _spill: IO[bytes]
    _header: _Header

    def frame_times(self) -> np.ndarray:
        """(T,) float64 seconds of every frame (as :meth:`Animation.frame_times`)."""
        if self.times_s is not None:
            return self.times_s
        return np.arange(self.num_frames, dtype=np.float64) / self.head.fps

    def blocks(self, rows: int | None = None) -> Iterator[np.ndarray]:
        """The frames, (B, 61) float32 blocks of ``rows`` (default :data:`BLOCK_ROWS`; the last one shorter), in
        order: the rows of the Animation :func:`~keyframeface.io.livelink_csv.read_livelink_csv` returns. May be
        iterated again, one iteration at a time."""
        rows = BLOCK_ROWS if rows is None else rows
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise FormatError(f"rows must be a positive integer, got {rows!r}")
        valid = self.valid if self.valid is not None else np.ones(self.num_frames, dtype=bool)
        width = len(self._header.channels)
        self._spill.seek(0)
        previous: np.ndarray | None = None
        for start in range(0, self.num_frames, rows):
            ok = valid[start:start + rows]
            count = int(ok.sum())
            data = self._spill.read(count * width * _VALUE_BYTES)
            if len(data) != count * width * _VALUE_BYTES:
                raise FormatError("the temporary file of the take's values was cut short; convert again")
            values = np.frombuffer(data, dtype=np.float32).reshape(count, width)
            frames = _place(values, ok, self._header, previous)
            previous = frames[-1]
            yield frames


@contextlib.contextmanager
def open_livelink_take(
    source: Source,
    *,
    fps: float | None = None,
    timecode_fps: float | None = None,
    policy: str = "repair",
    max_bytes: int = MAX_CSV_BYTES,
) -> Iterator[StreamedTake]:
    """Read a Live Link Face CSV like :func:`~keyframeface.io.livelink_csv.read_livelink_csv` (same options, checks,
    warnings and errors, in the same order), keeping its values in a temporary file while the context is open.

    Memory: the timecodes, line numbers and validity of every row (about 0.1x the CSV) and one block. Disk: the
    values of full rows as float32 in the system's temporary folder (``TMPDIR``), about 0.3x the CSV.
    """
    fps, timecode_fps = _check_read_options(fps, timecode_fps, policy)
    with tempfile.TemporaryFile(prefix="keyframeface-take-") as spill:
        with _open_lines(source, max_bytes) as (lines, label):

            def store(values: np.ndarray) -> None:
                try:
                    spill.write(np.ascontiguousarray(values, dtype=np.float32).tobytes())
                except OSError as exc:
                    raise FormatError(
                        f"cannot keep the values of {label} in the temporary folder {tempfile.gettempdir()} "
                        f"while converting it: {exc.strerror or exc}; free space there or set TMPDIR"
                    ) from None

            header, rows, fix = _read_rows(lines, label, policy, store)
        summary = _summarise(rows, header, fix, label, fps=fps, timecode_fps=timecode_fps, policy=policy)
        del rows  # the timecode strings and line numbers are done with
        valid = None if summary.valid.all() else summary.valid
        head = Animation(frames=np.zeros((0, rig.NUM_CHANNELS), np.float32), fps=summary.fps, meta=summary.meta)
        _check_times(summary.times, summary.fps, len(summary.valid))
        yield StreamedTake(head=head, times_s=summary.times, valid=valid, num_frames=len(summary.valid),
                           _spill=spill, _header=header)


def _check_times(times: np.ndarray | None, fps: float, count: int) -> None:
    """Refuse times an :class:`Animation` would refuse, with its error, a block at a time (the reader's times
    never go back across blocks: :func:`~keyframeface.io.livelink_csv._times` holds them)."""
    if times is None:
        return
    for start in range(0, count, BLOCK_ROWS):
        part = times[start:start + BLOCK_ROWS]
        Animation(frames=np.zeros((len(part), rig.NUM_CHANNELS), np.float32), fps=fps, times_s=part)


def can_stream(src: str | os.PathLike[str], writer: Writer) -> bool:
    """Whether converting ``src`` with ``writer`` takes the streaming path: a Live Link Face CSV read by the
    built-in reader, written by a built-in writer of :data:`STREAM_FORMATS`."""
    if STREAM_FORMATS.get(writer.name) != writer.target:
        return False
    reader = find_reader(src)
    return reader.name == "csv" and reader.target == _CSV_READER


def convert_streaming(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    format: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> Path:
    """Convert the Live Link Face CSV ``src`` to ``dst`` (``csv`` or ``json``, by ``format`` or extension) a block
    at a time; returns the path written (atomically). The bytes, warnings and errors of
    ``export(read_any(src, **read_options), dst, format=format, **options)``; see :func:`can_stream`."""
    writer = find_writer(dst, format=format)
    if writer.name not in STREAM_FORMATS:
        raise FormatError(f"{writer.name} output is not written a block at a time; "
                          f"stream only to {', '.join(STREAM_FORMATS)}")
    read = dict(read_options or {})
    if read:
        _check_options(READERS["csv"].load(), read, READERS["csv"].label, positional=1)
    merged = {**writer.defaults, **options}
    _check_options(writer.load(), merged, f"{writer.name} writer")
    target = Path(dst)
    with open_livelink_take(Path(src), **read) as take, atomic_open(target, "wb") as handle:
        if writer.name == "json":
            write_json_blocks(take.head, take.blocks(), handle, times_s=take.times_s, valid=take.valid)
        else:
            write_livelink_csv_blocks(take.blocks(), take.frame_times(), take.valid, handle, **merged)
    return target
