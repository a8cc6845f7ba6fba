"""Running the web app with uvicorn: the listening socket and the connection-level limits.

uvicorn bounds idle kept-alive connections (``timeout_keep_alive``) and header size
(``h11_max_incomplete_event_size``) but not the time a client may take to send its headers: a "slowloris" client
that sends one byte a second would hold a connection for as long as it likes. :func:`make_server` adds that
bound (``Limits.header_timeout_s``, counted from a request's first byte) with a small subclass of uvicorn's h11
protocol; the body's own deadline is :class:`keyframeface.web.app.BodyLimit`'s.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

from ..errors import KeyframeFaceError
from .limits import Limits

__all__ = ["bind", "make_server"]

logger = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0 picks a free one), as uvicorn would open it.

    Raises :class:`~keyframeface.errors.KeyframeFaceError` with one line when the port is taken or the address
    is not this machine's, before anything says "serving".
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # what uvicorn sets: restart without waiting
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)  # uvicorn's default backlog
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise KeyframeFaceError(f"port {port} on {host} is already in use (another server?); "
                                    "pick another with --port, or --port 0 for a free one") from None
        raise KeyframeFaceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                                "check --host and --port") from None
    sock.set_inheritable(True)
    return sock


def _protocol_class(header_timeout_s: float) -> type[asyncio.Protocol]:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        """uvicorn's h11 protocol, closing a connection whose request headers take longer than
        ``header_timeout_s`` from their first byte (between requests, uvicorn's keep-alive timeout applies)."""

        _header_timer: asyncio.TimerHandle | None = None

        def _between_requests(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def data_received(self, data: bytes) -> None:
            if self._header_timer is None and self._between_requests():
                self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)
            super().data_received(data)
            if self._header_timer is not None and not self._between_requests():
                self._header_timer.cancel()  # the request's headers are in: the app has it now
                self._header_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self._between_requests() and not self.transport.is_closing():
                client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
                logger.warning("closed the connection of %s: its request headers took over %g s",
                               client, header_timeout_s)
                self.transport.close()

    return HeaderTimeoutProtocol


def make_server(app: Any, *, limits: Limits | None = None, log_level: str = "warning") -> Any:
    """A ``uvicorn.Server`` for ``app`` with the connection limits of ``limits`` (see :class:`Limits`); run it
    with ``server.run(sockets=[bind(host, port)])``."""
    import uvicorn

    limits = limits or Limits()
    config = uvicorn.Config(
        app,
        http=_protocol_class(limits.header_timeout_s),
        timeout_keep_alive=max(1, round(limits.keep_alive_s)),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        log_level=log_level,
        # The server's own names are enough; the X-Forwarded-For of a proxy is not trusted on a desktop tool.
        proxy_headers=False,
        server_header=False,
    )
    return uvicorn.Server(config)
