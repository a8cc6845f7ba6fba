"""Live Link Face CSV: read real captures robustly, write files MetaHuman / Unreal and the app itself read.

File layout (Epic's Live Link Face app; see ``shared/realdata/README.md``)::

    Timecode,BlendShapeCount,EyeBlinkLeft,...,TongueOut,HeadYaw,...,RightEyeRoll
    16:55:51:38.453,61,0.1824302822,...
    12:22:06:30.534,0                      <- tracking lost for this frame

The timecode is ``HH:MM:SS:FF.fff`` (frame field at the timecode rate, ``.fff`` a fraction of a frame: see
:mod:`keyframeface.io.timecode`). Older app versions spell the count column ``BlendshapeCount``.

Reading (:func:`read_livelink_csv`) keys every column by name (any order, every spelling
:func:`keyframeface.rig.try_canonical_name` accepts), so the Live Link order quirks (``JawRight`` before
``JawLeft``) never matter. What it does with imperfect files depends on ``policy``:

=====================  ==============================================  =========================================
case                   ``"repair"`` (default) / ``"keep"``             ``"strict"``
=====================  ==============================================  =========================================
tracking-loss rows     frame kept with ``valid=False``; values held    same
                       from the previous valid frame (zeros before
                       the first one) so curves do not snap to neutral
values out of range    repair: clamped, one summarised warning;        :class:`FormatError`
(captures reach 1.08)  keep: kept as read
NaN / inf cells        set to 0 (repair/keep), one warning             :class:`FormatError`
missing channels       zeros, one warning naming them                  :class:`FormatError`
unknown columns        ignored, one warning naming them                same (warning)
ragged rows            frame kept with ``valid=False``, one warning    :class:`FormatError`
timecodes going back   kept in file order, one warning                 :class:`FormatError`
no Timecode column     times ``arange(T) / fps``, one warning          :class:`FormatError`
non-numeric cells      :class:`FormatError` naming line and column     same
=====================  ==============================================  =========================================

Times: ``Animation.times_s`` keeps the real timecodes as seconds since midnight (a take that passes midnight keeps
counting past 86,400), so gaps from dropped frames survive and writing the animation back reproduces the
timecodes. ``Animation.fps`` is the *capture* rate and ``meta["timecode_fps"]`` the rate of the frame field; they
differ for 30 fps takes, whose frame field counts at 60. Both are inferred unless given (see
:func:`read_livelink_csv`).

Writing (:func:`write_livelink_csv`, :func:`write_keyframes_csv`) uses ``BlendShapeCount``, the 61 names in
``rig.CHANNELS`` order, ``\\n`` line ends, deterministic number formatting, and is atomic for paths.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Final, Literal, Union, cast

import numpy as np

from .. import rig
from ..errors import FormatError
from ..script import Animation, Keyframes
from .atomic import atomic_open
from .files import checked_size
from .timecode import format_timecodes, snap_rate, split_timecodes

__all__ = [
    "COUNT_COLUMNS",
    "DEFAULT_TIMECODE_FPS",
    "MAX_CSV_BYTES",
    "POLICIES",
    "read_livelink_csv",
    "write_keyframes_csv",
    "write_livelink_csv",
]

#: Largest CSV the reader accepts (a 512 MB take is about 12 hours at 60 fps).
MAX_CSV_BYTES: Final[int] = 512 * 1024 * 1024
#: Accepted values of ``policy``.
POLICIES: Final[tuple[str, ...]] = ("repair", "strict", "keep")
#: The count column's two spellings: the app writes ``BlendShapeCount``, older takes and the KeyframeFace release
#: converter ``BlendshapeCount``.
COUNT_COLUMNS: Final[tuple[str, ...]] = ("BlendShapeCount", "BlendshapeCount")
#: Live Link Face's timecode rate, assumed when a take is too short to show its frame field's range.
DEFAULT_TIMECODE_FPS: Final[float] = 60.0

Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]
Destination = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]

_CHUNK_ROWS: Final[int] = 8192  # rows converted to numbers at once: bounded memory for huge takes
_MAX_NAMES_SHOWN: Final[int] = 8


# ------------------------------------------------------------------------------------------------- reading
def _shown(names: Sequence[str]) -> str:
    head = ", ".join(str(n)[:40] for n in names[:_MAX_NAMES_SHOWN])
    return head + (f" and {len(names) - _MAX_NAMES_SHOWN} more" if len(names) > _MAX_NAMES_SHOWN else "")


def _capped(lines: Iterable[str], max_bytes: int, label: str) -> Iterator[str]:
    """Yield lines from a stream, failing once more than ``max_bytes`` characters have come."""
    total = 0
    for line in lines:
        total += len(line)
        if total > max_bytes:
            raise FormatError(f"{label} is larger than the limit of {max_bytes} bytes; split the take or raise max_bytes")
        yield line


@contextlib.contextmanager
def _open_lines(source: Source, max_bytes: int) -> Iterator[tuple[Iterator[str], str]]:
    """Yield (text lines, label) for a path or an open text/binary stream; paths are size-checked first."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        checked_size(path, max_bytes, hint="split the take or raise max_bytes")
        try:
            handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from None
        with handle:
            yield iter(handle), str(path)
        return
    if not hasattr(source, "read"):
        raise FormatError(f"expected a file path or an open file, got {type(source).__name__}")
    label = str(getattr(source, "name", "<stream>"))
    if isinstance(source.read(0), bytes):
        wrapper = io.TextIOWrapper(cast("IO[bytes]", source), encoding="utf-8-sig", newline="")
        try:
            yield _capped(wrapper, max_bytes, label), label
        finally:
            wrapper.detach()  # leave the caller's stream open
        return
    yield _capped(source, max_bytes, label), label  # type: ignore[arg-type]


