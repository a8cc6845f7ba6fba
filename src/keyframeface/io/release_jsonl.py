"""The KeyframeFace release's ms-swift JSONL files: requests (one per keyframe) and the model's results.

* Requests (``example.jsonl``): one ``{"messages": [system, user]}`` per keyframe, every one carrying the whole
  script. :func:`read_release_requests` reads the script back; :func:`write_release_requests` writes it
  (byte-identical to the release for the same script, see :func:`keyframeface.prompt.requests_jsonl`).
* Results (``example_result.jsonl``, written by ``swift infer --result_path``): one object per request with the
  model's answer in ``"response"``; ms-swift may add ``"messages"`` (the request, sometimes with the answer
  appended), ``"labels"`` (the reference answer when the dataset had one), ``"logprobs"``, or, in ms-swift 2,
  ``"query"``/``"system"``/``"history"``. :func:`read_release_results` turns them into :class:`Keyframes`: the
  k-th answer (0-based, blank lines skipped) gets ``time_s = k``, as the release's CSV converter does (keyframe k
  at timecode ``00:00:0k:00.000``); descriptions, background and emotion come from the request text in the same
  line when it is there. Values are kept exactly as the model wrote them (no eye-pitch sign change), so the
  release's own CSV is reproduced.

Files are capped in size (:data:`MAX_FILE_BYTES`) and lines in length (:data:`MAX_LINE_BYTES`); a bad line raises
:class:`FormatError` naming the file and line number.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np

from .._version import __version__
from ..errors import FormatError, KeyframeFaceError, ModelOutputError, ScriptError
from ..prompt import POLICIES, PromptContent, parse_user_message, parse_values, requests_jsonl
from ..script import MAX_DESCRIPTION_CHARS, MAX_KEYFRAMES, MAX_TEXT_CHARS, Keyframe, Keyframes, Script
from .atomic import atomic_write_text
from .jsonl_lines import iter_json_lines

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINE_BYTES",
    "read_release_requests",
    "read_release_results",
    "write_release_requests",
]

#: The largest file read. A request line carries the whole script (up to 256 descriptions of 2,000 characters,
#: ~0.5 MB), and a file holds one line per keyframe, so the largest legitimate file is ~130 MB.
MAX_FILE_BYTES: Final[int] = 256 * 1024 * 1024
#: The longest line read (a full 256-keyframe request, plus a capped answer, with room for JSON escaping).
MAX_LINE_BYTES: Final[int] = 8 * 1024 * 1024


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line, at most MAX_KEYFRAMES of them."""
    return iter_json_lines(path, max_file_bytes=MAX_FILE_BYTES, max_line_bytes=MAX_LINE_BYTES,
                           max_objects=MAX_KEYFRAMES, what="a release .jsonl file",
                           too_many=f"one file holds the requests of one script of at most {MAX_KEYFRAMES} keyframes")


def _user_text(obj: dict[str, Any], where: str) -> str | None:
    """The user message of the request in one line (``messages`` or ms-swift 2's ``query``), or ``None``."""
    messages = obj.get("messages")
    if messages is not None:
        if not isinstance(messages, list):
            raise FormatError(f"{where}: 'messages' must be a list of {{role, content}} objects")
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        if not users:
            raise FormatError(f"{where}: 'messages' has no user message")
        content = users[-1].get("content")
        if not isinstance(content, str):
            raise FormatError(f"{where}: the user message's content must be a string")
        return content
    query = obj.get("query")
    return query if isinstance(query, str) else None


def _content(obj: dict[str, Any], where: str) -> PromptContent | None:
    text = _user_text(obj, where)
    if text is None:
        return None
    try:
        content = parse_user_message(text)
    except FormatError as exc:
        raise FormatError(f"{where}: {exc}") from None
    for i, desc in enumerate(content.descriptions):
        if len(desc) > MAX_DESCRIPTION_CHARS:
            raise FormatError(f"{where}: keyframe {i + 1}'s description is {len(desc)} characters; the limit is "
                              f"{MAX_DESCRIPTION_CHARS}")
    for name, value in (("background", content.background), ("emotion", content.emotion)):
        if len(value) > MAX_TEXT_CHARS:
            raise FormatError(f"{where}: the {name} is {len(value)} characters; the limit is {MAX_TEXT_CHARS}")
    return content


