"""Batch generation through existing engines: OpenAI Batch / ``vllm run-batch`` request lines, and their results
read back into keyframes, one :class:`~keyframeface.script.Keyframes` per script.

**Requests** (:func:`batch_requests`, ``keyframeface prompt --format openai-batch``): one line per keyframe,
``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``, the format of the OpenAI Batch API's
input file, which ``vllm run-batch -i`` reads too. ``body`` is the request the ``openai`` backend sends for that
keyframe (:meth:`keyframeface.backends.openai.OpenAIBackend.request_body`: the same messages, temperature, length
limit and structured-output fields of the chosen ``engine``), so a batch answers exactly as a live run would. Every
request carries the whole script and names its keyframe last (the release's layout), so the requests of one script
share a long prefix: engines with prefix caching (vLLM's automatic prefix caching, OpenAI's prompt caching) compute
it once per script. Lines are written script by script, keyframe by keyframe.

**Custom ids** (:class:`BatchId`) round-trip: ``kff1:{script}:{digest}:{representation}:{count}:{index}``, with
``script`` the script's name (a file stem, reduced to ``[A-Za-z0-9_.-]`` and 28 characters), ``digest`` the first
10 hex digits of the SHA-256 of its canonical JSON (two scripts with one name stay apart), the answer
representation (so the answer is parsed as it was asked for), the number of keyframes (so a missing line is
noticed) and the 0-based keyframe index. At most 61 characters with the longest representation name.

**Results** (:func:`read_batch_results`, ``keyframeface convert results.jsonl -o out/``): the output file of the
OpenAI Batch API or of ``vllm run-batch``, one line per request, ``{"id", "custom_id", "response": {"status_code",
"request_id", "body": <chat completion>}, "error"}`` (OpenAI's error file has ``"response": null`` and an
``"error": {"code", "message"}``; the two files may be concatenated, in any order). Each answer is read with
:func:`keyframeface.prompt.parse_values` under ``policy``. A keyframe whose request failed, whose answer does not
parse, or whose line is absent keeps no values (:attr:`Keyframes.missing`) and is listed in ``meta["failures"]``
with its custom id, so the rest is kept and only the failures need asking again. When a custom id comes twice
(a results file concatenated with a retry's), an answer that parses wins over a failure, and a later answer over an
earlier one. Descriptions, background and emotion come from the request file when it is given (``requests=``);
without it the keyframes have values only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from .._version import __version__
from ..errors import FormatError, ModelOutputError, ScriptError
from ..prompt import POLICIES, build_messages, parse_user_message, parse_values
from ..prompt.representations import REPRESENTATIONS
from ..script import MAX_KEYFRAMES, Keyframe, Keyframes, Script
from .jsonl_lines import iter_json_lines

__all__ = [
    "BATCH_URL",
    "CUSTOM_ID_PREFIX",
    "MAX_FILE_BYTES",
    "BatchId",
    "batch_requests",
    "batch_requests_jsonl",
    "failures_of",
    "read_batch_requests",
    "read_batch_results",
    "read_batch_results_all",
    "script_digest",
    "script_name",
]

#: The endpoint every request line names (the OpenAI Batch API and ``vllm run-batch`` both take it).
BATCH_URL: Final[str] = "/v1/chat/completions"
#: The first field of every custom id this module writes (``1``: the layout's version).
CUSTOM_ID_PREFIX: Final[str] = "kff1"
#: The largest request or results file read. The OpenAI Batch API takes input files up to 200 MB and 50,000
#: requests (platform.openai.com/docs/guides/batch); results are larger (each line adds a chat completion).
MAX_FILE_BYTES: Final[int] = 2 * 1024 * 1024 * 1024
#: The longest line read: one request carries a whole script (~0.5 MB at the limits), plus the answer.
MAX_LINE_BYTES: Final[int] = 8 * 1024 * 1024
#: The most lines read from one file (the OpenAI Batch API's per-batch limit, four times, for concatenated files).
MAX_LINES: Final[int] = 200_000
#: Longest script name kept in a custom id; with the other fields the id stays within 64 characters, the
#: smallest custom-id limit among batch services (Together AI documents 64).
_NAME_CHARS: Final[int] = 28
_DIGEST_CHARS: Final[int] = 10
_NAME_RE: Final[re.Pattern[str]] = re.compile(r"[^A-Za-z0-9_.-]+")
_ID_RE: Final[re.Pattern[str]] = re.compile(
    rf"^kff1:(?P<script>[A-Za-z0-9_.-]{{1,{_NAME_CHARS}}}):(?P<digest>[0-9a-f]{{{_DIGEST_CHARS}}}):"
    r"(?P<rep>[a-z][a-z0-9_-]*):(?P<count>[1-9][0-9]{0,5}):(?P<index>0|[1-9][0-9]{0,5})$"
)
#: How much of a server's error text is kept in ``meta["failures"]``.
_ERROR_CHARS: Final[int] = 300


# ------------------------------------------------------------------------------------------------ custom ids
@dataclass(frozen=True, order=True)
class BatchId:
    """One request's identity: ``script`` name, its content ``digest``, the ``representation`` asked for, the
    script's keyframe ``count`` and the 0-based keyframe ``index``. ``str()`` is the custom id."""

    script: str
    digest: str
    representation: str
    count: int
    index: int

    def __str__(self) -> str:
        return f"{CUSTOM_ID_PREFIX}:{self.script}:{self.digest}:{self.representation}:{self.count}:{self.index}"

    @property
    def group(self) -> tuple[str, str]:
        """The script this request belongs to: ``(script, digest)``."""
        return (self.script, self.digest)

    @classmethod
    def parse(cls, text: Any) -> BatchId | None:
        """The id written by :func:`batch_requests`, or ``None`` for any other custom id."""
        match = _ID_RE.match(text) if isinstance(text, str) else None
        if match is None:
            return None
        count, index = int(match["count"]), int(match["index"])
        if count > MAX_KEYFRAMES or index >= count:
            return None
        return cls(match["script"], match["digest"], match["rep"], count, index)


