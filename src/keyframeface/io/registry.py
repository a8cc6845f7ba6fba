"""One registry of writers, looked up by name or file extension, and one reader for every format.

Like whisper's output writers: each format is a small writer function in its own module, named here by a dotted
path (``"keyframeface.io.livelink_csv:write_livelink_csv"``) and imported only when used, so ``import keyframeface``
stays light and a format whose module or optional package is missing fails with a clear :class:`FormatError`
only when asked for. Third parties add formats with :func:`register_writer`.

==========  ==============  ===========================================  ===========================================
name        extensions      Animation                                    Keyframes
==========  ==============  ===========================================  ===========================================
``csv``     .csv            Live Link Face CSV, one row per frame        one row per keyframe at its time
``json``    .json           ``keyframeface.animation`` JSON              ``keyframeface.keyframes`` JSON
``npz``     .npz            NumPy archive (lossless)                     keyframes placed as frames at their times
``gltf``    .gltf           glTF 2.0, JSON + embedded buffer             keyframes placed as frames at their times
``glb``     .glb            glTF 2.0 binary                              keyframes placed as frames at their times
==========  ==============  ===========================================  ===========================================

"Keyframes placed as frames at their times" is :func:`keyframeface.convert.keyframes_to_animation`: one frame per
keyframe (no interpolation: run ``animate`` for smooth curves). A :class:`~keyframeface.script.Script` can only be
written as JSON.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FormatError
from ..plugins import MissingModule, load_target
from ..script import Animation, Keyframes, Script

__all__ = ["READ_FORMATS", "WRITERS", "Writer", "export", "find_writer", "read_any", "register_writer", "writer_names"]


@dataclass(frozen=True)
class Writer:
    """A format: ``target`` (``"module:function"``) writes an Animation, ``keyframes_target`` (if any) Keyframes.

    Both are called as ``function(obj, path, **options)``. ``defaults`` are options the format implies (``glb``:
    ``binary=True``); options given by the caller win. ``extensions`` are lower-case with the dot.
    """

    name: str
    target: str
    extensions: tuple[str, ...]
    description: str
    keyframes_target: str | None = None
    scripts: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def load(self, *, keyframes: bool = False) -> Callable[..., Any]:
        """Import and return the writing function (``keyframes=True``: the Keyframes writer)."""
        target = self.keyframes_target if keyframes else self.target
        if target is None:
            raise FormatError(f"the {self.name} writer has no keyframes form")
        return _resolve(target, self.name)


def _resolve(target: str, name: str) -> Callable[..., Any]:
    try:
        func = load_target(target)
    except MissingModule as exc:
        if exc.component_absent:
            raise FormatError(
                f"the {name} writer is not available in this installation ({exc.module} is missing); "
                f"choose another format: {', '.join(writer_names())}"
            ) from None
        raise FormatError(
            f"the {name} writer needs the Python package {exc.missing!r}, which is not installed; install it "
            f"(pip install {exc.missing.split('.')[0]}) or choose another format"
        ) from None
    if not callable(func):
        module_name, _, attr = target.partition(":")
        raise FormatError(f"the {name} writer is broken: {module_name} has no function {attr!r}")
    return func


#: Writers by name, in the order ``writer_names()`` lists them.
WRITERS: dict[str, Writer] = {}

#: File extensions :func:`read_any` understands, and what it returns for each.
READ_FORMATS: Mapping[str, str] = {
    ".csv": "Live Link Face CSV -> Animation",
    ".json": "keyframeface JSON -> Script, Keyframes or Animation",
    ".yaml": "script or keyframes YAML (needs PyYAML) -> Script or Keyframes",
    ".yml": "script or keyframes YAML (needs PyYAML) -> Script or Keyframes",
    ".npz": "keyframeface NumPy archive -> Animation",
    ".jsonl": "KeyframeFace release results (ms-swift) -> Keyframes",
}


def register_writer(writer: Writer, *, replace: bool = False) -> None:
    """Add a format (built-in and third-party formats register the same way)."""
    if not isinstance(writer, Writer):
        raise FormatError(f"expected a Writer, got {type(writer).__name__}")
    if writer.name in WRITERS and not replace:
        raise FormatError(f"a writer named {writer.name!r} exists; pass replace=True to override it")
    WRITERS[writer.name] = writer


for _writer in (
    Writer("csv", "keyframeface.io.livelink_csv:write_livelink_csv", (".csv",),
           "Live Link Face CSV for MetaHuman / Unreal", keyframes_target="keyframeface.io.livelink_csv:write_keyframes_csv"),
    Writer("json", "keyframeface.script:save_json", (".json",), "keyframeface JSON (animation, keyframes or script)",
           keyframes_target="keyframeface.script:save_json", scripts=True),
    Writer("npz", "keyframeface.io.npz:write_npz", (".npz",), "NumPy archive of the frames (lossless)"),
    Writer("gltf", "keyframeface.io.gltf:write_gltf", (".gltf",), "glTF 2.0 with morph-target animation (JSON)",
           defaults={"binary": False}),
    Writer("glb", "keyframeface.io.gltf:write_gltf", (".glb",), "glTF 2.0 with morph-target animation (binary)",
           defaults={"binary": True}),
):
    register_writer(_writer)


def writer_names() -> list[str]:
    """Names of every registered writer, in registration order."""
    return list(WRITERS)


def find_writer(path: str | os.PathLike[str] | None = None, *, format: str | None = None) -> Writer:
    """The writer for ``format`` (a name or an extension) or, without it, for ``path``'s extension."""
    valid = ", ".join(writer_names())
    if format is not None:
        if not isinstance(format, str):
            raise FormatError(f"format must be a string such as {valid}; got {type(format).__name__}")
        key = format.strip().lower()
        if key in WRITERS:
            return WRITERS[key]
        for writer in WRITERS.values():
            if key in writer.extensions or f".{key}" in writer.extensions:
                return writer
        raise FormatError(f"unknown format {format[:40]!r}; expected one of {valid}")
    suffix = Path(path).suffix.lower() if path is not None else ""
    for writer in WRITERS.values():
        if suffix in writer.extensions:
            return writer
    shown = repr(suffix) if suffix else "no extension"
    raise FormatError(f"cannot tell the format from {shown}; use one of {valid} as the extension or pass format=")


