"""Stream an animation live to Unreal / MetaHuman as Live Link Face UDP packets, at real-time pace.

In Unreal: Window > Virtual Production > Live Link, Source > Live Link Face (or the app's ARKit source: the
"LiveLinkFace" plugin listens on UDP port 11111); the subject appears under the name given here (``--subject``).
See ``docs/unreal.md``.

Pacing follows an absolute schedule (frame ``i`` is due at ``start + i / fps``), so delays never accumulate; the
function sleeps until a millisecond before each deadline and spins for the rest, which keeps the jitter well below a
frame on an idle machine (``benchmarks/bench_stream.py`` measures it).
"""

from __future__ import annotations

import datetime
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from .errors import FormatError
from .io.livelink_udp import DEFAULT_PORT, encode_packet, frame_rate_fraction, new_device_id
from .script import Animation

__all__ = ["StreamReport", "parse_address", "resample", "stream"]

_SPIN_S: Final[float] = 0.001
_MAX_LOOPS: Final[int] = 1_000_000


@dataclass(frozen=True)
class StreamReport:
    """What was sent: packet count, wall time, and the lateness of each send against its deadline (seconds)."""

    packets: int
    duration_s: float
    fps: float
    late_mean_s: float
    late_p99_s: float
    late_max_s: float


def parse_address(text: str, *, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[v6]:PORT`` for IPv6) -> (host, port). Raises :class:`FormatError` on a bad address."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise FormatError(f"bad address {text!r}: expected [IPv6]:PORT")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise FormatError(f"bad address {text!r}: expected [IPv6]:PORT")
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, text)
    if not host:
        raise FormatError(f"bad address {text!r}: no host (expected HOST:PORT, e.g. 127.0.0.1:{default_port})")
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise FormatError(f"bad address {whole!r}: the port must be a number in 1-65535")
    return int(text)


def resample(anim: Animation, fps: float) -> np.ndarray:
    """The animation's frames at ``fps`` (linear between frames, over its own times): (N, 61) float32."""
    times = anim.frame_times()
    if times.size == 0:
        return np.zeros((0, anim.frames.shape[1]), dtype=np.float32)
    if abs(fps - anim.fps) < 1e-9 and anim.times_s is None:
        return anim.frames
    t_out = times[0] + np.arange(int(np.floor((times[-1] - times[0]) * fps + 1e-9)) + 1) / fps
    out = np.empty((t_out.size, anim.frames.shape[1]), dtype=np.float32)
    for c in range(anim.frames.shape[1]):
        out[:, c] = np.interp(t_out, times, anim.frames[:, c])
    return out


def stream(
    anim: Animation,
    host: str,
    port: int = DEFAULT_PORT,
    *,
    fps: float | None = None,
    subject: str = "keyframeface",
    loop: int = 1,
    device_id: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
    on_frame: Callable[[int, int], None] | None = None,
) -> StreamReport:
    """Send ``anim`` to ``host:port`` as Live Link Face packets, one per frame at ``fps`` (default: its own), in real
    time, ``loop`` times (each pass continues the frame numbers). ``on_frame(sent, total)`` is called after each
    packet (progress). Frame numbers are the time of day at the rate, as the app's timecode.

    Raises :class:`FormatError` for a bad argument, ``OSError`` when the address cannot be resolved or sent to.
    Interrupting (Ctrl-C) stops after the current packet.
    """
    rate = float(fps if fps is not None else anim.fps)
    num, den = frame_rate_fraction(rate)
    if isinstance(loop, bool) or not isinstance(loop, int) or not 1 <= loop <= _MAX_LOOPS:
        raise FormatError(f"loop must be an integer in [1, {_MAX_LOOPS}], got {loop!r}")
    frames = resample(anim, rate)
    if frames.shape[0] == 0:
        raise FormatError("the animation has no frames to stream")
    ident = device_id or new_device_id()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise FormatError(f"cannot resolve the receiver {host}:{port} ({exc.strerror}); check --to HOST:PORT") from None
    family, _, _, _, address = infos[0]
    now = datetime.datetime.now()
    seconds_of_day = now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6
    first_frame = int(seconds_of_day * num / den)
    total = frames.shape[0] * loop
    late = np.zeros(total, dtype=np.float64)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        start = clock()
        for i in range(total):
            packet = encode_packet(
                frames[i % frames.shape[0]], device_id=ident, subject=subject, frame=first_frame + i, rate=(num, den)
            )
            due = start + i / rate
            wait = due - clock()
            if wait > _SPIN_S:
                sleep(wait - _SPIN_S)
            while clock() < due:
                pass
            sent_at = clock()
            sock.sendto(packet, address)
            late[i] = sent_at - due
            if on_frame is not None:
                on_frame(i + 1, total)
        duration = clock() - start
    return StreamReport(
        packets=total,
        duration_s=duration,
        fps=rate,
        late_mean_s=float(late.mean()),
        late_p99_s=float(np.percentile(late, 99)),
        late_max_s=float(late.max()),
    )
