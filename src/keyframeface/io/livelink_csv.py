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
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Final, Literal, Union, cast

import numpy as np

from .. import rig
from ..errors import FormatError
from ..registry import did_you_mean
from ..script import Animation, Keyframes
from .atomic import atomic_open
from .files import checked_size
from .timecode import format_timecodes, snap_rate, split_timecodes

__all__ = [
    "COUNT_COLUMNS",
    "DEFAULT_DIGITS",
    "DEFAULT_TIMECODE_FPS",
    "MAX_CSV_BYTES",
    "MAX_TAKE_FRAMES",
    "POLICIES",
    "TRACKING_LOSS",
    "UNREAL_TIMECODE_FPS",
    "read_livelink_csv",
    "write_keyframes_csv",
    "write_livelink_csv",
]

#: Largest CSV the reader accepts (a 512 MB take is about 12 hours at 60 fps).
MAX_CSV_BYTES: Final[int] = 512 * 1024 * 1024
#: Most rows one take may hold, checked before parsing: 2 hours at 60 fps. Reading and extracting cost grows with
#: the row count (a 500 MB take took 148 s and 1.9 GB before its keyframes were refused).
MAX_TAKE_FRAMES: Final[int] = 2 * 3600 * 60
#: Accepted values of ``policy``.
POLICIES: Final[tuple[str, ...]] = ("repair", "strict", "keep")
#: The count column's two spellings: the app writes ``BlendShapeCount``, older takes and the KeyframeFace release
#: converter ``BlendshapeCount``.
COUNT_COLUMNS: Final[tuple[str, ...]] = ("BlendShapeCount", "BlendshapeCount")
#: Live Link Face's timecode rate, assumed when a take is too short to show its frame field's range.
DEFAULT_TIMECODE_FPS: Final[float] = 60.0
#: The frame-field rate the writer uses: Unreal's importer reads 60 (or 30) only; the app writes 60 for 30 fps takes.
UNREAL_TIMECODE_FPS: Final[float] = 60.0
#: Unreal's importer infers 60 fps when some row's ``FF.fff`` is above this, else 30 (LiveLinkFaceImporter, UE 5.x).
_UNREAL_60_ABOVE: Final[float] = 30.0
#: Decimals the writer gives values by default: the app writes 10 (``0.0009391578``).
DEFAULT_DIGITS: Final[int] = 10
#: What the writer does with tracking-loss frames (see :func:`write_livelink_csv`).
TRACKING_LOSS: Final[tuple[str, ...]] = ("fill", "drop", "keep")

Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]
Destination = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]

#: Rows converted to numbers at once: bounded memory for huge takes (a row waiting as 63 Python strings costs
#: ~4.5 KB, so 1024 rows ~5 MB; larger chunks are no faster).
_CHUNK_ROWS: Final[int] = 1024
_MAX_NAMES_SHOWN: Final[int] = 8


# ------------------------------------------------------------------------------------------------- reading
def _shown(names: Sequence[str]) -> str:
    head = ", ".join(str(n)[:40] for n in names[:_MAX_NAMES_SHOWN])
    return head + (f" and {len(names) - _MAX_NAMES_SHOWN} more" if len(names) > _MAX_NAMES_SHOWN else "")


def _capped(lines: Iterable[str], max_bytes: int, label: str) -> Iterator[str]:
    """Yield lines from a stream, failing once more than ``max_bytes`` characters or :data:`MAX_TAKE_FRAMES`
    lines have come."""
    total = 0
    for count, line in enumerate(lines):
        total += len(line)
        if total > max_bytes:
            raise FormatError(f"{label} is larger than the limit of {max_bytes} bytes; split the take or raise max_bytes")
        if count > MAX_TAKE_FRAMES:
            raise _too_long(label)
        yield line


def _too_long(label: str) -> FormatError:
    return FormatError(f"{label} has more than {MAX_TAKE_FRAMES:,} rows (2 hours at 60 fps), the limit for one take; "
                       "split the take")