def _check_options(func: Callable[..., Any], options: Mapping[str, Any], what: str, *, positional: int = 2) -> None:
    """Refuse options ``func`` does not take (after its ``positional`` leading arguments), naming those it does."""
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [
        n for n, p in list(params.items())[positional:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise FormatError(
            f"the {what} does not take option {unknown[0]!r}; it takes {', '.join(accepted) or 'no options'}"
        )


def export(
    obj: Animation | Keyframes | Script, path: str | os.PathLike[str], *, format: str | None = None, **options: Any
) -> Path:
    """Write ``obj`` to ``path`` in ``format`` (default: from the extension) and return the path written.

    ``options`` go to the writer (``digits=``, ``header_count=`` for CSV; ``mesh=`` for glTF ...) and are checked
    against its signature. Keyframes are written in the format's keyframes form (JSON document, CSV row per
    keyframe) or, for dense formats, as an animation with one frame per keyframe. Writers are atomic: a failure
    leaves any previous file in place. Unknown formats and options raise :class:`FormatError`.
    """
    writer = find_writer(path, format=format)
    target = Path(path)
    if isinstance(obj, Script):
        if not writer.scripts:
            raise FormatError(
                f"a script has no values to write as {writer.name}; generate keyframes first "
                "(keyframeface generate) or write it as json"
            )
        func = writer.load()
    elif isinstance(obj, Keyframes):
        if writer.keyframes_target is not None:
            func = writer.load(keyframes=True)
        else:
            from ..convert import keyframes_to_animation

            obj = keyframes_to_animation(obj)
            func = writer.load()
    elif isinstance(obj, Animation):
        func = writer.load()
    else:
        raise FormatError(f"expected an Animation, Keyframes or Script to export, got {type(obj).__name__}")
    merged = {**writer.defaults, **options}
    _check_options(func, merged, f"{writer.name} writer")
    func(obj, target, **merged)
    return target


# ------------------------------------------------------------------------------------------------- reading
def _sniff(path: Path) -> str:
    """Guess the extension of a file without a known one from its first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ".npz"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        first, _, rest = text.partition("\n")
        # ms-swift results: one JSON object per line, with a "response" (or "messages") field.
        if rest.strip().startswith("{") or '"response"' in first:
            return ".jsonl"
        return ".json"
    if text.lower().startswith("timecode") or "blendshapecount" in text.lower()[:200]:
        return ".csv"
    raise FormatError(
        f"cannot tell what {path} is; expected one of these extensions: {', '.join(READ_FORMATS)}"
    )


def read_any(path: str | os.PathLike[str], **options: Any) -> Script | Keyframes | Animation:
    """Read any file keyframeface understands, by extension (or by content when the extension says nothing).

    ``.csv`` Live Link Face -> :class:`Animation` (``options`` go to
    :func:`~keyframeface.io.livelink_csv.read_livelink_csv`: ``fps``, ``timecode_fps``, ``policy``); ``.json`` /
    ``.yaml`` -> :class:`Script`, :class:`Keyframes` or :class:`Animation` by its ``format`` field; ``.npz`` ->
    :class:`Animation`; ``.jsonl`` KeyframeFace release results -> :class:`Keyframes` (``options`` go to
    :func:`~keyframeface.io.release_jsonl.read_release_results`: ``requests``, ``policy``). glTF files are written
    only. Unknown or unreadable files raise :class:`FormatError`.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".gltf", ".glb"):
        raise FormatError(f"{p}: glTF files can be written but not read back; read the CSV, JSON or npz instead")
    if suffix not in READ_FORMATS:
        suffix = _sniff(p)
    if options and suffix not in (".csv", ".jsonl"):
        raise FormatError(f"reading {suffix} files takes no options; got {', '.join(sorted(options))}")
    if suffix == ".csv":
        from .livelink_csv import read_livelink_csv

        _check_options(read_livelink_csv, options, "CSV reader", positional=1)
        return read_livelink_csv(p, **options)
    if suffix == ".npz":
        from .npz import read_npz

        return read_npz(p)
    if suffix == ".jsonl":
        try:
            module = importlib.import_module("keyframeface.io.release_jsonl")
        except ModuleNotFoundError as exc:
            if exc.name != "keyframeface.io.release_jsonl":
                raise
            raise FormatError("reading release result .jsonl files needs keyframeface.io.release_jsonl, "
                              "which this installation lacks") from None
        _check_options(module.read_release_results, options, "release results reader", positional=1)
        result = module.read_release_results(p, **options)
        if not isinstance(result, (Keyframes, Animation, Script)):
            raise FormatError(f"{p}: the release reader returned {type(result).__name__}, not Keyframes")
        return result
    from ..script import load_document

    return load_document(p)
