"""A re-implementation of the timing logic of Unreal's Live Link Face CSV importer, to test our CSVs against.

Behaviour, as Epic's ``LiveLinkFaceImporter`` plugin documents and implements it (UE 5.x):

* the first line must start with the columns ``Timecode`` and ``BlendShapeCount``; the other columns are property
  names;
* the frame rate is not stored in the file: it is *inferred* as 60 fps when any row's frame field (``FF.fff`` in
  ``HH:MM:SS:FF.fff``) is above 30.0, else 30 fps;
* each row's sample time is ``HH*3600 + MM*60 + SS + FF.fff / inferred_rate`` seconds;
* a row whose number of non-empty comma-separated cells differs from the header's stops the import at that row
  ("did not contain the correct number of columns ... Aborting!"): a tracking-loss row ``timecode,0`` does that.

This module is test code: it is what Unreal would read, not what keyframeface reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Imported:
    """What the importer keeps: ``rate`` (30 or 60), sample ``times`` (s), ``values`` per row, and ``stopped_at``
    (1-based data line where the import aborted, or None)."""

    rate: int
    names: list[str]
    times: list[float]
    values: list[list[float]]
    stopped_at: int | None


def _cells(line: str) -> list[str]:
    return [c for c in line.split(",") if c != ""]  # Unreal's ParseIntoArray culls empty cells


def _timecode(text: str) -> tuple[int, int, int, float]:
    parts = text.split(":")
    if len(parts) != 4:
        raise ValueError(f"malformed timecode {text!r}")
    return int(parts[0]), int(parts[1]), int(parts[2]), float(parts[3])


def import_csv(text: str) -> Imported:
    lines = [line for line in text.splitlines() if line]
    header = _cells(lines[0])
    if header[:2] != ["Timecode", "BlendShapeCount"]:
        raise ValueError("not a Live Link Face CSV")
    rows = [_cells(line) for line in lines[1:]]
    rate = 60 if any(_timecode(r[0])[3] > 30.0 for r in rows if r) else 30
    times: list[float] = []
    values: list[list[float]] = []
    stopped = None
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            stopped = number
            break
        h, m, s, f = _timecode(row[0])
        times.append(h * 3600 + m * 60 + s + f / rate)
        values.append([float(c) for c in row[2:]])
    return Imported(rate, header[2:], times, values, stopped)
