"""Live Link Face CSV and timecodes: robustness on small hand-written files, round trips, and every real take."""

from __future__ import annotations

import csv
import io
import math
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyframeface import rig
from keyframeface.errors import FormatError, KeyframeFaceError
from keyframeface.io import livelink_csv
from keyframeface.io.livelink_csv import read_livelink_csv, write_keyframes_csv, write_livelink_csv
from keyframeface.io.timecode import (
    format_timecode,
    format_timecodes,
    parse_timecode,
    snap_rate,
    split_timecode,
    split_timecodes,
)
from keyframeface.script import Animation, Keyframe, Keyframes


# ----------------------------------------------------------------------------------------------- helpers
def _values(n: int, seed: int = 0) -> np.ndarray:
    """(n, 61) float64 values inside every channel's range, rounded like a capture."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(rig.LOW, rig.HIGH, size=(n, rig.NUM_CHANNELS))
    return np.round(v, 6)


def _stamp(i: int, *, rate: int = 60, step: int = 1, start_s: int = 10 * 3600) -> str:
    """Timecode of row ``i``; rows start a frame before a whole second, so even short takes cross one."""
    frame = rate - 1 + i * step
    whole = start_s + frame // rate
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{frame % rate:02d}.000"


def _csv(
    names: list[str] | tuple[str, ...],
    values: np.ndarray,
    *,
    count: str | None = "BlendShapeCount",
    stamps: list[str] | None = None,
    lost: tuple[int, ...] = (),
    newline: str = "\n",
) -> str:
    """A small Live Link CSV: header Timecode[,count],names; rows of values; rows in ``lost`` as ``tc,0``."""
    head = ["Timecode", *([count] if count else []), *names]
    lines = [",".join(head)]
    for i, row in enumerate(values):
        tc = stamps[i] if stamps else _stamp(i)
        if i in lost:
            lines.append(f"{tc},0" if count else tc)
        else:
            lines.append(",".join([tc, *(["61"] if count else []), *(f"{v:.6f}" for v in row)]))
    return newline.join(lines) + newline


def _read(text: str, **kwargs: object) -> Animation:
    return read_livelink_csv(io.StringIO(text), **kwargs)  # type: ignore[arg-type]


def _quiet_read(text: str, **kwargs: object) -> Animation:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return _read(text, **kwargs)


# ----------------------------------------------------------------------------------------------- timecodes
def test_parse_timecode_reads_frame_and_fraction_of_frame() -> None:
    t = parse_timecode("16:55:51:38.453", rate=60)
    assert t == pytest.approx(16 * 3600 + 55 * 60 + 51 + 38.453 / 60, abs=1e-9)
    assert parse_timecode("00:00:01:00", rate=30) == 1.0
    assert split_timecode(" 01:02:03:04.5 ") == (3723, 4.5)


def test_format_timecode_matches_live_link_layout() -> None:
    assert format_timecode(0.0, rate=60) == "00:00:00:00.000"
    assert format_timecode(2.0, rate=60) == "00:00:02:00.000"
    assert format_timecode(16 * 3600 + 55 * 60 + 51 + 38.453 / 60, rate=60) == "16:55:51:38.453"
    assert format_timecode(1.5, rate=30, subframe_digits=0) == "00:00:01:15"


def test_format_timecode_carries_rounding_into_the_next_second() -> None:
    assert format_timecode(0.99999999999, rate=60) == "00:00:01:00.000"
    assert format_timecode(59.9999999, rate=60) == "00:01:00:00.000"
    # 29.97: the frame field never reaches 30; the last frame of a second is 29.xxx.
    assert format_timecode(0.99999999999, rate=29.97) == "00:00:01:00.000"
    assert format_timecode(1 - 0.5 / 29.97, rate=29.97).startswith("00:00:00:29.")


def test_format_timecode_wraps_hours_at_midnight() -> None:
    assert format_timecode(86400 + 1.0, rate=60) == "00:00:01:00.000"


@settings(max_examples=80, deadline=None)
@given(
    seconds=st.floats(min_value=0, max_value=86399.9, allow_nan=False),
    rate=st.sampled_from([24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0, 120.0]),
)
def test_timecode_round_trip_within_written_precision(seconds: float, rate: float) -> None:
    text = format_timecode(seconds, rate=rate)
    back = parse_timecode(text, rate=rate)
    assert abs(back - seconds) <= 0.5e-3 / rate + 1e-9
    assert format_timecode(back, rate=rate) == text


@pytest.mark.parametrize(
    "text", ["", "12:34:56", "12:34:56:07:08", "ab:cd:ef:gh.ijk", "12:61:00:00.000", "12:00:75:00.000", "1:2:3:4.x"]
)
def test_bad_timecodes_raise_format_error(text: str) -> None:
    with pytest.raises(FormatError, match="timecode"):
        parse_timecode(text, rate=60)


def test_drop_frame_timecodes_are_refused_not_misread() -> None:
    with pytest.raises(FormatError, match="drop-frame"):
        split_timecode("01:00:00;02")


def test_frame_beyond_rate_and_bad_rates_raise() -> None:
    with pytest.raises(FormatError, match="frame 45"):
        parse_timecode("00:00:00:45.000", rate=30)
    for rate in (0, -1, math.nan, 5000, True):
        with pytest.raises(FormatError, match="rate"):
            format_timecode(1.0, rate=rate)
    with pytest.raises(FormatError, match="finite"):
        format_timecodes([1.0, -2.0], rate=60)


def test_split_timecodes_names_the_row() -> None:
    with pytest.raises(FormatError, match="row 12"):
        split_timecodes(["00:00:00:00.000", "oops"], first_row=11)


def test_snap_rate_picks_the_smallest_standard_rate() -> None:
    assert snap_rate(60) == 60
    assert snap_rate(59) == 60
    assert snap_rate(26) == 30
    assert snap_rate(300) == 300


# ----------------------------------------------------------------------------------------------- reading
def test_reads_a_plain_file() -> None:
    v = _values(5)
    anim = _quiet_read(_csv(rig.CHANNELS, v))
    assert anim.frames.shape == (5, 61) and anim.frames.dtype == np.float32
    np.testing.assert_allclose(anim.frames, v, atol=1e-7)
    assert anim.valid is None
    assert anim.times_s is not None
    np.testing.assert_allclose(anim.times_s - anim.times_s[0], np.arange(5) / 60, atol=1e-9)
    assert anim.times_s[0] == 10 * 3600 + 59 / 60
    assert anim.meta["header_count"] == "BlendShapeCount"


def test_bom_crlf_and_blank_lines_read_the_same() -> None:
    v = _values(4)
    plain = _quiet_read(_csv(rig.CHANNELS, v))
    messy = "\ufeff\r\n" + _csv(rig.CHANNELS, v, newline="\r\n").replace("\r\n", "\r\n\r\n   \r\n", 2)
    other = _quiet_read(messy)
    np.testing.assert_array_equal(plain.frames, other.frames)
    np.testing.assert_array_equal(plain.times_s, other.times_s)


def test_bom_in_a_binary_stream_and_stream_left_open() -> None:
    v = _values(3)
    raw = io.BytesIO(b"\xef\xbb\xbf" + _csv(rig.CHANNELS, v).encode())
    anim = read_livelink_csv(raw)
    np.testing.assert_allclose(anim.frames, v, atol=1e-7)
    assert not raw.closed


def test_columns_are_keyed_by_name_in_any_order() -> None:
    v = _values(4)
    order = list(range(61))
    random.Random(3).shuffle(order)
    names = [rig.CHANNELS[i] for i in order]
    anim = _quiet_read(_csv(names, v[:, order]))
    np.testing.assert_allclose(anim.frames, v, atol=1e-7)


def test_camel_case_mediapipe_and_side_suffix_names() -> None:
    v = _values(3)
    names: list[str] = []
    for i, name in enumerate(rig.CHANNELS):
        if i % 3 == 0:
            names.append(name[0].lower() + name[1:])  # ARKit camelCase
        elif i % 3 == 1 and name.endswith(("Left", "Right")) and i < rig.NUM_BLENDSHAPES:
            stem = name.removesuffix("Left").removesuffix("Right")
            names.append(f"{stem[0].lower() + stem[1:]}_{'L' if name.endswith('Left') else 'R'}")
        else:
            names.append(name.upper())
    text = _csv(["_neutral", *names], np.hstack([np.zeros((3, 1)), v]))
    anim = _quiet_read(text)
    np.testing.assert_allclose(anim.frames, v, atol=1e-7)


@pytest.mark.parametrize("count", ["BlendShapeCount", "BlendshapeCount", "blendshapecount", None])
def test_both_count_spellings_and_none(count: str | None) -> None:
    v = _values(3)
    anim = _quiet_read(_csv(rig.CHANNELS, v, count=count, lost=(1,)))
    np.testing.assert_allclose(anim.frames[0], v[0], atol=1e-7)
    assert anim.valid is not None and anim.valid.tolist() == [True, False, True]
    assert anim.meta["header_count"] == count


def test_tracking_loss_rows_are_invalid_frames_holding_the_last_values() -> None:
    v = _values(6)
    anim = _quiet_read(_csv(rig.CHANNELS, v, lost=(0, 3, 4)))
    assert anim.valid is not None
    assert anim.valid.tolist() == [False, True, True, False, False, True]
    np.testing.assert_array_equal(anim.frames[0], 0.0)  # nothing to hold before the first valid frame
    np.testing.assert_array_equal(anim.frames[3], anim.frames[2])
    np.testing.assert_array_equal(anim.frames[4], anim.frames[2])
    np.testing.assert_allclose(anim.frames[5], v[5], atol=1e-7)
    assert anim.meta["tracking_lost"] == 3
    assert anim.num_frames == 6 and anim.times_s is not None and len(anim.times_s) == 6


def test_full_width_rows_with_empty_cells_are_tracking_loss() -> None:
    v = _values(3)
    lines = _csv(rig.CHANNELS, v).splitlines()
    lines[2] = lines[2].split(",")[0] + ",0" + "," * 61
    anim = _quiet_read("\n".join(lines) + "\n")
    assert anim.valid is not None and anim.valid.tolist() == [True, False, True]
    np.testing.assert_array_equal(anim.frames[1], anim.frames[0])


def test_values_above_one_are_clamped_with_one_warning() -> None:
    v = _values(5)
    v[1, rig.CHANNEL_INDEX["EyeLookInLeft"]] = 1.0759
    v[2, rig.CHANNEL_INDEX["EyeLookInLeft"]] = 1.02
    v[3, rig.CHANNEL_INDEX["HeadYaw"]] = -1.01
    text = _csv(rig.CHANNELS, v)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        anim = _read(text)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "clamped 3 values" in message and "EyeLookInLeft" in message and "line 3" in message
    assert anim.frames[1, rig.CHANNEL_INDEX["EyeLookInLeft"]] == 1.0
    assert anim.frames[3, rig.CHANNEL_INDEX["HeadYaw"]] == -1.0
    assert anim.meta["clamped"] == 3
    with pytest.raises(FormatError, match=r"line 3, column EyeLookInLeft: 1\.0759 is outside \[0, 1\]"):
        _read(text, policy="strict")
    kept = _quiet_read(text, policy="keep")
    assert kept.frames[1, rig.CHANNEL_INDEX["EyeLookInLeft"]] == pytest.approx(1.0759)


def test_missing_columns_become_zeros_with_a_warning_naming_them() -> None:
    v = _values(3)
    keep = [n for n in rig.CHANNELS if n not in ("TongueOut", "HeadRoll")]
    idx = [rig.CHANNEL_INDEX[n] for n in keep]
    text = _csv(keep, v[:, idx])
    with pytest.warns(UserWarning, match=r"no column for TongueOut, HeadRoll"):
        anim = _read(text)
    np.testing.assert_array_equal(anim.frames[:, rig.CHANNEL_INDEX["TongueOut"]], 0.0)
    np.testing.assert_allclose(anim.frames[:, idx], v[:, idx], atol=1e-7)
    assert anim.meta["missing_channels"] == ["TongueOut", "HeadRoll"]
    with pytest.raises(FormatError, match="lacks channel columns TongueOut, HeadRoll"):
        _read(text, policy="strict")


def test_unknown_columns_are_ignored_with_a_warning() -> None:
    v = _values(2)
    text = _csv([*rig.CHANNELS, "Confidence", "Note"], np.hstack([v, np.ones((2, 2))]))
    with pytest.warns(UserWarning, match="ignored columns that are not channels: Confidence, Note"):
        anim = _read(text)
    np.testing.assert_allclose(anim.frames, v, atol=1e-7)
    assert anim.meta["ignored_columns"] == ["Confidence", "Note"]


@pytest.mark.parametrize("cell", ["abc", "", "0,5", "1.2.3", "--1", "1_0", "0_5", "0.1_2"])
def test_non_numeric_cells_name_line_and_column(cell: str) -> None:
    v = _values(4)
    lines = _csv(rig.CHANNELS, v).splitlines()
    parts = next(csv.reader([lines[3]]))
    parts[2 + rig.CHANNEL_INDEX["JawOpen"]] = cell
    lines[3] = ",".join(f'"{p}"' if "," in p else p for p in parts)
    with pytest.raises(FormatError, match=r"line 4, column \d+ \(JawOpen\): expected a number"):
        _read("\n".join(lines) + "\n")


def test_bad_cell_in_a_later_chunk_names_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(livelink_csv, "_CHUNK_ROWS", 16)
    v = _values(40)
    lines = _csv(rig.CHANNELS, v).splitlines()
    lines[35] = lines[35].replace(f"{v[34, 0]:.6f}", "x", 1)
    with pytest.raises(FormatError, match=r"line 36, column 3 \(EyeBlinkLeft\)"):
        _read("\n".join(lines) + "\n")
    anim = _quiet_read(_csv(rig.CHANNELS, v, lost=(15, 16, 17)))  # chunk edges with tracking loss
    np.testing.assert_allclose(anim.frames[20:], v[20:], atol=1e-7)


def test_nan_cells_are_zeroed_in_repair_and_refused_in_strict() -> None:
    v = _values(3)
    text = _csv(rig.CHANNELS, v).replace(f"{v[1, 5]:.6f}", "nan", 1)
    with pytest.warns(UserWarning, match="NaN/inf values set to 0"):
        anim = _read(text)
    assert anim.frames[1, 5] == 0.0
    with pytest.raises(FormatError, match="not a finite number"):
        _read(text, policy="strict")


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_empty_file_raises(text: str) -> None:
    with pytest.raises(FormatError, match="empty"):
        _read(text)


def test_header_only_raises() -> None:
    with pytest.raises(FormatError, match="no data rows"):
        _read(",".join(["Timecode", "BlendShapeCount", *rig.CHANNELS]) + "\n")


def test_not_a_live_link_file_raises() -> None:
    with pytest.raises(FormatError, match="not a Live Link Face CSV"):
        _read("name,age\nbob,3\n")


def test_duplicate_channel_columns_raise() -> None:
    text = _csv([*rig.CHANNELS, "jawOpen"], np.hstack([_values(2), np.zeros((2, 1))]))
    with pytest.raises(FormatError, match="both mean JawOpen"):
        _read(text)


def test_ragged_rows_repair_as_invalid_and_strict_raises() -> None:
    v = _values(5)
    lines = _csv(rig.CHANNELS, v).splitlines()
    lines[3] = ",".join(lines[3].split(",")[:30])  # truncated mid-row
    lines[4] = lines[4] + ",,"  # empty trailing cells are fine
    text = "\n".join(lines) + "\n"
    with pytest.warns(UserWarning, match=r"1 rows have fewer cells than the header \(first at line 4\)"):
        anim = _read(text)
    assert anim.valid is not None and anim.valid.tolist() == [True, True, False, True, True]
    np.testing.assert_allclose(anim.frames[3], v[3], atol=1e-7)
    with pytest.raises(FormatError, match="line 4 has 30 cells; the header has 63"):
        _read(text, policy="strict")
    lines = _csv(rig.CHANNELS, v).splitlines()
    lines[2] += ",0.5,0.7"
    text = "\n".join(lines) + "\n"
    with pytest.warns(UserWarning, match="cells past the header"):
        _read(text)
    with pytest.raises(FormatError, match="line 3 has 65 cells"):
        _read(text, policy="strict")


def test_timecodes_that_go_back_warn_or_raise() -> None:
    v = _values(3)
    stamps = ["10:00:00:05.000", "10:00:00:04.000", "10:00:00:06.000"]
    text = _csv(rig.CHANNELS, v, stamps=stamps)
    with pytest.warns(UserWarning, match="timecodes do not increase at line 3"):
        anim = _read(text, timecode_fps=60)
    assert anim.num_frames == 3 and np.all(np.diff(anim.frame_times()) >= 0)  # file order, never back in time
    with pytest.raises(FormatError, match="do not increase"):
        _read(text, timecode_fps=60, policy="strict")


def test_a_take_across_midnight_keeps_counting() -> None:
    stamps = ["23:59:59:58.000", "23:59:59:59.000", "00:00:00:00.000", "00:00:00:01.000"]
    anim = _quiet_read(_csv(rig.CHANNELS, _values(4), stamps=stamps), timecode_fps=60)
    assert anim.times_s is not None
    np.testing.assert_allclose(np.diff(anim.times_s), 1 / 60, atol=1e-9)
    buf = io.StringIO()
    write_livelink_csv(anim, buf)
    assert [line.split(",")[0] for line in buf.getvalue().splitlines()[1:]] == stamps


def test_bad_timecode_cell_names_the_line() -> None:
    stamps = [_stamp(0), "10:00:xx:00.000", _stamp(2)]
    with pytest.raises(FormatError, match="line 3, Timecode"):
        _read(_csv(rig.CHANNELS, _values(3), stamps=stamps))


def test_no_timecode_column() -> None:
    v = _values(3)
    text = "\n".join([",".join(rig.CHANNELS), *(",".join(f"{x:.6f}" for x in row) for row in v)]) + "\n"
    with pytest.warns(UserWarning, match="no Timecode column"):
        anim = _read(text, fps=30)
    assert anim.times_s is None and anim.fps == 30
    np.testing.assert_allclose(anim.frames, v, atol=1e-7)
    with pytest.raises(FormatError, match="no Timecode column"):
        _read(text, policy="strict")


def test_30_fps_take_with_a_60_frame_field() -> None:
    # Like realdata/alexdjulin_llf_rom: the frame field counts at 60 and steps by 2.
    n = 100
    stamps = [_stamp(i, step=2) for i in range(n)]
    anim = _quiet_read(_csv(rig.CHANNELS, _values(n), stamps=stamps))
    assert anim.fps == 30 and anim.meta["timecode_fps"] == 60
    assert anim.times_s is not None
    np.testing.assert_allclose(np.diff(anim.times_s), 1 / 30, atol=1e-9)


def test_30_fps_frame_field_is_inferred() -> None:
    n = 75
    stamps = [_stamp(i, rate=30) for i in range(n)]
    anim = _quiet_read(_csv(rig.CHANNELS, _values(n), stamps=stamps))
    assert anim.fps == 30 and anim.meta["timecode_fps"] == 30


def test_short_take_assumes_60_and_says_so() -> None:
    stamps = [f"00:00:05:{i:02d}.000" for i in range(10)]
    text = _csv(rig.CHANNELS, _values(10), stamps=stamps)
    with pytest.warns(UserWarning, match="shorter than one second"):
        anim = _read(text)
    assert anim.meta["timecode_fps"] == 60
    anim = _quiet_read(text, fps=30)
    assert anim.fps == 30 and anim.meta["timecode_fps"] == 30
    assert anim.times_s is not None
    np.testing.assert_allclose(np.diff(anim.times_s), 1 / 30, atol=1e-9)
    with pytest.raises(FormatError, match=r"line 10: frame 8 .* at 8 frames per second"):
        _read(text, timecode_fps=8)


def test_size_cap_applies_to_paths_and_streams(tmp_path: Path) -> None:
    text = _csv(rig.CHANNELS, _values(20))
    path = tmp_path / "take.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match="limit"):
        read_livelink_csv(path, max_bytes=1000)
    with pytest.raises(FormatError, match="limit"):
        read_livelink_csv(io.StringIO(text), max_bytes=1000)
    assert read_livelink_csv(path).num_frames == 20


def test_bad_arguments_and_unreadable_input(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="policy must be one of"):
        _read("x", policy="lenient")
    with pytest.raises(FormatError, match="fps must be"):
        _read("x", fps=0)
    with pytest.raises(FormatError, match="cannot read"):
        read_livelink_csv(tmp_path / "missing.csv")
    with pytest.raises(FormatError, match="expected a file path or an open file"):
        read_livelink_csv(42)  # type: ignore[arg-type]
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(_csv(rig.CHANNELS, _values(2)).encode() + b"\xff\xfe\n")
    with pytest.raises(FormatError, match="not UTF-8"):
        read_livelink_csv(bad)


# ----------------------------------------------------------------------------------------------- writing
def test_writer_header_rows_and_invalid_frames() -> None:
    frames = np.zeros((3, 61), dtype=np.float32)
    frames[0, rig.CHANNEL_INDEX["JawOpen"]] = 0.25
    frames[2, rig.CHANNEL_INDEX["HeadPitch"]] = -1e-12  # must not be written as -0.0000000000
    anim = Animation(frames=frames, fps=30, valid=np.array([True, False, True]))
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="Unreal's importer stops"):
        write_livelink_csv(anim, buf, tracking_loss="keep")
    lines = buf.getvalue().split("\n")
    assert lines[0] == ",".join(["Timecode", "BlendShapeCount", *rig.CHANNELS])
    # A clip this short would show no frame field above 30, so it starts at frame 31 (Unreal then reads it at 60);
    # the frame field counts at 60 whatever the rate: 30 fps steps by 2, like the app.
    assert lines[1].startswith("00:00:00:31.000,61,0.0000000000,")
    assert lines[1].split(",")[2 + rig.CHANNEL_INDEX["JawOpen"]] == "0.2500000000"
    assert lines[2] == "00:00:00:33.000,0"
    assert lines[3].startswith("00:00:00:35.000,61,") and "-0.0" not in lines[3]
    assert lines[4] == "" and len(lines) == 5


def test_writer_tracking_loss_fill_drop_keep() -> None:
    frames = np.zeros((4, 61), dtype=np.float32)
    frames[:, 0] = [0.125, 0.5, 0.25, 0.375]
    anim = Animation(frames=frames, fps=1, valid=np.array([True, False, False, True]))
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="2 tracking-loss rows written with the values held"):
        write_livelink_csv(anim, buf)  # fill is the default
    rows = [line.split(",") for line in buf.getvalue().splitlines()[1:]]
    assert [r[0] for r in rows] == ["00:00:00:00.000", "00:00:01:00.000", "00:00:02:00.000", "00:00:03:00.000"]
    assert [r[2] for r in rows] == ["0.1250000000", "0.1250000000", "0.1250000000", "0.3750000000"]
    assert all(len(r) == 63 for r in rows)
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="2 tracking-loss rows left out"):
        write_livelink_csv(anim, buf, tracking_loss="drop")
    assert [line[:15] for line in buf.getvalue().splitlines()[1:]] == ["00:00:00:00.000", "00:00:03:00.000"]
    with pytest.raises(FormatError, match="tracking_loss must be one of fill, drop, keep, got 'dorp'; did you mean 'drop'"):
        write_livelink_csv(anim, io.StringIO(), tracking_loss="dorp")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing lost: no warning
        write_livelink_csv(Animation(frames=frames, fps=1), io.StringIO())


def test_writer_options() -> None:
    anim = Animation(frames=_values(2).astype(np.float32), fps=24, valid=np.array([True, False]))
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="Unreal's importer stops"):
        write_livelink_csv(anim, buf, digits=3, header_count=None, tracking_loss="keep")
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("Timecode,EyeBlinkLeft,")
    assert len(lines[1].split(",")) == 62 and len(lines[1].split(",")[1]) == 5
    assert lines[2] == "00:00:00:33.500"  # 1/24 s after frame 31: 2.5 frames of the 60 fps field
    back = _quiet_read(buf.getvalue(), fps=24)
    assert back.valid is not None and back.valid.tolist() == [True, False]
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="held"):
        write_livelink_csv(anim, buf, header_count="BlendshapeCount", number_format="short")
    assert buf.getvalue().startswith("Timecode,BlendshapeCount,")
    for kwargs in ({"digits": 0}, {"digits": 2.5}, {"header_count": "Count"}, {"number_format": "sci"},
                   {"timecode_fps": -1}, {"tracking_loss": "hold"}):
        with pytest.raises(FormatError):
            write_livelink_csv(anim, io.StringIO(), **kwargs)
    with pytest.warns(UserWarning, match="reads only 30 or 60"):
        write_livelink_csv(Animation(frames=_values(2).astype(np.float32), fps=24), io.StringIO(), timecode_fps=24)


def test_writer_refuses_non_finite_values_and_non_animations() -> None:
    frames = np.zeros((2, 61), dtype=np.float32)
    frames[1, 3] = np.nan
    # an Animation refuses NaN frames itself (ScriptError), so none reaches the writer
    with pytest.raises(KeyframeFaceError, match="NaN"):
        write_livelink_csv(Animation(frames=frames), io.StringIO())
    with pytest.raises(FormatError, match="expected an Animation"):
        write_livelink_csv("frames", io.StringIO())  # type: ignore[arg-type]


def test_writer_is_deterministic_and_atomic_on_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    anim = Animation(frames=_values(50).astype(np.float32), fps=60)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_livelink_csv(anim, a)
    write_livelink_csv(anim, b)
    assert a.read_bytes() == b.read_bytes()
    assert b"\r" not in a.read_bytes()
    before = a.read_bytes()

    def broken(values: np.ndarray, **_: object) -> object:
        yield "1,2,3"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(livelink_csv, "_format_rows", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_livelink_csv(anim, a)
    assert a.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]  # no temporary file left


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=150),
    fps=st.sampled_from([24.0, 25.0, 30.0, 50.0, 60.0]),
    start=st.floats(min_value=0, max_value=80000),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_write_read_round_trip(n: int, fps: float, start: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    frames = rng.uniform(rig.LOW, rig.HIGH, size=(n, 61)).astype(np.float32)
    valid = rng.random(n) > 0.1
    valid[0] = True
    times = start + np.arange(n) / fps
    anim = Animation(frames=frames, fps=fps, times_s=times, valid=valid)
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracking-loss count
        write_livelink_csv(anim, buf, tracking_loss="keep")
    back = _quiet_read(buf.getvalue(), fps=fps, timecode_fps=60)  # our writer's field rate, even for one frame
    assert back.num_frames == n
    assert back.times_s is not None
    # Times come back to the written 1/60000 s, moved as one (under 31/60 s) only when the clip had to start at
    # frame 31 so that Unreal reads the field at 60.
    shift = back.times_s[0] - times[0]
    assert -1e-5 < shift < 31 / 60 + 1e-5
    np.testing.assert_allclose(back.times_s - shift, times, atol=0.5e-3 / 60 + 1e-6)
    np.testing.assert_array_equal(back.valid if back.valid is not None else np.ones(n, bool), valid)
    np.testing.assert_allclose(back.frames[valid], frames[valid], atol=0.5e-10 + 1e-7)
    again = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_livelink_csv(back, again, tracking_loss="keep")
    assert again.getvalue() == buf.getvalue()


def test_keyframes_csv_rows_at_their_times_and_failed_keyframes() -> None:
    v = np.round(_values(3), 2).astype(np.float32)
    kfs = Keyframes.from_array(v, times_s=[0.0, 0.5, 2.25])
    buf = io.StringIO()
    write_keyframes_csv(kfs, buf)
    lines = buf.getvalue().splitlines()
    # 0.5 s is frame 30 of the 60 fps field and none is above 30: the rows move to start at frame 31 (Unreal
    # would read the field at 30 otherwise).
    assert [line.split(",")[0] for line in lines[1:]] == ["00:00:00:31.000", "00:00:01:01.000", "00:00:02:46.000"]
    assert lines[1].split(",")[2:] == [repr(round(float(x), 6) + 0.0) for x in v[0]]
    failed = Keyframes(keyframes=(Keyframe(values=tuple(map(float, v[0]))), Keyframe(description="lost")))
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="Unreal's importer stops"):
        write_keyframes_csv(failed, buf)  # the release converter's convention
    assert buf.getvalue().splitlines()[2] == "00:00:01:00.000,0"
    buf = io.StringIO()
    with pytest.warns(UserWarning, match="left out"):
        write_keyframes_csv(failed, buf, tracking_loss="drop")
    assert len(buf.getvalue().splitlines()) == 2
    with pytest.raises(FormatError, match="expected Keyframes"):
        write_keyframes_csv(Animation(frames=v), io.StringIO())  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- real takes
def _takes(realdata_dir: Path) -> list[Path]:
    takes = sorted(p for p in realdata_dir.rglob("*.csv") if p.name != "index.csv")
    assert takes, f"no takes under {realdata_dir}"
    return takes


def test_every_real_take_round_trips(realdata_dir: Path, tmp_path: Path) -> None:
    index = {row["file"]: row for row in csv.DictReader((realdata_dir / "index.csv").open(encoding="utf-8"))}
    for take in _takes(realdata_dir):
        rel = take.relative_to(realdata_dir).as_posix()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # takes with values above 1 warn about clamping
            anim = read_livelink_csv(take)
        original = list(csv.reader(take.open(encoding="utf-8-sig", newline="")))
        header, rows = original[0], original[1:]
        assert anim.num_frames == len(rows), rel
        if rel in index:
            assert anim.meta["tracking_lost"] == int(index[rel]["malformed_rows"]), rel
            assert anim.fps == (30.0 if float(index[rel]["capture_fps"]) < 45 else 60.0), rel
        assert anim.meta["timecode_fps"] == 60.0, rel

        out = tmp_path / take.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracking-loss count
            write_livelink_csv(anim, out, tracking_loss="keep")  # the app's own rows, for a lossless round trip
        written = list(csv.reader(out.open(encoding="utf-8", newline="")))
        assert written[0] == ["Timecode", "BlendShapeCount", *rig.CHANNELS]
        assert [r[0] for r in written[1:]] == [r[0] for r in rows], f"{rel}: timecodes changed"
        assert [len(r) <= 2 for r in written[1:]] == [len(r) <= 2 for r in rows], f"{rel}: tracking loss moved"

        # Every value survives to the written precision (10 decimals), after clamping the few above 1.
        full = [i for i, r in enumerate(rows) if len(r) > 2]
        cols = [header.index(n) for n in rig.CHANNELS]
        source = np.array([[float(rows[i][c]) for c in cols] for i in full])
        back = np.array([[float(written[1 + i][2 + k]) for k in range(61)] for i in full])
        np.testing.assert_allclose(back, np.clip(source, rig.LOW, rig.HIGH), atol=0.5e-6 + 1e-7, err_msg=rel)

        # Reading the written file gives the same animation, and writing it again the same bytes.
        again = read_livelink_csv(out)
        np.testing.assert_array_equal(again.times_s, anim.times_s)
        np.testing.assert_allclose(again.frames, anim.frames, atol=0.5e-6 + 1e-7)
        out2 = tmp_path / ("again_" + take.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write_livelink_csv(again, out2, tracking_loss="keep")
        assert out2.read_bytes() == out.read_bytes(), rel
