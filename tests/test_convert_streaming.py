"""The streaming conversion of Live Link Face CSVs (:mod:`keyframeface.io.livelink_stream`): the same bytes,
warnings and errors as reading the take whole and exporting it, with memory bounded by a block."""

from __future__ import annotations

import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.cli.main import main
from keyframeface.convert import convert
from keyframeface.errors import KeyframeFaceError
from keyframeface.io import livelink_csv, livelink_stream
from keyframeface.io.livelink_stream import can_stream, convert_streaming, open_livelink_take
from keyframeface.io.registry import export, find_writer, read_any

HEADER = ",".join(["Timecode", "BlendShapeCount", *rig.CHANNELS])


def _timecode(frame: int, *, start_s: int = 10 * 3600, field: int = 60, step: int = 1) -> str:
    seconds, ff = divmod(frame * step, field)
    seconds += start_s
    return f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}.000"


def _take(path: Path, rows: int, *, seed: int = 0, lost: Callable[[int], bool] = lambda i: i % 37 == 5,
          header: str = HEADER, step: int = 1, edit: Callable[[int, list[str]], str | None] | None = None) -> Path:
    """A take of ``rows`` rows: 10-decimal values, tracking-loss rows where ``lost(i)``, ``edit`` may rewrite a
    row (return the line, or None to keep it)."""
    rng = np.random.default_rng(seed)
    width = header.count(",") - 1
    lines = [header]
    for i in range(rows):
        cells = [f"{v:.10f}" for v in rng.random(width)]
        stamp = _timecode(i, step=step)
        line = f"{stamp},0" if lost(i) else f"{stamp},{width}," + ",".join(cells)
        if edit is not None:
            line = edit(i, [stamp, str(width), *cells]) or line
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def _both(src: Path, tmp_path: Path, fmt: str, read: dict[str, Any] | None = None,
          **options: Any) -> tuple[bytes, bytes, list[str], list[str]]:
    """(whole bytes, streamed bytes, whole warnings, streamed warnings)."""
    out: list[Any] = []
    for way in ("whole", "stream"):
        dst = tmp_path / f"{way}.{fmt}"
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            if way == "whole":
                export(read_any(src, **(read or {})), dst, **options)
            else:
                convert_streaming(src, dst, read_options=read, **options)
        out.append(dst.read_bytes())
        # The conversion's own warnings; a ResourceWarning is the garbage collector finishing an earlier test's object.
        out.append([f"{w.category.__name__}: {w.message}" for w in seen if not issubclass(w.category, ResourceWarning)])
    return out[0], out[2], out[1], out[3]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 7 frames and row chunks of 16, so block edges fall inside runs of tracking loss."""
    monkeypatch.setattr(livelink_stream, "BLOCK_ROWS", 7)
    monkeypatch.setattr(livelink_csv, "_CHUNK_ROWS", 16)


def test_real_takes_convert_to_the_same_bytes(realdata_dir: Path, tmp_path: Path) -> None:
    takes = sorted(p for p in realdata_dir.rglob("*.csv") if p.name != "index.csv")
    assert takes
    for take in takes:
        for fmt in ("json", "csv"):
            whole, streamed, w_whole, w_streamed = _both(take, tmp_path, fmt)
            assert streamed == whole, (take, fmt)
            assert w_streamed == w_whole, (take, fmt)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_imperfect_take_same_bytes_and_warnings(tmp_path: Path, fmt: str) -> None:
    def edit(i: int, cells: list[str]) -> str | None:
        if i == 40:
            return ",".join(cells[:20])  # ragged: a truncated row
        if i % 50 == 3:
            cells[2 + i % 61] = "1.0625"  # out of range: clamped
        if i == 70:
            cells[5] = "nan"
        if i == 90:
            return ",".join([*cells, "extra"])  # a cell past the header
        return ",".join(cells)

    # Lost rows at the start (held as zeros), in runs across block edges and at the end.
    src = _take(tmp_path / "take.csv", 230, lost=lambda i: i < 3 or 20 <= i < 30 or i % 37 == 5 or i >= 227,
                edit=edit)
    whole, streamed, w_whole, w_streamed = _both(src, tmp_path, fmt)
    assert streamed == whole
    assert w_streamed == w_whole
    joined = "\n".join(w_whole)
    for expected in ("fewer cells", "past the header", "NaN/inf", "clamped"):
        assert expected in joined


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("options", [
    {"tracking_loss": "drop"},
    {"tracking_loss": "keep", "header_count": None},
    {"number_format": "short", "digits": 4},
    {"timecode_fps": 30.0},
])
def test_csv_writer_options_stream_alike(tmp_path: Path, options: dict[str, Any]) -> None:
    src = _take(tmp_path / "take.csv", 150, lost=lambda i: i < 2 or i % 11 == 4)
    whole, streamed, w_whole, w_streamed = _both(src, tmp_path, "csv", **options)
    assert streamed == whole
    assert w_streamed == w_whole


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("read", [{"policy": "keep"}, {"fps": 30.0}, {"timecode_fps": 60.0}])
def test_read_options_stream_alike(tmp_path: Path, read: dict[str, Any]) -> None:
    src = _take(tmp_path / "take.csv", 120, step=2,
                edit=lambda i, c: ",".join([*c[:4], "1.5", *c[5:]]) if i == 9 else None)
    for fmt in ("json", "csv"):
        whole, streamed, w_whole, w_streamed = _both(src, tmp_path, fmt, read)
        assert streamed == whole
        assert w_streamed == w_whole


@pytest.mark.usefixtures("small_blocks")
def test_odd_layouts_stream_alike(tmp_path: Path) -> None:
    names = list(rig.CHANNELS)
    # Columns in another order, two channels missing, one unknown column, no count column.
    shuffled = [*reversed(names[2:]), "Mystery"]
    rng = np.random.default_rng(3)
    lines = [",".join(["Timecode", *shuffled])]
    for i in range(60):
        lines.append(",".join([_timecode(i), *(f"{v:.6f}" for v in rng.random(len(shuffled)))]))
    odd = tmp_path / "odd.csv"
    odd.write_text("\r\n".join(lines) + "\r\n")
    # No Timecode column; a take shorter than a second; timecodes that go back; a take through midnight.
    no_tc = tmp_path / "no_tc.csv"
    no_tc.write_text("\n".join([",".join(names)] + [",".join(["0.25"] * 61)] * 30) + "\n")
    short = _take(tmp_path / "short.csv", 20)
    back = _take(tmp_path / "back.csv", 90, edit=lambda i, c: ",".join([_timecode(i - 20), *c[1:]]) if i == 50 else None)
    midnight = tmp_path / "midnight.csv"
    midnight.write_text("\n".join([HEADER] + [
        f"{_timecode(i, start_s=24 * 3600 - 1)},61," + ",".join(["0.5"] * 61) for i in range(120)]) + "\n")
    for src in (odd, no_tc, short, back, midnight):
        for fmt in ("json", "csv"):
            whole, streamed, w_whole, w_streamed = _both(src, tmp_path, fmt)
            assert streamed == whole, (src.name, fmt)
            assert w_streamed == w_whole, (src.name, fmt)


def _error(call: Callable[[], Any]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KeyframeFaceError) as info:
            call()
    return f"{type(info.value).__name__}: {info.value}"


@pytest.mark.usefixtures("small_blocks")
def test_refusals_are_the_same(tmp_path: Path) -> None:
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "empty.csv": ("", {}),
        "header_only.csv": (HEADER + "\n", {}),
        "bad_cell.csv": (HEADER + "\n" + _timecode(0) + ",61," + ",".join(["0.1"] * 60 + ["x"]) + "\n", {}),
        "bad_timecode.csv": (HEADER + "\n" + "noon,61," + ",".join(["0.1"] * 61) + "\n", {}),
        "strict_range.csv": (HEADER + "\n" + "\n".join(
            f"{_timecode(i)},61," + ",".join(["1.5" if i % 3 == 0 else "0.1"] * 61) for i in range(40)) + "\n",
            {"policy": "strict"}),
        "strict_nan.csv": (HEADER + "\n" + "\n".join(
            f"{_timecode(i)},61," + ",".join(["nan" if i == 30 else "1.5"] * 61) for i in range(40)) + "\n",
            {"policy": "strict"}),
        # Each row jumps back over 12 hours: a midnight each time, past the week an animation may span.
        "weeks.csv": (HEADER + "\n" + "\n".join(
            f"{'23' if i % 2 == 0 else '01'}:00:00:00.000,61," + ",".join(["0.1"] * 61) for i in range(40)) + "\n",
            {}),
    }
    for name, (text, read) in cases.items():
        src = tmp_path / name
        src.write_text(text)
        for fmt in ("json", "csv"):
            dst = tmp_path / f"out.{fmt}"
            whole = _error(lambda: export(read_any(src, **read), dst))  # noqa: B023 - called at once
            streamed = _error(lambda: convert_streaming(src, dst, read_options=read))  # noqa: B023
            assert streamed == whole, name
            assert not dst.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".kff-")]


def test_convert_and_the_cli_take_the_streaming_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _take(tmp_path / "take.csv", 100)
    opened: list[Path] = []
    original = livelink_stream.open_livelink_take

    def spy(source: Any, **options: Any) -> Any:
        opened.append(Path(source))
        return original(source, **options)

    monkeypatch.setattr(livelink_stream, "open_livelink_take", spy)
    expected = {}
    for fmt in ("json", "csv"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export(read_any(src), tmp_path / f"whole.{fmt}")
            convert(src, tmp_path / f"api.{fmt}")
            assert main(["convert", str(src), "-o", str(tmp_path / f"cli.{fmt}"), "-q"]) == 0
        expected[fmt] = (tmp_path / f"whole.{fmt}").read_bytes()
        assert (tmp_path / f"api.{fmt}").read_bytes() == expected[fmt]
        assert (tmp_path / f"cli.{fmt}").read_bytes() == expected[fmt]
    assert len(opened) == 4
    # A folder output streams too; npz and glTF keep the whole-take path.
    folder = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        convert(src, f"{folder}/")
    assert (folder / "take.json").read_bytes() == expected["json"]
    assert len(opened) == 5
    assert not can_stream(src, find_writer(None, format="npz"))
    assert can_stream(src, find_writer(None, format="csv"))
    assert not can_stream(tmp_path / "whole.json", find_writer(None, format="csv"))


def test_blocks_are_the_readers_frames(tmp_path: Path) -> None:
    src = _take(tmp_path / "take.csv", 300, lost=lambda i: i % 9 == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anim = read_any(src)
        with open_livelink_take(src) as take:
            for rows in (1, 64, 1000):
                frames = np.concatenate(list(take.blocks(rows)))
                np.testing.assert_array_equal(frames, anim.frames)
            assert take.head.fps == anim.fps and take.head.meta == anim.meta
            np.testing.assert_array_equal(take.frame_times(), anim.frame_times())
            assert take.valid is not None and anim.valid is not None
            np.testing.assert_array_equal(take.valid, anim.valid)
            with pytest.raises(KeyframeFaceError, match="positive integer"):
                next(take.blocks(0))


def _peak(call: Callable[[], Any]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        try:
            call()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_streaming_memory_is_bounded_by_a_block(tmp_path: Path) -> None:
    """Python-level peak allocations (numpy's included): the whole-take path holds the take more than once over;
    the streaming path a block and its text (~9 MB, whatever the take) plus ~0.1 KB a row of timecodes."""
    small, big = _take(tmp_path / "small.csv", 5_000), _take(tmp_path / "big.csv", 20_000)
    whole = _peak(lambda: export(read_any(big), tmp_path / "whole.json"))
    streamed = _peak(lambda: convert_streaming(big, tmp_path / "big.json"))
    streamed_small = _peak(lambda: convert_streaming(small, tmp_path / "small.json"))
    assert (tmp_path / "big.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    size, size_small = big.stat().st_size, small.stat().st_size
    print(f"{size / 1e6:.1f} MB take: peak {whole / 1e6:.1f} MB whole, {streamed / 1e6:.1f} MB streamed "
          f"({streamed_small / 1e6:.1f} MB for {size_small / 1e6:.1f} MB)")
    assert whole > 1.5 * size
    assert streamed < whole / 2.5
    assert streamed - streamed_small < 0.1 * (size - size_small)  # grows by under 10% of the extra input
