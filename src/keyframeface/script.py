"""Scripts, keyframes and animations: the domain objects and their JSON files.

A :class:`Script` is what a user writes (background, emotion, ordered keyframe descriptions, or one free ``text``).
:class:`Keyframes` is what ``generate`` and ``extract`` produce: the script plus 61 values per keyframe.
:class:`Animation` is what ``animate`` produces: dense frames at a frame rate.

File formats (stable, versioned, see DESIGN.md): a script is a plain object; keyframes are
``{"format": "keyframeface.keyframes", "version": 1, "meta": {...}, "background", "emotion", "keyframes": [...]}``;
animations are ``{"format": "keyframeface.animation", "version": 1, "fps", "channels", "frames", ...}``.
Every loader validates and names the offending field; every writer is atomic.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import rig
from .errors import FormatError, ScriptError
from .io.input import MAX_DOCUMENT_BYTES, read_document_path

__all__ = [
    "ANIMATION_FORMAT",
    "EXTRACTED_BY",
    "FORMAT_VERSION",
    "KEYFRAMES_FORMAT",
    "MAX_DESCRIPTION_CHARS",
    "MAX_FILE_BYTES",
    "MAX_KEYFRAMES",
    "MAX_KEYFRAMES_PER_S",
    "MAX_TEXT_CHARS",
    "Animation",
    "Keyframe",
    "Keyframes",
    "Script",
    "animation_json_chunks",
    "capture_keyframe_limit",
    "document_from_data",
    "json_chunks",
    "keyframe_limit",
    "load_document",
    "load_keyframes",
    "load_script",
    "read_json_file",
    "save_json",
    "script_from_data",
]

KEYFRAMES_FORMAT = "keyframeface.keyframes"
ANIMATION_FORMAT = "keyframeface.animation"
FORMAT_VERSION = 1

#: Limits on user input, so a hostile or accidental huge file fails fast with a clear message.
MAX_KEYFRAMES = 256
MAX_DESCRIPTION_CHARS = 2_000
MAX_TEXT_CHARS = 8_000  # background, emotion, free text
MAX_NAME_CHARS = 200
MAX_TIME_S = 24 * 3600.0
MAX_FRAME_TIME_S = 7 * 24 * 3600.0  # frame times of captures are times of day (Live Link timecodes): a week is plenty
MAX_FILE_BYTES = MAX_DOCUMENT_BYTES  # JSON documents; YAML has a smaller cap (io.input.MAX_YAML_BYTES)
#: ``meta["extractor"]`` of keyframes made by :func:`keyframeface.extract` from a capture.
EXTRACTED_BY = "keyframeface.extract"
#: Keyframes extracted from a capture may number up to this many per second of take (at least MAX_KEYFRAMES): real
#: takes need 1.8-8.4 per second at extract's max_error 0.1 and 6.6 on average at 0.05 (measured on
#: ../shared/realdata), so 12 leaves room for fast speech while still catching a mistaken max_error of ~0.
MAX_KEYFRAMES_PER_S = 12.0


def capture_keyframe_limit(duration_s: float) -> int:
    """The most keyframes a keyframes document extracted from a take of ``duration_s`` seconds may hold."""
    return max(MAX_KEYFRAMES, math.ceil(MAX_KEYFRAMES_PER_S * min(max(float(duration_s), 0.0), MAX_TIME_S)))


def keyframe_limit(meta: Mapping[str, Any], times_s: Sequence[float | None] = ()) -> int:
    """The most keyframes a document with this ``meta`` may hold: :data:`MAX_KEYFRAMES`, or for keyframes whose
    ``meta["extractor"]`` is :data:`EXTRACTED_BY`, :func:`capture_keyframe_limit` of the last time in
    ``times_s`` (no times given: of :data:`MAX_TIME_S`, the ceiling used before the times are parsed)."""
    if not isinstance(meta, Mapping) or meta.get("extractor") != EXTRACTED_BY:
        return MAX_KEYFRAMES
    known = [t for t in times_s if t is not None]
    return capture_keyframe_limit(max(known) if known else MAX_TIME_S)


def _too_many(count: int, limit: int) -> ScriptError:
    if limit > MAX_KEYFRAMES:
        why = f"{MAX_KEYFRAMES_PER_S:g} per second of the extracted take"
    else:
        why = f"keyframes extracted from a capture may have {MAX_KEYFRAMES_PER_S:g} per second of take"
    return ScriptError(f"has {count} keyframes; the limit is {limit} ({why})", field="keyframes")


# ------------------------------------------------------------------------------------------------ validators
def _check_text(value: Any, fieldname: str, *, limit: int) -> str:
    """Refuse what no keyframeface file may hold: non-strings, over-long text, NUL, unpaired surrogates."""
    if not isinstance(value, str):
        raise ScriptError(f"expected a string, got {type(value).__name__}", field=fieldname)
    if len(value) > limit:
        raise ScriptError(f"is {len(value)} characters long; the limit is {limit}", field=fieldname)
    if "\x00" in value:
        raise ScriptError("contains a NUL character", field=fieldname)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (e.g. "\ud800" in JSON) could never be written back out
        raise ScriptError("contains an unpaired UTF-16 surrogate; use valid Unicode text", field=fieldname) from None
    return value


def _text(value: Any, fieldname: str, *, limit: int, required: bool = False) -> str:
    value = _check_text("" if value is None else value, fieldname, limit=limit).strip()
    if required and not value:
        raise ScriptError("must not be empty", field=fieldname)
    return value


def _time(value: Any, fieldname: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScriptError(f"expected a number of seconds, got {type(value).__name__}", field=fieldname)
    try:
        t = float(value)
    except OverflowError:  # an integer too large for a float
        raise ScriptError(f"expected seconds in [0, {MAX_TIME_S:g}], got a larger number", field=fieldname) from None
    if not math.isfinite(t) or t < 0 or t > MAX_TIME_S:
        raise ScriptError(f"expected seconds in [0, {MAX_TIME_S:g}], got {value!r}", field=fieldname)
    return t


def _refuse_huge(v: Any, fieldname: str) -> None:
    """Finite numbers beyond float32 would overflow on conversion (10**400 even beyond float): out of range."""
    if v == v and abs(v) != math.inf and abs(v) > 1e30:
        raise ScriptError("a number above 1e30 in magnitude is outside every channel's range; fix the source",
                          field=fieldname)


def _values(value: Any, fieldname: str) -> tuple[float, ...] | None:
    """Validate a {channel: number} mapping (or a 61-list) into 61 floats in CHANNELS order, range-checked."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if len(value) > 4 * rig.NUM_CHANNELS:
            raise ScriptError(f"has {len(value)} entries; expected at most the 61 channels", field=fieldname)
        for name, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ScriptError(f"expected a number, got {type(v).__name__}", field=f"{fieldname}.{name}")
            _refuse_huge(v, f"{fieldname}.{name}")
        arr = rig.to_array(value, field=fieldname)
    elif isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != rig.NUM_CHANNELS:
            raise ScriptError(f"expected {rig.NUM_CHANNELS} values, got {len(value)}", field=fieldname)
        for i, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise ScriptError(f"expected a number, got {type(v).__name__}", field=f"{fieldname}[{i}]")
            _refuse_huge(v, f"{fieldname}[{i}]")
        arr = np.asarray(value, dtype=np.float32)
    else:
        raise ScriptError(f"expected an object of channel: value, got {type(value).__name__}", field=fieldname)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ScriptError("must be finite numbers (NaN/inf found)", field=f"{fieldname}.{rig.CHANNELS[int(np.argmax(bad))]}")
    low_bad, high_bad = arr < rig.LOW - 1e-6, arr > rig.HIGH + 1e-6
    if (low_bad | high_bad).any():
        i = int(np.argmax(low_bad | high_bad))
        raise ScriptError(
            f"{float(arr[i]):g} is outside [{rig.LOW[i]:g}, {rig.HIGH[i]:g}]; clamp it or fix the source",
            field=f"{fieldname}.{rig.CHANNELS[i]}",
        )
    return tuple(float(v) for v in arr)


