"""Loading datasets through pluggable adapters, with validation that names the clip and the field.

Adapters turn a path into a :class:`Dataset`. Built in:

* ``keyframeface``: this project's layout (:mod:`keyframeface.data.layout`: ``dataset.json`` + ``manifest.jsonl``);
* ``swift-messages``: ms-swift ``messages`` JSONL in the KeyframeFace release's request format (system + user
  message as ``reference/keyframeface-release/example.jsonl``, plus an assistant answer holding the keyframe's
  values): a single ``.jsonl`` file or a folder of ``train/validation/test.jsonl``. It reads what
  :mod:`keyframeface.data.sft` writes, and any data set kept in the release's training format.

The authors' own dataset layout (``chaochaooooooo/KeyframeFace_Dataset`` on ModelScope) could not be inspected
here, so no adapter guesses it: a path no adapter recognises fails with the list of adapters and how to add one,
:func:`register_adapter` (a class with ``name``, ``detect(path)`` and ``load(path)``).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .. import rig
from ..errors import FormatError, KeyframeFaceError
from ..io.files import checked_size
from ..registry import Registry
from ..script import MAX_FILE_BYTES, Animation, Keyframe, Keyframes, read_json_file
from .layout import (
    DATASET_FILE,
    DATASET_FORMAT,
    DATASET_VERSION,
    ID_PATTERN,
    ID_RULE,
    MANIFEST_FILE,
    SHARED_PREFIX,
    SPLITS,
)

__all__ = [
    "ADAPTERS",
    "Clip",
    "Dataset",
    "DatasetAdapter",
    "dataset_stats",
    "get_adapter",
    "list_adapters",
    "load_dataset",
    "register_adapter",
]

_MANIFEST_KEYS = frozenset({"id", "split", "kind", "group", "script", "capture", "capture_frames", "video", "meta"})
_CLIP_KEYS = frozenset({"background", "emotion", "keyframes", "meta", "format", "version", "id"})
_KEYFRAME_KEYS = frozenset({"description", "time_s", "frame", "values", "structured", "name"})


# ------------------------------------------------------------------------------------------------- objects
@dataclass(frozen=True, eq=False)
class Clip:
    """One clip of a dataset.

    ``keyframes``: the script with descriptions and times; ``values`` may be ``None`` for keyframes whose values
    come from the capture (see :meth:`resolved`). ``frames``: the capture row of each keyframe (or ``None``).
    ``structured``: the annotator's four-part description per keyframe (or ``None``). ``capture``: the resolved
    capture path (or ``None``); ``capture_frames``: its ``[start, end)`` window. ``group``: the unit that must
    not cross splits.
    """

    id: str
    split: str
    kind: str
    group: str
    keyframes: Keyframes
    frames: tuple[int | None, ...] = ()
    structured: tuple[Mapping[str, Any] | None, ...] = ()
    capture: Path | None = None
    capture_frames: tuple[int, int] | None = None
    video: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def load_capture(self) -> Animation:
        """The dense capture (:class:`Animation`, all rows); :class:`FormatError` if the clip has none."""
        if self.capture is None:
            raise FormatError(f"clip {self.id!r} has no capture")
        from ..io.registry import read_any

        anim = read_any(self.capture)
        if not isinstance(anim, Animation):
            raise FormatError(f"clip {self.id!r}: capture {self.capture} is not a dense animation")
        return anim

    def resolved(self) -> Keyframes:
        """The keyframes with every value filled in (from the capture where the script leaves them out)."""
        if not self.keyframes.missing:
            return self.keyframes
        anim = self.load_capture()
        start = self.capture_frames[0] if self.capture_frames else 0
        times = anim.frame_times() - anim.frame_times()[0] if anim.num_frames else np.zeros(0)
        kfs = list(self.keyframes.keyframes)
        for i in self.keyframes.missing:
            row = self.frames[i] if i < len(self.frames) else None
            if row is None:
                t = float(times[start]) + float(kfs[i].time_s or 0.0) if anim.num_frames > start else math.inf
                row = int(np.argmin(np.abs(times - t))) if math.isfinite(t) else -1
            if not 0 <= row < anim.num_frames:
                raise FormatError(f"clip {self.id!r}: keyframes[{i}].frame {row} is outside the capture's "
                                  f"{anim.num_frames} rows")
            kfs[i] = kfs[i].with_values(rig.clamp(anim.frames[row])[0])
        return replace(self.keyframes, keyframes=tuple(kfs))


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: ``root`` folder or file, ``clips`` in manifest order, ``info`` (dataset.json or what
    the adapter knows) and the ``adapter`` name that read it."""

    root: Path
    clips: tuple[Clip, ...]
    info: Mapping[str, Any] = field(default_factory=dict)
    adapter: str = "keyframeface"

    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self) -> Iterator[Clip]:
        return iter(self.clips)

    def split(self, name: str) -> list[Clip]:
        """The clips of split ``name`` ("train", "validation" or "test")."""
        return [c for c in self.clips if c.split == name]


