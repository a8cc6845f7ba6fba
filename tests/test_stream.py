"""Live Link Face UDP packets and the real-time streamer, checked with an independent decoder (pylivelinkface)."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

from keyframeface import rig
from keyframeface.errors import FormatError
from keyframeface.io.livelink_udp import (
    ARKIT_ORDER,
    decode_packet,
    encode_packet,
    frame_rate_fraction,
    new_device_id,
)
from keyframeface.script import Animation
from keyframeface.stream import parse_address, resample, stream


def _values(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0, 1, rig.NUM_CHANNELS).astype(np.float32)
    v[rig.NUM_BLENDSHAPES :] = rng.uniform(-1, 1, len(rig.POSE))
    return v


def test_arkit_order_swaps_only_the_two_left_right_pairs() -> None:
    moved = [(a, b) for a, b in zip(rig.CHANNELS, ARKIT_ORDER, strict=True) if a != b]
    assert sorted(moved) == sorted(
        [("JawRight", "JawLeft"), ("JawLeft", "JawRight"), ("MouthRight", "MouthLeft"), ("MouthLeft", "MouthRight")]
    )


def test_packet_round_trip_by_name() -> None:
    v = _values()
    ident = new_device_id()
    packet = decode_packet(encode_packet(v, device_id=ident, subject="Face", frame=42, subframe=0.25, rate=(60, 1)))
    assert (packet.values == v).all()
    assert (packet.device_id, packet.subject, packet.frame, packet.subframe, packet.rate) == (ident, "Face", 42, 0.25, (60, 1))
    assert len(ident) == 36


def test_independent_decoder_reads_every_channel_by_name() -> None:
    pll = pytest.importorskip("pylivelinkface", reason="pylivelinkface (independent Live Link decoder) not installed")
    v = _values(1)
    data = encode_packet(v, device_id=new_device_id(), subject="MetaHuman", frame=7, rate=(30000, 1001))
    ok, face = pll.PyLiveLinkFace.decode(data)
    assert ok and face.name == "MetaHuman" and face._frames == 7 and face.fps == 30000 and face._denominator == 1001
    for name in rig.CHANNELS:
        assert face.get_blendshape(pll.FaceBlendShape[name]) == pytest.approx(float(v[rig.CHANNEL_INDEX[name]]), abs=1e-7), name


def test_mapping_values_and_bad_arguments() -> None:
    data = encode_packet({"jawOpen": 0.5, "JawLeft": 0.25}, device_id=new_device_id(), subject="s", frame=0)
    got = decode_packet(data).values
    assert got[rig.CHANNEL_INDEX["JawOpen"]] == 0.5 and got[rig.CHANNEL_INDEX["JawLeft"]] == 0.25
    assert got.sum() == pytest.approx(0.75)
    with pytest.raises(FormatError, match="36-character UUID"):
        encode_packet(_values(), device_id="iphone", subject="s", frame=0)
    with pytest.raises(FormatError, match="subject"):
        encode_packet(_values(), device_id=new_device_id(), subject="", frame=0)
    with pytest.raises(FormatError, match="finite"):
        encode_packet(np.full(61, np.nan), device_id=new_device_id(), subject="s", frame=0)
    with pytest.raises(FormatError, match="Live Link Face packet"):
        decode_packet(b"\x06\x00\x00")


def test_frame_rate_fraction() -> None:
    assert frame_rate_fraction(60) == (60, 1)
    assert frame_rate_fraction(29.97) == (30000, 1001)
    assert frame_rate_fraction(59.94) == (60000, 1001)
    assert frame_rate_fraction(25.0) == (25, 1)
    with pytest.raises(FormatError):
        frame_rate_fraction(0)


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:11111") == ("127.0.0.1", 11111)
    assert parse_address("localhost") == ("localhost", 11111)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    for bad in ("127.0.0.1:0", "host:port", ":11111", "[::1"):
        with pytest.raises(FormatError):
            parse_address(bad)


def test_resample_keeps_ends_and_rate() -> None:
    frames = np.zeros((61, 61), dtype=np.float32)
    frames[:, 17] = np.linspace(0, 1, 61)
    anim = Animation(frames=frames, fps=60.0)
    out = resample(anim, 30.0)
    assert out.shape == (31, 61) and out[0, 17] == 0 and out[-1, 17] == pytest.approx(1.0)


def _receiver(n: int) -> tuple[socket.socket, list[bytes], threading.Thread]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    got: list[bytes] = []

    def run() -> None:
        while len(got) < n:
            try:
                got.append(sock.recv(4096))
            except OSError:
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return sock, got, thread


def test_stream_sends_every_frame_in_order_at_pace() -> None:
    frames = np.tile(_values(2), (12, 1))
    frames[:, rig.CHANNEL_INDEX["JawOpen"]] = np.linspace(0, 1, 12)
    anim = Animation(frames=frames, fps=60.0)
    sock, got, thread = _receiver(24)
    fake = [0.0]

    def clock() -> float:
        return fake[0]

    def sleep(s: float) -> None:
        fake[0] += s

    def spin_clock() -> float:  # advance time a little on each look so the spin loop ends
        fake[0] += 1e-4
        return fake[0]

    try:
        report = stream(anim, "127.0.0.1", sock.getsockname()[1], subject="T", loop=2, clock=spin_clock, sleep=sleep)
        thread.join(5)
    finally:
        sock.close()
    assert report.packets == 24 and len(got) == 24
    packets = [decode_packet(g) for g in got]
    assert [p.frame - packets[0].frame for p in packets] == list(range(24))
    jaw = [p.values[rig.CHANNEL_INDEX["JawOpen"]] for p in packets]
    np.testing.assert_allclose(jaw[:12], frames[:, rig.CHANNEL_INDEX["JawOpen"]])
    np.testing.assert_allclose(jaw[12:], jaw[:12])
    assert report.duration_s == pytest.approx(23 / 60, abs=0.01)
    assert clock() > 0


def test_cli_stream_end_to_end(tmp_path) -> None:
    from keyframeface.cli.main import main
    from keyframeface.io.registry import export

    anim = Animation(frames=np.tile(_values(3), (6, 1)), fps=60.0)
    path = tmp_path / "a.json"
    export(anim, path)
    sock, got, thread = _receiver(6)
    try:
        assert main(["-q", "stream", str(path), "--to", f"127.0.0.1:{sock.getsockname()[1]}", "--subject", "Ana"]) == 0
        thread.join(5)
    finally:
        sock.close()
    assert len(got) == 6 and decode_packet(got[0]).subject == "Ana"
    np.testing.assert_allclose(decode_packet(got[-1]).values, anim.frames[-1], atol=1e-6)
