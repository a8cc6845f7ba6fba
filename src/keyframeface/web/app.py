"""The FastAPI application: the page, its static files, the JSON API, limits and error answers.

``create_app()`` builds one app; ``keyframeface serve`` runs it with uvicorn on 127.0.0.1 (see
:mod:`keyframeface.web.serving` for the connection-level limits). The page's three.js is vendored inside the
package (``static/vendor/three/``, pinned, with its licence) and served from ``/static/``: no request of the page
leaves the machine, and a ``Content-Security-Policy`` header says so to the browser.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ..backends.registry import default_backend_name
from ..errors import BackendError, BackendUnavailableError, GenerationError, KeyframeFaceError, ScriptError
from .api import LimitError, router
from .limits import Busy, Limits, WorkPool, WorkTimeout
from .state import ServerState, resolve_mesh

__all__ = ["DEFAULT_ALLOWED_HOSTS", "STATIC_DIR", "THREE_DIR", "content_security_policy", "create_app"]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
#: three.js and the addons the page uses, shipped in the package (``tools/vendor_three.py`` refreshes them).
THREE_DIR = STATIC_DIR / "vendor" / "three"
#: Host names the app answers to; anything else is refused (a guard against DNS rebinding from web pages).
#: Tests pass their client's host explicitly (or send ``Host: 127.0.0.1``); production never answers "testserver".
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def content_security_policy(page: str) -> str:
    """The page's ``Content-Security-Policy``: scripts, styles, fetches and images from this server only.

    The one inline script the page has, its import map (browsers take import maps inline only), is allowed by
    its SHA-256 hash (CSP Level 3 hash sources), so no other inline script can run. ``img-src`` adds ``data:``
    and ``blob:`` (the favicon, images three.js unpacks from a GLB); downloads use ``blob:`` URLs, which CSP
    does not restrict.
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode("utf-8")).digest()).decode("ascii") + "'"
        for m in _IMPORT_MAP.findall(page)
    )
    return "; ".join((
        "default-src 'none'",
        f"script-src 'self' {hashes}".rstrip(),
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


class HostCheck:
    """ASGI middleware: answer only requests whose ``Host`` is in ``allowed`` (``"*"`` allows any), else 400."""

    def __init__(self, app: ASGIApp, *, allowed: Iterable[str]) -> None:
        self.app, self.allowed = app, {h.lower() for h in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and "*" not in self.allowed:
            raw = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
            host = raw.rsplit(":", 1)[0] if not raw.endswith("]") else raw
            if host not in self.allowed:
                await _error(400, f"this server answers only requests for {', '.join(sorted(self.allowed))}; "
                             f"got Host {raw[:80]!r}")(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413, by header or while streaming, and
    bodies that do not arrive within ``timeout_s`` with 408 (a client that trickles its body holds no worker)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float | None = None) -> None:
        self.app, self.max_bytes, self.timeout_s = app, max_bytes, timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = _error(413, f"the request body is over this server's limit of {self.max_bytes} bytes; send less")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0 or declared > self.max_bytes:
                await too_big(scope, receive, send)
                return
        # Read the whole body first (it is small by definition) so an oversized or late stream is refused before
        # any route sees it; the app then reads it back from memory.
        loop = asyncio.get_running_loop()
        deadline = None if self.timeout_s is None else loop.time() + self.timeout_s
        chunks: list[bytes] = []
        seen = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), None if deadline is None else max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                logger.warning("closed a request whose body did not arrive within %g s", self.timeout_s)
                await _error(408, f"the request body did not arrive within {self.timeout_s:g} s; send it at once",
                             headers={"Connection": "close"})(scope, receive, send)
                return
            if message["type"] != "http.request":
                return  # the client went away: nothing to answer
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_bytes:
                await too_big(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _error(status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = list(exc.errors())
    if not errors:
        return "invalid request", None
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    field = ".".join(loc) or None
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{field + ': ' if field else ''}{first.get('msg', 'invalid value')}{more}", field


def _install_error_handlers(app: FastAPI) -> None:
    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # registered for this type only
        message, field = _validation_message(exc)
        return _error(422, message, field=field)

    async def on_keyframeface(_request: Request, exc: Exception) -> JSONResponse:
        field = getattr(exc, "field", None)
        if isinstance(exc, GenerationError):
            partial = exc.partial.to_dict() if hasattr(exc.partial, "to_dict") else None
            failed = {str(i): str(e)[:300] for i, e in exc.failed.items()}
            return _error(502, str(exc), partial=partial, failed=failed)
        if isinstance(exc, BackendUnavailableError):
            return _error(400, str(exc))
        if isinstance(exc, BackendError):
            return _error(502, str(exc))
        if isinstance(exc, LimitError):
            return _error(413, str(exc), field=field)
        if isinstance(exc, ScriptError):
            return _error(422, str(exc), field=field)
        return _error(422, str(exc))

    async def on_busy(_request: Request, exc: Exception) -> JSONResponse:
        retry = getattr(exc, "retry_after_s", 2)
        return _error(503, f"busy: {exc}", headers={"Retry-After": str(retry)})

    async def on_timeout(_request: Request, exc: Exception) -> JSONResponse:
        return _error(504, f"{exc}; try a shorter script or a faster backend")

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # registered for this type only
        return _error(exc.status_code, str(exc.detail), headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not bad input: log it with its traceback and keep the promise of JSON error answers.
        logger.error("internal error answering %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal error")

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(KeyframeFaceError, on_keyframeface)
    app.add_exception_handler(Busy, on_busy)
    app.add_exception_handler(WorkTimeout, on_timeout)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def create_app(
    *,
    max_concurrency: int = 2,
    limits: Limits | None = None,
    backend: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    mesh: str = "auto",
    allowed_hosts: Iterable[str] | None = None,
    api_docs: bool = False,
) -> FastAPI:
    """Build the web app.

    ``max_concurrency``: generations (and, separately, animation/export renders) running at once; more are
    refused with 503 ``busy``. ``limits``: per-request :class:`Limits`. ``backend``: the default backend name
    (the offline default when ``None``); ``backend_options``: its constructor options (``model``, ``base_url``
    ...), fixed by whoever starts the server: clients only choose backends by name. ``mesh``: the glTF head
    (``"auto"``: the ICT-FaceKit head when the shared data holds it, else ``"default"``; or ``"ict"``,
    ``"default"``). ``allowed_hosts``: ``Host`` header values answered (default: loopback names).
    ``api_docs``: serve the OpenAPI schema (``/openapi.json``) and FastAPI's ``/docs`` page (off by default: the
    page loads Swagger UI from a CDN, and the schema is no business of a browser on this machine).
    """
    limits = limits or Limits()
    default_backend = backend or default_backend_name()
    state = ServerState(
        limits=limits,
        generation=WorkPool(max_concurrency, retry_after_s=limits.retry_after_s, name="keyframeface-generate"),
        rendering=WorkPool(max_concurrency, retry_after_s=limits.retry_after_s, name="keyframeface-render"),
        default_backend=default_backend,
        backend_options={default_backend: dict(backend_options or {})},
        mesh=resolve_mesh(mesh),
    )
    # Build the default backend now (constructors are cheap): an unknown name or options meant for another
    # backend fail when the server starts, not on the first request. Raises KeyframeFaceError.
    state.backend(default_backend)
    if not (THREE_DIR / "build" / "three.module.js").is_file():  # a broken install; the page says so too
        logger.error("three.js is missing from %s: the page's 3D view cannot start; reinstall keyframeface", THREE_DIR)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()  # release loaded models when the server stops

    app = FastAPI(
        lifespan=lifespan,
        title="keyframeface",
        version=__version__,
        description="Language to facial animation on the 61 ARKit / Live Link Face channels. "
        "Edit a script, generate keyframes, animate them and download CSV / glTF / JSON.",
        openapi_url="/openapi.json" if api_docs else None,
        docs_url="/docs" if api_docs else None,
        redoc_url=None,
    )
    app.state.keyframeface = state
    app.include_router(router)
    _install_error_handlers(app)

    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    csp = content_security_policy(page)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    hosts = list(allowed_hosts) if allowed_hosts is not None else list(DEFAULT_ALLOWED_HOSTS)
    app.add_middleware(HostCheck, allowed=hosts)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes, timeout_s=limits.body_timeout_s)
    return app