def script_name(name: str) -> str:
    """``name`` (a file stem) reduced to the characters a custom id keeps: ``[A-Za-z0-9_.-]``, at most 28;
    ``"script"`` when nothing is left."""
    reduced = _NAME_RE.sub("-", str(name)).strip("-.")[:_NAME_CHARS].strip("-.")
    return reduced or "script"


def script_digest(script: Script) -> str:
    """The first 10 hex digits of the SHA-256 of ``script``'s canonical JSON (sorted keys, UTF-8)."""
    canonical = json.dumps(script.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]


# -------------------------------------------------------------------------------------------------- requests
def _named(scripts: Mapping[str, Script] | Iterable[tuple[str, Script]] | Script) -> list[tuple[str, Script]]:
    if isinstance(scripts, Script):
        return [("script", scripts)]
    items = list(scripts.items()) if isinstance(scripts, Mapping) else list(scripts)
    if not items:
        raise ScriptError("give at least one script to write batch requests for")
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Script)):
            raise ScriptError("expected (name, Script) pairs or a {name: Script} mapping")
    return [(str(n), s) for n, s in items]


def batch_requests(
    scripts: Mapping[str, Script] | Iterable[tuple[str, Script]] | Script,
    *,
    model: str | None = None,
    representation: str = "json",
    temperature: float = 0.0,
    seed: int | None = None,
    **backend_options: Any,
) -> list[dict[str, Any]]:
    """The batch request lines for ``scripts`` (``{name: Script}``, ``(name, Script)`` pairs, or one Script), one
    per keyframe, script by script: ``{"custom_id", "method": "POST", "url": BATCH_URL, "body"}``.

    ``body`` is what :class:`~keyframeface.backends.openai.OpenAIBackend` sends for the keyframe, built by that
    backend with ``backend_options`` (its constructor keywords: ``engine`` (default ``"openai"``, the hosted API's
    fields, which vLLM also takes; ``"vllm"`` for a grammar with ``compact``/``semantic``), ``structured``,
    ``max_tokens``, ``enable_thinking``, ``extra_body``, ``adapter``). ``model`` (or ``adapter``, or the config
    file's) is required: batch engines need it in every line. Raises :class:`ScriptError` for a script that needs
    planning, an unknown representation or a script given twice, and
    :class:`~keyframeface.errors.BackendUnavailableError` for a bad backend option.
    """
    from ..backends.base import GenerationOptions
    from ..backends.openai import OpenAIBackend

    if representation not in REPRESENTATIONS:
        raise ScriptError(f"unknown representation {representation!r}; expected one of {sorted(REPRESENTATIONS)}",
                          field="representation")
    named = _named(scripts)
    if backend_options.get("engine", "auto") in (None, "auto"):
        backend_options = {**backend_options, "engine": "openai"}  # no server to detect: the portable shape
    # The base URL is never contacted: the backend only shapes the bodies here.
    backend = OpenAIBackend(base_url=backend_options.pop("base_url", None) or "http://batch.invalid/v1",
                            model=model, **backend_options)
    try:
        sent_model = backend.adapter or backend.model
        if not sent_model:
            raise ScriptError("batch requests need the model's name in every line: pass --model NAME (the name the "
                              "engine serves, e.g. the LoRA module name for vLLM, or gpt-4.1-mini for OpenAI)",
                              field="model")
        options = GenerationOptions(seed=seed, temperature=float(temperature), representation=representation)
        lines: list[dict[str, Any]] = []
        seen: dict[tuple[str, str], str] = {}
        for name, script in named:
            if script.needs_planning:
                raise ScriptError(f"script {name!r} is free text only; plan it into keyframes first "
                                  "(keyframeface plan) and write the requests for the planned script")
            ident = (script_name(name), script_digest(script))
            if ident in seen:
                raise ScriptError(f"script {name!r} is given twice (same name and content as {seen[ident]!r}); "
                                  "give each script once")
            seen[ident] = name
            count = len(script.keyframes)
            for index in range(count):
                body = backend.request_body(build_messages(script, index, representation=representation),
                                            options=options)
                custom_id = BatchId(ident[0], ident[1], representation, count, index)
                lines.append({"custom_id": str(custom_id), "method": "POST", "url": BATCH_URL, "body": body})
        return lines
    finally:
        backend.close()