# ------------------------------------------------------------------------------------------------ adapters
@runtime_checkable
class DatasetAdapter(Protocol):
    """What a dataset adapter provides: a ``name``, a one-line ``description``, ``detect(path)`` (cheap: does this
    path look like my layout?) and ``load(path)`` (validate and read it)."""

    name: str
    description: str

    def detect(self, path: Path) -> bool: ...

    def load(self, path: Path) -> Dataset: ...


#: Dataset adapters by name, in the order :func:`load_dataset` tries them; third-party packages may also add them
#: through the ``keyframeface.dataset_adapters`` entry-point group (``name = "pkg.module:ADAPTER"``).
ADAPTERS: Registry[DatasetAdapter] = Registry(
    "dataset adapter", entry_point_group="keyframeface.dataset_adapters", entry_points="eager"
)
_ADAPTERS = ADAPTERS.entries


def register_adapter(adapter: DatasetAdapter) -> None:
    """Add (or replace) a dataset adapter; it is tried by :func:`load_dataset` in registration order."""
    if not isinstance(adapter, DatasetAdapter):
        raise TypeError("a dataset adapter needs name, description, detect(path) and load(path)")
    ADAPTERS.register(adapter.name, adapter)


def list_adapters() -> list[DatasetAdapter]:
    """Every registered adapter, in the order they are tried."""
    return [ADAPTERS.entries[n] for n in ADAPTERS.names()]


def get_adapter(name: str) -> DatasetAdapter:
    """The adapter called ``name``; :class:`FormatError` listing the known ones otherwise."""
    found = ADAPTERS.target(name)
    if found is None:
        raise FormatError(f"unknown dataset adapter {name!r}; known: {', '.join(ADAPTERS)}{ADAPTERS.suggestion(name)}")
    return found


def load_dataset(path: str | Path, *, adapter: str | None = None) -> Dataset:
    """Load the dataset at ``path`` with ``adapter`` (a registered name) or the first adapter that detects it.

    Raises :class:`FormatError` naming the manifest line, clip and field of the first problem, or, when no
    adapter recognises the path, listing the adapters and how to register one.
    """
    p = Path(path)
    if not p.exists():
        raise FormatError(f"dataset {p} does not exist")
    if adapter is not None:
        return get_adapter(adapter).load(p)
    for candidate in list_adapters():
        if candidate.detect(p):
            return candidate.load(p)
    known = "; ".join(f"{a.name}: {a.description}" for a in list_adapters())
    raise FormatError(
        f"{p} is not a dataset any adapter recognises ({known}). For another layout, such as the KeyframeFace "
        "authors' dataset, register an adapter with keyframeface.data.loader.register_adapter()"
    )


