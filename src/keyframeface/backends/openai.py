"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp's server, hosted APIs).

KeyframeFace's own setup is Qwen/Qwen3-14B with the released LoRA adapter served by vLLM, one request per keyframe
carrying the whole script (see ``docs/backends.md`` for the exact commands). This module only speaks HTTP: it
POSTs ``{base_url}/chat/completions`` with the messages :mod:`keyframeface.generate` built and returns the raw
answer text. Parsing, retries (with backoff), the repair pass and fan-out live in :mod:`keyframeface.generate`.

Only the standard library is used (``http.client`` through :mod:`keyframeface.backends.http_transport`: one
kept-alive connection per worker thread, a total deadline per request, no redirect to another origin).

**Engines** (``engine=``, :mod:`keyframeface.backends.openai_engines`): each engine takes structured output in its
own request fields (vLLM ``structured_outputs`` or ``guided_*``, Ollama ``format``, llama.cpp ``grammar`` /
``json_schema``, hosted OpenAI ``response_format`` and ``max_completion_tokens``). ``"auto"`` (default) detects the
engine once per instance from the server (``GET /version``, ``/api/version``, ``/props``, the ``owned_by`` of
``/v1/models``, or the ``api.openai.com`` host) and records it in the keyframes' meta (``engine``,
``engine_version``).

**Structured output** (``structured=``):

* ``"auto"`` (default): the engine's kinds in order, for the representation's answer shape (from
  :mod:`keyframeface.prompt.grammar`): for a JSON-object answer (``json``) a JSON schema (61 numeric properties
  with their ranges, all required, under the ``Keyframe_x`` wrapper key), then a GBNF grammar where the engine
  takes one, then a plain request; for ``Name=value`` answers (``compact``, ``semantic``) the grammar, then plain;
  planning asks for any JSON object. A rejection (HTTP 400/422 naming the field, or llama-cpp-python's HTTP 500
  validation error) moves to the next kind; what worked is remembered per instance.
* ``"json_schema"``, ``"grammar"``, ``"json_object"``: always that one (a rejection, or an engine that has no such
  field, is an error).
* ``"off"``: plain requests.

**Time**: ``timeout_s`` bounds one :meth:`OpenAIBackend.complete` call as a whole: engine detection and the model
listing (first call only), connect, send and every read of each request (structured-output fallbacks included),
whatever the server does (one that trickles a byte a second is cut at the deadline). With ``generate(retries=R,
repair_attempts=A)`` one keyframe takes at most ``(R + 1) * (A + 1) * timeout_s`` plus the backoff between retries
(at most ``0.625 * (2**R - 1)`` s per repair attempt); keyframes run ``concurrency`` at a time.

