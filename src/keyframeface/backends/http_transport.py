"""Bounded, kept-alive HTTP/1.1 requests to one origin (standard library only), for the ``openai`` backend.

Contracts:

* **A total deadline per request.** :meth:`KeepAliveClient.request` takes a ``deadline`` (a :func:`time.monotonic`
  value) that bounds connect, TLS handshake, send and every read of the answer, whatever the server does: each socket
  operation runs with a timeout of the time left, so a server that trickles one byte a second cannot hold a request
  past its deadline (a per-read timeout alone would restart with every byte). Past the deadline it raises
  :class:`DeadlineExceeded`.
* **One kept-alive connection per thread** (``Connection: keep-alive``), reused across requests; a kept-alive
  connection the server closed while idle is reopened once, transparently.
* **Redirects are never followed to another origin.** A redirect (301, 302, 303, 307, 308) of a ``GET`` is followed
  only when it stays on the same scheme, host and port; a redirect of any other method is never followed. Both raise
  :class:`RedirectRefused` naming the ``Location``, so headers (the API key) never reach another origin.
* **Short answers are errors**: a body shorter than its ``Content-Length``, a broken chunked body, or a connection
  reset while reading raises :class:`TruncatedResponse` (worth retrying).
* Bodies over ``max_body_bytes`` raise :class:`ResponseTooLarge` without reading further.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "MAX_IDLE", "REDIRECT_STATUSES", "DeadlineExceeded", "KeepAliveClient", "RedirectRefused", "Response", "ResponseTooLarge",
    "TruncatedResponse", "origin_of",
]

#: The redirect statuses (RFC 9110 section 15.4); none of them is followed to another origin.
REDIRECT_STATUSES: Final[frozenset[int]] = frozenset({301, 302, 303, 307, 308})
#: Same-origin redirects followed for one GET before giving up (a loop is a server misconfiguration).
_MAX_REDIRECTS: Final[int] = 5
#: Idle kept-alive connections a client keeps for reuse (more concurrent requests open more, closed after use).
MAX_IDLE: Final[int] = 8
#: Bytes read per read() call while collecting a body (the cap is checked between calls).
_CHUNK: Final[int] = 65536
#: Errors that mean a kept-alive connection was closed by the server while it sat idle.
_STALE: Final[tuple[type[BaseException], ...]] = (
    http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
)


class DeadlineExceeded(TimeoutError):
    """The request's total deadline passed (connect, send or read)."""


class TruncatedResponse(ConnectionError):
    """The server closed or reset the connection before the whole answer arrived."""


class ResponseTooLarge(ValueError):
    """The answer's body is larger than the client's ``max_body_bytes``."""


class RedirectRefused(Exception):
    """A redirect that was not followed: another origin, a non-GET request, or too many hops.

    ``status``: the redirect status; ``location``: the absolute URL it pointed to (may hold credentials or a query:
    strip it before showing it); ``same_origin``: whether it stayed on the request's origin.
    """

    def __init__(self, status: int, location: str, *, same_origin: bool) -> None:
        self.status = status
        self.location = location
        self.same_origin = same_origin
        super().__init__(f"HTTP {status} redirect to {safe_url(location)}")


