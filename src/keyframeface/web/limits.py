"""What one web request may ask for, and the bounded pool that runs generation.

The web app is meant for one person on their own machine (it binds 127.0.0.1), but it must stay responsive
under a flood of requests and when a backend hangs:

* :class:`Limits` caps the request body, the number of keyframes, text lengths, animation length and frame
  rate, and how long one generation may take;
* :class:`WorkPool` runs heavy work in worker threads, at most ``max_concurrency`` at once; when every slot is
  taken a request is refused at once with :class:`Busy` (the API answers 503 with ``Retry-After``) rather than
  queued. A worker keeps its slot until its call really returns, so a stuck backend shows up as "busy" instead
  of piling up threads; the request that waited for it gets a timeout answer and its ``cancel`` event is set
  (also when the waiting request itself is cancelled: the client went away or the server is stopping).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

from ..script import MAX_DESCRIPTION_CHARS, MAX_KEYFRAMES, MAX_TEXT_CHARS

__all__ = ["Busy", "Limits", "WorkPool", "WorkTimeout"]

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
    """

    max_body_bytes: int = 1_000_000
    max_keyframes: int = 64
    max_text_chars: int = MAX_TEXT_CHARS
    max_description_chars: int = MAX_DESCRIPTION_CHARS
    max_duration_s: float = 120.0
    max_fps: float = 120.0
    generate_timeout_s: float = 120.0
    retry_after_s: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.max_keyframes <= MAX_KEYFRAMES:
            raise ValueError(f"max_keyframes must be in [1, {MAX_KEYFRAMES}], got {self.max_keyframes}")
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes}")
        for name in ("max_duration_s", "max_fps", "generate_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


class Busy(Exception):
    """Every worker slot is taken; try again after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"the server is busy with other generations; retry in {retry_after_s} s")


class WorkTimeout(Exception):
    """The work did not finish within its time; it was asked to stop (``cancel`` set)."""


class WorkPool:
    """At most ``max_concurrency`` calls running at once, each in its own daemon thread.

    :meth:`run` refuses at once (:class:`Busy`) when every slot is taken, so callers never queue behind a stuck
    call. A slot is freed only when its call returns, whatever the waiting request did.
    """

    def __init__(self, max_concurrency: int, *, retry_after_s: int = 2, name: str = "keyframeface-web") -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        self.max_concurrency = max_concurrency
        self.retry_after_s = retry_after_s
        self._name = name
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self._running = 0

    @property
    def running(self) -> int:
        """How many calls hold a slot now."""
        with self._lock:
            return self._running

    def try_acquire(self) -> bool:
        """Take a slot without waiting (tests use it to saturate the pool); pair with :meth:`release`."""
        if not self._slots.acquire(blocking=False):
            return False
        with self._lock:
            self._running += 1
        return True

    def release(self) -> None:
        with self._lock:
            self._running -= 1
        self._slots.release()

    async def run(self, func: Callable[[threading.Event], T], *, timeout_s: float | None = None) -> T:
        """Run ``func(cancel)`` in a worker thread and await its result.

        Raises :class:`Busy` when no slot is free, :class:`WorkTimeout` after ``timeout_s`` (then ``cancel`` is
        set so cooperative work stops early), or whatever ``func`` raised. When the waiting task is cancelled
        (client disconnect, shutdown) ``cancel`` is set too and the cancellation propagates.
        """
        if not self.try_acquire():
            raise Busy(self.retry_after_s)
        cancel = threading.Event()
        future: Future[T] = Future()

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
                self.release()
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)  # type: ignore[arg-type]  # func returned a T

        threading.Thread(target=work, name=self._name, daemon=True).start()
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=timeout_s)
        except asyncio.TimeoutError:
            cancel.set()
            raise WorkTimeout(f"the work took longer than {timeout_s:g} s and was stopped") from None
        except BaseException:  # CancelledError above all: nobody waits for the result any more
            cancel.set()
            raise
