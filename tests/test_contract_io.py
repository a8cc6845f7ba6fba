"""The contract every writer and reader honours, run against every registered one.

A new format is tested by registering it: each writer must give the same bytes twice, the same bytes to a file as
:func:`export_bytes`, leave a previous file untouched when it fails half-way, and read back (where a reader takes
its extension) to the values it wrote. Each reader must recognise what the matching writer wrote, also without
the extension when it has a sniffer.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.errors import FormatError
from keyframeface.io import registry
from keyframeface.io.registry import (
    READ_FORMATS,
    READERS,
    WRITERS,
    export,
    export_bytes,
    find_reader,
    read_any,
)
from keyframeface.script import Animation, Keyframes, Script

#: How close the text formats read back (six decimals by default); binary formats are exact.
_TOLERANCE = {"csv": 1e-6, "json": 1e-6}


def _anim() -> Animation:
    rng = np.random.default_rng(7)
    frames = rng.uniform(rig.LOW, rig.HIGH, size=(80, rig.NUM_CHANNELS)).astype(np.float32)
    return Animation(frames=frames, fps=60.0, meta={"source": "contract"})


def _keyframes() -> Keyframes:
    v = np.round(np.random.default_rng(3).uniform(rig.LOW, rig.HIGH, size=(3, rig.NUM_CHANNELS)), 2)
    return Keyframes.from_array(v, times_s=[0.0, 0.5, 1.25], descriptions=["calm", "smile", "laugh"])


def _writer_or_skip(name: str) -> registry.Writer:
    writer = WRITERS[name]
    try:
        writer.load()
    except FormatError as exc:
        pytest.skip(f"the {name} writer cannot run here: {exc}")
    return writer


@pytest.mark.parametrize("name", list(WRITERS))
@pytest.mark.parametrize("make", [_anim, _keyframes], ids=["animation", "keyframes"])
def test_writer_is_deterministic_and_export_equals_export_bytes(name: str, make: Any, tmp_path: Path) -> None:
    writer = _writer_or_skip(name)
    first = export_bytes(make(), name)
    assert first and first == export_bytes(make(), name)
    path = export(make(), tmp_path / f"out{writer.extensions[0]}", format=name)
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


@pytest.mark.parametrize("name", list(WRITERS))
def test_writer_round_trips_through_its_reader(name: str, tmp_path: Path) -> None:
    writer = _writer_or_skip(name)
    ext = writer.extensions[0]
    if ext not in READ_FORMATS:
        pytest.skip(f"{ext} files are written only (no reader)")
    anim = _anim()
    back = read_any(export(anim, tmp_path / f"a{ext}", format=name))
    assert isinstance(back, Animation) and back.frames.shape == anim.frames.shape
    np.testing.assert_allclose(back.frames, anim.frames, atol=_TOLERANCE.get(name, 0.0))


class _FailingStream(io.RawIOBase):
    """Writes part of the first chunk to the real file, then fails like a full disk."""

    def __init__(self, real: IO[bytes]) -> None:
        self.real = real

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.real.write(bytes(data)[: max(1, len(data) // 2)])
        raise OSError("disk full (contract test)")


@pytest.mark.parametrize("name", list(WRITERS))
def test_writer_failing_half_way_leaves_the_previous_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _writer_or_skip(name)
    if not writer.stream:
        pytest.skip("a path writer is atomic on its own")
    target = tmp_path / f"a{writer.extensions[0]}"
    export(_anim(), target, format=name)
    before = target.read_bytes()
    real_open = registry.atomic_open

    @contextlib.contextmanager
    def failing_open(path: Any, mode: Any = "wb") -> Iterator[Any]:
        with real_open(path, mode) as handle:
            yield _FailingStream(handle)

    monkeypatch.setattr(registry, "atomic_open", failing_open)
    with pytest.raises(OSError, match="disk full"):
        export(_anim(), target, format=name)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize("name", list(WRITERS))
def test_writer_refuses_unknown_options(name: str) -> None:
    _writer_or_skip(name)
    with pytest.raises(FormatError, match="does not take option 'no_such_option'"):
        export_bytes(_anim(), name, no_such_option=1)


# ----------------------------------------------------------------------------------------------- readers
def _written_by(reader: registry.Reader) -> registry.Writer | None:
    return next((w for w in WRITERS.values() if set(w.extensions) & set(reader.extensions)), None)


@pytest.mark.parametrize("name", list(READERS))
def test_reader_reads_what_the_writer_wrote_with_and_without_extension(name: str, tmp_path: Path) -> None:
    reader = READERS[name]
    writer = _written_by(reader)
    if writer is None:
        pytest.skip(f"no writer writes {', '.join(reader.extensions)} (tested with real files in its own tests)")
    _writer_or_skip(writer.name)
    path = export(_keyframes(), tmp_path / f"k{reader.extensions[0]}", format=writer.name)
    assert find_reader(path) is reader
    got = read_any(path)
    assert isinstance(got, (Script, Keyframes, Animation))
    if reader.sniff is not None:
        bare = tmp_path / "no_extension"
        bare.write_bytes(path.read_bytes())
        assert find_reader(bare) is reader
        assert type(read_any(bare)) is type(got)


@pytest.mark.parametrize("name", list(READERS))
def test_reader_fails_cleanly_on_a_missing_file(name: str, tmp_path: Path) -> None:
    reader = READERS[name]
    try:
        reader.load()
    except FormatError as exc:
        pytest.skip(f"the {name} reader cannot run here: {exc}")
    with pytest.raises(FormatError):
        read_any(tmp_path / f"missing{reader.extensions[0]}")


def test_read_formats_are_the_readers_extensions() -> None:
    assert list(READ_FORMATS) == [ext for r in READERS.values() for ext in r.extensions]
    assert list(READ_FORMATS)[:6] == [".csv", ".json", ".yaml", ".yml", ".npz", ".jsonl"]
