"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp's server, hosted APIs).

KeyframeFace's own setup is Qwen/Qwen3-14B with the released LoRA adapter served by vLLM, one request per keyframe
carrying the whole script (see ``docs/backends.md`` for the exact commands). This module only speaks HTTP: it
POSTs ``{base_url}/chat/completions`` with the messages :mod:`keyframeface.generate` built and returns the raw
answer text. Parsing, retries, the repair pass and fan-out live in :mod:`keyframeface.generate`.

Only the standard library is used (``urllib.request`` + ``json``), so the backend adds no dependency.

Structured output (``structured=``):

* ``"auto"`` (default): for the ``json`` representation send ``response_format`` ``{"type": "json_schema", ...}``
  (61 numeric properties with their ranges, all required, under the ``Keyframe_x`` wrapper key). A server that
  rejects it (HTTP 400/422 naming ``response_format``/schema, or llama-cpp-python's HTTP 500 validation error) is
  asked again with a GBNF ``grammar`` field (llama.cpp's grammar format: the exact answer shape with every value
  inside its range), then plainly; what worked is remembered per instance. For the ``compact`` and ``semantic`` representations the
  ``grammar`` field comes first (llama.cpp servers honour it, others ignore or reject it; a rejection falls back to
  a plain request the same way). Planning (``representation="plan"``) asks for ``{"type": "json_object"}``.
* ``"json_schema"``, ``"grammar"``, ``"json_object"`` (llama-cpp-python's ``{"type": "json_object", "schema":
  ...}``): always that one (a rejection is an error).
* ``"off"``: plain requests.

The API key is read from the environment only (``api_key_env``, else ``$KEYFRAMEFACE_API_KEY``, else
``$OPENAI_API_KEY``); it is never a command-line argument and never recorded.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from .. import rig
from ..errors import BackendError, BackendUnavailableError, FormatError
from .base import Backend, Capabilities, GenerationOptions, Message

__all__ = [
    "DEFAULT_API_KEY_ENVS", "STRUCTURED_MODES", "OpenAIBackend", "compact_grammar", "json_grammar", "keyframe_schema",
]

logger = logging.getLogger(__name__)

#: Environment variables read for the API key, in order, when ``api_key_env`` is not given.
DEFAULT_API_KEY_ENVS: Final[tuple[str, ...]] = ("KEYFRAMEFACE_API_KEY", "OPENAI_API_KEY")
STRUCTURED_MODES: Final[tuple[str, ...]] = ("auto", "json_schema", "json_object", "grammar", "off")
#: HTTP statuses worth retrying: rate limits and server-side trouble (gateways, overload, model loading).
_TRANSIENT_STATUS: Final[frozenset[int]] = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
#: Words in a 400/422 body that mean "this server does not do that kind of structured output".
_STRUCTURED_WORDS: Final[tuple[str, ...]] = ("response_format", "json_schema", "schema", "grammar", "guided")
#: Options the config file may set for this backend (the constructor's keyword arguments).
_CONFIG_KEYS: Final[frozenset[str]] = frozenset({
    "base_url", "model", "adapter", "api_key_env", "structured", "max_tokens", "enable_thinking", "extra_body",
    "timeout_s",
})
#: Cap on the bytes read from an error body or an answer (an answer is a few KB; a 10 MB reply is not one).
_MAX_BODY_BYTES: Final[int] = 8_000_000


def keyframe_schema(key: str | None) -> dict[str, Any]:
    """JSON Schema of one answer: 61 required numbers with their ranges, under ``key`` (``"Keyframe_one"``), or
    bare when ``key`` is ``None``. Blendshapes are in [0, 1], pose channels in [-1, 1] (``rig.LOW``/``rig.HIGH``).
    """
    inner: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: {"type": "number", "minimum": float(lo), "maximum": float(hi)}
            for name, lo, hi in zip(rig.CHANNELS, rig.LOW, rig.HIGH, strict=True)
        },
        "required": list(rig.CHANNELS),
        "additionalProperties": False,
    }
    if key is None:
        return inner
    return {"type": "object", "properties": {key: inner}, "required": [key], "additionalProperties": False}


