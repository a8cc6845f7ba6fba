"""What each OpenAI-compatible engine takes, and how to tell the engines apart: used by the ``openai`` backend.

Every engine speaks ``POST /v1/chat/completions``, but each has its own fields for structured output, and most
silently drop fields they do not know (so a wrong field means an unconstrained answer, never an error to fall back
on). Field names as documented by each engine:

* **vLLM >= 0.12** (``vllm``): ``structured_outputs: {"json": schema}`` or ``{"grammar": ...}``; the older
  ``guided_json`` / ``guided_grammar`` fields were removed in v0.12.0 (docs.vllm.ai, "Structured Outputs").
  ``GET /version`` answers ``{"version": "0.12.0"}``; ``/v1/models`` entries are ``owned_by: "vllm"``.
* **vLLM < 0.12** (``vllm-legacy``): ``guided_json`` / ``guided_grammar``.
* **Ollama** (``ollama``): its OpenAI-compatible endpoint lists ``response_format`` among the fields it takes and
  ignores ``grammar`` and ``chat_template_kwargs``; its own ``format`` field (``"json"`` or a JSON schema) is sent
  too. Thinking is turned off with ``reasoning_effort: "none"``. ``GET /api/version`` answers ``{"version": ...}``.
* **llama.cpp's server** (``llamacpp``, ``llama-server``): top-level ``grammar`` (GBNF) or ``json_schema``;
  ``GET /props`` describes the server (``default_generation_settings``, ``build_info``); ``/v1/models`` entries are
  ``owned_by: "llamacpp"``. The GBNF grammar comes first for JSON answers: it bounds every value to its range, which
  llama.cpp's schema converter does not do for numbers.
* **hosted OpenAI** (``openai``, host ``api.openai.com``): ``response_format`` ``json_schema`` (strict) and
  ``max_completion_tokens`` (reasoning models reject ``max_tokens``); no grammar; unknown fields are rejected.
* **anything else** (``generic``, e.g. llama-cpp-python's server): ``response_format`` ``json_schema``, then a
  ``grammar`` field if that is rejected, then a plain request (the fallback the backend always had).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ENGINES", "Engine", "detect_engine", "engine"]

#: Accepted values of the ``engine`` option: ``auto`` detects it from the server.
ENGINES: Final[tuple[str, ...]] = ("auto", "vllm", "vllm-legacy", "ollama", "llamacpp", "openai", "generic")
#: vLLM's first version with ``structured_outputs`` (and without ``guided_*``).
_VLLM_STRUCTURED_OUTPUTS: Final[tuple[int, int]] = (0, 12)

Schema = Mapping[str, Any]


def _response_format_schema(schema: Schema) -> dict[str, Any]:
    return {"response_format": {"type": "json_schema",
                                "json_schema": {"name": "keyframe", "strict": True, "schema": schema}}}


def _response_format_object(schema: Schema | None) -> dict[str, Any]:
    # llama-cpp-python and llama-server take a schema inside json_object; without one it is plain JSON mode.
    return {"response_format": {"type": "json_object", **({"schema": schema} if schema else {})}}


@dataclass(frozen=True)
class Engine:
    """How one engine is asked for structured output.

    ``token_field``: the name of the answer-length limit. ``object_kinds`` / ``pairs_kinds`` / ``plan_kinds``: the
    structured kinds tried in ``structured=auto`` mode, in order (each rejection moves to the next), for JSON-object
    answers (``json``), ``Name=value`` answers (``compact``, ``semantic``) and planning. ``json_schema``,
    ``grammar``, ``json_object``: the request fields of each kind (``None``: the engine cannot express that kind).
    ``thinking``: the fields that turn a Qwen3-style model's thinking on or off (``None``: none are sent).
    """

    name: str
    token_field: str
    object_kinds: tuple[str, ...]
    pairs_kinds: tuple[str, ...]
    plan_kinds: tuple[str, ...]
    json_schema: Callable[[Schema], dict[str, Any]] | None
    grammar: Callable[[str], dict[str, Any]] | None
    json_object: Callable[[Schema | None], dict[str, Any]]
    thinking: Callable[[bool], dict[str, Any]] | None

    def kinds(self, *, is_object: bool, plan: bool) -> tuple[str, ...]:
        """The auto-mode kinds for an answer shape, ending with ``"off"``."""
        return self.plan_kinds if plan else self.object_kinds if is_object else self.pairs_kinds

    def structured_fields(self, kind: str, *, schema: Schema | None, grammar: str | None) -> dict[str, Any] | None:
        """The request fields of ``kind`` (``{}`` for ``"off"`` or nothing to constrain), or ``None`` when this
        engine has no way to send it."""
        if kind == "off":
            return {}
        if kind == "json_object":
            return self.json_object(schema)
        if kind == "json_schema":
            if schema is None:
                return {}
            return None if self.json_schema is None else self.json_schema(schema)
        if kind == "grammar":
            if grammar is None:
                return {}
            return None if self.grammar is None else self.grammar(grammar)
        raise ValueError(f"unknown structured kind {kind!r}")


def _chat_template_thinking(on: bool) -> dict[str, Any]:
    return {"chat_template_kwargs": {"enable_thinking": on}}


def _ollama_thinking(on: bool) -> dict[str, Any]:
    # Ollama thinks by default on capable models; its OpenAI endpoint maps reasoning_effort "none" to think=false.
    return {} if on else {"reasoning_effort": "none"}


_REGISTRY: Final[dict[str, Engine]] = {
    e.name: e
    for e in (
        Engine("generic", "max_tokens", ("json_schema", "grammar", "off"), ("grammar", "off"), ("json_object", "off"),
               _response_format_schema, lambda g: {"grammar": g}, _response_format_object, _chat_template_thinking),
        Engine("vllm", "max_tokens", ("json_schema", "grammar", "off"), ("grammar", "off"), ("json_object", "off"),
               lambda s: {"structured_outputs": {"json": s}}, lambda g: {"structured_outputs": {"grammar": g}},
               lambda s: {"structured_outputs": {"json": s}} if s else {"response_format": {"type": "json_object"}},
               _chat_template_thinking),
        Engine("vllm-legacy", "max_tokens", ("json_schema", "grammar", "off"), ("grammar", "off"),
               ("json_object", "off"), lambda s: {"guided_json": s}, lambda g: {"guided_grammar": g},
               lambda s: {"guided_json": s} if s else {"response_format": {"type": "json_object"}},
               _chat_template_thinking),
        Engine("ollama", "max_tokens", ("json_schema", "off"), ("off",), ("json_object", "off"),
               lambda s: {**_response_format_schema(s), "format": s}, None,
               lambda s: {"response_format": {"type": "json_object"}, "format": s or "json"}, _ollama_thinking),
        Engine("llamacpp", "max_tokens", ("grammar", "json_schema", "off"), ("grammar", "off"),
               ("json_object", "off"), lambda s: {"json_schema": s}, lambda g: {"grammar": g},
               _response_format_object, _chat_template_thinking),
        Engine("openai", "max_completion_tokens", ("json_schema", "off"), ("off",), ("json_object", "off"),
               _response_format_schema, None, lambda s: {"response_format": {"type": "json_object"}}, None),
    )
}


def engine(name: str) -> Engine:
    """The :class:`Engine` called ``name`` (any of :data:`ENGINES` but ``auto``). Raises :class:`KeyError`."""
    return _REGISTRY[name]


def _version_tuple(text: str) -> tuple[int, int] | None:
    match = re.match(r"\s*v?(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _version_of(reply: Any) -> str | None:
    version = reply.get("version") if isinstance(reply, dict) else None
    return version if isinstance(version, str) and version.strip() else None


def detect_engine(base_url: str, probe: Callable[[str], Any]) -> tuple[str, str | None]:
    """``(engine name, version or None)`` of the server at ``base_url`` (its OpenAI root, e.g. ``.../v1``).

    ``probe(url)``: the decoded JSON answer of ``GET url`` on the server's origin, or ``None`` when it answered
    with an error status or not with JSON; it raises when the server cannot be reached (detection stops there).
    Tried in order: the ``api.openai.com`` host; vLLM's ``GET /version``; Ollama's ``GET /api/version``;
    llama.cpp's ``GET /props``; the ``owned_by`` field of ``GET {base_url}/models``; else ``generic``.
    """
    parts = urllib.parse.urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host == "api.openai.com":
        return "openai", None
    path = parts.path.rstrip("/")
    root_path = path[: -len("/v1")] if path.endswith("/v1") else path
    root = urllib.parse.urlunsplit((parts.scheme, parts.netloc, root_path, "", ""))
    version = _version_of(probe(f"{root}/version"))
    if version is not None:
        parsed = _version_tuple(version)
        legacy = parsed is not None and parsed < _VLLM_STRUCTURED_OUTPUTS
        return ("vllm-legacy" if legacy else "vllm"), version
    version = _version_of(probe(f"{root}/api/version"))
    if version is not None:
        return "ollama", version
    props = probe(f"{root}/props")
    if isinstance(props, dict) and ("default_generation_settings" in props or "build_info" in props):
        build = props.get("build_info")
        return "llamacpp", build if isinstance(build, str) else None
    listing = probe(f"{urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, '', ''))}/models")
    data = listing.get("data") if isinstance(listing, dict) else None
    owners = {str(m.get("owned_by", "")).lower() for m in data if isinstance(m, dict)} if isinstance(data, list) else set()
    if "vllm" in owners:
        return "vllm", None
    if "llamacpp" in owners:
        return "llamacpp", None
    if "ollama" in owners or "library" in owners:
        return "ollama", None
    return "generic", None