def _check_rows(path: Path) -> None:
    """Refuse a take of more than :data:`MAX_TAKE_FRAMES` rows before parsing it: newlines counted in 1 MiB
    blocks at C speed, stopping as soon as the limit is passed (a 500 MB take is refused after ~250 MB)."""
    rows = 0
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                rows += block.count(b"\n")
                if rows > MAX_TAKE_FRAMES + 1:  # + the header
                    raise _too_long(str(path))
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _open_lines(source: Source, max_bytes: int) -> Iterator[tuple[Iterator[str], str]]:
    """Yield (text lines, label) for a path or an open text/binary stream; paths are size-checked first."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        checked_size(path, max_bytes, hint="split the take or raise max_bytes")
        _check_rows(path)
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
    """What the row loop collected; value chunks (repaired by the policy) hold only full rows, in file order, unless
    the caller of :func:`_collect` keeps them elsewhere."""

    timecodes: list[str] = field(default_factory=list)
    lines: array[int] = field(default_factory=lambda: array("q"))  # 8 bytes a row, not a Python int's 36
    valid: bytearray = field(default_factory=bytearray)  # 1 or 0
    chunks: list[np.ndarray] = field(default_factory=list)
    ragged: list[int] = field(default_factory=list)  # lines of short rows that are not tracking loss
    extra: list[int] = field(default_factory=list)  # lines with non-empty cells past the header


def _collect(
    reader: Iterator[list[str]],
    header: _Header,
    label: str,
    policy: str,
    fix: _ValueFix,
    store: Callable[[np.ndarray], None] | None = None,
) -> _Rows:
    """Read every data row: timecodes, lines and validity into a :class:`_Rows`, the values of full rows converted
    and repaired (``fix``) :data:`_CHUNK_ROWS` rows at a time and handed to ``store`` (default: ``_Rows.chunks``)."""
    out = _Rows()
    keep = store if store is not None else out.chunks.append
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
        keep(fix.apply(block, pending_lines))
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
        # Frames past the capture rate: the field counts at Live Link Face's 60 (our writer's too) if they fit.
        return DEFAULT_TIMECODE_FPS if top <= DEFAULT_TIMECODE_FPS else snap_rate(top)
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
    fps, timecode_fps = _check_read_options(fps, timecode_fps, policy)
    with _open_lines(source, max_bytes) as (lines, label):
        header, rows, fix = _read_rows(lines, label, policy)
    return _assemble(rows, header, fix, label, fps=fps, timecode_fps=timecode_fps, policy=policy)


def _check_read_options(
    fps: float | None, timecode_fps: float | None, policy: str
) -> tuple[float | None, float | None]:
    """Validate the reader's options; returns ``(fps, timecode_fps)`` as floats or ``None``."""
    if policy not in POLICIES:
        raise FormatError(f"policy must be one of {', '.join(POLICIES)}; got {str(policy)[:40]!r}")
    return _check_fps(fps, "fps"), _check_fps(timecode_fps, "timecode_fps")


def _read_rows(
    lines: Iterator[str], label: str, policy: str, store: Callable[[np.ndarray], None] | None = None
) -> tuple[_Header, _Rows, _ValueFix]:
    """Parse the header and every row of a take's lines (see :func:`_collect` for ``store``)."""
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
        fix = _ValueFix(header, label, policy)
        rows = _collect(reader, header, label, policy, fix, store)
    except csv.Error as exc:
        raise FormatError(f"{label} is not readable CSV: {exc}") from None
    except UnicodeDecodeError:
        raise FormatError(f"{label} is not UTF-8 text; a Live Link Face CSV is plain ASCII") from None
    return header, rows, fix


@dataclass
class _Summary:
    """Everything about a read take but its values: (T,) validity and times (``None`` without a Timecode column),
    the capture rate and the Animation's ``meta``."""

    valid: np.ndarray
    times: np.ndarray | None
    fps: float
    meta: dict[str, Any]


def _assemble(
    rows: _Rows, header: _Header, fix: _ValueFix, label: str, *, fps: float | None, timecode_fps: float | None,
    policy: str,
) -> Animation:
    take = _summarise(rows, header, fix, label, fps=fps, timecode_fps=timecode_fps, policy=policy)
    values = np.concatenate(rows.chunks) if rows.chunks else np.zeros((0, len(header.channels)), np.float32)
    frames = _place(values, take.valid, header)
    valid = take.valid
    return Animation(frames=frames, fps=take.fps, times_s=take.times, valid=None if valid.all() else valid,
                     meta=take.meta)