def _number_list(value: Any, fieldname: str) -> np.ndarray | None:
    """A JSON list of finite numbers -> float64 array (``None`` stays ``None``)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        not isinstance(v, bool) and isinstance(v, (int, float)) for v in value
    ):
        raise ScriptError("expected a list of numbers", field=fieldname)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except OverflowError:  # an integer too large for a float
        raise ScriptError("contains a number too large to be seconds", field=fieldname) from None
    if not np.isfinite(arr).all():
        raise ScriptError("contains NaN or inf", field=fieldname)
    return arr


def _bool_list(value: Any, fieldname: str) -> np.ndarray | None:
    """A JSON list of true/false -> bool array (``None`` stays ``None``)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, bool) for v in value):
        raise ScriptError("expected a list of true/false", field=fieldname)
    return np.asarray(value, dtype=bool)


def _meta(value: Any) -> dict[str, Any]:
    """``meta`` as a dict that can be written back: JSON data, finite numbers, valid Unicode."""
    meta = dict(_mapping(value or {}, "meta"))
    try:
        json.dumps(meta, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise ScriptError(f"must hold plain JSON data (finite numbers, valid text): {str(exc)[:80]}",
                          field="meta") from None
    return meta


def _numeric_array(value: Any, fieldname: str, dtype: type[np.floating[Any]]) -> np.ndarray:
    """``value`` as a numeric array of ``dtype``; strings, booleans and objects are refused (no silent parsing)."""
    try:
        raw = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ScriptError(f"expected an array of numbers ({exc})", field=fieldname) from None
    if raw.dtype.kind not in "fiu":
        raise ScriptError(f"expected numbers, got {raw.dtype}", field=fieldname)
    with np.errstate(over="ignore"):
        return raw.astype(dtype)


def _mapping(value: Any, fieldname: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScriptError(f"expected an object, got {type(value).__name__}", field=fieldname)
    return value


# ---------------------------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class Keyframe:
    """One keyframe.

    ``description``: language for this moment (may be empty for extracted keyframes until annotated).
    ``time_s``: when it happens, seconds from the start, or ``None`` (timing chooses).
    ``name``: optional label. ``values``: 61 floats in ``rig.CHANNELS`` order, or ``None`` before generation.
    """

    description: str = ""
    time_s: float | None = None
    name: str | None = None
    values: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        # Every way of building a Keyframe is checked here, not only from_dict, so nothing invalid reaches a writer.
        _check_text(self.description, "description", limit=MAX_DESCRIPTION_CHARS)
        if self.name is not None:
            _check_text(self.name, "name", limit=MAX_NAME_CHARS)
        _time(self.time_s, "time_s")
        if self.values is not None and (
            len(self.values) != rig.NUM_CHANNELS or not all(math.isfinite(v) for v in self.values)
        ):
            raise ScriptError(f"expected {rig.NUM_CHANNELS} finite values", field="values")

    @property
    def array(self) -> np.ndarray:
        """The values as (61,) float32; raises :class:`ScriptError` if the keyframe has none."""
        if self.values is None:
            raise ScriptError("this keyframe has no values yet")
        return np.asarray(self.values, dtype=np.float32)

    def with_values(self, values: np.ndarray | Sequence[float] | Mapping[str, float]) -> Keyframe:
        """A copy carrying ``values`` (validated: 61 finite numbers within each channel's range)."""
        if isinstance(values, np.ndarray):
            values = values.astype(np.float64).tolist()
        return replace(self, values=_values(values, "values"))

    def to_dict(self, *, digits: int | None = 4) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.name:
            d["name"] = self.name
        d["description"] = self.description
        d["time_s"] = self.time_s
        if self.values is not None:
            d["values"] = rig.to_dict(self.values, digits=digits)
        return d

    @classmethod
    def from_dict(cls, data: Any, *, index: int = 0, require_description: bool = True) -> Keyframe:
        where = f"keyframes[{index}]"
        if isinstance(data, str):  # a bare description is accepted
            data = {"description": data}
        d = _mapping(data, where)
        known = {"description", "time_s", "name", "values"}
        unknown = [k for k in d if k not in known]
        if unknown:
            raise ScriptError(
                f"unknown field {str(unknown[0])[:40]!r}; expected {sorted(known)}", field=where
            )
        desc = _text(d.get("description"), f"{where}.description", limit=MAX_DESCRIPTION_CHARS,
                     required=require_description)
        name = _text(d.get("name"), f"{where}.name", limit=MAX_NAME_CHARS) or None
        return cls(
            description=desc,
            time_s=_time(d.get("time_s"), f"{where}.time_s"),
            name=name,
            values=_values(d.get("values"), f"{where}.values"),
        )


def _keyframe_list(
    value: Any, *, allow_empty: bool, require_description: bool, limit: int = MAX_KEYFRAMES
) -> tuple[Keyframe, ...]:
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ScriptError(f"expected a list, got {type(value).__name__}", field="keyframes")
    if len(value) > limit:  # before parsing any of them
        raise _too_many(len(value), limit)
    if not value and not allow_empty:
        raise ScriptError("must list at least one keyframe", field="keyframes")
    kfs = tuple(
        Keyframe.from_dict(item, index=i, require_description=require_description) for i, item in enumerate(value)
    )
    _check_times(kfs)
    return kfs


def _check_times(keyframes: Sequence[Keyframe]) -> None:
    last: float | None = None
    for i, kf in enumerate(keyframes):
        if kf.time_s is None:
            continue
        if last is not None and kf.time_s <= last:
            raise ScriptError(
                f"time_s {kf.time_s:g} is not after the previous keyframe's {last:g}; keyframe times must increase",
                field=f"keyframes[{i}].time_s",
            )
        last = kf.time_s


@dataclass(frozen=True)
class Script:
    """What a user writes: ``background``, ``emotion`` and ordered ``keyframes``, or one free ``text``.

    A script with only ``text`` is planned into keyframes by :func:`keyframeface.plan`.
    """

    background: str = ""
    emotion: str = ""
    keyframes: tuple[Keyframe, ...] = ()
    text: str | None = None

    def __post_init__(self) -> None:
        if not self.keyframes and not self.text:
            raise ScriptError("a script needs a non-empty 'keyframes' list or a 'text' to plan from")
        _check_text(self.background, "background", limit=MAX_TEXT_CHARS)
        _check_text(self.emotion, "emotion", limit=MAX_TEXT_CHARS)
        if self.text is not None:
            _check_text(self.text, "text", limit=MAX_TEXT_CHARS)
        if len(self.keyframes) > MAX_KEYFRAMES:
            raise ScriptError(f"has {len(self.keyframes)} keyframes; the limit is {MAX_KEYFRAMES}", field="keyframes")
        _check_times(self.keyframes)

    @property
    def needs_planning(self) -> bool:
        """True when the script is free text only."""
        return not self.keyframes

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"background": self.background, "emotion": self.emotion}
        if self.text:
            d["text"] = self.text
        d["keyframes"] = [kf.to_dict() for kf in self.keyframes]
        return d

    @classmethod
    def from_dict(cls, data: Any) -> Script:
        d = _mapping(data, "script")
        if d.get("format") not in (None, KEYFRAMES_FORMAT):
            raise ScriptError(f"expected a script or keyframes document, got format {str(d.get('format'))[:60]!r}")
        known = {"background", "emotion", "keyframes", "text", "format", "version", "meta"}
        unknown = [k for k in d if k not in known]
        if unknown:
            raise ScriptError(f"unknown field {str(unknown[0])[:40]!r}; expected some of {sorted(known - {'format', 'version', 'meta'})}")
        text = _text(d.get("text"), "text", limit=MAX_TEXT_CHARS) or None
        kfs = _keyframe_list(d.get("keyframes"), allow_empty=text is not None, require_description=True)
        return cls(
            background=_text(d.get("background"), "background", limit=MAX_TEXT_CHARS),
            emotion=_text(d.get("emotion"), "emotion", limit=MAX_TEXT_CHARS),
            keyframes=kfs,
            text=text,
        )

    @classmethod
    def from_text(cls, text: str) -> Script:
        """A script to be planned from one free sentence."""
        return cls(text=_text(text, "text", limit=MAX_TEXT_CHARS, required=True))


@dataclass(frozen=True)
class Keyframes:
    """Generated or extracted keyframes: the script fields plus 61 values per keyframe.

    ``keyframes[i].values`` is ``None`` only for a keyframe whose generation failed (see
    :class:`keyframeface.errors.GenerationError`); :meth:`array` requires all of them.
    ``meta`` records how the file was made (backend, model, package version, options, seed, created).
    At most :data:`MAX_KEYFRAMES` keyframes, or :func:`keyframe_limit` of ``meta`` and the times for keyframes
    extracted from a capture (:data:`MAX_KEYFRAMES_PER_S` per second); more raise :class:`ScriptError`.
    """

    keyframes: tuple[Keyframe, ...]
    background: str = ""
    emotion: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.keyframes) > MAX_KEYFRAMES:
            limit = keyframe_limit(self.meta, [kf.time_s for kf in self.keyframes])
            if len(self.keyframes) > limit:
                raise _too_many(len(self.keyframes), limit)
        _check_text(self.background, "background", limit=MAX_TEXT_CHARS)
        _check_text(self.emotion, "emotion", limit=MAX_TEXT_CHARS)
        _check_times(self.keyframes)

    def __len__(self) -> int:
        return len(self.keyframes)

    @property
    def missing(self) -> list[int]:
        """Indices of keyframes without values."""
        return [i for i, kf in enumerate(self.keyframes) if kf.values is None]

    def array(self) -> np.ndarray:
        """All values as (K, 61) float32; raises :class:`ScriptError` if any keyframe lacks values."""
        if self.missing:
            raise ScriptError(f"keyframes {self.missing} have no values (generation failed for them)")
        if not self.keyframes:
            return np.zeros((0, rig.NUM_CHANNELS), dtype=np.float32)
        return np.stack([kf.array for kf in self.keyframes]).astype(np.float32)

    def times(self) -> list[float | None]:
        return [kf.time_s for kf in self.keyframes]

    def script(self) -> Script:
        """The script these keyframes answer (values dropped)."""
        return Script(
            background=self.background,
            emotion=self.emotion,
            keyframes=tuple(replace(kf, values=None) for kf in self.keyframes),
        )

    def to_dict(self, *, digits: int | None = 4) -> dict[str, Any]:
        return {
            "format": KEYFRAMES_FORMAT,
            "version": FORMAT_VERSION,
            "meta": dict(self.meta),
            "background": self.background,
            "emotion": self.emotion,
            "keyframes": [kf.to_dict(digits=digits) for kf in self.keyframes],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Keyframes:
        d = _mapping(data, "keyframes document")
        if d.get("format") != KEYFRAMES_FORMAT:
            raise ScriptError(f"expected format {KEYFRAMES_FORMAT!r}, got {str(d.get('format'))[:60]!r}")
        if d.get("version") != FORMAT_VERSION:
            raise ScriptError(f"unsupported version {d.get('version')!r}; this keyframeface reads version {FORMAT_VERSION}")
        meta = _meta(d.get("meta"))
        return cls(
            keyframes=_keyframe_list(d.get("keyframes"), allow_empty=True, require_description=False,
                                     limit=keyframe_limit(meta)),
            background=_text(d.get("background"), "background", limit=MAX_TEXT_CHARS),
            emotion=_text(d.get("emotion"), "emotion", limit=MAX_TEXT_CHARS),
            meta=dict(meta),
        )

    @classmethod
    def from_array(
        cls,
        values: np.ndarray,
        *,
        times_s: Sequence[float | None] | None = None,
        descriptions: Sequence[str] | None = None,
        background: str = "",
        emotion: str = "",
        meta: Mapping[str, Any] | None = None,
    ) -> Keyframes:
        """Build from (K, 61) values (validated) with optional times and descriptions."""
        arr = np.asarray(values, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != rig.NUM_CHANNELS:
            raise ScriptError(f"expected values of shape (K, {rig.NUM_CHANNELS}), got {arr.shape}")
        k = arr.shape[0]
        times = list(times_s) if times_s is not None else [None] * k
        descs = list(descriptions) if descriptions is not None else [""] * k
        if len(times) != k or len(descs) != k:
            raise ScriptError(f"got {k} value rows, {len(times)} times and {len(descs)} descriptions")
        kfs = tuple(
            Keyframe(description=descs[i], time_s=_time(times[i], f"keyframes[{i}].time_s")).with_values(arr[i])
            for i in range(k)
        )
        return cls(keyframes=kfs, background=background, emotion=emotion, meta=dict(meta or {}))


@dataclass(frozen=True, eq=False)
class Animation:
    """Dense animation.

    ``frames``: (T, 61) float32 in ``rig.CHANNELS`` order. ``fps``: frames per second (> 0, non-integer allowed).
    ``times_s``: (T,) float64 seconds of each frame, or ``None`` for ``arange(T) / fps`` (captures keep their own,
    including gaps and the take's start time). ``valid``: (T,) bool, False on tracking-loss frames, or ``None`` (all
    valid). ``keyframes``: the keyframes it was made from, if any. ``meta``: how it was made.
    """

    frames: np.ndarray
    fps: float = 60.0
    times_s: np.ndarray | None = None
    valid: np.ndarray | None = None
    keyframes: Keyframes | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frames = _numeric_array(self.frames, "frames", np.float32)
        if frames.ndim != 2 or frames.shape[1] != rig.NUM_CHANNELS:
            raise ScriptError(f"frames must have shape (T, {rig.NUM_CHANNELS}), got {frames.shape}")
        if not np.isfinite(frames).all():  # also catches values too large for float32
            raise ScriptError("contains NaN, inf or a value too large for float32", field="frames")
        if not (
            isinstance(self.fps, (int, float))
            and not isinstance(self.fps, bool)
            and math.isfinite(self.fps)
            and 0 < self.fps <= 1000
        ):
            raise ScriptError(f"fps must be a number in (0, 1000], got {self.fps!r}", field="fps")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "fps", float(self.fps))
        if self.times_s is not None:
            times = _numeric_array(self.times_s, "times_s", np.float64)
            if times.shape != (frames.shape[0],):
                raise ScriptError(f"times_s must have shape ({frames.shape[0]},), got {times.shape}")
            if times.size and not (np.isfinite(times).all() and times.min() >= 0 and times.max() <= MAX_FRAME_TIME_S):
                raise ScriptError(f"times must be finite seconds in [0, {MAX_FRAME_TIME_S:g}]", field="times_s")
            if times.size > 1 and (np.diff(times) < 0).any():
                raise ScriptError("frame times must not go backwards", field="times_s")
            object.__setattr__(self, "times_s", times)
        if self.valid is not None:
            valid = np.asarray(self.valid)
            if valid.dtype.kind not in "biu":
                raise ScriptError(f"valid must be booleans, got {valid.dtype}", field="valid")
            valid = valid.astype(bool)
            if valid.shape != (frames.shape[0],):
                raise ScriptError(f"valid must have shape ({frames.shape[0]},), got {valid.shape}")
            object.__setattr__(self, "valid", valid)

    @property
    def channels(self) -> tuple[str, ...]:
        return rig.CHANNELS

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def frame_times(self) -> np.ndarray:
        """(T,) float64 seconds of every frame."""
        if self.times_s is not None:
            return self.times_s
        return np.arange(self.num_frames, dtype=np.float64) / self.fps

    @property
    def duration_s(self) -> float:
        t = self.frame_times()
        return float(t[-1] - t[0]) if t.size else 0.0

    def sample(self, t: float | Sequence[float] | np.ndarray) -> np.ndarray:
        """The values at time(s) ``t``, in seconds from the first frame: (61,) float32 for a scalar ``t``, else
        (N, 61) float32 for N times.

        Values are linear between neighbouring frames (at their own ``times_s`` when the animation has them, gaps
        and all) and held at the first / last frame outside the take; a one-frame animation is that frame at every
        time. ``valid`` is not consulted. Raises :class:`FormatError` for an animation without frames.
        """
        if self.num_frames == 0:
            raise FormatError("the animation has no frames to sample")
        when = np.asarray(t, dtype=np.float64)
        flat = when.reshape(-1)
        if self.num_frames == 1:
            values = np.repeat(self.frames[:1], flat.shape[0], axis=0)
        else:
            src_t = self.frame_times() - self.frame_times()[0]
            idx = np.clip(np.searchsorted(src_t, flat, side="right") - 1, 0, self.num_frames - 2)
            span = np.maximum(src_t[idx + 1] - src_t[idx], 1e-12)
            w = np.clip((flat - src_t[idx]) / span, 0.0, 1.0)[:, None]
            values = ((1.0 - w) * self.frames[idx] + w * self.frames[idx + 1]).astype(np.float32)
        return values[0] if when.ndim == 0 else values

    @classmethod
    def from_keyframes(cls, keyframes: Keyframes, *, fps: float = 60.0) -> Animation:
        """Place keyframes as frames at their times: (K, 61) frames, one per keyframe, no interpolation.

        Times are the keyframes' ``time_s`` when every keyframe has one; otherwise keyframe ``k`` sits at ``k``
        seconds, the KeyframeFace release converter's convention (a warning says so if only some had times). A
        keyframe without values (its generation failed) becomes a zero frame with ``valid=False``. ``fps`` is the
        nominal rate recorded in the animation (and the CSV timecode rate); the keyframes ride along in
        ``Animation.keyframes``. Raises :class:`FormatError` for anything but :class:`Keyframes` or a bad ``fps``.
        (Smooth curves come from :func:`keyframeface.animate`.)
        """
        if not isinstance(keyframes, Keyframes):
            raise FormatError(f"expected Keyframes, got {type(keyframes).__name__}")
        k = len(keyframes)
        times = keyframes.times()
        if k and all(t is not None for t in times):
            times_s = np.asarray(times, dtype=np.float64)
        else:
            if any(t is not None for t in times):
                warnings.warn(
                    "some keyframes have time_s and some do not; placing keyframe k at k seconds for all of them",
                    stacklevel=2,
                )
            times_s = np.arange(k, dtype=np.float64)
        frames = np.zeros((k, rig.NUM_CHANNELS), dtype=np.float32)
        valid = np.ones(k, dtype=bool)
        for i, kf in enumerate(keyframes.keyframes):
            if kf.values is None:
                valid[i] = False
            else:
                frames[i] = kf.array
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or not 0 < fps <= 1000:
            raise FormatError(f"fps must be a number in (0, 1000], got {fps!r}")
        meta = {**dict(keyframes.meta), "source": "keyframes", "timecode_fps": float(fps)}
        return cls(
            frames=frames, fps=float(fps), times_s=times_s, valid=None if valid.all() else valid,
            keyframes=keyframes, meta=meta,
        )

    def to_dict(self, *, digits: int | None = 6) -> dict[str, Any]:
        frames = self.frames.astype(np.float64)
        if digits is not None:
            frames = np.round(frames, digits) + 0.0
        d: dict[str, Any] = {
            "format": ANIMATION_FORMAT,
            "version": FORMAT_VERSION,
            "fps": self.fps,
            "channels": list(rig.CHANNELS),
            "frames": frames.tolist(),
        }
        if self.times_s is not None:
            d["times_s"] = [round(float(t), 6) for t in self.times_s]
        if self.valid is not None:
            d["valid"] = [bool(v) for v in self.valid]
        d["keyframes"] = self.keyframes.to_dict()["keyframes"] if self.keyframes is not None else []
        d["background"] = self.keyframes.background if self.keyframes is not None else ""
        d["emotion"] = self.keyframes.emotion if self.keyframes is not None else ""
        d["meta"] = dict(self.meta)
        return d

    @classmethod
    def from_dict(cls, data: Any) -> Animation:
        d = _mapping(data, "animation document")
        if d.get("format") != ANIMATION_FORMAT:
            raise ScriptError(f"expected format {ANIMATION_FORMAT!r}, got {str(d.get('format'))[:60]!r}")
        if d.get("version") != FORMAT_VERSION:
            raise ScriptError(f"unsupported version {d.get('version')!r}; this keyframeface reads version {FORMAT_VERSION}")
        channels = d.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise ScriptError("expected a list of channel names", field="channels")
        names = [rig.canonical_name(c, field="channels") for c in channels]
        if len(set(names)) != len(names):
            raise ScriptError("a channel is listed twice", field="channels")
        raw = d.get("frames")
        if not isinstance(raw, list):
            raise ScriptError("expected a list of frames", field="frames")
        try:
            arr = np.asarray(raw)  # no dtype: strings or booleans in the rows are refused below, not parsed
        except (TypeError, ValueError, OverflowError) as exc:
            raise ScriptError(f"frames must be rows of numbers ({exc})", field="frames") from None
        if arr.size and arr.dtype.kind not in "fiu":
            raise ScriptError(f"frames must be rows of numbers, got {arr.dtype}", field="frames")
        try:
            arr = arr.astype(np.float64)
        except OverflowError as exc:
            raise ScriptError(f"frames must be rows of numbers ({exc})", field="frames") from None
        if arr.size == 0:
            arr = arr.reshape(0, len(names))
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise ScriptError(f"expected rows of {len(names)} numbers, got shape {arr.shape}", field="frames")
        if not np.isfinite(arr).all():
            raise ScriptError("contains NaN or inf", field="frames")
        if arr.size and np.abs(arr).max() > 1e30:  # would overflow float32 to inf
            raise ScriptError("contains values far outside every channel's range [-1, 1]", field="frames")
        frames = np.zeros((arr.shape[0], rig.NUM_CHANNELS), dtype=np.float32)
        for j, name in enumerate(names):
            frames[:, rig.CHANNEL_INDEX[name]] = arr[:, j]
        kfs = None
        if d.get("keyframes"):
            kfs = Keyframes(
                keyframes=_keyframe_list(d["keyframes"], allow_empty=True, require_description=False),
                background=_text(d.get("background"), "background", limit=MAX_TEXT_CHARS),
                emotion=_text(d.get("emotion"), "emotion", limit=MAX_TEXT_CHARS),
            )
        fps = d.get("fps")
        if isinstance(fps, bool) or not isinstance(fps, (int, float)):
            raise ScriptError("expected a number", field="fps")
        if not 0 < fps <= 1000:  # compared before float(): an integer like 10**400 cannot become a float
            raise ScriptError("fps must be a number in (0, 1000]", field="fps")
        return cls(
            frames=frames,
            fps=float(fps),
            times_s=_number_list(d.get("times_s"), "times_s"),
            valid=_bool_list(d.get("valid"), "valid"),
            keyframes=kfs,
            meta=_meta(d.get("meta")),
        )


# ------------------------------------------------------------------------------------------------- file I/O
def read_json_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Plain data of a JSON (or, with PyYAML installed, ``.yaml``/``.yml``) file, through the one input path
    (:func:`keyframeface.io.input.read_document_path`: size, structure, number and YAML guards before parsing).
    Raises :class:`FormatError` (one line naming the file and the line)."""
    return read_document_path(path, max_bytes=max_bytes)


def document_from_data(data: Any) -> Script | Keyframes | Animation:
    """The domain object of plain document data, by its ``format`` field (none = a script)."""
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt == KEYFRAMES_FORMAT:
        return Keyframes.from_dict(data)
    if fmt == ANIMATION_FORMAT:
        return Animation.from_dict(data)
    return Script.from_dict(data)


def script_from_data(data: Any) -> Script:
    """The script of plain document data; a keyframes document is accepted (its descriptions and times are used)."""
    if isinstance(data, dict) and data.get("format") == KEYFRAMES_FORMAT:
        keys = Keyframes.from_dict(data)
        empty = [i for i, kf in enumerate(keys.keyframes) if not kf.description]
        if empty:
            raise ScriptError(
                "has no description, so there is nothing to generate from (extracted keyframes are described by "
                "`keyframeface annotate` first)",
                field=f"keyframes[{empty[0]}].description",
            )
        return keys.script()
    return Script.from_dict(data)


def load_document(path: str | os.PathLike[str]) -> Script | Keyframes | Animation:
    """Load any keyframeface JSON/YAML file, dispatching on its ``format`` field (none = a script)."""
    return document_from_data(read_json_file(path))


def load_script(path: str | os.PathLike[str]) -> Script:
    """Load a script file (a keyframes file is accepted too: its descriptions and times are used)."""
    return script_from_data(read_json_file(path))


def load_keyframes(path: str | os.PathLike[str]) -> Keyframes:
    """Load a keyframes file (format ``keyframeface.keyframes``)."""
    return Keyframes.from_dict(read_json_file(path))


#: Frames serialised at once by :func:`json_chunks`: memory stays a few blocks, not the whole take as Python floats.
_JSON_BLOCK_ROWS = 4096


def json_chunks(obj: Script | Keyframes | Animation | Mapping[str, Any]) -> Iterator[str]:
    """The JSON text of a domain object (or a plain mapping) in pieces, ending with ``"\\n"``.

    The same text as ``json.dumps(obj.to_dict(), ensure_ascii=False, indent=...)`` (one space of indent for
    scripts and keyframes, none for animations); an animation's frames are serialised :data:`_JSON_BLOCK_ROWS` at
    a time, so writing a long take never holds all its frames as Python floats. NaN/inf raise :class:`ValueError`.
    """
    if not isinstance(obj, Animation):
        plain = obj if isinstance(obj, Mapping) else obj.to_dict()
        yield json.dumps(plain, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
        return
    blocks = (obj.frames[start:start + _JSON_BLOCK_ROWS] for start in range(0, obj.num_frames, _JSON_BLOCK_ROWS))
    yield from animation_json_chunks(obj, blocks, times_s=obj.times_s, valid=obj.valid)


def animation_json_chunks(
    obj: Animation, frames: Iterable[np.ndarray], *, times_s: np.ndarray | None, valid: np.ndarray | None
) -> Iterator[str]:
    """:func:`json_chunks` of an animation whose frames come as (B, 61) blocks in order (any sizes), one block held
    at a time (the streaming conversion): ``obj`` gives every other field (its own frames, times and validity are
    not read), ``times_s`` (T,) and ``valid`` (T,) those of the frames, or ``None``."""
    empty = replace(obj, frames=np.zeros((0, rig.NUM_CHANNELS), np.float32), times_s=None, valid=None)
    marker = "\x00frames\x00"
    data: dict[str, Any] = {}
    for key, value in empty.to_dict().items():  # to_dict's key order, with markers where the long lists go
        data[key] = marker if key == "frames" else value
        if key == "frames":
            if times_s is not None:
                data["times_s"] = marker + "t"
            if valid is not None:
                data["valid"] = marker + "v"
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    pieces = {json.dumps(marker): _frame_blocks(frames)}
    if times_s is not None:
        pieces[json.dumps(marker + "t")] = _list_blocks([round(float(t), 6) for t in times_s])
    if valid is not None:
        pieces[json.dumps(marker + "v")] = _list_blocks([bool(v) for v in valid])
    while pieces:
        key = min(pieces, key=lambda k: text.index(k))
        head, _, text = text.partition(key)
        yield head
        yield from pieces.pop(key)
    yield text + "\n"


def _frame_blocks(blocks: Iterable[np.ndarray]) -> Iterator[str]:
    yield "["
    first = True
    for frames in blocks:
        if not len(frames):
            continue
        block = np.round(np.asarray(frames).astype(np.float64), 6) + 0.0
        text = json.dumps(block.tolist(), allow_nan=False)[1:-1]
        yield text if first else (", " + text)
        first = False
    yield "]"


def _list_blocks(values: list[Any]) -> Iterator[str]:
    yield json.dumps(values, allow_nan=False)


def save_json(obj: Script | Keyframes | Animation | Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a domain object (or a plain mapping) as pretty UTF-8 JSON, atomically (streamed: see
    :func:`json_chunks`)."""
    from .io.atomic import atomic_open

    with atomic_open(path, "w") as handle:
        for chunk in json_chunks(obj):
            handle.write(chunk)