# A value with at most three decimals: "0", "0.25", "1", "1.0". Pose channels may be negative.
_GBNF_NUMBERS = (
    'unit ::= "0" ("." [0-9] [0-9]? [0-9]?)? | "1" (".0" "0"? "0"?)?\n'
    'signed ::= "-"? unit\n'
)


def _value_rule(name: str) -> str:
    return "unit" if name in rig.BLENDSHAPES else "signed"


def compact_grammar(representation: str) -> str:
    """A GBNF grammar (llama.cpp's grammar format) for answers in the ``compact`` or ``semantic`` representation:
    ``Name=value`` pairs separated by ``"; "``, each channel at most once and in ``rig.CHANNELS`` order (so an
    answer can never give one channel two values), every value inside its channel's range, or ``neutral``; for
    ``semantic`` preceded by a ``Regions:`` block of up to six short ``- region: words`` lines.
    """
    names = rig.CHANNELS
    n = len(names)
    # s<i>: a list whose first pair is channel i; t<i>: optional further pairs among channels i.. in order.
    rules = ['pairs ::= "neutral" | ' + " | ".join(f"s{i}" for i in range(n))]
    rules += [f's{i} ::= "{name}=" {_value_rule(name)} t{i + 1}' for i, name in enumerate(names)]
    rules += [f't{i} ::= ("; {name}=" {_value_rule(name)})? t{i + 1}' for i, name in enumerate(names)]
    rules.append(f't{n} ::= ""')
    pairs = "\n".join(rules) + "\n" + _GBNF_NUMBERS
    if representation == "semantic":
        return (
            'root ::= "Regions:\\n" line{1,6} "Values: " pairs\n'
            'line ::= "- " [a-z_]{2,12} ": " [a-z0-9 ,;.+-]{1,80} "\\n"\n' + pairs
        )
    return "root ::= pairs\n" + pairs


def json_grammar(key: str | None) -> str:
    """A GBNF grammar for the release's ``json`` answer: ``{"Keyframe_x":{...}}`` (bare when ``key`` is ``None``)
    with all 61 channels in ``rig.CHANNELS`` order and every value inside its range (at most three decimals).
    Stricter than a JSON Schema on llama.cpp, whose schema converter ignores ``minimum``/``maximum`` for numbers.
    """
    fields = []
    for i, name in enumerate(rig.CHANNELS):
        number = _value_rule(name)
        fields.append(f'"{"" if i == 0 else ","}\\"{name}\\":" {number}')
    inner = '"{" ' + " ".join(fields) + ' "}"'
    root = f'"{{\\"{key}\\":" values "}}"' if key else "values"
    return f"root ::= {root}\nvalues ::= {inner}\n" + _GBNF_NUMBERS


def _target_key(messages: Sequence[Message]) -> str | None:
    """The answer key (``Keyframe_two``) of the keyframe the request asks for, read from its first user message."""
    from ..prompt import answer_key, parse_user_message

    for message in messages:
        if message.get("role") == "user":
            try:
                target = parse_user_message(str(message.get("content", ""))).target
            except FormatError:
                return None
            return None if target is None else answer_key(target + 1)
    return None


