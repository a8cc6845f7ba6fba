"""One registry of writers and one of readers, looked up by name, file extension or (readers) content.

Like whisper's output writers: each format is a small function in its own module, named here by a dotted path
(``"keyframeface.io.livelink_csv:write_livelink_csv"``) and imported only when used, so ``import keyframeface``
stays light and a format whose module or optional package is missing fails with a clear :class:`FormatError`
only when asked for. Writers write to an open binary stream; :func:`export` opens the file atomically around it
and :func:`export_bytes` hands the bytes back (the web app's downloads). Third parties add formats with
:func:`register_writer` and :func:`register_reader`; to add a format, write its module and register it below.

==========  ==============  ===========================================  ===========================================
name        extensions      Animation                                    Keyframes
==========  ==============  ===========================================  ===========================================
``csv``     .csv            Live Link Face CSV, one row per frame        one row per keyframe at its time
``json``    .json           ``keyframeface.animation`` JSON              ``keyframeface.keyframes`` JSON
``npz``     .npz            NumPy archive (lossless)                     keyframes placed as frames at their times
``gltf``    .gltf           glTF 2.0, JSON + embedded buffer             keyframes placed as frames at their times
``glb``     .glb            glTF 2.0 binary                              keyframes placed as frames at their times
==========  ==============  ===========================================  ===========================================

"Keyframes placed as frames at their times" is :meth:`keyframeface.script.Animation.from_keyframes`: one frame per
keyframe (no interpolation: run ``animate`` for smooth curves). A :class:`~keyframeface.script.Script` can only be
written as JSON. Readers: ``.csv`` (Live Link Face), ``.json`` / ``.yaml`` (keyframeface documents), ``.npz``,
``.jsonl`` (KeyframeFace release results); see :data:`READ_FORMATS`.
"""

from __future__ import annotations

import inspect
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..errors import FormatError
from ..plugins import load_target
from ..registry import Registry, install_hint, load_explained
from ..script import Animation, Keyframes, Script
from .atomic import atomic_open

__all__ = [
    "READERS",
    "READ_FORMATS",
    "WRITERS",
    "Reader",
    "Writer",
    "export",
    "export_bytes",
    "find_reader",
    "find_writer",
    "read_any",
    "reader_names",
    "register_reader",
    "register_writer",
    "writer_names",
]

Document = Script | Keyframes | Animation


def _resolve(target: str, what: str, valid: str, extra: str | None) -> Callable[..., Any]:
    """Import a reader's or writer's function, with errors that say what to install or choose instead."""
    return cast(Callable[..., Any], load_explained(
        lambda: load_target(target), target, what=what, noun="function", absent_advice=f"choose another format: {valid}",
        missing_advice=lambda exc: f"install it ({install_hint(exc, extra)}) or choose another format"))


