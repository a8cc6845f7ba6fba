"""What one web request may ask for, and the bounded pool that runs generation.

The web app is meant for one person on their own machine (it binds 127.0.0.1), but it must stay responsive
under a flood of requests and when a backend hangs:

* :class:`Limits` caps the request body, the number of keyframes, text lengths, animation length and frame
  rate, and how long one generation may take;
* :class:`WorkPool` runs heavy work in worker threads, at most ``max_concurrency`` at once; when every slot is
  taken a request is refused at once with :class:`Busy` (the API answers 503 with ``Retry-After``) rather than
  queued. A slot is free again when its call returns **or** when its request's deadline passes (the request
  answers 504 and the call's ``cancel`` event is set), whatever the backend does: a stalled upstream cannot
  take the web app down for longer than ``generate_timeout_s``. Calls left running past their deadline are
  counted, and at most ``4 * max_concurrency`` of them may linger before new work is refused as busy, so a
  backend that ignores both its deadline and ``cancel`` cannot pile up threads either;
* :class:`RateLimit` bounds how often one kind of event (a page's error report) is logged.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

from ..script import MAX_DESCRIPTION_CHARS, MAX_KEYFRAMES, MAX_TEXT_CHARS

__all__ = ["Busy", "Limits", "RateLimit", "WorkPool", "WorkTimeout"]

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Per-request limits of the web API (all checked before any work starts).

    ``max_body_bytes``: request body size (413 above it). ``max_keyframes``: keyframes per script, at most
    :data:`keyframeface.script.MAX_KEYFRAMES`. ``max_text_chars`` / ``max_description_chars``: background,
    emotion, free text / one description (the file format's own caps by default). ``max_duration_s`` and
    ``max_fps``: animation length and rate, which bound the frames one request can make (by default 120 s x
    120 fps = 14,400 frames). ``generate_timeout_s``: how long a request waits for generation before it answers 504.
    ``retry_after_s``: what a 503 "busy" answer tells the client to wait.

    Connection limits (applied by :func:`keyframeface.web.serving.make_server`, which ``keyframeface serve``
    uses): ``header_timeout_s``: a request's headers must arrive within this time from its first byte (else the
    connection is closed: a slowloris client that sends a byte a second holds it for at most this long);
    ``max_header_bytes``: the request line and headers together while they are still arriving (h11's
    incomplete-event limit: past it the request is answered 400 and closed; a complete request that came in one
    read of the socket is parsed whole); ``keep_alive_s``: how long an idle kept-alive connection stays open;
    ``body_timeout_s``: a request's body must arrive within this time (else 408).
    """

    max_body_bytes: int = 1_000_000
    max_keyframes: int = 64
    max_text_chars: int = MAX_TEXT_CHARS
    max_description_chars: int = MAX_DESCRIPTION_CHARS
    max_duration_s: float = 120.0
    max_fps: float = 120.0
    generate_timeout_s: float = 120.0
    retry_after_s: int = 2
    header_timeout_s: float = 10.0
    max_header_bytes: int = 16_384
    keep_alive_s: float = 5.0
    body_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_keyframes <= MAX_KEYFRAMES:
            raise ValueError(f"max_keyframes must be in [1, {MAX_KEYFRAMES}], got {self.max_keyframes}")
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes}")
        if self.max_header_bytes < 1024:
            raise ValueError(f"max_header_bytes must be at least 1024, got {self.max_header_bytes}")
        for name in ("max_duration_s", "max_fps", "generate_timeout_s", "header_timeout_s", "keep_alive_s",
                     "body_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


class Busy(Exception):
    """Every worker slot is taken; try again after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"the server is busy with other generations; retry in {retry_after_s} s")


class WorkTimeout(Exception):
    """The work did not finish within its time; it was asked to stop (``cancel`` set)."""


class RateLimit:
    """At most ``count`` events per ``per_s`` seconds (a sliding window); :meth:`allow` says whether one more fits."""

    def __init__(self, count: int, per_s: float) -> None:
        self.count, self.per_s = count, per_s
        self._times: list[float] = []
        self._lock = threading.Lock()

    def allow(self) -> bool:
        now = time.monotonic()
        with self._lock:
            self._times = [t for t in self._times if now - t < self.per_s]
            if len(self._times) >= self.count:
                return False
            self._times.append(now)
            return True


class _Call:
    """One call's claim on a :class:`WorkPool`: whether it still holds its slot, and whether it was abandoned."""

    __slots__ = ("abandoned", "done", "holds_slot")

    def __init__(self) -> None:
        self.holds_slot, self.done, self.abandoned = True, False, False


class WorkPool:
    """At most ``max_concurrency`` calls running at once, each in its own daemon thread.

    :meth:`run` refuses at once (:class:`Busy`) when every slot is taken, so callers never queue behind a stuck
    call. A slot is freed when its call returns or when the waiting request gives up on it (its deadline passed,
    or it was cancelled); a call given up on but still running is *lingering*, and while ``max_lingering``
    (default ``4 * max_concurrency``) calls linger, new work is refused too.
    """

    def __init__(self, max_concurrency: int, *, retry_after_s: int = 2, name: str = "keyframeface-web",
                 max_lingering: int | None = None) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        self.max_concurrency = max_concurrency
        self.max_lingering = 4 * max_concurrency if max_lingering is None else max_lingering
        self.retry_after_s = retry_after_s
        self._name = name
        self._lock = threading.Lock()
        self._running = 0
        self._lingering = 0

    @property
    def running(self) -> int:
        """How many calls hold a slot now."""
        with self._lock:
            return self._running

    @property
    def lingering(self) -> int:
        """How many calls were given up on (deadline passed, request cancelled) and have not returned yet."""
        with self._lock:
            return self._lingering

    def try_acquire(self) -> bool:
        """Take a slot without waiting (tests use it to saturate the pool); pair with :meth:`release`."""
        with self._lock:
            if self._running >= self.max_concurrency or self._lingering >= self.max_lingering:
                return False
            self._running += 1
            return True

    def release(self) -> None:
        with self._lock:
            if self._running <= 0:
                raise RuntimeError("release() without a slot taken")
            self._running -= 1

    def _finish(self, call: _Call) -> None:
        """The call returned: free its slot if it still holds one, and stop counting it as lingering."""
        with self._lock:
            call.done = True
            if call.holds_slot:
                call.holds_slot = False
                self._running -= 1
            if call.abandoned:
                self._lingering -= 1

    def _abandon(self, call: _Call) -> None:
        """Nobody waits for the call any more: its slot is free now; it lingers until it returns."""
        with self._lock:
            if call.done or call.abandoned:
                return
            call.abandoned = True
            self._lingering += 1
            if call.holds_slot:
                call.holds_slot = False
                self._running -= 1

    async def run(self, func: Callable[[threading.Event], T], *, timeout_s: float | None = None) -> T:
        """Run ``func(cancel)`` in a worker thread and await its result.

        Raises :class:`Busy` when no slot is free, :class:`WorkTimeout` after ``timeout_s`` (then ``cancel`` is
        set so cooperative work stops early, and the slot is free at once), or whatever ``func`` raised. When the
        waiting task is cancelled (client disconnect, shutdown) ``cancel`` is set too, the slot is freed and the
        cancellation propagates.
        """
        if not self.try_acquire():
            raise Busy(self.retry_after_s)
        cancel = threading.Event()
        future: Future[T] = Future()
        call = _Call()

        def work() -> None:
            # The slot is freed before the result is handed over, so a client that sends its next request as
            # soon as it has this answer finds the slot free again.
            value: T | None = None
            error: BaseException | None = None
            try:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    value = func(cancel)
                except BaseException as exc:  # handed to the waiting request, which re-raises it
                    error = exc
            finally:
                self._finish(call)
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)  # type: ignore[arg-type]  # func returned a T

        threading.Thread(target=work, name=self._name, daemon=True).start()
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=timeout_s)
        except asyncio.TimeoutError:
            cancel.set()
            self._abandon(call)
            raise WorkTimeout(f"the work took longer than {timeout_s:g} s and was stopped") from None
        except BaseException:  # CancelledError above all: nobody waits for the result any more
            cancel.set()
            self._abandon(call)
            raise
