"""Live Link Face's UDP packets: what the iPhone app streams to Unreal (port 11111 by default).

One packet per frame, big-endian (Unreal's archive with byte swapping), in this order:

=====================  ==========================================================================================
``uint8``              packet version, 6
``int32`` + bytes      device id: its length, then a 36-character UUID string as the app sends (no terminator);
                       some decoders (``pylivelinkface``) read exactly 37 bytes after the version's first 4 bytes,
                       so the id must be 36 characters
``int32`` + bytes      subject name: its length, then UTF-8 bytes
``int32``              frame number (``FQualifiedFrameTime``: frame at the rate below)
``float32``            sub-frame, the fraction of a frame in [0, 1)
``int32``, ``int32``   frame rate as numerator / denominator (60/1; 30000/1001 for 29.97)
``uint8``              value count, 61
``float32`` x 61       values in ARKit's enum order (``ARKIT_ORDER``): like Live Link Face's CSV columns except
                       that ``JawLeft`` precedes ``JawRight`` and ``MouthLeft`` precedes ``MouthRight``
=====================  ==========================================================================================

Values are always placed by channel name (``rig.CHANNEL_INDEX``), never by column position.
"""

from __future__ import annotations

import math
import re
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import numpy as np

from .. import rig
from ..errors import FormatError

__all__ = [
    "ARKIT_ORDER",
    "DEFAULT_PORT",
    "PACKET_VERSION",
    "LiveLinkPacket",
    "decode_packet",
    "encode_packet",
    "frame_rate_fraction",
    "new_device_id",
]

PACKET_VERSION: Final[int] = 6
DEFAULT_PORT: Final[int] = 11111

#: The order of Apple's ``ARFaceAnchor.BlendShapeLocation`` enum as Unreal's ``EARFaceBlendShape`` lists it, then the
#: nine pose channels. It differs from the CSV's (``rig.CHANNELS``) in two pairs: JawLeft/JawRight, MouthLeft/Right.
ARKIT_ORDER: Final[tuple[str, ...]] = tuple(
    {"JawRight": "JawLeft", "JawLeft": "JawRight", "MouthRight": "MouthLeft", "MouthLeft": "MouthRight"}.get(n, n)
    for n in rig.CHANNELS
)
_TO_PACKET: Final[np.ndarray] = np.array([rig.CHANNEL_INDEX[n] for n in ARKIT_ORDER], dtype=np.intp)
_UUID: Final[re.Pattern[str]] = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_VALUES: Final[struct.Struct] = struct.Struct(">B61f")
_TIME: Final[struct.Struct] = struct.Struct(">ifii")
_MAX_SUBJECT_BYTES: Final[int] = 256


def new_device_id() -> str:
    """A fresh 36-character upper-case UUID string, the form the iPhone app sends."""
    return str(uuid.uuid4()).upper()


def frame_rate_fraction(fps: float) -> tuple[int, int]:
    """``fps`` as Unreal's ``FFrameRate`` numerator / denominator: 60 -> (60, 1), 29.97 -> (30000, 1001).

    NTSC rates (23.976, 29.97, 59.94, 119.88) get the exact x/1001 form; anything else its nearest fraction with a
    denominator up to 1001.
    """
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and 0 < fps <= 1000):
        raise FormatError(f"fps must be a number in (0, 1000], got {fps!r}")
    for base in (24, 30, 60, 120):
        if abs(fps - base * 1000 / 1001) < 5e-3:
            return base * 1000, 1001
    frac = Fraction(float(fps)).limit_denominator(1001)
    return frac.numerator, frac.denominator


@dataclass(frozen=True)
class LiveLinkPacket:
    """One decoded packet. ``values``: (61,) float32 in ``rig.CHANNELS`` order (the CSV's, by name)."""

    device_id: str
    subject: str
    frame: int
    subframe: float
    rate: tuple[int, int]
    values: np.ndarray
    version: int = PACKET_VERSION


def encode_packet(
    values: np.ndarray | Mapping[str, float],
    *,
    device_id: str,
    subject: str,
    frame: int,
    subframe: float = 0.0,
    rate: tuple[int, int] = (60, 1),
) -> bytes:
    """One Live Link Face packet.

    ``values``: (61,) in ``rig.CHANNELS`` order, or a mapping of channel names (any spelling ``rig`` accepts) to
    values, missing names at 0. ``device_id``: a 36-character UUID string. ``subject``: the Live Link subject name
    (non-empty, at most 256 UTF-8 bytes). ``frame``: frame number at ``rate``; ``subframe`` in [0, 1).
    Raises :class:`FormatError` on a bad argument.
    """
    arr = rig.to_array(values) if isinstance(values, Mapping) else np.asarray(values, dtype=np.float32)
    if arr.shape != (rig.NUM_CHANNELS,):
        raise FormatError(f"a packet needs {rig.NUM_CHANNELS} values, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise FormatError("packet values must be finite numbers")
    if not _UUID.match(device_id):
        raise FormatError(f"device id must be a 36-character UUID string, got {device_id!r}")
    name = subject.encode("utf-8")
    if not name or len(name) > _MAX_SUBJECT_BYTES:
        raise FormatError(f"subject name must be 1 to {_MAX_SUBJECT_BYTES} UTF-8 bytes, got {subject!r}")
    if not 0 <= frame < 2**31:
        raise FormatError(f"frame number must be in [0, 2^31), got {frame}")
    if not 0.0 <= subframe < 1.0:
        raise FormatError(f"subframe must be in [0, 1), got {subframe}")
    ident = device_id.encode("ascii")
    return b"".join(
        (
            struct.pack(">Bi", PACKET_VERSION, len(ident)),
            ident,
            struct.pack(">i", len(name)),
            name,
            _TIME.pack(int(frame), float(subframe), int(rate[0]), int(rate[1])),
            _VALUES.pack(rig.NUM_CHANNELS, *arr[_TO_PACKET].astype(np.float32).tolist()),
        )
    )


def decode_packet(data: bytes) -> LiveLinkPacket:
    """Parse one packet written by :func:`encode_packet` or the app; values come back in ``rig.CHANNELS`` order.

    Raises :class:`FormatError` on a truncated or malformed packet.
    """
    try:
        version, id_len = struct.unpack_from(">Bi", data, 0)
        pos = 5
        if not 0 < id_len <= 64:
            raise FormatError(f"device id length {id_len} is out of range")
        device_id = data[pos : pos + id_len].decode("ascii")
        pos += id_len
        (name_len,) = struct.unpack_from(">i", data, pos)
        pos += 4
        if not 0 < name_len <= _MAX_SUBJECT_BYTES:
            raise FormatError(f"subject name length {name_len} is out of range")
        subject = data[pos : pos + name_len].decode("utf-8")
        pos += name_len
        frame, subframe, num, den = _TIME.unpack_from(data, pos)
        pos += _TIME.size
        count = data[pos]
        if count != rig.NUM_CHANNELS or len(data) != pos + 1 + 4 * count:
            raise FormatError(f"expected {rig.NUM_CHANNELS} values after the header, got count {count}")
        packed = np.array(struct.unpack_from(">61f", data, pos + 1), dtype=np.float32)
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise FormatError(f"not a Live Link Face packet ({exc})") from None
    values = np.empty(rig.NUM_CHANNELS, dtype=np.float32)
    values[_TO_PACKET] = packed
    return LiveLinkPacket(device_id, subject, int(frame), float(subframe), (int(num), int(den)), values, int(version))
