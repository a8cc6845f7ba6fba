"""The one input path for JSON and YAML documents, whatever the bytes come from: a file, standard input, a web body.

Every source goes through :func:`read_document_bytes`, so the same guards hold everywhere, and they hold *before*
the parser builds anything large:

* size: at most ``max_bytes`` (:data:`MAX_DOCUMENT_BYTES`; YAML :data:`MAX_YAML_BYTES`, its pure-Python parser
  being ~100x slower per byte than ``json``);
* structure (JSON): a C-speed pre-scan of the bytes counts arrays/objects (:data:`MAX_CONTAINERS`) and measures
  nesting depth (:data:`MAX_DEPTH`) before ``json.loads`` runs, so a 12 MB file of nested lists is refused in
  milliseconds instead of being built first;
* numbers: more than :data:`MAX_NUMBER_CHARS` characters in one number (no channel value, time or option needs
  them) is refused with its line;
* YAML: :func:`keyframeface.io.safe_yaml.load_yaml` (no tags, bounded alias expansion, nodes counted while
  composing, depth checked from the token stream).

Every failure is a :class:`~keyframeface.errors.FormatError` of one line naming ``label`` and, where known, the line.
The result is plain data (dicts, lists, strings, numbers, booleans, ``None``); turning it into a
:class:`~keyframeface.script.Script` and friends is :mod:`keyframeface.script`'s job.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO, Any, Final

from ..errors import FormatError
from .files import checked_size

__all__ = [
    "MAX_CONTAINERS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_NUMBER_CHARS",
    "MAX_YAML_BYTES",
    "MAX_YAML_NODES",
    "read_document_bytes",
    "read_document_path",
    "read_document_stream",
]

#: Largest JSON document (script, keyframes, animation): a 64 MiB animation is about 30 minutes at 60 fps.
MAX_DOCUMENT_BYTES: Final[int] = 64 * 1024 * 1024
#: Largest YAML document: scripts and keyframes documents are a few kB (256 keyframes x 61 values is ~0.5 MB).
MAX_YAML_BYTES: Final[int] = 4 * 1024 * 1024
#: Values a YAML document may expand to (aliases counted each time used): 256 keyframes x 61 values x 2 nodes each
#: is ~31,000; the margin keeps memory under ~100 MB for the pure-Python composer.
MAX_YAML_NODES: Final[int] = 300_000
#: Arrays plus objects in a JSON document: an animation holds one array per frame (64 MiB holds ~120,000 frames),
#: a keyframes document a few hundred.
MAX_CONTAINERS: Final[int] = 1_000_000
#: Nesting depth of arrays/objects (a keyframes document needs 4; ``meta`` may nest options a little more).
MAX_DEPTH: Final[int] = 64
#: Characters in one number: float32 values need ~9 significant digits, times ~15.
MAX_NUMBER_CHARS: Final[int] = 100

_YAML_SUFFIXES: Final[tuple[str, ...]] = (".yaml", ".yml")
_KEEP_BRACKETS: Final[bytes] = bytes(b for b in range(256) if b not in b"[]{}")
_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
_LONG_NUMBER = re.compile(rb"[-+]?[0-9][0-9.eE+-]{%d,}" % MAX_NUMBER_CHARS)


def read_document_path(path: str | os.PathLike[str], *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Plain data of the JSON or YAML file ``path`` (YAML by a ``.yaml``/``.yml`` suffix, else JSON).

    The size is checked from the file system before any byte is read. Raises :class:`FormatError`.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    limit = min(max_bytes, MAX_YAML_BYTES) if suffix in _YAML_SUFFIXES else max_bytes
    checked_size(p, limit, what="YAML documents" if suffix in _YAML_SUFFIXES else "",
                 hint="a keyframeface document is far smaller; check the file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    return read_document_bytes(data, label=str(p), suffix=suffix or None, max_bytes=max_bytes)


def read_document_stream(stream: IO[bytes], *, label: str = "standard input", suffix: str | None = None,
                         max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Plain data of the document on the binary ``stream`` (e.g. ``sys.stdin.buffer``), reading at most
    ``max_bytes + 1`` bytes, so an endless stream is refused without being held. Raises :class:`FormatError`."""
    try:
        data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise FormatError(f"cannot read {label}: {exc.strerror or exc}") from None
    if isinstance(data, str):  # a text stream given by mistake: read it as UTF-8
        data = data.encode("utf-8", errors="surrogatepass")
    return read_document_bytes(data, label=label, suffix=suffix, max_bytes=max_bytes)