def batch_requests_jsonl(
    scripts: Mapping[str, Script] | Iterable[tuple[str, Script]] | Script, **options: Any
) -> str:
    """:func:`batch_requests` as JSON Lines text (UTF-8, compact separators, one ``\\n`` after every line)."""
    return "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for line in batch_requests(scripts, **options))


def _lines(path: Path, what: str) -> Iterable[tuple[int, dict[str, Any]]]:
    return iter_json_lines(path, max_file_bytes=MAX_FILE_BYTES, max_line_bytes=MAX_LINE_BYTES, max_objects=MAX_LINES,
                           what=what, too_many="split the batch into several files")


def read_batch_requests(path: str | os.PathLike[str]) -> dict[tuple[str, str], Script]:
    """The scripts of a batch request file, by ``(script name, digest)``: descriptions, background and emotion read
    back from each script's first request (keyframes get no ``time_s``; requests carry none). Lines whose custom
    id this module did not write are skipped. Raises :class:`FormatError` for an unreadable file or request."""
    p = Path(path)
    scripts: dict[tuple[str, str], Script] = {}
    for lineno, obj in _lines(p, "a batch request file"):
        ident = BatchId.parse(obj.get("custom_id"))
        if ident is None or ident.group in scripts:
            continue
        where = f"{p}:{lineno}"
        body = obj.get("body")
        messages = body.get("messages") if isinstance(body, dict) else None
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"] \
            if isinstance(messages, list) else []
        if not users or not isinstance(users[-1].get("content"), str):
            raise FormatError(f"{where}: expected a request with body.messages holding a user message")
        try:
            content = parse_user_message(users[-1]["content"])
            scripts[ident.group] = Script(
                background=content.background, emotion=content.emotion,
                keyframes=tuple(Keyframe.from_dict({"description": d}, index=i, require_description=False)
                                for i, d in enumerate(content.descriptions)),
            )
        except (FormatError, ScriptError) as exc:
            raise FormatError(f"{where}: {exc}") from None
    return scripts