# ------------------------------------------------------------------------------------------ validation helpers
class _Where:
    """Names the place of a problem: ``manifest.jsonl line 3, clip 'x', field 'script.keyframes[0].frame'``."""

    def __init__(self, source: str, line: int | None = None, clip: str | None = None) -> None:
        self.source, self.line, self.clip = source, line, clip

    def error(self, fieldname: str | None, message: str) -> FormatError:
        where = self.source + (f" line {self.line}" if self.line is not None else "")
        if self.clip is not None:
            where += f", clip {self.clip!r}"
        if fieldname:
            where += f", field {fieldname!r}"
        return FormatError(f"{where}: {message}")


def _opt_str(d: Mapping[str, Any], key: str, where: _Where, *, limit: int = 4096) -> str | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise where.error(key, f"expected a non-empty string of at most {limit} characters, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (str, int, float, bool, type(None))) else \
        type(value).__name__
    return text[:60]


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _resolve_path(text: str, root: Path, where: _Where, fieldname: str) -> Path:
    if text.startswith(SHARED_PREFIX):
        from ..shared_data import shared_dir

        base = shared_dir()
        if base is None:
            raise where.error(fieldname, f"{text!r} is in keyframeface's shared folder, which is not found here "
                              "(set KEYFRAMEFACE_SHARED)")
        return base / text[len(SHARED_PREFIX):]
    p = Path(text)
    return p if p.is_absolute() else root / p


def _clip_script(data: Any, where: _Where) -> tuple[Keyframes, tuple[int | None, ...], tuple[Any, ...], dict[str, Any]]:
    if not isinstance(data, Mapping):
        raise where.error("script", f"expected an object with background, emotion and keyframes, got {_show(data)}")
    unknown = sorted(set(data) - _CLIP_KEYS)
    if unknown:
        raise where.error(f"script.{unknown[0]}", f"unknown field; expected some of {sorted(_CLIP_KEYS)}")
    raw = data.get("keyframes")
    if not isinstance(raw, list) or not raw:
        raise where.error("script.keyframes", "expected a non-empty list of keyframes")
    kfs: list[dict[str, Any]] = []
    frames: list[int | None] = []
    structured: list[Any] = []
    for i, item in enumerate(raw):
        name = f"script.keyframes[{i}]"
        if not isinstance(item, Mapping):
            raise where.error(name, f"expected an object, got {_show(item)}")
        bad = sorted(set(item) - _KEYFRAME_KEYS)
        if bad:
            raise where.error(f"{name}.{bad[0]}", f"unknown field; expected some of {sorted(_KEYFRAME_KEYS)}")
        frame = item.get("frame")
        if frame is not None and (not _int(frame) or frame < 0):
            raise where.error(f"{name}.frame", f"expected a row number >= 0, got {_show(frame)}")
        if frame is None and item.get("time_s") is None:
            raise where.error(name, "needs time_s (seconds from the clip's start) or frame (a capture row)")
        frames.append(frame)
        s = item.get("structured")
        if s is not None and not isinstance(s, Mapping):
            raise where.error(f"{name}.structured", "expected an object")
        structured.append(s)
        kfs.append({k: item[k] for k in ("description", "time_s", "name", "values") if k in item})
    meta = data.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise where.error("script.meta", "expected an object")
    texts = {}
    for key in ("background", "emotion"):
        text = data.get(key)
        if text is not None and not isinstance(text, str):
            raise where.error(f"script.{key}", f"expected a string, got {_show(text)}")
        texts[key] = text or ""
    try:
        keyframes = Keyframes(
            keyframes=tuple(Keyframe.from_dict(k, index=i) for i, k in enumerate(kfs)),
            background=texts["background"],
            emotion=texts["emotion"],
        )
    except KeyframeFaceError as exc:
        raise where.error("script", str(exc)) from None
    return keyframes, tuple(frames), tuple(structured), dict(meta)


def _manifest_clip(entry: Any, root: Path, where: _Where) -> Clip:
    if not isinstance(entry, Mapping):
        raise where.error(None, f"expected a JSON object per line, got {_show(entry)}")
    cid = entry.get("id")
    if not isinstance(cid, str) or not ID_PATTERN.fullmatch(cid):
        raise where.error("id", f"expected {ID_RULE}, got {_show(cid)}")
    where.clip = cid
    unknown = sorted(set(entry) - _MANIFEST_KEYS)
    if unknown:
        raise where.error(unknown[0], f"unknown field; expected some of {sorted(_MANIFEST_KEYS)}")
    split = entry.get("split")
    if split not in SPLITS:
        raise where.error("split", f"expected one of {list(SPLITS)}, got {_show(split)}")
    kind = _opt_str(entry, "kind", where, limit=40) or "real"
    group = _opt_str(entry, "group", where, limit=300) or cid
    script = entry.get("script")
    if isinstance(script, str):
        path = _resolve_path(script, root, where, "script")
        try:
            script = read_json_file(path)
        except KeyframeFaceError as exc:
            raise where.error("script", str(exc)) from None
    elif script is None:
        raise where.error("script", "missing; give the clip script inline or as a path like clips/<id>.json")
    keyframes, frames, structured, meta = _clip_script(script, where)
    capture_text = _opt_str(entry, "capture", where)
    capture = _resolve_path(capture_text, root, where, "capture") if capture_text else None
    window = entry.get("capture_frames")
    capture_frames: tuple[int, int] | None = None
    if window is not None:
        if not (isinstance(window, list) and len(window) == 2 and all(_int(x) for x in window)
                and 0 <= window[0] < window[1]):
            raise where.error("capture_frames", f"expected [start, end) row numbers with 0 <= start < end, got "
                              f"{_show(window)}")
        capture_frames = (int(window[0]), int(window[1]))
        if capture is None:
            raise where.error("capture_frames", "given without a capture")
        for i, row in enumerate(frames):
            if row is not None and not capture_frames[0] <= row < capture_frames[1]:
                raise where.error(f"script.keyframes[{i}].frame", f"row {row} is outside the clip's capture_frames "
                                  f"window [{capture_frames[0]}, {capture_frames[1]}); fix the row or the window")
    if keyframes.missing and capture is None:
        raise where.error(f"script.keyframes[{keyframes.missing[0]}].values",
                          "missing, and the clip has no capture to read them from")
    if capture is not None and not capture.is_file():
        raise where.error("capture", f"file {capture} not found")
    extra = entry.get("meta") or {}
    if not isinstance(extra, Mapping):
        raise where.error("meta", "expected an object")
    return Clip(cid, str(split), kind, group, keyframes, frames, structured, capture, capture_frames,
                _opt_str(entry, "video", where), {**meta, **extra})


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    checked_size(path, 16 * MAX_FILE_BYTES)
    with path.open("r", encoding="utf-8-sig") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
        except UnicodeDecodeError:
            raise FormatError(f"{path} is not UTF-8 text") from None


def _json_line(line: str, where: _Where) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise where.error(None, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise where.error(None, "nests too deeply") from None


# ------------------------------------------------------------------------------------------ built-in adapters
class KeyframeFaceAdapter:
    """This project's layout: ``dataset.json`` + ``manifest.jsonl`` (see :mod:`keyframeface.data.layout`)."""

    name = "keyframeface"
    description = "a folder with dataset.json and manifest.jsonl (keyframeface dataset build)"

    def detect(self, path: Path) -> bool:
        return (path.is_dir() and (path / MANIFEST_FILE).is_file()) or (path.is_file() and path.name == MANIFEST_FILE)

    def load(self, path: Path) -> Dataset:
        root = path if path.is_dir() else path.parent
        manifest = root / MANIFEST_FILE
        if not manifest.is_file():
            raise FormatError(f"{root} has no {MANIFEST_FILE}; a keyframeface dataset lists its clips there")
        info: dict[str, Any] = {}
        if (root / DATASET_FILE).is_file():
            data = read_json_file(root / DATASET_FILE)
            if not isinstance(data, Mapping) or data.get("format") != DATASET_FORMAT:
                raise FormatError(f"{root / DATASET_FILE}: expected format {DATASET_FORMAT!r}")
            if data.get("version") != DATASET_VERSION:
                raise FormatError(f"{root / DATASET_FILE}: version {data.get('version')!r} is not supported; this "
                                  f"keyframeface reads version {DATASET_VERSION}")
            info = dict(data)
        clips: list[Clip] = []
        seen: dict[str, int] = {}
        groups: dict[str, tuple[str, str]] = {}
        for number, line in _read_lines(manifest):
            where = _Where(MANIFEST_FILE, number)
            clip = _manifest_clip(_json_line(line, where), root, where)
            if clip.id in seen:
                raise where.error("id", f"duplicate; first used on line {seen[clip.id]}")
            seen[clip.id] = number
            first = groups.setdefault(clip.group, (clip.split, clip.id))
            if first[0] != clip.split:
                raise where.error("split", f"group {clip.group!r} is in {first[0]!r} (clip {first[1]!r}) and in "
                                  f"{clip.split!r}: a group must stay in one split")
            clips.append(clip)
        if not clips:
            raise FormatError(f"{manifest} lists no clips")
        return Dataset(root, tuple(clips), info, self.name)


class SwiftMessagesAdapter:
    """ms-swift ``messages`` JSONL in the release's request format, with assistant answers (training data)."""

    name = "swift-messages"
    description = ("ms-swift messages JSONL in the KeyframeFace release's request format with assistant answers "
                   "(one .jsonl, or a folder of train/validation/test.jsonl)")

    def _files(self, path: Path) -> list[tuple[str, Path]]:
        if path.is_file():
            stem = path.stem if path.stem in SPLITS else "train"
            return [(stem, path)]
        return [(s, path / f"{s}.jsonl") for s in SPLITS if (path / f"{s}.jsonl").is_file()]

    def detect(self, path: Path) -> bool:
        files = self._files(path) if path.exists() and (path.is_dir() or path.suffix == ".jsonl") else []
        if not files:
            return False
        try:
            for _, line in _read_lines(files[0][1]):
                data = json.loads(line)
                return isinstance(data, dict) and isinstance(data.get("messages"), list)
        except (OSError, ValueError, FormatError):
            return False
        return False

    def load(self, path: Path) -> Dataset:
        from ..prompt import parse_user_message, parse_values
        from ..script import Script

        files = self._files(path)
        if not files:
            raise FormatError(f"{path} holds no train/validation/test.jsonl files")
        # One script per run of consecutive requests with the same content and no repeated keyframe (how
        # export_sft writes them). Grouping by content alone would merge different clips whose texts coincide.
        groups: list[tuple[tuple[str, str, tuple[str, ...]], str, dict[int, np.ndarray]]] = []
        for split, file in files:
            for number, line in _read_lines(file):
                where = _Where(file.name, number)
                data = _json_line(line, where)
                msgs = data.get("messages") if isinstance(data, Mapping) else None
                if not isinstance(msgs, list) or not all(isinstance(m, Mapping) for m in msgs):
                    raise where.error("messages", "expected a list of {role, content} objects")
                by_role = {str(m.get("role")): m.get("content") for m in msgs}
                user, answer = by_role.get("user"), by_role.get("assistant")
                if not isinstance(user, str) or not isinstance(answer, str):
                    raise where.error("messages", "needs a user message (the request) and an assistant answer")
                system = str(by_role.get("system") or "")
                representation = _representation_of(system)
                try:
                    content = parse_user_message(user)
                    values = parse_values(answer, policy="strict", index=content.target,
                                          representation=representation).values
                except KeyframeFaceError as exc:
                    raise where.error("messages", str(exc)[:300]) from None
                if content.target is None:
                    raise where.error("messages", "the user message has no 'Task Instruction' line")
                key = (content.background, content.emotion, content.descriptions)
                last = groups[-1] if groups else None
                if last is None or last[0] != key or last[1] != split or content.target in last[2]:
                    groups.append((key, split, {}))
                groups[-1][2][content.target] = values
        clips: list[Clip] = []
        for n, (key, split, got) in enumerate(groups):
            background, emotion, descriptions = key
            kfs = tuple(
                Keyframe(description=d, values=tuple(float(x) for x in got[i]) if i in got else None)
                for i, d in enumerate(descriptions)
            )
            Script(background=background, emotion=emotion, keyframes=kfs)  # validates limits
            kf = Keyframes(keyframes=kfs, background=background, emotion=emotion)
            if kf.missing:
                raise FormatError(f"{path}: the script starting {descriptions[0][:40]!r} has no answer for "
                                  f"keyframe(s) {[i + 1 for i in kf.missing]}")
            cid = f"msg-{n:06d}"
            clips.append(Clip(cid, split, "messages", cid, kf, (None,) * len(kfs), (None,) * len(kfs)))
        if not clips:
            raise FormatError(f"{path} holds no requests")
        return Dataset(path, tuple(clips), {"name": path.name}, self.name)


def _representation_of(system_prompt: str) -> str:
    from ..prompt import REPRESENTATIONS
    from ..prompt import system_prompt as prompt_for

    for rep in REPRESENTATIONS:
        if prompt_for(rep) == system_prompt:
            return rep
    return "json"


register_adapter(KeyframeFaceAdapter())
register_adapter(SwiftMessagesAdapter())


# ------------------------------------------------------------------------------------------------- statistics
def dataset_stats(dataset: Dataset) -> dict[str, Any]:
    """Counts and summaries of a dataset, JSON-ready: clips and keyframes per split and kind, groups per split,
    keyframes per clip, description words (mean/min/max), expression categories and the most active channels
    (mean value over keyframes whose values are stored in the scripts)."""
    per_split: Counter[str] = Counter()
    kf_split: Counter[str] = Counter()
    per_kind: Counter[str] = Counter()
    groups: dict[str, set[str]] = {s: set() for s in SPLITS}
    words: list[int] = []
    categories: Counter[str] = Counter()
    sums = np.zeros(rig.NUM_CHANNELS, dtype=np.float64)
    counted = 0
    for clip in dataset.clips:
        per_split[clip.split] += 1
        per_kind[clip.kind] += 1
        kf_split[clip.split] += len(clip.keyframes)
        groups.setdefault(clip.split, set()).add(clip.group)
        for kf, s in zip(clip.keyframes.keyframes, clip.structured or (None,) * len(clip.keyframes), strict=False):
            words.append(len(kf.description.split()))
            if kf.values is not None:
                sums += np.abs(np.asarray(kf.values, dtype=np.float64))
                counted += 1
            if isinstance(s, Mapping) and isinstance(s.get("category"), Mapping):
                categories[str(s["category"].get("name"))] += 1
    mean = sums / max(counted, 1)
    top = sorted(range(rig.NUM_CHANNELS), key=lambda j: -mean[j])[:8]
    keyframes = sum(kf_split.values())
    return {
        "adapter": dataset.adapter,
        "clips": len(dataset.clips),
        "keyframes": keyframes,
        "clips_per_split": {s: per_split.get(s, 0) for s in SPLITS},
        "keyframes_per_split": {s: kf_split.get(s, 0) for s in SPLITS},
        "groups_per_split": {s: len(groups.get(s, ())) for s in SPLITS},
        "clips_per_kind": dict(sorted(per_kind.items())),
        "keyframes_per_clip": round(keyframes / max(len(dataset.clips), 1), 2),
        "description_words": {
            "mean": round(float(np.mean(words)), 1) if words else 0.0,
            "min": min(words) if words else 0,
            "max": max(words) if words else 0,
        },
        "categories": dict(categories.most_common(12)),
        "most_active_channels": {rig.CHANNELS[j]: round(float(mean[j]), 3) for j in top},
    }