def _place(values: np.ndarray, valid: np.ndarray, header: _Header, previous: np.ndarray | None = None) -> np.ndarray:
    """(R, C) repaired values of the valid rows among ``valid`` (B,) -> (B, 61) float32 frames in ``rig.CHANNELS``
    order: absent channels 0, tracking-loss rows holding the previous valid frame (``previous``, the last frame of
    the rows before, else zeros) so a preview or an interpolation does not snap to the neutral face."""
    frames = np.zeros((len(valid), rig.NUM_CHANNELS), dtype=np.float32)
    frames[np.ix_(np.flatnonzero(valid), np.asarray(header.channels))] = values
    if not valid.all():
        frames = _hold_lost(frames, valid, previous)
    return frames


def _summarise(
    rows: _Rows, header: _Header, fix: _ValueFix, label: str, *, fps: float | None, timecode_fps: float | None,
    policy: str,
) -> _Summary:
    """Check and report what the row pass found (warnings, strict refusals) and work out times, rates and meta.

    Called at the same depth below the public reader as the checks always were, so warnings point at its caller.
    """
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
    clamped = fix.finish()
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
    return _Summary(valid=valid, times=times, fps=fps, meta=meta)


class _ValueFix:
    """The policy for non-finite and out-of-range values, applied a chunk of rows at a time.

    :meth:`apply` repairs one chunk (NaN/inf to 0 unless strict; clamped under ``"repair"``) and keeps what the
    summary needs: counts, the first place in file order, per channel the worst excess. :meth:`finish`, once every
    chunk is in, raises (strict) or warns once per kind, with the same numbers whatever the chunking, so the
    whole-take reader and the streaming conversion (:mod:`keyframeface.io.livelink_stream`) report alike.
    """

    def __init__(self, header: _Header, label: str, policy: str) -> None:
        self.names = [rig.CHANNELS[c] for c in header.channels]
        self.low = rig.LOW[header.channels]
        self.high = rig.HIGH[header.channels]
        self.label, self.policy = label, policy
        self.bad = 0  # NaN/inf values
        self.first_bad: tuple[str, int, float] | None = None
        self.out = 0  # values out of range
        self.first_out: tuple[str, int, float] | None = None
        self.out_channels = np.zeros(len(self.names), dtype=bool)
        self.excess = np.full(len(self.names), -np.inf, dtype=np.float32)

    def _where(self, values: np.ndarray, mask: np.ndarray, lines: Sequence[int]) -> tuple[str, int, float]:
        r, c = (int(x[0]) for x in np.nonzero(mask))
        return self.names[c], int(lines[r]), float(values[r, c])

    def apply(self, values: np.ndarray, lines: Sequence[int]) -> np.ndarray:
        """(R, C) float32 values of full rows read at ``lines`` -> the same values repaired by the policy."""
        bad = ~np.isfinite(values)
        if bad.any():
            if self.first_bad is None:
                self.first_bad = self._where(values, bad, lines)
            self.bad += int(bad.sum())
            values = np.where(bad, np.float32(0.0), values)
        out = (values < self.low) | (values > self.high)
        if not out.any():
            return values
        if self.first_out is None:
            self.first_out = self._where(values, out, lines)
        self.out += int(out.sum())
        self.out_channels |= out.any(axis=0)
        np.maximum(self.excess, np.max(np.maximum(values - self.high, self.low - values), axis=0), out=self.excess)
        if self.policy == "repair":
            return np.clip(values, self.low, self.high).astype(np.float32)
        return values

    def finish(self) -> int:
        """Raise (strict) or warn for what :meth:`apply` saw; returns the number of values clamped."""
        label = self.label
        if self.first_bad is not None:
            name, line, value = self.first_bad
            if self.policy == "strict":
                raise FormatError(f"{label}: line {line}, column {name}: {value!r} is not a finite number")
            warnings.warn(f"{label}: {self.bad} NaN/inf values set to 0 (first at line {line}, {name})", stacklevel=4)
        if self.first_out is None or self.policy == "keep":
            return 0
        name, line, value = self.first_out
        if self.policy == "strict":
            at = self.names.index(name)
            raise FormatError(
                f"{label}: line {line}, column {name}: {value:g} is outside [{self.low[at]:g}, "
                f"{self.high[at]:g}] ({self.out} values out of range); read with policy='repair' to clamp them"
            )
        worst = int(np.argmax(self.excess))
        warnings.warn(
            f"{label}: clamped {self.out} values outside their channel's range in "
            f"{int(self.out_channels.sum())} channels (worst in {self.names[worst]}; first at line {line}, "
            f"{name}={value:g})",
            stacklevel=4,
        )
        return self.out


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
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 12:
        raise FormatError(f"digits must be an integer in [1, 12], got {digits!r}")
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