def _accepted(func: Callable[..., Any], positional: int) -> list[str] | None:
    """The keyword options ``func`` takes after its ``positional`` leading arguments (``None``: any)."""
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return [n for n, p in list(params.items())[positional:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _check_options(func: Callable[..., Any], options: Mapping[str, Any], what: str, *, positional: int = 2) -> None:
    """Refuse options ``func`` does not take (after its ``positional`` leading arguments), naming those it does."""
    accepted = _accepted(func, positional)
    if accepted is None:
        return
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise FormatError(
            f"the {what} does not take option {unknown[0]!r}; it takes {', '.join(accepted) or 'no options'}"
        )


# ------------------------------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class Writer:
    """A format: ``target`` (``"module:function"``) writes an Animation, ``keyframes_target`` (if any) Keyframes.

    With ``stream=True`` (every built-in format) both are called as ``function(obj, stream, **options)`` with an
    open binary stream; :func:`export` opens the file atomically around it. With ``stream=False`` (the older form,
    still accepted from third parties) they are called as ``function(obj, path, **options)`` and must write the
    file atomically themselves. ``defaults`` are options the format implies (``glb``: ``binary=True``); options
    given by the caller win. ``extensions`` are lower-case with the dot. ``media_type`` is the HTTP content type
    of the bytes; ``download``: the web app offers the format. ``extra``: the pip extra its packages come with.
    """

    name: str
    target: str
    extensions: tuple[str, ...]
    description: str
    keyframes_target: str | None = None
    scripts: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)
    media_type: str = "application/octet-stream"
    stream: bool = False
    download: bool = True
    extra: str | None = None

    def load(self, *, keyframes: bool = False) -> Callable[..., Any]:
        """Import and return the writing function (``keyframes=True``: the Keyframes writer)."""
        target = self.keyframes_target if keyframes else self.target
        if target is None:
            raise FormatError(f"the {self.name} writer has no keyframes form")
        return _resolve(target, f"{self.name} writer", ", ".join(writer_names()), self.extra)

    def accepts(self, option: str) -> bool:
        """Whether the writer takes the keyword option ``option`` (imports the writer)."""
        accepted = _accepted(self.load(), 2)
        return accepted is None or option in accepted


#: Writers by name (built in first, then registered ones), in the order ``writer_names()`` lists them.
_WRITERS: Registry[Writer] = Registry("format")
WRITERS: dict[str, Writer] = _WRITERS.entries


def register_writer(writer: Writer, *, replace: bool = False) -> None:
    """Add a format (built-in and third-party formats register the same way)."""
    if not isinstance(writer, Writer):
        raise FormatError(f"expected a Writer, got {type(writer).__name__}")
    if writer.name in WRITERS and not replace:
        raise FormatError(f"a writer named {writer.name!r} exists; pass replace=True to override it")
    _WRITERS.register(writer.name, writer)


for _writer in (
    Writer("csv", "keyframeface.io.livelink_csv:write_livelink_csv", (".csv",),
           "Live Link Face CSV for MetaHuman / Unreal", keyframes_target="keyframeface.io.livelink_csv:write_keyframes_csv",
           media_type="text/csv; charset=utf-8", stream=True),
    Writer("json", "keyframeface.io.json_file:write_json", (".json",), "keyframeface JSON (animation, keyframes or script)",
           keyframes_target="keyframeface.io.json_file:write_json", scripts=True, media_type="application/json",
           stream=True),
    Writer("npz", "keyframeface.io.npz:write_npz", (".npz",), "NumPy archive of the frames (lossless)",
           media_type="application/x-npz", stream=True, download=False),
    Writer("gltf", "keyframeface.io.gltf:write_gltf", (".gltf",), "glTF 2.0 with morph-target animation (JSON)",
           defaults={"binary": False}, media_type="model/gltf+json", stream=True),
    Writer("glb", "keyframeface.io.gltf:write_gltf", (".glb",), "glTF 2.0 with morph-target animation (binary)",
           defaults={"binary": True}, media_type="model/gltf-binary", stream=True),
    Writer("usda", "keyframeface.io.usd:write_usd", (".usda",), "USD text: UsdSkel SkelAnimation (blend shapes, head/eyes)",
           keyframes_target="keyframeface.io.usd:write_usd", defaults={"flavour": "usda"}, media_type="model/vnd.usda",
           stream=True, download=False, extra="usd"),
    Writer("usdc", "keyframeface.io.usd:write_usd", (".usdc", ".usd"), "USD binary crate: UsdSkel SkelAnimation",
           keyframes_target="keyframeface.io.usd:write_usd", defaults={"flavour": "usdc"}, media_type="model/vnd.usd",
           stream=True, download=False, extra="usd"),
):
    register_writer(_writer)


def writer_names() -> list[str]:
    """Names of every registered writer, in registration order."""
    return _WRITERS.names()


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
        raise FormatError(f"unknown format {format[:40]!r}; expected one of {valid}{_WRITERS.suggestion(key)}")
    suffix = Path(path).suffix.lower() if path is not None else ""
    for writer in WRITERS.values():
        if suffix in writer.extensions:
            return writer
    shown = repr(suffix) if suffix else "no extension"
    raise FormatError(f"cannot tell the format from {shown}; use one of {valid} as the extension or pass format=")


def _prepare(obj: Document, writer: Writer, options: Mapping[str, Any]) -> tuple[Callable[..., Any], Document, dict[str, Any]]:
    """The writing function for ``obj``'s type, the object it writes, and the checked options."""
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
            obj = Animation.from_keyframes(obj)
            func = writer.load()
    elif isinstance(obj, Animation):
        func = writer.load()
    else:
        raise FormatError(f"expected an Animation, Keyframes or Script to export, got {type(obj).__name__}")
    merged = {**writer.defaults, **options}
    _check_options(func, merged, f"{writer.name} writer")
    return func, obj, merged


def export(obj: Document, path: str | os.PathLike[str], *, format: str | None = None, **options: Any) -> Path:
    """Write ``obj`` to ``path`` in ``format`` (default: from the extension) and return the path written.

    ``options`` go to the writer (``digits=``, ``header_count=`` for CSV; ``mesh=`` for glTF ...) and are checked
    against its signature. Keyframes are written in the format's keyframes form (JSON document, CSV row per
    keyframe) or, for dense formats, as an animation with one frame per keyframe. The file is written atomically:
    a failure leaves any previous file in place. Unknown formats and options raise :class:`FormatError`.
    """
    writer = find_writer(path, format=format)
    target = Path(path)
    func, obj, merged = _prepare(obj, writer, options)
    if not writer.stream:
        func(obj, target, **merged)
        return target
    with atomic_open(target, "wb") as handle:
        func(obj, handle, **merged)
    return target


def export_bytes(obj: Document, format: str, **options: Any) -> bytes:
    """``obj`` in ``format`` (a writer name or extension) as bytes: the same bytes :func:`export` writes to a file.

    Options and errors as :func:`export`.
    """
    writer = find_writer(None, format=format)
    func, obj, merged = _prepare(obj, writer, options)
    if writer.stream:
        buffer = io.BytesIO()
        func(obj, buffer, **merged)
        return buffer.getvalue()
    # A writer in the older path form: let it write a file in a private folder.
    with tempfile.TemporaryDirectory(prefix="keyframeface-export-") as tmp:
        path = Path(tmp) / f"export{writer.extensions[0] if writer.extensions else ''}"
        func(obj, path, **merged)
        return path.read_bytes()


# ------------------------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Reader:
    """A readable format: ``target`` (``"module:function"``) is called as ``function(path, **options)`` and returns
    a :class:`Script`, :class:`Keyframes` or :class:`Animation`.

    ``extensions``: lower-case with the dot. ``description``: what it reads and returns (``"Live Link Face CSV ->
    Animation"``). ``sniff(head)``: whether the file's first 4096 bytes look like this format, for files whose
    extension says nothing; sniffers of different readers must not both answer yes. ``options``: whether the
    reader takes options (checked against its signature); ``label`` names it in messages (``"CSV reader"``).
    """

    name: str
    target: str
    extensions: tuple[str, ...]
    description: str
    sniff: Callable[[bytes], bool] | None = None
    options: bool = False
    label: str = ""
    extra: str | None = None

    def load(self) -> Callable[..., Any]:
        """Import and return the reading function."""
        return _resolve(self.target, self.label or f"{self.name} reader", ", ".join(READ_FORMATS), self.extra)


_READERS: Registry[Reader] = Registry("reader")
#: Readers by name, in the order they are listed and tried.
READERS: dict[str, Reader] = _READERS.entries


class _ReadFormats(Mapping[str, str]):
    """Every extension :func:`read_any` understands -> what it reads and returns (a live view of the readers)."""

    def _items(self) -> dict[str, str]:
        items: dict[str, str] = {}
        for reader in READERS.values():
            for ext in reader.extensions:  # readers sharing an extension: both descriptions, the content decides
                items[ext] = f"{items[ext]}; or {reader.description}" if ext in items else reader.description
        return items

    def __getitem__(self, key: str) -> str:
        return self._items()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return repr(self._items())


#: File extensions :func:`read_any` understands, and what it returns for each.
READ_FORMATS: Mapping[str, str] = _ReadFormats()


def register_reader(reader: Reader, *, replace: bool = False) -> None:
    """Add a readable format (built-in and third-party readers register the same way)."""
    if not isinstance(reader, Reader):
        raise FormatError(f"expected a Reader, got {type(reader).__name__}")
    if reader.name in READERS and not replace:
        raise FormatError(f"a reader named {reader.name!r} exists; pass replace=True to override it")
    _READERS.register(reader.name, reader)


def reader_names() -> list[str]:
    """Names of every registered reader, in registration order."""
    return _READERS.names()


def _zip_head(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def _text_head(head: bytes) -> str:
    return "" if _zip_head(head) else head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def _jsonl_head(text: str) -> bool:
    # ms-swift results: one JSON object per line, with a "response" (or "messages") field.
    first, _, rest = text.partition("\n")
    return text.startswith("{") and (rest.strip().startswith("{") or '"response"' in first)


def _batch_head(text: str) -> bool:
    # OpenAI Batch / vllm run-batch results of keyframeface requests: custom ids "kff1:..." and a response or error.
    first = text.partition("\n")[0]
    return text.startswith("{") and '"custom_id":' in first.replace('": ', '":') and '"kff1:' in first \
        and ('"response"' in first or '"error"' in first) and '"body":{"messages"' not in first.replace(" ", "")


def _sniff_batch(head: bytes) -> bool:
    return _batch_head(_text_head(head))


def _sniff_json(head: bytes) -> bool:
    text = _text_head(head)
    return text.startswith("{") and not _jsonl_head(text)


def _sniff_jsonl(head: bytes) -> bool:
    text = _text_head(head)
    return _jsonl_head(text) and not _batch_head(text)


def _sniff_csv(head: bytes) -> bool:
    text = _text_head(head)
    return not text.startswith("{") and (
        text.lower().startswith("timecode") or "blendshapecount" in text.lower()[:200]
    )


for _reader in (
    Reader("csv", "keyframeface.io.livelink_csv:read_livelink_csv", (".csv",), "Live Link Face CSV -> Animation",
           sniff=_sniff_csv, options=True, label="CSV reader"),
    Reader("json", "keyframeface.script:load_document", (".json",),
           "keyframeface JSON -> Script, Keyframes or Animation", sniff=_sniff_json),
    Reader("yaml", "keyframeface.script:load_document", (".yaml", ".yml"),
           "script or keyframes YAML (needs PyYAML) -> Script or Keyframes"),
    Reader("npz", "keyframeface.io.npz:read_npz", (".npz",), "keyframeface NumPy archive -> Animation",
           sniff=_zip_head),
    Reader("openai-batch", "keyframeface.io.openai_batch:read_batch_results", (".jsonl",),
           "OpenAI Batch / vllm run-batch results of keyframeface requests -> Keyframes (one script; a folder "
           "for several)", sniff=_sniff_batch, options=True, label="batch results reader"),
    Reader("jsonl", "keyframeface.io.release_jsonl:read_release_results", (".jsonl",),
           "KeyframeFace release results (ms-swift) -> Keyframes", sniff=_sniff_jsonl, options=True,
           label="release results reader"),
):
    register_reader(_reader)


def _sniff(path: Path, readers: list[Reader] | None = None, *, default: Reader | None = None) -> Reader:
    """The reader for a file without a known extension (or one several readers claim: ``readers``), chosen by its
    first bytes; ``default`` when none recognises them."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    for reader in readers if readers is not None else READERS.values():
        if reader.sniff is not None and reader.sniff(head):
            return reader
    if default is not None:
        return default
    raise FormatError(
        f"cannot tell what {path} is; expected one of these extensions: {', '.join(READ_FORMATS)}"
    )


def find_reader(path: str | os.PathLike[str]) -> Reader:
    """The reader for ``path``: by its extension, else by its content.

    Raises :class:`FormatError` for a format that is written but not read (glTF), an unreadable file, or content
    no reader recognises (listing the extensions that are read).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    claimed = [r for r in READERS.values() if suffix in r.extensions]
    if len(claimed) > 1:  # one extension, several formats (.jsonl): the content decides, else the last listed
        return _sniff(p, claimed, default=claimed[-1])
    if claimed:
        return claimed[0]
    if any(suffix in w.extensions for w in WRITERS.values()):
        raise FormatError(
            f"{p}: {suffix} files can be written but not read back; read the file in another format instead "
            f"({', '.join(READ_FORMATS)})"
        )
    return _sniff(p)


def read_any(path: str | os.PathLike[str], **options: Any) -> Document:
    """Read any file keyframeface understands, by extension (or by content when the extension says nothing).

    The one read entry point. ``.csv`` Live Link Face -> :class:`Animation` (``options`` go to
    :func:`~keyframeface.io.livelink_csv.read_livelink_csv`: ``fps``, ``timecode_fps``, ``policy``); ``.json`` /
    ``.yaml`` -> :class:`Script`, :class:`Keyframes` or :class:`Animation` by its ``format`` field
    (:func:`keyframeface.script.load_document`); ``.npz`` -> :class:`Animation`; ``.jsonl`` KeyframeFace release
    results -> :class:`Keyframes` (``options`` go to :func:`~keyframeface.io.release_jsonl.read_release_results`:
    ``requests``, ``policy``). glTF files are written only. Unknown or unreadable files raise :class:`FormatError`.
    """
    p = Path(path)
    reader = find_reader(p)
    suffix = p.suffix.lower() if p.suffix.lower() in reader.extensions else reader.extensions[0]
    if options and not reader.options:
        raise FormatError(f"reading {suffix} files takes no options; got {', '.join(sorted(options))}")
    func = reader.load()
    if options:
        _check_options(func, options, reader.label or f"{reader.name} reader", positional=1)
    result = func(p, **options)
    if not isinstance(result, (Keyframes, Animation, Script)):
        raise FormatError(
            f"{p}: the {reader.label or reader.name + ' reader'} returned {type(result).__name__}, not a Script, "
            "Keyframes or Animation"
        )
    return result