def read_release_results(
    path: str | os.PathLike[str],
    *,
    policy: str = "strict",
    answer_field: str = "response",
    requests: str | os.PathLike[str] | Script | None = None,
) -> Keyframes:
    """Read an ms-swift result file into :class:`Keyframes` (values: (K, 61) float32 exactly as written).

    ``policy`` is :func:`keyframeface.prompt.parse_values`'s (``"strict"`` or ``"repair"``); parse warnings are
    kept in ``meta["warnings"]`` keyed by 0-based keyframe. ``answer_field`` names the field holding the answer:
    ``"response"`` (the model's) or ``"labels"`` (the reference answer ms-swift copies from the dataset).
    ``requests`` (the request file, or its :class:`Script`) supplies the background and emotion, and the
    descriptions of lines that carry no request text (the release's own result file has only ``"response"``);
    keyframe k gets description k. Keyframe k (0-based) gets ``time_s = k``. Raises :class:`FormatError` for an unreadable file or line and
    :class:`ModelOutputError` (message prefixed with file and line, ``raw_text`` kept) for an answer that does not
    parse under ``policy``.
    """
    if policy not in POLICIES:
        raise ScriptError(f"unknown policy {policy!r}; expected one of {list(POLICIES)}", field="policy")
    p = Path(path)
    script = read_release_requests(requests) if isinstance(requests, (str, os.PathLike)) else requests
    if script is not None and not isinstance(script, Script):
        raise ScriptError(f"requests must be a path or a Script, got {type(script).__name__}", field="requests")
    rows: list[np.ndarray] = []
    descriptions: list[str] = []
    warnings: dict[str, list[str]] = {}
    background = script.background if script is not None else ""
    emotion = script.emotion if script is not None else ""
    context_found = False
    for k, (lineno, obj) in enumerate(_lines(p)):
        where = f"{p}:{lineno}"
        answer = obj.get(answer_field)
        if not isinstance(answer, str):
            raise FormatError(f"{where}: expected the answer as a string in {answer_field!r}, got "
                              f"{type(answer).__name__ if answer_field in obj else 'no such field'}")
        content = _content(obj, where)
        target = k
        if content is not None:
            if content.target is not None:
                target = content.target
            if not context_found and script is None:
                background, emotion, context_found = content.background, content.emotion, True
        try:
            parsed = parse_values(answer, policy=policy, index=target)
        except ModelOutputError as exc:
            raise ModelOutputError(f"{where}: {exc}", raw_text=exc.raw_text) from None
        if parsed.warnings:
            warnings[str(k)] = list(parsed.warnings)
        rows.append(parsed.values)
        if content is not None and target < len(content.descriptions):
            descriptions.append(content.descriptions[target])
        elif script is not None and k < len(script.keyframes):
            descriptions.append(script.keyframes[k].description)
        else:
            descriptions.append("")
    if not rows:
        raise FormatError(f"{p} holds no results; expected one JSON object with a {answer_field!r} per line")
    meta: dict[str, Any] = {
        "backend": "release-jsonl",
        "source": p.name,
        "package_version": __version__,
        "options": {"policy": policy, "answer_field": answer_field},
    }
    if warnings:
        meta["warnings"] = warnings
    try:
        keyframes = tuple(
            Keyframe.from_dict({"description": desc, "time_s": float(k)}, index=k, require_description=False)
            .with_values(values)
            for k, (desc, values) in enumerate(zip(descriptions, rows, strict=True))
        )
        return Keyframes(keyframes=keyframes, background=background, emotion=emotion, meta=meta)
    except ScriptError as exc:
        raise FormatError(f"{p}: {exc}") from None


def read_release_requests(path: str | os.PathLike[str]) -> Script:
    """Read a release request file (``example.jsonl``) back into the :class:`Script` it was built from.

    Every request carries the whole script; they must all agree (else :class:`FormatError` naming the line).
    Keyframes get no ``time_s`` (the requests carry none).
    """
    p = Path(path)
    first: tuple[int, PromptContent] | None = None
    for lineno, obj in _lines(p):
        where = f"{p}:{lineno}"
        content = _content(obj, where)
        if content is None:
            raise FormatError(f"{where}: expected a request with 'messages' (system and user chat messages)")
        if first is None:
            first = (lineno, content)
        elif (content.descriptions, content.background, content.emotion) != (
            first[1].descriptions, first[1].background, first[1].emotion
        ):
            raise FormatError(f"{where}: this request describes a different script than line {first[0]}; one "
                              "file holds the requests of one script")
    if first is None:
        raise FormatError(f"{p} holds no requests; expected one JSON object with 'messages' per line")
    content = first[1]
    try:
        keyframes = tuple(
            Keyframe.from_dict({"description": d}, index=i, require_description=False)
            for i, d in enumerate(content.descriptions)
        )
        return Script(background=content.background, emotion=content.emotion, keyframes=keyframes)
    except KeyframeFaceError as exc:
        raise FormatError(f"{p}: {exc}") from None


def write_release_requests(script: Script, path: str | os.PathLike[str], *, representation: str = "json") -> None:
    """Write ``script``'s requests (one per keyframe) to ``path`` atomically, with ``\\n`` line ends on every
    platform so the bytes match the release's example.jsonl."""
    atomic_write_text(path, requests_jsonl(script, representation=representation), newline="\n")