@dataclass
class _Header:
    timecode: int | None
    count: int | None
    count_name: str | None
    columns: list[int]  # cell positions of channel columns
    channels: list[int]  # their rig.CHANNELS indices
    unknown: list[str]
    width: int


def _parse_header(cells: list[str], label: str, policy: str) -> _Header:
    cells = [c.strip().lstrip("\ufeff").strip() for c in cells]
    timecode = count = None
    count_name = None
    columns: list[int] = []
    channels: list[int] = []
    unknown: list[str] = []
    seen: dict[int, str] = {}
    for pos, name in enumerate(cells):
        low = name.lower()
        if not name:
            continue
        if low == "timecode" and timecode is None:
            timecode = pos
        elif low == "blendshapecount" and count is None:
            count, count_name = pos, name
        elif rig.is_ignored_name(name):
            continue
        else:
            canon = rig.try_canonical_name(name)
            if canon is None:
                unknown.append(name)
                continue
            ch = rig.CHANNEL_INDEX[canon]
            if ch in seen:
                raise FormatError(
                    f"{label}: columns {seen[ch]!r} and {name!r} both mean {canon}; keep one of them"
                )
            seen[ch] = name
            columns.append(pos)
            channels.append(ch)
    if not columns:
        raise FormatError(
            f"{label} is not a Live Link Face CSV: expected a header like Timecode,BlendShapeCount,EyeBlinkLeft,... "
            f"with channel names, got {_shown(cells) or 'an empty header'}"
        )
    if timecode is None and policy == "strict":
        raise FormatError(f"{label} has no Timecode column; expected the header to start with Timecode")
    return _Header(timecode, count, count_name, columns, channels, unknown, len(cells))


def _bad_cell(rows: list[list[str]], lines: list[int], header: _Header, label: str) -> FormatError:
    """Find the first cell in ``rows`` that float() refuses (or that holds "_") and describe it."""
    names = {pos: n for pos, n in zip(header.columns, (rig.CHANNELS[c] for c in header.channels), strict=True)}
    for row, line in zip(rows, lines, strict=True):
        for pos in header.columns:
            try:
                if "_" in row[pos]:
                    raise ValueError(row[pos])
                float(row[pos])
            except ValueError:
                return FormatError(
                    f"{label}: line {line}, column {pos + 1} ({names[pos]}): expected a number, got "
                    f"{row[pos].strip()[:40]!r}; fix or remove that row"
                )
    return FormatError(f"{label}: a value cell is not a number")


@dataclass
class _Rows:
    """What the row loop collected; value chunks hold only full rows, in file order."""

    timecodes: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    valid: list[bool] = field(default_factory=list)
    chunks: list[np.ndarray] = field(default_factory=list)
    ragged: list[int] = field(default_factory=list)  # lines of short rows that are not tracking loss
    extra: list[int] = field(default_factory=list)  # lines with non-empty cells past the header


