"""The 61 ARKit / Live Link Face channels: the one place that defines them.

Order is Live Link Face's (the KeyframeFace release and MetaHuman use it): 52 blendshapes in [0, 1], then nine
pose channels in [-1, 1]. Note that the Live Link order has ``JawRight, JawLeft`` and ``MouthRight, MouthLeft``.
Left/Right always mean the subject's own side.

Everything else in the package imports names, ranges, groups and mirror pairs from here and keys values by name,
never by column position.

Eye-rotation convention (documented in ``docs/conventions.md``; measured on the real Live Link Face captures in
``shared/realdata``, r > 0.96 over 36,577 frames, see ``shared/reference/FACS.md``):

* eye pitch = 0.51 x (eyeLookDown - eyeLookUp): positive looks **down**;
* eye yaw = 0.6 x (gaze toward the subject's right), for both eyes: the left eye's ``EyeLookInLeft`` and the right
  eye's ``EyeLookOutRight`` look toward the subject's right.

The published KeyframeFace model writes the opposite pitch sign; files it produced are passed through unchanged by
``convert`` (so they match the release's own CSV) and everything keyframeface generates follows the capture
convention.

Head and eye rotations as 3D rotations (:func:`pose_quaternions`), the same convention for ``HeadYaw/Pitch/Roll``
and for each eye's ``Yaw/Pitch/Roll``, in glTF axes (metres, +Y up, the face looks toward +Z, the subject's left
at +X):

* yaw > 0 turns toward the subject's **right** (-X): a rotation of -yaw about +Y;
* pitch > 0 looks **down**: a rotation of +pitch about +X (it carries +Z toward -Y);
* roll > 0 tilts the top of the head toward the subject's **right** shoulder: a rotation of +roll about +Z;
* composed yaw, then pitch, then roll, each about the already turned axes (q = q_yaw * q_pitch * q_roll), the
  order of Unreal's FRotator that MetaHuman uses.

Scale: one normalised unit is one radian (:data:`RADIANS_PER_UNIT`). Unreal's ARKit face support maps the
tracked angle's -180..180 degrees to -1..1 (UE4 ``AppleARKitConversion.h``, ``ToBlendShapeMap``: "Map the
-180..180 range to -1..1"), but the values that the Live Link Face app records do not fit that reading: in the
real captures in ``shared/realdata`` (27,256 frames with rotation columns) the eye yaw reaches 0.66, which
would be 119 degrees, beyond what an eye can turn; read as radians it is 38 degrees, about the eye's limit,
and the eye pitch's 0.40 is 23 degrees. The open-source Live Link senders do the same (MeFaMo sends
``transforms3d.euler.mat2euler`` radians as HeadYaw/HeadPitch/HeadRoll). Pass ``radians_per_unit=math.pi`` for
the UE plugin's reading.

An eye whose rotation channels say nothing (yaw and pitch zero on every frame given) while its eyeLook shapes move
(ARKit-only sources such as MediaPipe) turns by the rotation its eyeLook shapes imply (:func:`eye_angles`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from .errors import ScriptError

__all__ = [
    "BLENDSHAPES",
    "CHANNELS",
    "CHANNEL_INDEX",
    "EYE_PITCH_GAIN",
    "EYE_YAW_GAIN",
    "GROUPS",
    "HIGH",
    "LOW",
    "MIRROR_PAIRS",
    "NUM_BLENDSHAPES",
    "NUM_CHANNELS",
    "POSE",
    "RADIANS_PER_UNIT",
    "ClampReport",
    "canonical_name",
    "clamp",
    "expand_sides",
    "eye_angles",
    "eye_rotations_from_look",
    "eyes_follow_look",
    "group_of",
    "is_ignored_name",
    "mirror",
    "neutral",
    "pose_quaternions",
    "sync_eye_rotations",
    "to_array",
    "to_dict",
    "try_canonical_name",
]

BLENDSHAPES: Final[tuple[str, ...]] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft",
    "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft",
    "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)  # fmt: skip
POSE: Final[tuple[str, ...]] = (
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip
CHANNELS: Final[tuple[str, ...]] = BLENDSHAPES + POSE
NUM_BLENDSHAPES: Final[int] = len(BLENDSHAPES)  # 52
NUM_CHANNELS: Final[int] = len(CHANNELS)  # 61
CHANNEL_INDEX: Final[Mapping[str, int]] = {name: i for i, name in enumerate(CHANNELS)}

#: Lower and upper bound of every channel, (61,) float32, in CHANNELS order.
LOW: Final[np.ndarray] = np.array([0.0] * NUM_BLENDSHAPES + [-1.0] * len(POSE), dtype=np.float32)
HIGH: Final[np.ndarray] = np.ones(NUM_CHANNELS, dtype=np.float32)
LOW.setflags(write=False)
HIGH.setflags(write=False)

# Gains of the capture convention (shared/reference/FACS.md, "Conventions measured on real Live Link Face captures").
EYE_PITCH_GAIN: Final[float] = 0.51
EYE_YAW_GAIN: Final[float] = 0.6


def _names(*prefixes: str) -> tuple[str, ...]:
    return tuple(n for n in BLENDSHAPES if n.startswith(prefixes))


#: Channel groups, each a tuple of canonical names; every channel belongs to exactly one group.
GROUPS: Final[Mapping[str, tuple[str, ...]]] = {
    "brows": _names("Brow"),
    "eyes": ("EyeBlinkLeft", "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight", "EyeSquintRight", "EyeWideRight"),
    "gaze": _names("EyeLook"),
    "cheeks": _names("Cheek"),
    "nose": _names("Nose"),
    "jaw": _names("Jaw"),
    "mouth": _names("Mouth"),
    "tongue": ("TongueOut",),
    "head": ("HeadYaw", "HeadPitch", "HeadRoll"),
    "eye_rotation": POSE[3:],
}
_GROUP_OF: dict[str, str] = {name: group for group, names in GROUPS.items() for name in names}
assert len(_GROUP_OF) == NUM_CHANNELS, "every channel must be in exactly one group"


def _partner(name: str) -> str | None:
    for a, b in (("Left", "Right"), ("Right", "Left")):
        if a in name:
            return name.replace(a, b)
    return None


#: Left/right mirror pairs (left name, right name), subject's own side.
MIRROR_PAIRS: Final[tuple[tuple[str, str], ...]] = tuple(
    (name, partner)
    for name in CHANNELS
    if "Left" in name and (partner := _partner(name) or "") in CHANNEL_INDEX
)
# Pose channels whose sign flips when the face is mirrored (yaw and roll turn the other way; pitch does not).
_MIRROR_NEGATE: Final[tuple[str, ...]] = (
    "HeadYaw", "HeadRoll", "LeftEyeYaw", "LeftEyeRoll", "RightEyeYaw", "RightEyeRoll",
)  # fmt: skip
_MIRROR_PERM = np.arange(NUM_CHANNELS)
for _l, _r in MIRROR_PAIRS:
    _MIRROR_PERM[CHANNEL_INDEX[_l]], _MIRROR_PERM[CHANNEL_INDEX[_r]] = CHANNEL_INDEX[_r], CHANNEL_INDEX[_l]
_MIRROR_SIGN = np.ones(NUM_CHANNELS, dtype=np.float32)
for _n in _MIRROR_NEGATE:
    _MIRROR_SIGN[CHANNEL_INDEX[_n]] = -1.0

# ---------------------------------------------------------------------------------------------- name aliases
_IGNORED: Final[frozenset[str]] = frozenset({"neutral"})  # MediaPipe's "_neutral" score is not a channel


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_ALIASES: dict[str, str] = {_key(n): n for n in CHANNELS}
for _side in ("Left", "Right"):
    for _axis in ("Yaw", "Pitch", "Roll"):
        # EyeYawLeft, eye_yaw_l, LeftEye_Yaw ...
        _ALIASES[_key(f"Eye{_axis}{_side}")] = f"{_side}Eye{_axis}"
_SIDE_SUFFIX = re.compile(r"^(?P<stem>.+?)[\s_.\-]+(?P<side>l|r|left|right)$", re.IGNORECASE)
_SIDE_PREFIX = re.compile(r"^(?P<side>l|r|left|right)[\s_.\-]+(?P<stem>.+)$", re.IGNORECASE)


def try_canonical_name(name: str) -> str | None:
    """Return the canonical channel name for any accepted spelling, or ``None`` if unknown.

    Accepted, case-insensitively: Live Link names (``EyeBlinkLeft``), ARKit camelCase (``eyeBlinkLeft``), MediaPipe
    names, snake case (``eye_blink_left``), ``_L``/``_R``/``.L``/``Left_`` forms (``eyeBlink_L``, ``L_eyeBlink``) and
    eye-rotation variants (``eyeYaw_L``). ``_neutral`` is not a channel: see :func:`is_ignored_name`.
    """
    if not isinstance(name, str) or len(name) > 100:
        return None
    key = _key(name)
    if key in _ALIASES:
        return _ALIASES[key]
    for pattern in (_SIDE_SUFFIX, _SIDE_PREFIX):
        m = pattern.match(name.strip())
        if m:
            side = "Left" if m.group("side").lower().startswith("l") else "Right"
            found = _ALIASES.get(_key(m.group("stem") + side))
            if found:
                return found
    return None


def is_ignored_name(name: str) -> bool:
    """True for names that are accepted on input but carry no channel (MediaPipe's ``_neutral``)."""
    return isinstance(name, str) and _key(name) in _IGNORED


def canonical_name(name: str, *, field: str | None = None) -> str:
    """Like :func:`try_canonical_name` but raises :class:`ScriptError` naming the unknown channel."""
    found = try_canonical_name(name)
    if found is None:
        shown = name[:60] if isinstance(name, str) else repr(type(name).__name__)
        raise ScriptError(
            f"unknown channel {shown!r}; expected one of the 61 Live Link Face names such as EyeBlinkLeft, "
            "JawOpen or HeadYaw (ARKit camelCase, MediaPipe and _L/_R spellings are accepted too)",
            field=field,
        )
    return found


def expand_sides(
    spec: Mapping[str, float], *, allowed: Collection[str] = (), table: str = "a channel table"
) -> dict[str, float]:
    """Expand a built-in table's ``"Name*"`` entries to both sides: ``{"EyeWide*": v}`` -> ``EyeWideLeft`` and
    ``EyeWideRight`` = v; other names are kept. Every resulting name must be a channel or in ``allowed``; anything
    else is a bug in the table and raises ``ValueError`` naming ``table``."""
    out: dict[str, float] = {}
    for name, value in spec.items():
        if name.endswith("*"):
            out[name[:-1] + "Left"] = value
            out[name[:-1] + "Right"] = value
        else:
            out[name] = value
    for name in out:
        if name not in CHANNEL_INDEX and name not in allowed:
            raise ValueError(f"unknown channel {name!r} in {table}")
    return out


def group_of(name: str) -> str:
    """The group ('brows', 'eyes', 'gaze', 'cheeks', 'nose', 'jaw', 'mouth', 'tongue', 'head', 'eye_rotation')."""
    return _GROUP_OF[canonical_name(name)]


# ------------------------------------------------------------------------------------------------ value helpers
def neutral() -> np.ndarray:
    """The neutral face: (61,) float32 zeros."""
    return np.zeros(NUM_CHANNELS, dtype=np.float32)


def to_array(values: Mapping[str, float], *, default: float = 0.0, field: str | None = None) -> np.ndarray:
    """Values keyed by any accepted channel spelling -> (61,) float32 in CHANNELS order.

    Missing channels get ``default``; unknown names raise :class:`ScriptError`; ignored names are skipped.
    Values are not clamped (see :func:`clamp`).
    """
    out = np.full(NUM_CHANNELS, default, dtype=np.float32)
    seen: dict[str, str] = {}
    for name, value in values.items():
        if is_ignored_name(name):
            continue
        canonical = canonical_name(name, field=field)
        if canonical in seen:
            raise ScriptError(f"{seen[canonical]!r} and {name[:60]!r} both mean {canonical}; give it once", field=field)
        seen[canonical] = name
        out[CHANNEL_INDEX[canonical]] = float(value)
    return out


def to_dict(values: np.ndarray | Iterable[float], *, digits: int | None = None) -> dict[str, float]:
    """(61,) values in CHANNELS order -> ``{name: float}`` in CHANNELS order (rounded to ``digits`` if given)."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.shape[0] != NUM_CHANNELS:
        raise ScriptError(f"expected {NUM_CHANNELS} values, got {arr.shape[0]}")
    if digits is None:
        return {n: float(v) for n, v in zip(CHANNELS, arr, strict=True)}
    return {n: round(float(v), digits) + 0.0 for n, v in zip(CHANNELS, arr, strict=True)}


@dataclass(frozen=True)
class ClampReport:
    """One clamped value: ``channel`` had ``value`` and now has ``clamped``; ``index`` is the row for 2-D input."""

    channel: str
    value: float
    clamped: float
    index: int | None = None


def clamp(values: np.ndarray, *, max_reports: int = 100) -> tuple[np.ndarray, list[ClampReport]]:
    """Clip (..., 61) values to each channel's range; NaN becomes 0 (neutral).

    Returns the clipped float32 copy and at most ``max_reports`` reports of what changed (the first ones in array
    order; the total number of changed values is not reported).
    """
    arr = np.asarray(values, dtype=np.float32)
    if arr.shape[-1] != NUM_CHANNELS:
        raise ScriptError(f"expected values with {NUM_CHANNELS} channels in the last axis, got shape {arr.shape}")
    fixed = np.nan_to_num(arr, nan=0.0, posinf=np.inf, neginf=-np.inf)
    fixed = np.clip(fixed, LOW, HIGH).astype(np.float32)
    changed = ~((arr == fixed) | (np.isnan(arr) & (fixed == 0)))
    changed |= np.isnan(arr)
    reports: list[ClampReport] = []
    for pos in zip(*np.nonzero(changed), strict=True):
        if len(reports) >= max_reports:
            break
        ch = int(pos[-1])
        row = int(pos[0]) if arr.ndim > 1 else None
        reports.append(ClampReport(CHANNELS[ch], float(arr[pos]), float(fixed[pos]), row))
    return fixed, reports


def mirror(values: np.ndarray) -> np.ndarray:
    """Mirror (..., 61) values left<->right: swap paired channels, negate yaw and roll of head and eyes."""
    arr = np.asarray(values, dtype=np.float32)
    return (arr[..., _MIRROR_PERM] * _MIRROR_SIGN).astype(np.float32)


def eye_rotations_from_look(values: np.ndarray) -> np.ndarray:
    """Eye rotations implied by the eyeLook blendshapes, capture convention: (..., 61) -> (..., 6).

    Order: LeftEyeYaw, LeftEyePitch, LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll (roll is 0).
    Pitch positive = looking down; yaw positive = toward the subject's right.
    """
    v = np.asarray(values, dtype=np.float32)
    i = CHANNEL_INDEX

    def ch(name: str) -> np.ndarray:
        return v[..., i[name]]

    left_yaw = EYE_YAW_GAIN * (ch("EyeLookInLeft") - ch("EyeLookOutLeft"))
    right_yaw = EYE_YAW_GAIN * (ch("EyeLookOutRight") - ch("EyeLookInRight"))
    left_pitch = EYE_PITCH_GAIN * (ch("EyeLookDownLeft") - ch("EyeLookUpLeft"))
    right_pitch = EYE_PITCH_GAIN * (ch("EyeLookDownRight") - ch("EyeLookUpRight"))
    zero = np.zeros_like(left_yaw)
    out = np.stack([left_yaw, left_pitch, zero, right_yaw, right_pitch, zero], axis=-1)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def sync_eye_rotations(values: np.ndarray) -> np.ndarray:
    """Return a copy of (..., 61) values whose eye yaw/pitch follow the eyeLook channels (rolls kept)."""
    out = np.array(values, dtype=np.float32, copy=True)
    rot = eye_rotations_from_look(out)
    i = CHANNEL_INDEX
    for k, name in ((0, "LeftEyeYaw"), (1, "LeftEyePitch"), (3, "RightEyeYaw"), (4, "RightEyePitch")):
        out[..., i[name]] = rot[..., k]
    return out


# ----------------------------------------------------------------------------------------- rotations in 3D
#: Radians per normalised unit of the head and eye rotation channels (evidence in the module docstring).
RADIANS_PER_UNIT: Final = 1.0


def eyes_follow_look(values: np.ndarray, side: str) -> bool:
    """Whether :func:`eye_angles` turns the ``side`` eye (``"Left"`` / ``"Right"``) by its eyeLook shapes: its yaw
    and pitch channels are zero on every frame of ``values`` (T, 61) while one of its eyeLook shapes is not."""
    v = np.asarray(values).reshape(-1, NUM_CHANNELS)
    i = CHANNEL_INDEX
    look = v[:, [i[f"EyeLook{d}{side}"] for d in ("In", "Out", "Up", "Down")]]
    return bool(not v[:, i[f"{side}EyeYaw"]].any() and not v[:, i[f"{side}EyePitch"]].any() and look.any())


def eye_angles(values: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yaw, pitch, roll), each (T,), of the ``side`` eye (``"Left"`` / ``"Right"``) over (T, 61) ``values``.

    The eye's own rotation channels, unless they are all zero while its eyeLook shapes move
    (:func:`eyes_follow_look`): then yaw and pitch are those :func:`eye_rotations_from_look` implies (roll kept).
    Decided over all the frames given, so pass one frame as (1, 61) to decide frame by frame.
    """
    v = np.asarray(values).reshape(-1, NUM_CHANNELS)
    i = CHANNEL_INDEX
    yaw, pitch, roll = (v[:, i[f"{side}Eye{a}"]] for a in ("Yaw", "Pitch", "Roll"))
    if eyes_follow_look(v, side):
        derived = eye_rotations_from_look(v)
        k = 0 if side == "Left" else 3
        return derived[:, k], derived[:, k + 1], roll
    return yaw, pitch, roll


def _axis_quaternions(angle: np.ndarray, axis: int) -> np.ndarray:
    q = np.zeros((angle.shape[0], 4))
    q[:, axis] = np.sin(angle / 2.0)
    q[:, 3] = np.cos(angle / 2.0)
    return q


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (T, 4) xyzw quaternions: the rotation b, then a."""
    ax, ay, az, aw = a.T
    bx, by, bz, bw = b.T
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def pose_quaternions(
    yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray, *, radians_per_unit: float = RADIANS_PER_UNIT
) -> np.ndarray:
    """Normalised yaw/pitch/roll (T,) each -> (T, 4) float32 unit quaternions (x, y, z, w) in glTF axes.

    Signs and order as in the module docstring. Consecutive quaternions are kept in the same hemisphere, so
    linear interpolation between frames takes the short way round.
    """
    y = np.asarray(yaw, dtype=np.float64).reshape(-1) * radians_per_unit
    p = np.asarray(pitch, dtype=np.float64).reshape(-1) * radians_per_unit
    r = np.asarray(roll, dtype=np.float64).reshape(-1) * radians_per_unit
    q = _multiply(_multiply(_axis_quaternions(-y, 1), _axis_quaternions(p, 0)), _axis_quaternions(r, 2))
    if len(q) > 1:
        flips = np.einsum("ij,ij->i", q[1:], q[:-1]) < 0
        sign = np.concatenate([[1.0], np.where(np.cumsum(flips) % 2 == 1, -1.0, 1.0)])
        q *= sign[:, None]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.astype(np.float32)