**Credentials**: the API key is read from the environment only (``api_key_env``, else ``$KEYFRAMEFACE_API_KEY``,
else ``$OPENAI_API_KEY``) and sent as ``Authorization: Bearer``; credentials in the URL (``http://user:pw@host/v1``)
are sent as HTTP Basic auth instead. Neither is ever recorded, logged or sent to another origin: redirects of a POST
are never followed, and a GET follows only redirects on the same scheme, host and port.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import math
import os
import ssl
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ..errors import BackendError, BackendUnavailableError, FormatError
from ..options import option, option_names
from .base import Backend, Capabilities, GenerationOptions, Message
from .http_transport import (
    DeadlineExceeded,
    KeepAliveClient,
    RedirectRefused,
    ResponseTooLarge,
    TruncatedResponse,
)
from .openai_engines import ENGINES, detect_engine
from .openai_engines import engine as engine_named

if TYPE_CHECKING:
    from ..prompt.grammar import GrammarSpec
    from .openai_engines import Engine

__all__ = [
    "DEFAULT_API_KEY_ENVS", "ENGINES", "STRUCTURED_MODES", "OpenAIBackend", "compact_grammar", "json_grammar",
    "keyframe_schema",
]

logger = logging.getLogger(__name__)

#: Environment variables read for the API key, in order, when ``api_key_env`` is not given.
DEFAULT_API_KEY_ENVS: Final[tuple[str, ...]] = ("KEYFRAMEFACE_API_KEY", "OPENAI_API_KEY")
STRUCTURED_MODES: Final[tuple[str, ...]] = ("auto", "json_schema", "json_object", "grammar", "off")
#: HTTP statuses worth retrying: rate limits and server-side trouble (gateways, overload, model loading).
_TRANSIENT_STATUS: Final[frozenset[int]] = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
#: Words in a 400/422 body that mean "this server does not do that kind of structured output".
_STRUCTURED_WORDS: Final[tuple[str, ...]] = (
    "response_format", "json_schema", "schema", "grammar", "guided", "structured_outputs", "format",
)
#: Request fields that carry structured output, for any engine; only ``structured=`` sets them.
_STRUCTURED_FIELDS: Final[frozenset[str]] = frozenset(
    {"response_format", "grammar", "json_schema", "structured_outputs", "guided_json", "guided_grammar", "format"}
)
#: Cap on the bytes read from an answer (an answer is a few KB; a 10 MB reply is not one).
_MAX_BODY_BYTES: Final[int] = 8_000_000
#: Characters of a server's error text kept in a message (the whole text is logged at debug level).
_DETAIL_CHARS: Final[int] = 120


def _grammar(representation: str) -> GrammarSpec | None:
    """The answer grammar spec of ``representation`` (``None`` for ``"plan"`` and other non-keyframe requests)."""
    from ..prompt import grammar_for

    return grammar_for(representation)


def keyframe_schema(key: str | None) -> dict[str, Any]:
    """JSON Schema of one ``json`` answer: 61 required numbers with their ranges, under ``key``
    (``"Keyframe_one"``), or bare when ``key`` is ``None`` (:func:`keyframeface.prompt.grammar.json_schema`)."""
    from ..prompt.grammar import GrammarSpec, json_schema

    spec = _grammar("json")
    return json_schema(spec if spec is not None else GrammarSpec("object"), key) or {}


def compact_grammar(representation: str) -> str:
    """A GBNF grammar (llama.cpp's grammar format) for answers in a ``Name=value`` pairs representation
    (``compact``, or ``semantic`` with its ``Regions:`` block first); see :func:`keyframeface.prompt.grammar.gbnf`.
    """
    from ..prompt.grammar import gbnf

    spec = _grammar(representation)
    if spec is None or spec.values != "pairs":
        spec = _grammar("compact")
    assert spec is not None  # "compact" is always registered
    return gbnf(spec)


def json_grammar(key: str | None) -> str:
    """A GBNF grammar for the release's ``json`` answer: ``{"Keyframe_x":{...}}`` (bare when ``key`` is ``None``)
    with all 61 channels in ``rig.CHANNELS`` order and every value inside its range (at most three decimals).
    Stricter than a JSON Schema on llama.cpp, whose schema converter ignores ``minimum``/``maximum`` for numbers.
    """
    from ..prompt.grammar import GrammarSpec, gbnf

    return gbnf(_grammar("json") or GrammarSpec("object"), key)


def _target_key(messages: Sequence[Message]) -> str | None:
    """The answer key (``Keyframe_two``) of the keyframe the request asks for, read from its first user message."""
    from ..prompt import requested_answer_key

    return requested_answer_key(messages)


def _safe_url(url: str) -> str:
    """``url`` without credentials, query or fragment, for logs and metadata."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _short(text: str) -> str:
    """One line of at most :data:`_DETAIL_CHARS` characters of a server's text."""
    line = " ".join(text.split())
    return line if len(line) <= _DETAIL_CHARS else line[: _DETAIL_CHARS - 3] + "..."


@dataclass(frozen=True)
class OpenAIOptions:
    """The openai backend's options (:class:`OpenAIBackend`'s constructor keywords; its docstring has more). Each
    one left out is read from the config file's ``[backends.openai]`` table, which may set exactly these."""

    base_url: str | None = option(None, help="the server's URL, e.g. http://127.0.0.1:8000/v1 (required)")
    model: str | None = option(None, help="the served model name (default: the first one the server lists)")
    adapter: str | None = option(None, help="a LoRA module name, sent as the model")
    api_key_env: str | None = option(None, help="the environment variable holding the API key (default: "
                                     "KEYFRAMEFACE_API_KEY, then OPENAI_API_KEY)")
    structured: str | None = option(None, help="structured output mode (default: auto)")
    max_tokens: int | None = option(None, low=1, help="answer length limit (default: the call's, 1024)")
    enable_thinking: bool | None = option(None, help="false: ask Qwen3-style models to answer without thinking")
    extra_body: Mapping[str, Any] | None = option(None, help="more request fields, merged in")
    timeout_s: float | None = option(None, low=0.0, low_open=True,
                                     help="total time for one request, retries excluded (default: the call's)")
    engine: str | None = option(None, choices=lambda: ENGINES, help="the server's engine, for its request fields: "
                                "{choices} (default: auto, detected from the server)")


#: Options the config file may set for this backend: the declared ones.
_CONFIG_KEYS: Final[frozenset[str]] = frozenset(option_names(OpenAIOptions))


class OpenAIBackend(Backend):
    """Chat backend for an OpenAI-compatible server at ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``).

    ``model``: the served model name (vLLM: the name given to ``--served-model-name``, or the LoRA module name from
    ``--lora-modules NAME=PATH``; Ollama: ``qwen3:14b``). ``adapter``: a LoRA module name; with vLLM a LoRA module
    is requested by using its name as the model, so ``adapter`` (when given) is what is sent as ``model``. With
    neither, the first model listed by ``GET /models`` is used.
    ``api_key_env``: the environment variable holding the API key (default: ``KEYFRAMEFACE_API_KEY``, then
    ``OPENAI_API_KEY``; no key is fine for local servers); ``user:password@`` in ``base_url`` is sent as HTTP Basic
    auth instead. ``structured``: one of :data:`STRUCTURED_MODES` (see the module docstring). ``max_tokens``:
    overrides the orchestrator's default (1024, the release's ``--max_new_tokens``). ``enable_thinking``: ``False``
    asks Qwen3-style models to answer without a ``<think>`` block (``chat_template_kwargs`` on vLLM and llama.cpp,
    ``reasoning_effort: "none"`` on Ollama). ``extra_body``: more request fields, merged in (``{"top_p": 0.9}``;
    not the structured-output fields: ``structured`` sets those). ``timeout_s``: overrides the per-request total
    time (see the module docstring for the bound it gives). ``engine``: one of :data:`ENGINES` (default ``auto``).

    Options left out are read from the user config file's ``[backends.openai]`` table when it has them
    (:mod:`keyframeface.backends.config`). Raises :class:`BackendUnavailableError` without ``base_url`` or with a
    bad option value. Safe to call from several threads at once (one kept-alive connection per thread).
    """

    name: ClassVar[str] = "openai"
    capabilities: ClassVar[Capabilities] = Capabilities(chat=True, concurrent=True, seed=True, structured=True)
    Options: ClassVar[type | None] = OpenAIOptions  # declared once: names, defaults, help

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
        engine: str | None = None,
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
        engine = engine if engine is not None else defaults.get("engine", "auto")
        if not base_url:
            raise BackendUnavailableError(
                "the openai backend needs the server's URL: pass --base-url http://HOST:PORT/v1 (API: "
                "base_url='http://127.0.0.1:8000/v1', or base_url in [backends.openai] of the config file); see "
                "docs/backends.md for vLLM, Ollama and llama.cpp recipes"
            )
        try:
            parts = urllib.parse.urlsplit(str(base_url))
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError:
            parts = urllib.parse.urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendUnavailableError(
                f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {_safe_url(str(base_url))!r}"
            )
        if structured not in STRUCTURED_MODES or not isinstance(structured, str):
            raise BackendUnavailableError(f"structured must be one of {list(STRUCTURED_MODES)}, got {structured!r}")
        if engine not in ENGINES or not isinstance(engine, str):
            raise BackendUnavailableError(f"engine must be one of {list(ENGINES)}, got {str(engine)[:40]!r}")
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
        if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
                                      or not math.isfinite(timeout_s) or timeout_s <= 0):
            raise BackendUnavailableError(f"timeout_s must be a positive number, got {timeout_s!r}")
        # Credentials in the URL become HTTP Basic auth; the URL kept (and shown anywhere) has none.
        self._basic_auth: str | None = None
        if parts.username is not None or parts.password is not None:
            user = urllib.parse.unquote(parts.username or "")
            password = urllib.parse.unquote(parts.password or "")
            self._basic_auth = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        netloc = parts.netloc.rsplit("@", 1)[-1]
        self.base_url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        # A query in the URL (a proxy's api-version=...) goes on every request, after the path.
        self._query = f"?{parts.query}" if parts.query else ""
        _warn_if_proxied(parts.scheme, parts.hostname or "")
        self.model = model
        self.adapter = adapter
        self.api_key_env = api_key_env
        self.structured: str = structured
        self.engine: str = engine
        self.max_tokens = max_tokens
        self.enable_thinking = enable_thinking
        self.extra_body = dict(extra_body or {})
        self.timeout_s = None if timeout_s is None else float(timeout_s)
        self._lock = threading.Lock()
        self._detect_lock = threading.Lock()
        # The engine in use: the forced one, or (auto) what detection found on the first request.
        self._engine: str | None = None if engine == "auto" else engine
        self._engine_version: str | None = None
        self._client = KeepAliveClient(self.base_url, max_body_bytes=_MAX_BODY_BYTES)
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

    def close(self) -> None:
        """Close the kept-alive connections (a later request opens new ones). Safe to call twice."""
        self._client.close()

    # ------------------------------------------------------------------------------------------- describing
    def describe(self) -> dict[str, Any]:
        """Server URL (no credentials), model, adapter, structured mode and engine (``engine_version`` when the
        server told it); never the API key."""
        info: dict[str, Any] = {
            "backend": self.name,
            "base_url": _safe_url(self.base_url),
            "model": self._resolved_model or self.model,
            "adapter": self.adapter,
            "structured": self.structured,
            "engine": self._engine or self.engine,
        }
        if self._engine_version:
            info["engine_version"] = self._engine_version
        return info

    def _api_key(self) -> tuple[str | None, str]:
        names = (self.api_key_env,) if self.api_key_env else DEFAULT_API_KEY_ENVS
        for env in names:
            value = os.environ.get(env, "").strip()
            if value:
                return value, env
        return None, " or ".join(f"${n}" for n in names)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._basic_auth is not None:
            headers["Authorization"] = f"Basic {self._basic_auth}"
            return headers
        key, _ = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    # -------------------------------------------------------------------------------------------- engines
    def _engine_spec(self) -> Engine:
        return engine_named(self._engine or "generic")

    def _ensure_engine(self, deadline: float) -> Engine:
        """The engine to shape requests for: the forced one, or (auto) the one detected once from the server."""
        if self._engine is not None:
            return self._engine_spec()
        if not self._detect_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise self._timeout_error()
        try:
            if self._engine is None:
                name, version = detect_engine(self.base_url, lambda url: self._probe(url, deadline))
                self._engine_version = version
                self._engine = name
                logger.info("%s: engine %s%s", _safe_url(self.base_url), name, f" {version}" if version else "")
        finally:
            self._detect_lock.release()
        return self._engine_spec()

    def _probe(self, url: str, deadline: float) -> Any:
        """The JSON answer of ``GET url`` on the server, or ``None`` for an error status, a redirect or non-JSON."""
        try:
            response = self._client.request("GET", url, body=None, headers=self._headers(), deadline=deadline)
        except RedirectRefused:
            return None
        except Exception as exc:  # mapped to the one error type the caller handles
            raise self._transport_error(exc, _safe_url(url)) from None
        if response.status != 200:
            return None
        try:
            return json.loads(response.body.decode("utf-8", errors="replace"))
        except ValueError:
            return None

    # -------------------------------------------------------------------------------------------- requests
    def request_body(self, messages: Sequence[Message], *, options: GenerationOptions) -> dict[str, Any]:
        """The JSON body of the first ``POST /chat/completions`` this backend sends for ``messages``, built without
        contacting the server (batch request files use it): the engine's fields (the forced ``engine``; ``generic``
        while ``auto`` has detected nothing), the first structured-output kind of its chain, and the model
        (``adapter``, else ``model``; absent when neither is known)."""
        shape = self._engine_spec()
        kind = self._first_kind(options.representation, shape)
        return self._request_body(messages, options=options, kind=kind, model=self._resolved_model, engine=shape)

    def _first_kind(self, representation: str, engine: Engine | None = None) -> str:
        if self.structured != "auto":
            return self.structured
        with self._lock:
            known = self._structured_kind.get(representation)
        if known is not None:
            return known
        return self._kinds(representation, engine)[0]

    def _kinds(self, representation: str, engine: Engine | None) -> tuple[str, ...]:
        spec = _grammar(representation)
        shape = engine or self._engine_spec()
        return shape.kinds(is_object=spec is not None and spec.is_object, plan=representation == "plan")

    def _request_body(
        self, messages: Sequence[Message], *, options: GenerationOptions, kind: str, model: str | None,
        engine: Engine | None = None,
    ) -> dict[str, Any]:
        """The JSON body of one ``POST /chat/completions``. ``kind``: the structured-output kind to send
        (``"json_schema"``, ``"json_object"``, ``"grammar"`` or ``"off"``), in ``engine``'s fields (default: the
        engine in use, ``generic`` before detection). Raises :class:`BackendError` when the engine has no field
        for ``kind``."""
        shape = engine or self._engine_spec()
        body: dict[str, Any] = {
            "messages": [{"role": str(m["role"]), "content": str(m["content"])} for m in messages],
            "temperature": float(options.temperature),
            shape.token_field: int(self.max_tokens or options.max_tokens),
            "stream": False,
        }
        if model:
            body["model"] = model
        if options.seed is not None:
            body["seed"] = int(options.seed)
        spec = _grammar(options.representation)  # the answer's shape, from the representation (prompt/grammar.py)
        schema = grammar = None
        if spec is not None and kind in ("json_schema", "json_object") and spec.is_object:
            from ..prompt.grammar import json_schema

            schema = json_schema(spec, _target_key(messages))
        elif spec is not None and kind == "grammar":
            from ..prompt.grammar import gbnf

            grammar = gbnf(spec, _target_key(messages) if spec.values == "object" else None)
        elif spec is None:  # not a keyframe answer: the caller's own constraint, if any (keyframeface.assist)
            schema = options.extra.get("json_schema") if kind in ("json_schema", "json_object") else None
            grammar = options.extra.get("grammar") if kind == "grammar" else None
        if kind == "json_object" and spec is not None and not spec.is_object:
            fields: dict[str, Any] | None = {}  # a pairs answer is not JSON: nothing to ask for
        else:
            fields = shape.structured_fields(kind, schema=schema, grammar=grammar)
        if fields is None:
            raise BackendError(f"engine {shape.name!r} has no request field for structured output {kind!r}; use "
                               "--option structured=auto")
        body.update(fields)
        if self.enable_thinking is not None and shape.thinking is not None:
            body.update(shape.thinking(self.enable_thinking))
        body.update(self.extra_body)
        return body

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None, *, deadline: float) -> Any:
        """One request to ``{base_url}{path}`` finished by ``deadline`` (monotonic); the decoded JSON reply.
        Raises :class:`BackendError` (transient where retrying may help) or :class:`_Rejected` for a refusal that
        names structured output."""
        url = f"{self.base_url}{path}{self._query}"
        where = _safe_url(url)
        data = None if body is None else json.dumps(body).encode("utf-8")
        try:
            response = self._client.request(method, url, body=data, headers=self._headers(), deadline=deadline)
        except Exception as exc:  # every transport failure becomes one BackendError
            raise self._transport_error(exc, where) from None
        if response.status >= 400:
            detail = response.body[:4000].decode("utf-8", errors="replace")
            logger.debug("%s %s answered HTTP %d: %s", method, where, response.status, detail)
            raise self._http_error(response.status, detail, where, body)
        if response.status >= 300 or response.status < 200:
            raise BackendError(f"{where} answered HTTP {response.status}; expected 200")
        try:
            return json.loads(response.body.decode("utf-8", errors="replace"))
        except ValueError:
            logger.debug("%s %s answered non-JSON: %r", method, where, response.body[:400])
            raise BackendError(f"{where} did not answer with JSON (got {response.body[:40]!r}); is --base-url the "
                               "server's OpenAI-compatible root (usually ending in /v1)?") from None

    def _timeout_error(self) -> BackendError:
        return BackendError(f"{_safe_url(self.base_url)} did not answer in time (--timeout-s bounds each whole "
                            "request); raise it or check the server's load", transient=True)

    def _transport_error(self, exc: Exception, where: str) -> BackendError:
        """The one-line :class:`BackendError` for a failure below HTTP status level (details at debug level)."""
        logger.debug("request to %s failed: %s: %s", where, type(exc).__name__, exc)
        if isinstance(exc, (DeadlineExceeded, TimeoutError)):
            return self._timeout_error()
        if isinstance(exc, RedirectRefused):
            target = _safe_url(exc.location)
            why = "a POST is never redirected" if exc.same_origin else "another origin never gets the credentials"
            suggestion = target
            for tail in ("/chat/completions", "/models"):
                if suggestion.endswith(tail):
                    suggestion = suggestion[: -len(tail)]
            return BackendError(f"{where} redirected (HTTP {exc.status}) to {target}; not followed ({why}): use "
                                f"--base-url {suggestion} if that is the server")
        if isinstance(exc, TruncatedResponse):
            return BackendError(f"{where} cut its answer short ({exc}); the server may be restarting or overloaded",
                                transient=True)
        if isinstance(exc, ResponseTooLarge):
            return BackendError(f"{where} sent more than {_MAX_BODY_BYTES} bytes; expected a chat completion")
        if isinstance(exc, ssl.SSLError):  # a certificate or TLS problem does not go away by retrying
            reason = getattr(exc, "reason", None) or type(exc).__name__
            return BackendError(f"TLS with {where} failed ({reason}): check the server's certificate (or use an "
                                "http:// base URL for a local server)")
        # Refused, unknown host, no route: nothing was sent. (Resets and closes are ConnectionErrors too.)
        if isinstance(exc, ConnectionRefusedError) or (isinstance(exc, OSError) and not isinstance(exc, ConnectionError)):
            why = getattr(exc, "strerror", None) or type(exc).__name__
            return BackendError(f"cannot reach {where} ({why}): is the server running, is --base-url right?",
                                transient=True)
        if isinstance(exc, (ConnectionError, http.client.HTTPException)):
            return BackendError(f"the connection to {where} failed ({type(exc).__name__}); the server may have "
                                "stopped or restarted", transient=True)
        return BackendError(f"the request to {where} failed ({type(exc).__name__}: {_short(str(exc))})")

    def _http_error(self, status: int, detail: str, where: str, body: Mapping[str, Any] | None) -> Exception:
        """The error for an HTTP ``status`` >= 400 with the server's text ``detail``: :class:`_Rejected` when it
        refuses the request's structured output, else a one-line :class:`BackendError`."""
        short = _short(detail)
        # 400/422: the usual answers to an unsupported response_format. llama-cpp-python's server answers its
        # request-validation errors with HTTP 500, naming the field ('loc': ('body', 'response_format', 'type')).
        lowered = detail.lower()
        sent_structured = body is not None and bool(_STRUCTURED_FIELDS.intersection(body))
        if sent_structured and (
            (status in (400, 422) and any(w in lowered for w in _STRUCTURED_WORDS))
            or (status == 500 and "validation" in lowered and any(f in lowered for f in _STRUCTURED_FIELDS))
        ):
            return _Rejected(f"HTTP {status}: {short}")
        if status in _TRANSIENT_STATUS:
            return BackendError(f"{where} answered HTTP {status} (temporary): {short}", transient=True)
        if status in (401, 403):
            _, env = self._api_key()
            source = "the user:password in --base-url" if self._basic_auth else f"the API key in {env} (never on " \
                "the command line)"
            return BackendError(f"{where} refused the request (HTTP {status}: {short}); check {source}")
        if status == 404:
            return BackendError(f"{where} answered HTTP 404 ({short}): wrong model name {self._resolved_model!r} "
                                "or wrong --base-url (it usually ends in /v1)?")
        return BackendError(f"{where} refused the request (HTTP {status}): {short}")

    def _model_name(self, deadline: float) -> str | None:
        """The model to request: ``adapter``, else ``model``, else the first one the server lists."""
        if self._resolved_model:
            return self._resolved_model
        listing = self._call("GET", "/models", None, deadline=deadline)
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

        The whole call (engine detection and model listing on the first call, every request, structured-output
        fallbacks) ends within ``timeout_s`` (the constructor's, else ``options.timeout_s``). Raises
        :class:`BackendError`: ``transient=True`` for connection failures, cut-short answers, timeouts and HTTP
        408/429/5xx; otherwise one line saying what to fix (401: the API key variable; 404: model or URL;
        a redirect: the URL it pointed to).
        """
        timeout_s = self.timeout_s or options.timeout_s
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not math.isfinite(timeout_s) \
                or timeout_s <= 0:
            raise BackendError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        deadline = time.monotonic() + float(timeout_s)
        shape = self._ensure_engine(deadline)
        model = self._model_name(deadline)
        kind = self._first_kind(options.representation, shape)
        chain = self._kinds(options.representation, shape)
        # At most one request per kind in the engine's chain (json_schema -> grammar -> off), never an endless retry.
        for _ in range(len(chain) + 1):
            body = self._request_body(messages, options=options, kind=kind, model=model, engine=shape)
            try:
                reply = self._call("POST", "/chat/completions", body, deadline=deadline)
            except _Rejected as exc:
                if kind == "off":  # nothing left to drop: the server refuses the request itself
                    raise BackendError(f"the server rejected the request even without structured output ({exc})") from None
                if self.structured != "auto":
                    raise BackendError(
                        f"the server rejected structured output {kind!r} ({exc}); use --option structured=auto "
                        "or structured=off"
                    ) from None
                later = chain[chain.index(kind) + 1:] if kind in chain else ()
                fallback = later[0] if later else "off"
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
            raise BackendError(f"expected a chat completion with 'choices', got {_short(str(reply))!r}")
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


class _Rejected(Exception):
    """Internal: the server refused this kind of structured output (HTTP 400/422 naming it)."""


def _warn_if_proxied(scheme: str, host: str) -> None:
    """The transport connects directly (it bounds every socket operation by the request's deadline, which a proxy
    tunnel would hide): say so once when the environment names a proxy for this host, instead of failing obscurely."""
    import urllib.request

    proxy = urllib.request.getproxies_environment().get(scheme)
    if proxy and not urllib.request.proxy_bypass_environment(host):  # type: ignore[attr-defined]
        logger.warning("the openai backend connects to %s directly: %s_PROXY is not used (reach the server "
                       "without a proxy, or run a local gateway and point --base-url at it)", host, scheme.upper())