def _safe_url(url: str) -> str:
    """``url`` without credentials, query or fragment, for logs and metadata."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class OpenAIBackend(Backend):
    """Chat backend for an OpenAI-compatible server at ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``).

    ``model``: the served model name (vLLM: the name given to ``--served-model-name``, or the LoRA module name from
    ``--lora-modules NAME=PATH``; Ollama: ``qwen3:14b``). ``adapter``: a LoRA module name; with vLLM a LoRA module
    is requested by using its name as the model, so ``adapter`` (when given) is what is sent as ``model``. With
    neither, the first model listed by ``GET /models`` is used.
    ``api_key_env``: the environment variable holding the API key (default: ``KEYFRAMEFACE_API_KEY``, then
    ``OPENAI_API_KEY``; no key is fine for local servers). ``structured``: one of :data:`STRUCTURED_MODES` (see
    the module docstring). ``max_tokens``: overrides the orchestrator's default (1024, the release's
    ``--max_new_tokens``). ``enable_thinking``: ``False`` sends ``chat_template_kwargs: {"enable_thinking": false}``
    (vLLM/SGLang with Qwen3: answer without a ``<think>`` block). ``extra_body``: more request fields, merged in
    (``{"top_p": 0.9}``; not ``response_format`` or ``grammar``: ``structured`` sets those). ``timeout_s``:
    overrides the per-request timeout.

    Options left out are read from the user config file's ``[backends.openai]`` table when it has them
    (:mod:`keyframeface.backends.config`). Raises :class:`BackendUnavailableError` without ``base_url`` or with a
    bad option value. Safe to call from several threads at once.
    """

    name: ClassVar[str] = "openai"
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True, concurrent=True, seed=True, structured=True)

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        adapter: str | None = None,
        api_key_env: str | None = None,
        structured: str | None = None,
        max_tokens: int | None = None,
        enable_thinking: bool | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        # Options not given explicitly come from the user config file ([backends.openai], backends/config.py).
        from .config import backend_defaults

        try:
            defaults = backend_defaults(self.name)
        except FormatError as exc:
            raise BackendUnavailableError(str(exc)) from None
        unknown = sorted(set(defaults) - _CONFIG_KEYS)
        if unknown:
            raise BackendUnavailableError(f"[backends.openai] in the config file has unknown option(s) "
                                          f"{', '.join(unknown)}; expected some of {', '.join(sorted(_CONFIG_KEYS))}")
        base_url = base_url if base_url is not None else defaults.get("base_url")
        model = model if model is not None else defaults.get("model")
        adapter = adapter if adapter is not None else defaults.get("adapter")
        api_key_env = api_key_env if api_key_env is not None else defaults.get("api_key_env")
        structured = structured if structured is not None else defaults.get("structured", "auto")
        max_tokens = max_tokens if max_tokens is not None else defaults.get("max_tokens")
        enable_thinking = enable_thinking if enable_thinking is not None else defaults.get("enable_thinking")
        extra_body = extra_body if extra_body is not None else defaults.get("extra_body")
        timeout_s = timeout_s if timeout_s is not None else defaults.get("timeout_s")
        if not base_url:
            raise BackendUnavailableError(
                "the openai backend needs the server's URL: pass --base-url http://HOST:PORT/v1 (API: "
                "base_url='http://127.0.0.1:8000/v1', or base_url in [backends.openai] of the config file); see "
                "docs/backends.md for vLLM, Ollama and llama.cpp recipes"
            )
        parts = urllib.parse.urlsplit(str(base_url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendUnavailableError(
                f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {str(base_url)[:80]!r}"
            )
        if structured not in STRUCTURED_MODES or not isinstance(structured, str):
            raise BackendUnavailableError(f"structured must be one of {list(STRUCTURED_MODES)}, got {structured!r}")
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
            raise BackendUnavailableError(f"max_tokens must be a positive int, got {max_tokens!r}")
        if enable_thinking is not None and not isinstance(enable_thinking, bool):
            raise BackendUnavailableError(f"enable_thinking must be true or false, got {enable_thinking!r}")
        if extra_body is not None and not isinstance(extra_body, Mapping):
            raise BackendUnavailableError(f"extra_body must be a JSON object, got {type(extra_body).__name__}")
        structured_fields = sorted(_STRUCTURED_FIELDS.intersection(extra_body or {}))
        if structured_fields:
            # The fallback on a rejection drops these fields; extra_body would put them back on every retry.
            raise BackendUnavailableError(
                f"extra_body may not set {structured_fields}: structured output is chosen with --option "
                f"structured=... (one of {list(STRUCTURED_MODES)}), not through extra_body"
            )
        if timeout_s is not None and (not isinstance(timeout_s, (int, float)) or timeout_s <= 0):
            raise BackendUnavailableError(f"timeout_s must be a positive number, got {timeout_s!r}")
        self.base_url = str(base_url).rstrip("/")
        self.model = model
        self.adapter = adapter
        self.api_key_env = api_key_env
        self.structured: str = structured
        self.max_tokens = max_tokens
        self.enable_thinking = enable_thinking
        self.extra_body = dict(extra_body or {})
        self.timeout_s = None if timeout_s is None else float(timeout_s)
        self._lock = threading.Lock()
        # "auto" mode: the structured kind that works per representation, learnt from rejections.
        self._structured_kind: dict[str, str] = {}
        self._resolved_model: str | None = adapter or model
        # Running totals over this instance's answered requests (see usage()): requests, and the server's
        # ``usage`` counts summed; _usage_seen: whether any reply carried a ``usage`` block at all.
        self._usage: dict[str, int] = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0}
        self._usage_seen = False

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Always usable (standard library only); the server is a runtime option."""
        return True, "ready: pass --base-url of an OpenAI-compatible server (vLLM, Ollama, llama.cpp)"

    def usage(self) -> dict[str, int]:
        """Cumulative counts over this instance's answered requests: ``requests`` always, and ``prompt_tokens`` /
        ``completion_tokens`` summed from the ``usage`` block of the server's replies once any reply had one
        (a server that never reports usage gives ``{"requests": n}`` only, so no one reads its 0 as a count)."""
        with self._lock:
            if self._usage_seen:
                return dict(self._usage)
            return {"requests": self._usage["requests"]}

    # ------------------------------------------------------------------------------------------- describing
    def describe(self) -> dict[str, Any]:
        """Server URL (no credentials), model, adapter and structured mode; never the API key."""
        return {
            "backend": self.name,
            "base_url": _safe_url(self.base_url),
            "model": self._resolved_model or self.model,
            "adapter": self.adapter,
            "structured": self.structured,
        }

    def _api_key(self) -> tuple[str | None, str]:
        names = (self.api_key_env,) if self.api_key_env else DEFAULT_API_KEY_ENVS
        for env in names:
            value = os.environ.get(env, "").strip()
            if value:
                return value, env
        return None, " or ".join(f"${n}" for n in names)

    # -------------------------------------------------------------------------------------------- requests
    def _first_kind(self, representation: str) -> str:
        if self.structured != "auto":
            return self.structured
        with self._lock:
            known = self._structured_kind.get(representation)
        if known is not None:
            return known
        if representation == "plan":  # plan.py's Script JSON: any JSON object, no fixed schema
            return "json_object"
        return "json_schema" if representation == "json" else "grammar"

    def _request_body(
        self, messages: Sequence[Message], *, options: GenerationOptions, kind: str, model: str | None
    ) -> dict[str, Any]:
        """The JSON body of one ``POST /chat/completions``. ``kind``: the structured-output kind to send
        (``"json_schema"``, ``"json_object"``, ``"grammar"`` or ``"off"``)."""
        body: dict[str, Any] = {
            "messages": [{"role": str(m["role"]), "content": str(m["content"])} for m in messages],
            "temperature": float(options.temperature),
            "max_tokens": int(self.max_tokens or options.max_tokens),
            "stream": False,
        }
        if model:
            body["model"] = model
        if options.seed is not None:
            body["seed"] = int(options.seed)
        representation = options.representation
        if kind in ("json_schema", "json_object") and representation == "json":
            schema = keyframe_schema(_target_key(messages))
            if kind == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "keyframe", "strict": True, "schema": schema},
                }
            else:  # llama-cpp-python's extension: json_object constrained by a schema
                body["response_format"] = {"type": "json_object", "schema": schema}
        elif kind == "json_object" and representation == "plan":
            body["response_format"] = {"type": "json_object"}
        elif kind == "grammar" and representation in ("compact", "semantic"):
            body["grammar"] = compact_grammar(representation)
        elif kind == "grammar" and representation == "json":
            body["grammar"] = json_grammar(_target_key(messages))
        if self.enable_thinking is not None:
            body["chat_template_kwargs"] = {"enable_thinking": self.enable_thinking}
        body.update(self.extra_body)
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key, _ = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None, *, timeout_s: float) -> Any:
        """One HTTP request; the decoded JSON reply. Raises :class:`BackendError` (transient where retrying may
        help) or :class:`_Rejected` for a 400/422 that names structured output."""
        url = f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        where = _safe_url(url)
        try:
            request = urllib.request.Request(url, data=data, headers=self._headers(), method=method)
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                raw = response.read(_MAX_BODY_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, where, body) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise BackendError(f"{where} did not answer within {timeout_s:g} s; raise --timeout-s or check "
                                   "the server's load", transient=True) from None
            why = getattr(reason, "strerror", None) or str(reason)
            raise BackendError(f"cannot reach {where} ({why}): is the server running, is --base-url right?",
                               transient=True) from None
        except TimeoutError:
            raise BackendError(f"{where} did not answer within {timeout_s:g} s; raise --timeout-s or check the "
                               "server's load", transient=True) from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise BackendError(f"the connection to {where} failed ({type(exc).__name__}: {exc}); the server may "
                               "have stopped or restarted", transient=True) from None
        except ValueError as exc:  # urllib's answer to a malformed URL or timeout (never the server's fault)
            raise BackendError(f"cannot send a request to {where} with timeout {timeout_s!r} s ({exc}); expected an "
                               "http(s) --base-url and a positive --timeout-s") from None
        if len(raw) > _MAX_BODY_BYTES:
            raise BackendError(f"{where} sent more than {_MAX_BODY_BYTES} bytes; expected a chat completion")
        try:
            return json.loads(raw.decode("utf-8", errors="replace"))
        except ValueError:
            raise BackendError(f"{where} did not answer with JSON (got {raw[:80]!r}); is --base-url the server's "
                               "OpenAI-compatible root (usually ending in /v1)?") from None

    def _http_error(self, exc: urllib.error.HTTPError, where: str, body: Mapping[str, Any] | None) -> Exception:
        try:
            detail = exc.read(4000).decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException):
            detail = ""
        short = " ".join(detail.split())[:300]
        status = exc.code
        # 400/422: the usual answers to an unsupported response_format. llama-cpp-python's server answers its
        # request-validation errors with HTTP 500, naming the field ('loc': ('body', 'response_format', 'type')).
        lowered = detail.lower()
        if body is not None and ("response_format" in body or "grammar" in body) and (
            (status in (400, 422) and any(w in lowered for w in _STRUCTURED_WORDS))
            or (status == 500 and "validation" in lowered and ("response_format" in lowered or "grammar" in lowered))
        ):
            return _Rejected(f"HTTP {status}: {short}")
        if status in _TRANSIENT_STATUS:
            return BackendError(f"{where} answered HTTP {status} (temporary): {short}", transient=True)
        if status in (401, 403):
            _, env = self._api_key()
            return BackendError(f"{where} refused the request (HTTP {status}: {short}); set the API key in {env} "
                                "(never on the command line)")
        if status == 404:
            return BackendError(f"{where} answered HTTP 404 ({short}): wrong model name {self._resolved_model!r} "
                                "or wrong --base-url (it usually ends in /v1); list the served models with "
                                "GET /v1/models")
        return BackendError(f"{where} refused the request (HTTP {status}): {short}")

    def _model_name(self, timeout_s: float) -> str | None:
        """The model to request: ``adapter``, else ``model``, else the first one the server lists."""
        if self._resolved_model:
            return self._resolved_model
        listing = self._call("GET", "/models", None, timeout_s=timeout_s)
        data = listing.get("data") if isinstance(listing, dict) else None
        ids = [m.get("id") for m in data if isinstance(m, dict)] if isinstance(data, list) else []
        ids = [i for i in ids if isinstance(i, str) and i]
        if not ids:
            raise BackendError(f"{_safe_url(self.base_url)}/models lists no model; pass --model NAME")
        with self._lock:
            self._resolved_model = ids[0]
        if len(ids) > 1:
            logger.info("no --model given; using %r, the first of %d served models", ids[0], len(ids))
        return ids[0]

    # ---------------------------------------------------------------------------------------------- chatting
    def complete(self, messages: Sequence[Message], *, options: GenerationOptions) -> str:
        """The model's answer text to ``messages`` (``<think>`` blocks included; the parser drops them).

        Raises :class:`BackendError`: ``transient=True`` for connection failures, timeouts and HTTP
        408/429/5xx; otherwise with what to fix (401: the API key variable; 404: model or URL).
        """
        timeout_s = self.timeout_s or float(options.timeout_s)
        model = self._model_name(timeout_s)
        kind = self._first_kind(options.representation)
        # At most json_schema -> grammar -> off: one request per kind, never an endless retry.
        for _ in range(_MAX_STRUCTURED_TRIES):
            body = self._request_body(messages, options=options, kind=kind, model=model)
            try:
                reply = self._call("POST", "/chat/completions", body, timeout_s=timeout_s)
            except _Rejected as exc:
                if kind == "off":  # nothing left to drop: the server refuses the request itself
                    raise BackendError(f"the server rejected the request even without structured output ({exc})") from None
                if self.structured != "auto":
                    raise BackendError(
                        f"the server rejected structured output {kind!r} ({exc}); use --option structured=auto "
                        "or structured=off"
                    ) from None
                fallback = "grammar" if kind == "json_schema" and options.representation == "json" else "off"
                logger.info("server rejected structured output %r (%s); trying %r", kind, exc, fallback)
                with self._lock:
                    self._structured_kind[options.representation] = fallback
                kind = fallback
                continue
            return self._answer_text(reply)
        raise BackendError(f"the server rejected every structured-output kind up to {kind!r}; use --option "
                           "structured=off")

    def _answer_text(self, reply: Any) -> str:
        usage = reply.get("usage") if isinstance(reply, dict) else None
        with self._lock:
            self._usage["requests"] += 1
            if isinstance(usage, dict):
                for key in ("prompt_tokens", "completion_tokens"):
                    value = usage.get(key)
                    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                        self._usage[key] += value
                        self._usage_seen = True
        choices = reply.get("choices") if isinstance(reply, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise BackendError(f"expected a chat completion with 'choices', got {str(reply)[:120]!r}")
        choice = choices[0]
        raw_message = choice.get("message")
        message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            # Reasoning parsers (vLLM --reasoning-parser) move thinking out of content; keep it so nothing is lost.
            reasoning = message.get("reasoning_content") or message.get("reasoning")
            content = reasoning if isinstance(reasoning, str) else (content or "")
        if choice.get("finish_reason") == "length":
            logger.info("the answer was cut off at max_tokens (%d characters)", len(content))
        return content


#: Request fields that carry structured output; only ``structured=`` sets them.
_STRUCTURED_FIELDS: Final[frozenset[str]] = frozenset({"response_format", "grammar"})
#: Requests one complete() may send while falling back (json_schema, grammar, off).
_MAX_STRUCTURED_TRIES: Final[int] = 3


class _Rejected(Exception):
    """Internal: the server refused this kind of structured output (HTTP 400/422 naming it)."""