def _collect(reader: Iterator[list[str]], header: _Header, label: str, policy: str) -> _Rows:
    out = _Rows()
    pick = itemgetter(*header.columns)
    width = header.width
    # A tracking-loss row holds just the timecode and the count ("0"); nothing past these cells.
    lost_width = max(p for p in (header.timecode, header.count, 0) if p is not None) + 1
    first = header.columns[0]
    pending: list[list[str]] = []
    pending_lines: list[int] = []

    def flush() -> None:
        if not pending:
            return
        # float() accepts Python's digit separators ("1_0" is 10.0); a CSV cell with "_" is not a number. One
        # C-level join per row keeps the common case fast; only a hit looks at the value cells themselves.
        if any("_" in ",".join(r) for r in pending) and any(
                "_" in r[pos] for r in pending for pos in header.columns):
            raise _bad_cell(pending, pending_lines, header, label)
        try:
            if len(header.columns) == 1:
                block = np.array([[float(pick(r))] for r in pending], dtype=np.float32)
            else:
                block = np.array([list(map(float, pick(r))) for r in pending], dtype=np.float32)
        except ValueError:
            raise _bad_cell(pending, pending_lines, header, label) from None
        out.chunks.append(block)
        pending.clear()
        pending_lines.clear()

    line = 1
    for row in reader:
        line = reader.line_num  # type: ignore[attr-defined]
        if not row or not any(c.strip() for c in row):
            continue  # blank line
        if len(row) > width:
            if any(c.strip() for c in row[width:]):
                if policy == "strict":
                    raise FormatError(f"{label}: line {line} has {len(row)} cells; the header has {width}")
                out.extra.append(line)
            row = row[:width]
        tc = row[header.timecode].strip() if header.timecode is not None and header.timecode < len(row) else ""
        short = len(row) < width
        if not short and not row[first].strip() and not any(row[p].strip() for p in header.columns):
            short = True  # a full-width row with every channel cell empty: tracking loss written by another tool
        elif short and len(row) > lost_width:
            if policy == "strict":
                raise FormatError(f"{label}: line {line} has {len(row)} cells; the header has {width} (a truncated row?)")
            out.ragged.append(line)
        if short:
            out.timecodes.append(tc)
            out.lines.append(line)
            out.valid.append(False)
            continue
        out.timecodes.append(tc)
        out.lines.append(line)
        out.valid.append(True)
        pending.append(row)
        pending_lines.append(line)
        if len(pending) >= _CHUNK_ROWS:
            flush()
    flush()
    return out


def _timecode_rate(whole: np.ndarray, frame: np.ndarray, *, fps: float | None, label: str) -> float:
    """The frame field's rate: snapped from the highest frame number seen in a completed, densely filled second.

    A take's last second may be cut short and sparse rows (keyframes, one a second) never reach the top of the
    field, so only a second that ends inside the take and holds at least a quarter of its frames (and two at
    least) counts. Without one the rate is ``fps`` when given, else Live Link Face's 60 (raised to a standard rate
    if frame numbers exceed it).
    """
    top = float(np.floor(frame.max())) + 1.0 if frame.size else 1.0
    done = whole != whole[-1]
    if done.any():
        lowest = float(np.floor(frame[done].max())) + 1.0
        _, per_second = np.unique(whole[done], return_counts=True)
        if per_second.max() >= max(2.0, lowest / 4):
            return snap_rate(lowest)
    fallback = float(fps) if fps is not None else DEFAULT_TIMECODE_FPS
    if top > fallback:
        return snap_rate(top)
    if fps is None and (frame > 0).any() and not done.any():
        warnings.warn(
            f"{label}: the take is shorter than one second, so its timecode rate cannot be told from the frame "
            f"numbers; assuming {fallback:g} (Live Link Face's); pass timecode_fps= if it was written at another rate",
            stacklevel=5,
        )
    return fallback


