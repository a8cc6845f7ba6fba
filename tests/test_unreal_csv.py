"""Our Live Link CSVs read by a re-implementation of Unreal's importer timing logic (``unreal_llf_importer``).

Unreal infers the frame field's rate (30 or 60) from the file and aborts at a row with the wrong number of cells;
the writer must give the animation's own frame times at every rate and never write a row that stops it.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.io.livelink_csv import read_livelink_csv, write_keyframes_csv, write_livelink_csv
from keyframeface.io.registry import export_bytes
from keyframeface.script import Animation, Keyframes
from unreal_llf_importer import import_csv

#: Written precision of a time: 3 sub-frame digits of a 60 fps frame field.
PRECISION_S = 1 / 60000
#: "Zero timing error" for rates the precision represents exactly: float arithmetic only.
EXACT = 1e-9


def _anim(fps: float, n: int, *, start: float | None = None, valid: np.ndarray | None = None) -> Animation:
    frames = np.random.default_rng(n).uniform(0, 1, size=(n, rig.NUM_CHANNELS)).astype(np.float32)
    times = None if start is None else start + np.arange(n) / fps
    return Animation(frames=frames, fps=fps, times_s=times, valid=valid)


def _written(anim: Animation, **options: object) -> str:
    buf = io.StringIO()
    write_livelink_csv(anim, buf, **options)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60, 120])
@pytest.mark.parametrize("start", [None, 45296.0, 45296.37])
def test_unreal_reads_every_rate_at_the_animation_frame_times(fps: int, start: float | None) -> None:
    anim = _anim(fps, 5 * fps, start=start)  # five seconds
    got = import_csv(_written(anim))
    assert got.rate == 60 and got.stopped_at is None
    assert got.names == list(rig.CHANNELS)
    expected = anim.frame_times()
    if start is None or start == 45296.0:  # frame times on the 1/60000 s grid: no error at all
        np.testing.assert_allclose(got.times, expected, rtol=0, atol=EXACT)
    else:  # a start time between grid points: rounded once to the written precision, never more
        np.testing.assert_allclose(got.times, expected, rtol=0, atol=PRECISION_S / 2 + EXACT)
    np.testing.assert_allclose(got.values, anim.frames, atol=0.5e-10 + 1e-7)  # 10 decimals like the app


@pytest.mark.parametrize("fps", [23.976, 29.97, 59.94, 47.952])
def test_unreal_reads_non_integer_rates_to_the_written_precision(fps: float) -> None:
    anim = _anim(fps, 300)
    got = import_csv(_written(anim))
    assert got.rate == 60 and got.stopped_at is None
    np.testing.assert_allclose(got.times, anim.frame_times(), rtol=0, atol=PRECISION_S / 2 + EXACT)


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60, 120])
def test_a_clip_too_short_to_show_frame_31_starts_there(fps: int) -> None:
    anim = _anim(fps, max(2, fps // 4))  # a quarter of a second: every frame field would be 30 or less
    got = import_csv(_written(anim))
    assert got.rate == 60 and got.stopped_at is None
    shift = got.times[0] - anim.frame_times()[0]
    assert shift == pytest.approx(31 / 60, abs=EXACT)  # the first row at frame 31 of its second
    np.testing.assert_allclose(np.array(got.times) - shift, anim.frame_times(), rtol=0, atol=EXACT)
    # Our reader reads the file back at the same rate and spacing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shorter than a second: the rate is assumed
        back = read_livelink_csv(io.StringIO(_written(anim)))
    assert back.meta["timecode_fps"] == 60 and back.fps == fps
    assert back.times_s is not None
    np.testing.assert_allclose(back.times_s, got.times, rtol=0, atol=EXACT)


def test_whole_seconds_are_left_where_they_are() -> None:
    # Frame fields all 0 read the same at 30 and 60: the release's one keyframe a second stays unmoved.
    keys = Keyframes.from_array(np.full((3, rig.NUM_CHANNELS), 0.2, dtype=np.float32))
    text = export_bytes(keys, "csv").decode()
    assert [line[:15] for line in text.splitlines()[1:]] == ["00:00:00:00.000", "00:00:01:00.000", "00:00:02:00.000"]
    got = import_csv(text)
    assert got.times == [0.0, 1.0, 2.0] and got.stopped_at is None


def test_keyframes_on_half_seconds_are_read_at_60() -> None:
    keys = Keyframes.from_array(np.full((3, rig.NUM_CHANNELS), 0.2, dtype=np.float32), times_s=[0.0, 0.5, 1.0])
    buf = io.StringIO()
    write_keyframes_csv(keys, buf)
    got = import_csv(buf.getvalue())
    assert got.rate == 60
    np.testing.assert_allclose(np.diff(got.times), [0.5, 0.5], rtol=0, atol=EXACT)


@pytest.mark.parametrize("mode, rows", [("fill", 60), ("drop", 58)])
def test_tracking_loss_never_stops_the_import(mode: str, rows: int) -> None:
    valid = np.ones(60, dtype=bool)
    valid[2:4] = False
    anim = _anim(30, 60, start=100.0, valid=valid)
    with pytest.warns(UserWarning, match="2 tracking-loss rows"):
        text = _written(anim, tracking_loss=mode)
    got = import_csv(text)
    assert got.stopped_at is None and len(got.times) == rows
    expected = anim.frame_times() if mode == "fill" else anim.frame_times()[valid]
    np.testing.assert_allclose(got.times, expected, rtol=0, atol=EXACT)
    if mode == "fill":
        np.testing.assert_allclose(got.values[2], got.values[1])  # held from the last valid frame


def test_keeping_the_apps_tracking_loss_rows_stops_unreal_and_says_so() -> None:
    anim = _anim(60, 120, valid=np.array([True] * 50 + [False] + [True] * 69))
    with pytest.warns(UserWarning, match="Unreal's importer stops"):
        text = _written(anim, tracking_loss="keep")
    assert "\n00:00:00:50.000,0\n" in text
    assert import_csv(text).stopped_at == 51


def test_a_real_capture_converted_for_unreal(realdata_dir: object) -> None:
    from pathlib import Path

    takes = sorted(p for p in Path(str(realdata_dir)).rglob("*.csv") if p.name != "index.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for take in takes[:6]:
            anim = read_livelink_csv(take)
            got = import_csv(_written(anim))
            assert got.rate == 60 and got.stopped_at is None, take.name
            np.testing.assert_allclose(got.times, anim.frame_times(), rtol=0, atol=PRECISION_S / 2 + EXACT)
