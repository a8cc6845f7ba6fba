"""Live Link Face timecodes: ``HH:MM:SS:FF.fff`` <-> seconds.

Layout (as the Live Link Face app writes it, checked on every take in ``shared/realdata``):

* ``HH:MM:SS`` is the time of day in whole seconds;
* ``FF`` is the frame number inside that second at the *timecode rate* (the app uses 60 even when it captures at
  30 fps: the 30 fps takes in ``realdata/alexdjulin_llf_rom`` step ``FF`` by 2, from 00 to 58 or 59);
* ``.fff`` is a **fraction of a frame**, not milliseconds. The 59.88 fps takes show it: from one row to the next
  ``FF`` grows by 1 and ``.fff`` by about .002 until it passes .999, where ``FF`` skips one
  (``19:55:19:40.998`` -> ``19:55:19:42.000``); as milliseconds it would also exceed a 16.7 ms frame (.453 in the
  30 fps takes).

So ``seconds = HH*3600 + MM*60 + SS + (FF + .fff) / rate``. For a non-integer rate (23.976, 29.97, 59.94) the same
rule holds: ``HH:MM:SS`` stays wall-clock seconds and ``FF`` counts frames of duration ``1/rate`` from the start of
that second (the frame field then never reaches ``ceil(rate)``). This is not SMPTE drop-frame counting; drop-frame
timecodes (``;`` before the frame field) are refused rather than misread.

:func:`format_timecode` is the exact inverse of :func:`parse_timecode` up to the written sub-frame precision
(``subframe_digits``, 3 like the app); hours wrap at midnight (``% 24``) so a take that crosses midnight writes the
clock it was read from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final, NamedTuple

import numpy as np

from ..errors import FormatError

__all__ = [
    "STANDARD_RATES",
    "TimecodeParts",
    "format_timecode",
    "format_timecodes",
    "parse_timecode",
    "snap_rate",
    "split_timecode",
    "split_timecodes",
]

#: Frame-field rates a timecode may use, ascending (SMPTE / camera rates; Live Link Face offers 24-60).
STANDARD_RATES: Final[tuple[float, ...]] = (24.0, 25.0, 30.0, 48.0, 50.0, 60.0, 72.0, 90.0, 96.0, 100.0, 120.0, 240.0)

_SECONDS_PER_DAY: Final[int] = 24 * 3600
_MAX_RATE: Final[float] = 1000.0  # same bound as Animation.fps
_TIMECODE = re.compile(r"^\s*(\d{1,3}):(\d{1,2}):(\d{1,2})([:;])(\d{1,4})(?:\.(\d{1,9}))?\s*$")


class TimecodeParts(NamedTuple):
    """A split timecode: ``whole_seconds`` = HH*3600 + MM*60 + SS; ``frame`` = FF + .fff (a float, in frames)."""

    whole_seconds: int
    frame: float


def _check_rate(rate: float) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate):
        raise FormatError(f"timecode rate must be a number of frames per second, got {rate!r}")
    if not 0 < rate <= _MAX_RATE:
        raise FormatError(f"timecode rate must be in (0, {_MAX_RATE:g}] frames per second, got {rate!r}")
    return float(rate)


def split_timecode(text: str) -> TimecodeParts:
    """Split ``HH:MM:SS:FF[.fff]`` without a rate (the frame field's meaning needs one: see :func:`parse_timecode`).

    Raises :class:`FormatError` for anything else, including drop-frame ``HH:MM:SS;FF``.
    """
    if not isinstance(text, str):
        raise FormatError(f"expected a timecode string HH:MM:SS:FF.fff, got {type(text).__name__}")
    m = _TIMECODE.match(text)
    if m is None:
        shown = text.strip()[:40]
        raise FormatError(f"expected a timecode like 12:34:56:07.123 (HH:MM:SS:FF.fff), got {shown!r}")
    hh, mm, ss, sep, ff, frac = m.groups()
    if sep == ";":
        raise FormatError(
            f"drop-frame timecode {text.strip()!r} is not supported; export the take with a non-drop-frame "
            "timecode (HH:MM:SS:FF)"
        )
    if int(mm) >= 60 or int(ss) >= 60:
        raise FormatError(f"timecode {text.strip()!r} has minutes or seconds above 59")
    sub = int(frac) / 10 ** len(frac) if frac else 0.0
    return TimecodeParts(int(hh) * 3600 + int(mm) * 60 + int(ss), int(ff) + sub)


def parse_timecode(text: str, *, rate: float) -> float:
    """``HH:MM:SS:FF.fff`` at ``rate`` frames per second -> seconds since midnight (float).

    The frame (with its fraction) must be below ``rate``; :class:`FormatError` otherwise (the rate is probably
    wrong).
    """
    r = _check_rate(rate)
    parts = split_timecode(text)
    if parts.frame >= r:
        raise FormatError(
            f"timecode {text.strip()!r} has frame {int(parts.frame)}, which does not exist at {r:g} frames per "
            "second; give the timecode rate the file was written at"
        )
    return parts.whole_seconds + parts.frame / r


def split_timecodes(texts: Sequence[str], *, first_row: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Split many timecodes: -> ``(whole_seconds: (N,) int64, frame: (N,) float64)``.

    Errors name the row as ``first_row + index`` so readers can point at the file's line.
    """
    n = len(texts)
    whole = np.empty(n, dtype=np.int64)
    frame = np.empty(n, dtype=np.float64)
    for i, text in enumerate(texts):
        try:
            whole[i], frame[i] = split_timecode(text)
        except FormatError as exc:
            raise FormatError(f"row {first_row + i}: {exc}") from None
    return whole, frame


def snap_rate(lowest: float) -> float:
    """The smallest of :data:`STANDARD_RATES` that is at least ``lowest`` (or ``ceil(lowest)`` above them all)."""
    for r in STANDARD_RATES:
        if r >= lowest:
            return r
    if lowest > 1000:
        raise FormatError(
            f"a timecode frame field of {lowest - 1:g} implies a rate above 1000 fps; the timecodes are not "
            "HH:MM:SS:FF at a capture rate (pass timecode_fps= if they are)"
        )
    return float(math.ceil(lowest))


def format_timecodes(seconds: np.ndarray | Sequence[float], *, rate: float, subframe_digits: int = 3) -> list[str]:
    """Seconds since midnight, (N,) -> ``HH:MM:SS:FF.fff`` strings at ``rate`` (vectorised, deterministic).

    ``subframe_digits`` is the number of digits of the frame fraction (3 like Live Link Face; 0 writes
    ``HH:MM:SS:FF``). Rounding that reaches the next second carries into it. Negative or non-finite seconds raise
    :class:`FormatError`.
    """
    r = _check_rate(rate)
    if isinstance(subframe_digits, bool) or not isinstance(subframe_digits, int) or not 0 <= subframe_digits <= 6:
        raise FormatError(f"subframe_digits must be an integer in [0, 6], got {subframe_digits!r}")
    t = np.asarray(seconds, dtype=np.float64).reshape(-1)
    if t.size == 0:
        return []
    if not np.isfinite(t).all() or (t < 0).any():
        bad = int(np.argmax(~np.isfinite(t) | (t < 0)))
        raise FormatError(f"cannot write a timecode for {t[bad]!r} seconds; times must be finite and >= 0")
    scale = 10**subframe_digits
    # A hair above floor so that 0.99999999999 (arithmetic noise) counts as the next second, not frame 59.999.
    whole = np.floor(t + 1e-9)
    sub = np.rint((t - whole) * r * scale).astype(np.int64)
    np.maximum(sub, 0, out=sub)
    per_second = round(r * scale)  # units of 1/scale frame in one second
    carry = sub >= per_second
    whole = whole.astype(np.int64) + carry
    sub = np.where(carry, 0, sub)
    frames, frac = np.divmod(sub, scale)
    day = whole % _SECONDS_PER_DAY
    hh, rest = np.divmod(day, 3600)
    mm, ss = np.divmod(rest, 60)
    if subframe_digits == 0:
        return [
            f"{h:02d}:{m:02d}:{s:02d}:{f:02d}"
            for h, m, s, f in zip(hh.tolist(), mm.tolist(), ss.tolist(), frames.tolist(), strict=True)
        ]
    return [
        f"{h:02d}:{m:02d}:{s:02d}:{f:02d}.{x:0{subframe_digits}d}"
        for h, m, s, f, x in zip(hh.tolist(), mm.tolist(), ss.tolist(), frames.tolist(), frac.tolist(), strict=True)
    ]


def format_timecode(seconds: float, *, rate: float, subframe_digits: int = 3) -> str:
    """Seconds since midnight -> ``HH:MM:SS:FF.fff`` at ``rate`` (the inverse of :func:`parse_timecode`)."""
    return format_timecodes([seconds], rate=rate, subframe_digits=subframe_digits)[0]