def _capture_fps(times: np.ndarray, rate: float) -> float:
    """Nominal capture rate: the timecode rate over the typical frame step (2 for 30 fps takes at a 60 field).

    Real takes run slightly slow (59.88 fps against a 60 field); the nominal rate is returned and ``times_s``
    keeps the exact times.
    """
    steps = np.diff(times)
    steps = steps[steps > 0]
    if steps.size == 0:
        return rate
    step = float(np.median(steps)) * rate
    k = round(step)
    if k >= 1 and abs(step - k) <= 0.1 * k:
        return rate / k
    return round(1.0 / float(np.median(steps)), 3)


def _check_fps(value: float | None, name: str) -> float | None:
    return None if value is None else _require_fps(value, name)


def _require_fps(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FormatError(f"{name} must be a number of frames per second, got {value!r}")
    if not 0 < value <= 1000:
        raise FormatError(f"{name} must be in (0, 1000] frames per second, got {value!r}")
    return float(value)


def read_livelink_csv(
    source: Source,
    *,
    fps: float | None = None,
    timecode_fps: float | None = None,
    policy: str = "repair",
    max_bytes: int = MAX_CSV_BYTES,
) -> Animation:
    """Read a Live Link Face CSV (a path, or an open text or binary stream) into an :class:`Animation`.

    Returns ``frames``: (T, 61) float32 in ``rig.CHANNELS`` order; ``times_s``: (T,) float64 seconds since midnight
    from the timecodes (``None`` if the file has no Timecode column); ``valid``: (T,) bool, False on tracking-loss
    and ragged rows; ``fps``: the capture rate; ``meta``: ``source``, ``timecode_fps``, ``header_count`` (the count
    column's spelling or ``None``), ``tracking_lost`` (frames), ``clamped`` (values), ``missing_channels``,
    ``ignored_columns``.

    ``fps``: the capture rate, else inferred as the timecode rate over the median frame step (30 for the 30 fps
    takes, 60 for takes at 59.88). ``timecode_fps``: the frame field's rate, else the highest frame number + 1 in a
    completed second, snapped up to 24/25/30/48/50/60/...; give it for non-integer rates (29.97) and for takes
    shorter than a second. ``policy``: ``"repair"``, ``"strict"`` or ``"keep"`` (repair, but out-of-range values are
    kept as captured, for lossless conversion); see the module docstring for what each does. Blank lines, a UTF-8
    BOM and CRLF line ends are accepted. Files over ``max_bytes`` are refused before parsing; parsing streams in
    chunks. Problems raise :class:`FormatError` with the line and column; repairs are reported with
    :func:`warnings.warn`, one warning per kind.
    """
    if policy not in POLICIES:
        raise FormatError(f"policy must be one of {', '.join(POLICIES)}; got {str(policy)[:40]!r}")
    fps = _check_fps(fps, "fps")
    timecode_fps = _check_fps(timecode_fps, "timecode_fps")
    with _open_lines(source, max_bytes) as (lines, label):
        try:
            reader = csv.reader(lines)
            header_cells: list[str] | None = None
            for row in reader:
                if any(c.strip().strip("\ufeff") for c in row):  # a BOM alone is a blank line too
                    header_cells = row
                    break
            if header_cells is None:
                raise FormatError(f"{label} is empty; expected a Live Link Face CSV starting with Timecode,BlendShapeCount,...")
            header = _parse_header(header_cells, label, policy)
            rows = _collect(reader, header, label, policy)
        except csv.Error as exc:
            raise FormatError(f"{label} is not readable CSV: {exc}") from None
        except UnicodeDecodeError:
            raise FormatError(f"{label} is not UTF-8 text; a Live Link Face CSV is plain ASCII") from None
    return _assemble(rows, header, label, fps=fps, timecode_fps=timecode_fps, policy=policy)


def _assemble(
    rows: _Rows, header: _Header, label: str, *, fps: float | None, timecode_fps: float | None, policy: str
) -> Animation:
    n = len(rows.valid)
    if n == 0:
        raise FormatError(f"{label} has a header but no data rows; nothing to read")
    if header.unknown:
        warnings.warn(f"{label}: ignored columns that are not channels: {_shown(header.unknown)}", stacklevel=3)
    present = set(header.channels)
    missing = [name for i, name in enumerate(rig.CHANNELS) if i not in present]
    if missing:
        if policy == "strict":
            raise FormatError(f"{label} lacks channel columns {_shown(missing)}; expected all 61 Live Link Face channels")
        warnings.warn(f"{label}: no column for {_shown(missing)}; those channels are set to 0", stacklevel=3)
    if rows.ragged:
        warnings.warn(
            f"{label}: {len(rows.ragged)} rows have fewer cells than the header (first at line {rows.ragged[0]}); "
            "they are kept as tracking-loss frames (valid=False)",
            stacklevel=3,
        )
    if rows.extra:
        warnings.warn(
            f"{label}: {len(rows.extra)} rows have cells past the header (first at line {rows.extra[0]}); "
            "the extra cells are ignored",
            stacklevel=3,
        )
    valid = np.asarray(rows.valid, dtype=bool)
    read = np.concatenate(rows.chunks) if rows.chunks else np.zeros((0, len(header.channels)), np.float32)
    values, clamped = _fix_values(read, header, label, policy, np.asarray(rows.lines)[valid])

    frames = np.zeros((n, rig.NUM_CHANNELS), dtype=np.float32)
    frames[np.ix_(np.flatnonzero(valid), np.asarray(header.channels))] = values
    if not valid.all():
        # Hold the previous valid frame through tracking loss (zeros before the first one), so a preview or an
        # interpolation does not snap to the neutral face for a few frames.
        last = np.where(valid, np.arange(n), -1)
        np.maximum.accumulate(last, out=last)
        frames = np.where((last >= 0)[:, None], frames[np.maximum(last, 0)], 0.0).astype(np.float32)

    times, rate = _times(rows, header, label, fps=fps, timecode_fps=timecode_fps, policy=policy)
    if fps is None:
        fps = _capture_fps(times, rate) if times is not None else DEFAULT_TIMECODE_FPS
    meta: dict[str, Any] = {
        "source": "livelink_csv",
        "timecode_fps": rate,
        "header_count": header.count_name,
        "tracking_lost": int(n - valid.sum()),
        "clamped": clamped,
        "missing_channels": missing,
        "ignored_columns": list(header.unknown),
    }
    return Animation(frames=frames, fps=fps, times_s=times, valid=None if valid.all() else valid, meta=meta)


def _fix_values(
    values: np.ndarray, header: _Header, label: str, policy: str, lines: np.ndarray
) -> tuple[np.ndarray, int]:
    """Apply the policy to non-finite and out-of-range values; returns (values, number clamped)."""
    names = [rig.CHANNELS[c] for c in header.channels]
    low = rig.LOW[header.channels]
    high = rig.HIGH[header.channels]

    def where(mask: np.ndarray) -> tuple[str, int, float]:
        r, c = (int(x[0]) for x in np.nonzero(mask))
        return names[c], int(lines[r]), float(values[r, c])

    bad = ~np.isfinite(values)
    if bad.any():
        name, line, value = where(bad)
        if policy == "strict":
            raise FormatError(f"{label}: line {line}, column {name}: {value!r} is not a finite number")
        warnings.warn(
            f"{label}: {int(bad.sum())} NaN/inf values set to 0 (first at line {line}, {name})", stacklevel=4
        )
        values = np.where(bad, np.float32(0.0), values)
    out = (values < low) | (values > high)
    if not out.any() or policy == "keep":
        return values, 0
    name, line, value = where(out)
    count = int(out.sum())
    if policy == "strict":
        raise FormatError(
            f"{label}: line {line}, column {name}: {value:g} is outside [{low[names.index(name)]:g}, "
            f"{high[names.index(name)]:g}] ({count} values out of range); read with policy='repair' to clamp them"
        )
    worst = int(np.argmax(np.max(np.maximum(values - high, low - values), axis=0)))
    warnings.warn(
        f"{label}: clamped {count} values outside their channel's range in "
        f"{int(out.any(axis=0).sum())} channels (worst in {names[worst]}; first at line {line}, {name}={value:g})",
        stacklevel=4,
    )
    return np.clip(values, low, high).astype(np.float32), count


def _times(
    rows: _Rows, header: _Header, label: str, *, fps: float | None, timecode_fps: float | None, policy: str
) -> tuple[np.ndarray | None, float]:
    if header.timecode is None:
        rate = fps if fps is not None else DEFAULT_TIMECODE_FPS
        warnings.warn(f"{label}: no Timecode column; frames are placed every 1/{rate:g} s", stacklevel=4)
        return None, timecode_fps or rate
    try:
        whole, frame = split_timecodes(rows.timecodes)
    except FormatError as exc:
        # split_timecodes numbers rows from 1; name the file's line instead.
        msg = str(exc)
        if msg.startswith("row "):
            idx, _, rest = msg[4:].partition(": ")
            if idx.isdigit():
                msg = f"line {rows.lines[int(idx) - 1]}, Timecode: {rest}"
        raise FormatError(f"{label}: {msg}") from None
    rate = timecode_fps if timecode_fps is not None else _timecode_rate(whole, frame, fps=fps, label=label)
    too_big = frame >= rate
    if too_big.any():
        i = int(np.argmax(too_big))
        raise FormatError(
            f"{label}: line {rows.lines[i]}: frame {int(frame[i])} of timecode {rows.timecodes[i]!r} does not exist "
            f"at {rate:g} frames per second; pass the rate the file was written at as timecode_fps="
        )
    times = whole.astype(np.float64) + frame / rate
    if times.size > 1:
        step = np.diff(times)
        # A take that passes midnight restarts at 00:00:00; keep counting instead (a jump back of over 12 h).
        wraps = step < -12 * 3600
        if wraps.any():
            times = times + 86400.0 * np.concatenate([[0], np.cumsum(wraps)])
            step = np.diff(times)
        back = step <= 0
        if back.any():
            i = int(np.argmax(back)) + 1
            msg = (
                f"{label}: timecodes do not increase at line {rows.lines[i]} ({rows.timecodes[i - 1]} then "
                f"{rows.timecodes[i]}; {int(back.sum())} such places)"
            )
            if policy == "strict":
                raise FormatError(msg + "; fix the file or read it with policy='repair'")
            warnings.warn(msg + "; frames are kept in file order, each one that goes back at the time of the frame "
                          "before it", stacklevel=4)
            # An Animation's times may repeat but never go back, so hold the latest time over the backward steps.
            times = np.maximum.accumulate(times)
    return times, rate


# ------------------------------------------------------------------------------------------------- writing
def _format_rows(values: np.ndarray, *, digits: int, number_format: str) -> list[str]:
    """(T, C) finite values -> one comma-joined string per row, deterministic.

    ``fixed``: ``%.{digits}f`` like the app (``0.182430``); ``short``: the shortest text that reads back as the
    value rounded to ``digits`` (``0.2``, ``-0.1``, ``0.0``), like the KeyframeFace release converter.
    """
    if number_format == "fixed":
        # Rounding first and adding 0.0 turns tiny negatives into 0.0, so "-0.000000" is never written.
        rounded = np.round(values.astype(np.float64), digits) + 0.0
        fmt = ",".join([f"%.{digits}f"] * values.shape[1])
        return [fmt % tuple(row) for row in rounded.tolist()]
    # Python's round() is correctly rounded (np.round may be off by one ulp, which repr would show).
    return [",".join(repr(round(v, digits) + 0.0) for v in row) for row in values.astype(np.float64).tolist()]


def _check_write_options(digits: int, header_count: str | None, number_format: str) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 10:
        raise FormatError(f"digits must be an integer in [1, 10], got {digits!r}")
    if header_count is not None and header_count not in COUNT_COLUMNS:
        raise FormatError(f"header_count must be one of {', '.join(COUNT_COLUMNS)} or None, got {str(header_count)[:40]!r}")
    if number_format not in ("fixed", "short"):
        raise FormatError(f"number_format must be 'fixed' or 'short', got {str(number_format)[:40]!r}")


def _write_text(destination: Destination, lines: Iterable[str]) -> None:
    if isinstance(destination, (str, os.PathLike)):
        with atomic_open(destination, "w", newline="") as handle:
            for line in lines:
                handle.write(line)
        return
    if isinstance(destination, (io.RawIOBase, io.BufferedIOBase)):
        # A binary stream (the registry's export): the same UTF-8 bytes as the path form, no newline translation.
        text = io.TextIOWrapper(cast(IO[bytes], destination), encoding="utf-8", newline="")
        try:
            for line in lines:
                text.write(line)
            text.flush()
        finally:
            text.detach()
        return
    if not hasattr(destination, "write"):
        raise FormatError(f"expected a file path or an open text file, got {type(destination).__name__}")
    for line in lines:
        cast(IO[str], destination).write(line)


def write_livelink_csv(
    anim: Animation,
    destination: Destination,
    *,
    digits: int = 6,
    header_count: str | None = "BlendShapeCount",
    timecode_fps: float | None = None,
    number_format: Literal["fixed", "short"] = "fixed",
) -> None:
    """Write ``anim`` as a Live Link Face CSV to a path (atomically), an open text stream or a binary stream (UTF-8).

    Header ``Timecode,<header_count>,<61 names in rig.CHANNELS order>`` (``header_count=None`` leaves the count
    column out). One row per frame: its timecode from ``anim.frame_times()`` at ``timecode_fps`` (default:
    ``anim.meta["timecode_fps"]`` when the animation was read from a CSV, so its timecodes come back unchanged, else
    ``anim.fps``), then ``61`` and the values with ``digits`` decimals (``number_format="fixed"``, like the app) or
    in shortest form (``"short"``). Frames with ``anim.valid`` False are written as ``timecode,0`` like the app
    writes lost tracking. Values are written as they are (not clamped); NaN/inf raise :class:`FormatError`.
    """
    _check_write_options(digits, header_count, number_format)
    if not isinstance(anim, Animation):
        raise FormatError(f"expected an Animation, got {type(anim).__name__}")
    if timecode_fps is None:
        stored = anim.meta.get("timecode_fps")
        ok = isinstance(stored, (int, float)) and not isinstance(stored, bool) and math.isfinite(stored) and 0 < stored <= 1000
        timecode_fps = float(stored) if ok else anim.fps  # type: ignore[arg-type]
    rate = _require_fps(timecode_fps, "timecode_fps")
    frames = anim.frames
    if not np.isfinite(frames).all():
        raise FormatError("the animation has NaN or inf values; a Live Link Face CSV needs finite numbers")
    times = anim.frame_times()
    if not (np.isfinite(times).all() and (times >= 0).all()):
        raise FormatError("the animation's times must be finite and >= 0 to be written as timecodes")
    valid = anim.valid if anim.valid is not None else np.ones(anim.num_frames, dtype=bool)
    count = f",{rig.NUM_CHANNELS}" if header_count else ""
    lost = ",0" if header_count else ""

    def lines() -> Iterator[str]:
        yield ",".join(["Timecode", *([header_count] if header_count else []), *rig.CHANNELS]) + "\n"
        # Formatted a chunk at a time so that writing a long take needs little memory beyond its frames.
        for start in range(0, anim.num_frames, _CHUNK_ROWS):
            stop = start + _CHUNK_ROWS
            stamps = format_timecodes(times[start:stop], rate=rate)
            cells = _format_rows(frames[start:stop], digits=digits, number_format=number_format)
            for stamp, ok, row in zip(stamps, valid[start:stop].tolist(), cells, strict=True):
                yield f"{stamp}{count},{row}\n" if ok else f"{stamp}{lost}\n"

    _write_text(destination, lines())


def write_keyframes_csv(
    keyframes: Keyframes,
    destination: Destination,
    *,
    digits: int = 6,
    header_count: str | None = "BlendShapeCount",
    timecode_fps: float = DEFAULT_TIMECODE_FPS,
    number_format: Literal["fixed", "short"] = "short",
) -> None:
    """Write keyframes as a Live Link Face CSV with one row per keyframe, like the KeyframeFace release converter.

    Keyframe ``k`` is written at its ``time_s``, or at ``k`` seconds (``00:00:0k:00.000``, the release's
    convention) when keyframes lack times (see :meth:`keyframeface.script.Animation.from_keyframes`). Values are in
    shortest form rounded to ``digits`` (``0.2``, ``-0.1``), so the release answers give the release's CSV values
    exactly. A keyframe without values (its generation failed) is written as ``timecode,0``.
    """
    if not isinstance(keyframes, Keyframes):
        raise FormatError(f"expected Keyframes, got {type(keyframes).__name__}")
    anim = Animation.from_keyframes(keyframes, fps=timecode_fps)
    write_livelink_csv(
        anim, destination, digits=digits, header_count=header_count, timecode_fps=timecode_fps,
        number_format=number_format,
    )