def safe_url(url: str) -> str:
    """``url`` without credentials, query or fragment: what may be shown in a message or a log."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))[:200]
    except ValueError:
        return "(an invalid URL)"


@dataclass(frozen=True)
class Response:
    """One complete HTTP answer. ``headers``: lower-cased names; ``body``: every byte of the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def origin_of(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL, the port made explicit (80 / 443 by default)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the request's deadline passed")
    return left


class _DeadlineSocket:
    """A connected socket whose every send and receive is bounded by its connection's current deadline."""

    def __init__(self, sock: socket.socket, owner: _Connection) -> None:
        self._sock = sock
        self._owner = owner
        # Like socket.makefile(): http.client closes the connection right after reading the headers of a
        # "Connection: close" answer, while the response still reads its body; the socket closes with the last user.
        self._readers = 0
        self._closing = False

    def sendall(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        while view:
            self._sock.settimeout(_remaining(self._owner.deadline))
            sent = self._sock.send(view)
            view = view[sent:]

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        self._sock.settimeout(_remaining(self._owner.deadline))
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        if "r" not in mode:
            raise ValueError(f"only reading is supported, got mode {mode!r}")
        self._readers += 1
        return io.BufferedReader(_Reader(self))

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closing and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closing = True
        if self._readers <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:  # setsockopt, fileno, ... (never a timeout-free read path)
        return getattr(self._sock, name)


class _Reader(io.RawIOBase):
    """The raw stream under a response's buffered reader: each read is one deadline-bounded ``recv_into``."""

    def __init__(self, sock: _DeadlineSocket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._sock.reader_closed()
        super().close()


class _Connection(http.client.HTTPConnection):
    """An HTTP connection whose connect, send and reads are bounded by :attr:`deadline` (set per request)."""

    deadline: float = float("inf")

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), timeout=_remaining(self.deadline))
        with contextlib.suppress(OSError):  # not every platform has TCP_NODELAY; latency only
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = _DeadlineSocket(self._wrap(raw), self)

    def _wrap(self, raw: socket.socket) -> socket.socket:
        return raw


class _TLSConnection(_Connection):
    """HTTPS: the TLS handshake runs with the time left before the deadline."""

    default_port = 443

    def __init__(self, host: str, port: int | None, context: ssl.SSLContext) -> None:
        super().__init__(host, port)
        self._context = context

    def _wrap(self, raw: socket.socket) -> socket.socket:
        raw.settimeout(_remaining(self.deadline))
        try:
            return self._context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


class KeepAliveClient:
    """Requests to the origin of ``base_url`` over kept-alive connections. Thread-safe.

    Each request checks a connection out of a small pool of idle ones (or opens one) and puts it back when the
    answer was read whole, so concurrent workers each use their own connection, and short-lived threads (a web
    request, a ``generate`` call's pool) reuse connections instead of leaving one open each: at most
    :data:`MAX_IDLE` idle connections are kept. ``max_body_bytes``: the largest answer body accepted.
    :meth:`close` closes every idle connection (safe to call twice; a later request opens a new one).
    """

    def __init__(self, base_url: str, *, max_body_bytes: int) -> None:
        self.scheme, self.host, self.port = origin_of(base_url)
        if self.scheme not in ("http", "https") or not self.host:
            raise ValueError(f"expected an http(s) URL, got {base_url[:80]!r}")
        self.max_body_bytes = max_body_bytes
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None

    # ------------------------------------------------------------------------------------------- connections
    def _connection(self) -> tuple[_Connection, bool]:
        """An idle connection (most recently used first) or a new one, and whether it is new."""
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if conn.sock is not None:
                    return conn, False
                conn.close()
        if self.scheme == "https":
            if self._context is None:
                self._context = ssl.create_default_context()
            return _TLSConnection(self.host, self.port, self._context), True
        return _Connection(self.host, self.port), True

    def _release(self, conn: _Connection) -> None:
        """Put a connection whose answer was read whole back in the pool (closed when the pool is full)."""
        with self._lock:
            if conn.sock is not None and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _drop(self, conn: _Connection) -> None:
        conn.close()

    def close(self) -> None:
        """Close every idle connection (one in use is closed when its request ends)."""
        with self._lock:
            conns, self._idle = self._idle, []
        for conn in conns:
            conn.close()

    def __del__(self) -> None:  # a backend dropped without close(): its idle sockets close now, not at interpreter exit
        with contextlib.suppress(Exception):
            for conn in self._idle:
                conn.close()

    # ----------------------------------------------------------------------------------------------- requests
    def request(
        self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], deadline: float
    ) -> Response:
        """Send one request to ``url`` (on this client's origin) and return the whole answer.

        ``deadline``: a :func:`time.monotonic` value bounding everything. Raises :class:`DeadlineExceeded`,
        :class:`RedirectRefused`, :class:`TruncatedResponse`, :class:`ResponseTooLarge`, :class:`ValueError` for a
        URL on another origin, or :class:`OSError` / :class:`http.client.HTTPException` for other failures.
        """
        for _ in range(_MAX_REDIRECTS + 1):
            if origin_of(url) != (self.scheme, self.host, self.port):
                raise ValueError(f"{url[:80]!r} is not on this client's origin")
            response = self._once(method, url, body=body, headers=headers, deadline=deadline)
            if response.status not in REDIRECT_STATUSES:
                return response
            location = urllib.parse.urljoin(url, response.headers.get("location", ""))
            same = origin_of(location) == (self.scheme, self.host, self.port) and location.startswith(("http:",
                                                                                                        "https:"))
            if method != "GET" or not same:
                # Never a request (with its Authorization header) to another origin, and never a POST replayed
                # as a GET (urllib's habit): the caller reports the Location instead.
                raise RedirectRefused(response.status, location, same_origin=same)
            url = location
        raise RedirectRefused(response.status, url, same_origin=True)

    def _once(
        self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], deadline: float
    ) -> Response:
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        all_headers = {"Connection": "keep-alive", **headers}
        while True:
            conn, fresh = self._connection()
            conn.deadline = deadline
            try:
                conn.request(method, target, body=body, headers=all_headers)
                response = conn.getresponse()
            except _STALE:
                self._drop(conn)
                if fresh:
                    raise
                _remaining(deadline)
                continue  # the server closed the idle kept-alive connection: once more on a new one
            except BaseException:
                self._drop(conn)
                raise
            try:
                data = self._read_body(response)
            except BaseException:
                self._drop(conn)
                raise
            if response.will_close:
                self._drop(conn)
            else:
                self._release(conn)
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def _read_body(self, response: http.client.HTTPResponse) -> bytes:
        length_text = response.getheader("Content-Length")
        expected: int | None = None
        if length_text is not None and length_text.strip().isdigit():
            expected = int(length_text.strip())
            if expected > self.max_body_bytes:
                raise ResponseTooLarge(f"the answer announces {expected} bytes (at most {self.max_body_bytes})")
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_body_bytes:
                    raise ResponseTooLarge(f"the answer is larger than {self.max_body_bytes} bytes")
                chunks.append(chunk)
        except http.client.IncompleteRead as exc:
            raise TruncatedResponse(f"the answer ended early ({len(exc.partial)} bytes of a chunk)") from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            raise TruncatedResponse(f"the connection was reset after {total} bytes of the answer "
                                    f"({type(exc).__name__})") from None
        if expected is not None and total < expected:
            raise TruncatedResponse(f"the answer ended after {total} of {expected} bytes")
        return b"".join(chunks)