def _unreal_shift(times: np.ndarray, rate: float) -> float:
    """Seconds to add to every time so that Unreal infers a 60 fps frame field (0.0 when nothing is needed).

    Unreal's importer reads the frame field at 60 only when some row's ``FF.fff`` is above 30.0, else at 30. A file
    whose frame fields are all 0 reads the same at either rate; one with a field in (0, 30] and none above (a clip
    shorter than half a second, or keyframes on half seconds) is moved so that its first row sits at frame 31 of
    its second: every time moves by the same amount (under 31/60 s) and the spacing is unchanged.
    """
    if rate != UNREAL_TIMECODE_FPS or times.size == 0:
        return 0.0
    whole = np.floor(times + 1e-9)
    field_ = np.rint((times - whole) * rate * 1000.0) / 1000.0  # the written FF.fff (3 sub-frame digits)
    if (field_ > _UNREAL_60_ABOVE).any() or not (field_ > 0).any():
        return 0.0
    return float((_UNREAL_60_ABOVE + 1.0 - field_[0]) / rate)


def _hold_lost(frames: np.ndarray, valid: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Each tracking-loss frame takes the values of the last valid frame before it; before the first one, those of
    ``previous`` (the last frame of the rows before this block, when a take comes in blocks), else zeros."""
    n = len(valid)
    last = np.where(valid, np.arange(n), -1)
    np.maximum.accumulate(last, out=last)
    before = np.float32(0.0) if previous is None else previous
    return np.where((last >= 0)[:, None], frames[np.maximum(last, 0)], before).astype(frames.dtype)


def write_livelink_csv(
    anim: Animation,
    destination: Destination,
    *,
    digits: int = DEFAULT_DIGITS,
    header_count: str | None = "BlendShapeCount",
    timecode_fps: float | None = None,
    number_format: Literal["fixed", "short"] = "fixed",
    tracking_loss: str = "fill",
) -> None:
    """Write ``anim`` as a Live Link Face CSV to a path (atomically), an open text stream or a binary stream (UTF-8).

    The file imports into Unreal (Epic's LiveLinkFaceImporter) at the animation's own frame times whatever its
    rate (24, 25, 30, 50, 60, 120 fps, or non-integer rates to the 1/60000 s the 3 sub-frame digits allow): that
    importer infers the frame field's rate as 60 when some row's ``FF.fff`` is above 30.0 (else 30) and aborts at
    the first row whose cell count differs from the header's. So:

    * the frame field counts at ``timecode_fps`` = 60 (default; as the app writes 30 fps takes): each row's
      timecode is its time from ``anim.frame_times()``. A file whose frame fields would all be 30.0 or less
      with some above 0 (a clip shorter than half a second) starts at frame 31 of its first second instead, so
      Unreal still reads it at 60: every time moves by the same amount, under 31/60 s. Another ``timecode_fps``
      is written as asked (Unreal reads only 30 and 60 right; a warning says so);
    * ``tracking_loss`` says what becomes of frames with ``anim.valid`` False: ``"fill"`` (default) writes the
      values held from the last valid frame (zeros before the first), ``"drop"`` leaves those rows out, each with
      one warning giving the count; ``"keep"`` writes the app's ``timecode,0`` rows, with a warning that Unreal's
      import stops at the first of them.

    Header ``Timecode,<header_count>,<61 names in rig.CHANNELS order>`` (``header_count=None`` leaves the count
    column out). Each row: the timecode, ``61`` and the values with ``digits`` decimals (10 like the app,
    ``0.0009391578``; ``number_format="fixed"``) or in shortest form (``"short"``). Values are written as they are
    (not clamped); NaN/inf raise :class:`FormatError`.
    """
    if not isinstance(anim, Animation):
        _check_csv_options(digits, header_count, number_format, tracking_loss)
        raise FormatError(f"expected an Animation, got {type(anim).__name__}")
    frames = anim.frames
    _write_csv_blocks(
        (frames[start:start + _CHUNK_ROWS] for start in range(0, anim.num_frames, _CHUNK_ROWS)),
        anim.frame_times(), anim.valid, destination, digits=digits, header_count=header_count,
        timecode_fps=timecode_fps, number_format=number_format, tracking_loss=tracking_loss,
        finite=bool(np.isfinite(frames).all()), stacklevel=3,
    )


def write_livelink_csv_blocks(
    blocks: Iterable[np.ndarray],
    times: np.ndarray,
    valid: np.ndarray | None,
    destination: Destination,
    *,
    digits: int = DEFAULT_DIGITS,
    header_count: str | None = "BlendShapeCount",
    timecode_fps: float | None = None,
    number_format: Literal["fixed", "short"] = "fixed",
    tracking_loss: str = "fill",
) -> None:
    """Write a take whose frames come as (B, 61) float32 blocks, in order, with the bytes and warnings of
    :func:`write_livelink_csv` for the same frames: ``times`` (T,) float64 seconds of every frame, ``valid`` (T,)
    bool or ``None``; the blocks' rows must add up to T. Only one block is held at a time (the streaming
    conversion, :mod:`keyframeface.io.livelink_stream`). A NaN/inf value raises :class:`FormatError` when its block
    comes, so give a path (written atomically) or discard a stream's partial output on error.
    """
    _write_csv_blocks(blocks, times, valid, destination, digits=digits, header_count=header_count,
                      timecode_fps=timecode_fps, number_format=number_format, tracking_loss=tracking_loss,
                      finite=None, stacklevel=3)


def _check_csv_options(digits: int, header_count: str | None, number_format: str, tracking_loss: str) -> None:
    _check_write_options(digits, header_count, number_format)
    if tracking_loss not in TRACKING_LOSS:
        raise FormatError(
            f"tracking_loss must be one of {', '.join(TRACKING_LOSS)}, got {str(tracking_loss)[:40]!r}"
            f"{did_you_mean(tracking_loss, list(TRACKING_LOSS))}"
        )


def _write_csv_blocks(
    blocks: Iterable[np.ndarray],
    times: np.ndarray,
    valid: np.ndarray | None,
    destination: Destination,
    *,
    digits: int,
    header_count: str | None,
    timecode_fps: float | None,
    number_format: Literal["fixed", "short"],
    tracking_loss: str,
    finite: bool | None,
    stacklevel: int,
) -> None:
    """The one CSV writer behind :func:`write_livelink_csv` (``finite``: whether all frames are finite, known up
    front) and :func:`write_livelink_csv_blocks` (``finite=None``: each block is checked as it comes).
    ``stacklevel`` makes warnings point at the public function's caller."""
    _check_csv_options(digits, header_count, number_format, tracking_loss)
    rate = UNREAL_TIMECODE_FPS if timecode_fps is None else _require_fps(timecode_fps, "timecode_fps")
    if rate not in (30.0, UNREAL_TIMECODE_FPS):
        warnings.warn(
            f"writing the timecode frame field at {rate:g} fps: Unreal's Live Link Face importer reads only 30 or 60 "
            "and will place these frames at the wrong times; leave timecode_fps unset for Unreal",
            stacklevel=stacklevel,
        )
    not_finite = "the animation has NaN or inf values; a Live Link Face CSV needs finite numbers"
    if finite is False:
        raise FormatError(not_finite)
    if not (np.isfinite(times).all() and (times >= 0).all()):
        raise FormatError("the animation's times must be finite and >= 0 to be written as timecodes")
    total = len(times)
    if valid is None:
        valid = np.ones(total, dtype=bool)
    lost = int((~valid).sum())
    kept = times
    if lost and tracking_loss == "fill":
        warnings.warn(f"{lost} tracking-loss rows written with the values held from the frame before",
                      stacklevel=stacklevel)
    elif lost and tracking_loss == "drop":
        kept = times[valid]
        warnings.warn(f"{lost} tracking-loss rows left out of the CSV", stacklevel=stacklevel)
    elif lost:
        warnings.warn(
            f"{lost} tracking-loss rows written as 'timecode,0' like the app; Unreal's importer stops at the first "
            "of them (write with tracking_loss='fill' or 'drop' for Unreal)",
            stacklevel=stacklevel,
        )
    shift = _unreal_shift(kept, rate)
    count = f",{rig.NUM_CHANNELS}" if header_count else ""
    lost_cells = ",0" if header_count else ""

    def lines() -> Iterator[str]:
        yield ",".join(["Timecode", *([header_count] if header_count else []), *rig.CHANNELS]) + "\n"
        start = 0
        previous: np.ndarray | None = None  # the last frame written, held into the next block's lost rows
        for block in blocks:
            stop = start + len(block)
            if stop > total:
                raise FormatError(f"the frame blocks hold more rows than the {total} times; give one time per frame")
            if finite is None and not np.isfinite(block).all():
                raise FormatError(not_finite)
            ok, when = valid[start:stop], times[start:stop]
            if lost and tracking_loss == "fill":
                block = _hold_lost(block, ok, previous)
                ok = np.ones_like(ok)
                previous = block[-1] if len(block) else previous
            elif lost and tracking_loss == "drop":
                block, when, ok = block[ok], when[ok], ok[ok]
            if shift:
                when = when + shift
            # Formatted a chunk at a time so that writing a long take needs little memory beyond its frames.
            for sub in range(0, len(when), _CHUNK_ROWS):
                stamps = format_timecodes(when[sub:sub + _CHUNK_ROWS], rate=rate)
                cells = _format_rows(block[sub:sub + _CHUNK_ROWS], digits=digits, number_format=number_format)
                for stamp, good, row in zip(stamps, ok[sub:sub + _CHUNK_ROWS].tolist(), cells, strict=True):
                    yield f"{stamp}{count},{row}\n" if good else f"{stamp}{lost_cells}\n"
            start = stop
        if start != total:
            raise FormatError(f"the frame blocks hold {start} rows against {total} times; give one time per frame")

    _write_text(destination, lines())


def write_keyframes_csv(
    keyframes: Keyframes,
    destination: Destination,
    *,
    digits: int = 6,
    header_count: str | None = "BlendShapeCount",
    timecode_fps: float = DEFAULT_TIMECODE_FPS,
    number_format: Literal["fixed", "short"] = "short",
    tracking_loss: str = "keep",
) -> None:
    """Write keyframes as a Live Link Face CSV with one row per keyframe, like the KeyframeFace release converter.

    Keyframe ``k`` is written at its ``time_s``, or at ``k`` seconds (``00:00:0k:00.000``, the release's
    convention) when keyframes lack times (see :meth:`keyframeface.script.Animation.from_keyframes`); timing as
    :func:`write_livelink_csv` (keyframes on half seconds only start at frame 31 so that Unreal reads them at 60).
    Values are in shortest form rounded to ``digits`` (``0.2``, ``-0.1``), so the release answers give the
    release's CSV values exactly. A keyframe without values (its generation failed) is written as ``timecode,0``
    like the release (``tracking_loss="keep"``, with a warning), or left out (``"drop"``), or holds the keyframe
    before (``"fill"``).
    """
    if not isinstance(keyframes, Keyframes):
        raise FormatError(f"expected Keyframes, got {type(keyframes).__name__}")
    anim = Animation.from_keyframes(keyframes, fps=timecode_fps)
    write_livelink_csv(
        anim, destination, digits=digits, header_count=header_count, timecode_fps=timecode_fps,
        number_format=number_format, tracking_loss=tracking_loss,
    )