def read_document_bytes(data: bytes, *, label: str, suffix: str | None = None,
                        max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Plain data of one JSON or YAML document held in ``data``.

    ``label`` names the source in messages (a path, ``"standard input"``, ``"request body"``). ``suffix``:
    ``".yaml"``/``".yml"`` for YAML, ``".json"`` for JSON, ``None`` to choose by content (JSON when the first
    non-blank character is ``{`` or ``[``, else YAML). A UTF-8 BOM is accepted; NaN and Infinity are refused.
    Raises :class:`FormatError` (one line, naming ``label`` and the line where known) for anything else.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FormatError(f"{label}: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    suffix = suffix.lower() if suffix else None
    yaml = suffix in _YAML_SUFFIXES or (suffix is None and data.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] not in (b"{", b"["))
    limit = min(max_bytes, MAX_YAML_BYTES) if yaml else max_bytes
    if len(data) > limit:
        raise FormatError(f"{label} is larger than the limit of {limit} bytes for {'YAML' if yaml else 'JSON'} "
                          "documents; a keyframeface document is far smaller")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError(f"{label} is not UTF-8 text (line {line}); save it as UTF-8") from None
    if yaml:
        from .safe_yaml import load_yaml

        return load_yaml(text, label=label, max_nodes=MAX_YAML_NODES, max_depth=MAX_DEPTH)
    _prescan_json(data, label)
    return _loads(text, data, label)


# ------------------------------------------------------------------------------------------------------- JSON
def _line_at(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _prescan_json(data: bytes, label: str) -> None:
    """Refuse too many or too deeply nested arrays/objects, and over-long numbers, from the raw bytes.

    Brackets inside strings are counted too at first (a cheap upper bound, at C speed); only when that bound is
    over a limit are the strings blanked (JSON strings hold no raw newline, so line numbers stay right) and the
    count redone.
    """
    if _over_limits(data.translate(None, _KEEP_BRACKETS)):
        data = _STRING.sub(b'""', data)
        _check_structure(data, label)
    long = _LONG_NUMBER.search(data)
    if long is not None:
        # Only outside strings counts: blank the strings and look again.
        blanked = _STRING.sub(b'""', data)
        long = _LONG_NUMBER.search(blanked)
        if long is not None:
            raise FormatError(
                f"{label}: line {_line_at(blanked, long.start())}: a number with too many digits ({long.end() - long.start()} "
                f"characters; at most {MAX_NUMBER_CHARS} are read: keyframeface values are small numbers)"
            )


def _depths(marks: bytes) -> Any:
    import numpy as np

    arr = np.frombuffer(marks, dtype=np.uint8)
    step = np.where((arr == ord("[")) | (arr == ord("{")), 1, -1).astype(np.int32)
    return np.cumsum(step)


def _over_limits(marks: bytes) -> bool:
    if len(marks) > 2 * MAX_CONTAINERS:
        return True
    return bool(len(marks)) and int(_depths(marks).max()) > MAX_DEPTH


def _check_structure(data: bytes, label: str) -> None:
    """Exact check on ``data`` whose strings are blanked: name the line of the first offending bracket."""
    import numpy as np

    marks = data.translate(None, _KEEP_BRACKETS)
    opens = marks.count(b"[") + marks.count(b"{")
    if opens > MAX_CONTAINERS:
        raise FormatError(f"{label} holds more than {MAX_CONTAINERS:,} arrays and objects; a keyframeface "
                          "document holds one array per frame at most")
    if len(marks) > 2 * MAX_CONTAINERS:
        raise FormatError(f"{label} is not valid JSON: {len(marks) - opens:,} closing brackets for {opens:,} opened")
    depth = _depths(marks)
    if depth.size and int(depth.max()) > MAX_DEPTH:
        k = int(np.argmax(depth > MAX_DEPTH))
        import collections

        last = collections.deque(_nth_bracket(data, k), maxlen=1)
        line = _line_at(data, last[0].start()) if last else "?"
        raise FormatError(f"{label}: line {line}: arrays/objects nest deeper than {MAX_DEPTH} levels; "
                          "a keyframeface document nests a few levels")


def _nth_bracket(data: bytes, k: int) -> Any:
    import itertools

    return itertools.islice(re.finditer(rb"[\[\]{}]", data), k + 1)


def _reject_constant(name: str) -> Any:
    raise FormatError(f"JSON contains {name}, which is not a number; use finite numbers")


def _loads(text: str, data: bytes, label: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{label} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except FormatError as exc:  # NaN / Infinity, refused by _reject_constant
        raise FormatError(f"{label}: {exc}") from None
    except RecursionError:  # not reached after the pre-scan; kept so no parser error escapes as a traceback
        raise FormatError(f"{label} nests too deeply to be a keyframeface file") from None
    except (ValueError, OverflowError) as exc:  # e.g. int() digit limits
        raise FormatError(f"{label} is not valid JSON: {str(exc)[:100]}") from None