# --------------------------------------------------------------------------------------------------- results
@dataclass
class _Answer:
    values: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    custom_id: str = ""
    model: str | None = None


def _short(text: Any) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _ERROR_CHARS else line[: _ERROR_CHARS - 3] + "..."


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        inner: dict[str, Any] = error["error"] if isinstance(error.get("error"), dict) else error
        message, code = inner.get("message"), inner.get("code")
        if message or code:
            return _short(f"{code}: {message}" if code and message else message or code)
    return _short(json.dumps(error, ensure_ascii=False) if not isinstance(error, str) else error)


def _completion(obj: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """``(answer text, model, error)`` of one results line (one of the first and the last is ``None``)."""
    if obj.get("error") not in (None, {}, ""):
        return None, None, _error_text(obj["error"])
    response = obj.get("response")
    if not isinstance(response, dict):
        return None, None, "the line has neither a response nor an error"
    status = response.get("status_code", 200)
    body = response.get("body") if "body" in response else response  # some tools write the completion directly
    if status != 200:
        return None, None, f"HTTP {status}: {_error_text(body) if body else 'no body'}"
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None, None, "the response body holds no chat completion choices"
    message = choices[0].get("message")
    message = message if isinstance(message, dict) else {}
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        # Reasoning parsers (vLLM --reasoning-parser) move thinking out of content; the parser drops it again.
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        content = reasoning if isinstance(reasoning, str) else None
    if content is None:
        return None, None, "the answer is empty"
    model = body.get("model") if isinstance(body, dict) and isinstance(body.get("model"), str) else None
    return content, model, None


def _read_answers(p: Path, policy: str) -> tuple[dict[tuple[str, str], dict[int, _Answer]], dict[tuple[str, str], BatchId]]:
    groups: dict[tuple[str, str], dict[int, _Answer]] = {}
    first_ids: dict[tuple[str, str], BatchId] = {}
    foreign = 0
    for _lineno, obj in _lines(p, "a batch results file"):
        ident = BatchId.parse(obj.get("custom_id"))
        if ident is None:
            foreign += 1
            continue
        known = first_ids.setdefault(ident.group, ident)
        if (known.count, known.representation) != (ident.count, ident.representation):
            raise FormatError(f"{p}: custom ids {known} and {ident} name one script with different keyframe counts "
                              "or representations; were two batches of different scripts concatenated?")
        text, model, error = _completion(obj)
        answer = _Answer(custom_id=str(ident), model=model, error=error)
        if text is not None:
            try:
                parsed = parse_values(text, policy=policy, index=ident.index, representation=ident.representation)
                answer.values, answer.warnings = parsed.values, list(parsed.warnings)
            except ModelOutputError as exc:
                answer.error = _short(f"the answer does not parse: {exc}")
        slot = groups.setdefault(ident.group, {})
        previous = slot.get(ident.index)
        if previous is None or answer.values is not None or previous.values is None:
            slot[ident.index] = answer  # a parsed answer beats a failure; later beats earlier
    if not groups:
        raise FormatError(f"{p} holds no keyframeface batch results ({foreign} line(s) with other custom ids); "
                          "expected the output of a batch written by keyframeface prompt --format openai-batch")
    return groups, first_ids


def read_batch_results_all(
    path: str | os.PathLike[str],
    *,
    requests: str | os.PathLike[str] | None = None,
    policy: str = "strict",
) -> dict[str, Keyframes]:
    """Every script's :class:`Keyframes` in a batch results file, by output name: the script name, or
    ``name-digest`` where two scripts share a name. In the order the scripts first appear.

    ``policy`` is :func:`~keyframeface.prompt.parse_values`'s; ``requests``: the request file (descriptions,
    background, emotion). Keyframes that failed keep no values and are listed in ``meta["failures"]`` as
    ``{"custom_id", "keyframe" (1-based), "error"}``; parse warnings go to ``meta["warnings"]`` keyed by 0-based
    keyframe. Raises :class:`FormatError` for an unreadable file or one with no keyframeface results.
    """
    if policy not in POLICIES:
        raise ScriptError(f"unknown policy {policy!r}; expected one of {list(POLICIES)}", field="policy")
    p = Path(path)
    groups, first_ids = _read_answers(p, policy)
    scripts = read_batch_requests(requests) if requests is not None else {}
    names = [g[0] for g in groups]
    out: dict[str, Keyframes] = {}
    for group, answers in groups.items():
        ident = first_ids[group]
        script = scripts.get(group)
        if script is not None and len(script.keyframes) != ident.count:
            raise FormatError(f"{requests}: script {group[0]!r} has {len(script.keyframes)} keyframes but its "
                              f"results say {ident.count}; is this the request file of this batch?")
        failures: list[dict[str, Any]] = []
        warnings: dict[str, list[str]] = {}
        keyframes: list[Keyframe] = []
        for k in range(ident.count):
            base = script.keyframes[k] if script is not None else Keyframe()
            answer = answers.get(k)
            if answer is None or answer.values is None:
                custom = answer.custom_id if answer else str(BatchId(*group, ident.representation, ident.count, k))
                failures.append({"custom_id": custom, "keyframe": k + 1,
                                 "error": answer.error if answer else "no result line for this request"})
                keyframes.append(base)
                continue
            if answer.warnings:
                warnings[str(k)] = answer.warnings
            try:
                keyframes.append(base.with_values(answer.values))
            except ScriptError as exc:
                failures.append({"custom_id": answer.custom_id, "keyframe": k + 1, "error": _short(exc)})
                keyframes.append(base)
        models = sorted({a.model for a in answers.values() if a.model})
        meta: dict[str, Any] = {
            "backend": "openai-batch",
            "source": p.name,
            "package_version": __version__,
            "batch": {"script": group[0], "digest": group[1]},
            "options": {"policy": policy, "representation": ident.representation},
        }
        if models:
            meta["model"] = models[0] if len(models) == 1 else models
        if warnings:
            meta["warnings"] = warnings
        if failures:
            meta["failures"] = failures
        name = group[0] if names.count(group[0]) == 1 else f"{group[0]}-{group[1]}"
        out[name] = Keyframes(keyframes=tuple(keyframes), background=script.background if script else "",
                              emotion=script.emotion if script else "", meta=meta)
    return out


def read_batch_results(
    path: str | os.PathLike[str],
    *,
    requests: str | os.PathLike[str] | None = None,
    policy: str = "strict",
) -> Keyframes:
    """The :class:`Keyframes` of a batch results file holding one script (see :func:`read_batch_results_all`).

    Raises :class:`FormatError` when it holds several scripts (convert it into a folder instead).
    """
    results = read_batch_results_all(path, requests=requests, policy=policy)
    if len(results) != 1:
        raise FormatError(f"{path} holds the results of {len(results)} scripts ({', '.join(list(results)[:4])}"
                          f"{' ...' if len(results) > 4 else ''}); convert it into a folder: keyframeface convert "
                          f"{Path(path).name} -o out/")
    return next(iter(results.values()))


def failures_of(documents: Mapping[str, Keyframes]) -> list[dict[str, Any]]:
    """Every failure listed in ``documents``' meta, each with its script's output ``name`` added."""
    return [{"name": name, **f} for name, doc in documents.items() for f in doc.meta.get("failures", [])]

