"""One connection to an upstream: an asyncio protocol that writes a request and reads its
answer with httptools' parser (llhttp), the answer's body buffered as it arrives and reading
paused while too much of it waits. The pool (upstream.py) keeps connections for reuse.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import httptools

PAUSE_AT = 256 * 1024      # bytes of an answer buffered before the upstream is told to wait
IDLE_SECONDS = 30.0        # an idle connection older than this is closed, not reused


class UpstreamError(ConnectionError):
    """The upstream could not be reached, or broke the exchange before it was complete."""


class AddressRefused(UpstreamError):
    """The upstream's address lies outside the networks the operator allows: no connection
    was opened."""


class Connection(asyncio.Protocol):
    """One TCP (or TLS) connection and the answer being read on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.idle_since = 0.0
        self._writable: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        # one parser for the connection's life: llhttp starts on the next message by itself
        # once one is complete (a connection that broke off mid-answer is never reused)
        self._parser: Any = httptools.HttpResponseParser(self)
        self.reset()

    def reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self.complete = False
        self.interim = False
        self.bodiless = False             # the answer to HEAD: headers only, whatever they say
        self.error: BaseException | None = None
        # the head with the first piece of the body, or the end: what `request` waits for
        self.ready: asyncio.Future[None] = self.loop.create_future()
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.wakeup: asyncio.Future[None] | None = None
        self.paused = False

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamError("the upstream switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"the upstream's answer is not valid HTTP: {exc}"))

    def eof_received(self) -> bool:
        return False   # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if (exc is None and self.error is None and self.status and not self.complete
                and not self._length_known()):
            self._finish()                # an answer delimited by the end of the connection
        elif not self.complete:
            self._fail(UpstreamError(f"the upstream closed the connection{because(exc)}"))
        self._unblock_writer(UpstreamError("the upstream closed the connection"))

    def _unblock_writer(self, error: BaseException | None) -> None:
        if self._writable is not None and not self._writable.done():
            if error is None:
                self._writable.set_result(None)
            else:
                self._writable.set_exception(error)
                self._writable.exception()

    def pause_writing(self) -> None:
        self._writable = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # --- httptools callbacks ----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.status:               # after the head: trailer fields, not headers
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:          # an interim answer (100 Continue): the real one follows
            self.interim = True
            self.headers = []
            return
        self.status = status
        self.keep_alive = self._parser.should_keep_alive()
        self._unblock_writer(None)        # an answer before the whole request: stop sending
        if self.bodiless:     # the parser cannot know that a HEAD answer has no body: it
            self.keep_alive = False       # would wait for one, so the connection ends here
            self._finish()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if not self.ready.done():
            self.ready.set_result(None)
        if self.buffered >= PAUSE_AT and not self.paused and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True
        self._wake()

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        self._finish()

    # --- state --------------------------------------------------------------------------------

    def _length_known(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" in names or b"transfer-encoding" in names

    def _finish(self) -> None:
        self.complete = True
        if not self.ready.done():
            self.ready.set_result(None)
        self._wake()

    def expire(self) -> None:
        """The request's deadline passed (a timer of the loop: cheaper than a timeout
        context around every wait)."""
        self.timer = None
        if not self.complete:
            self._fail(TimeoutError("the upstream did not answer in time"))
        self._unblock_writer(TimeoutError("the upstream did not answer in time"))

    def stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fail(self, error: BaseException) -> None:
        if self.error is None:            # the first failure is the one that counts
            self.error = error
        self.keep_alive = False
        if not self.ready.done():
            self.ready.set_exception(self.error)
            self.ready.exception()         # retrieved: no "never retrieved" warning later
        self._wake()
        self.abort()

    def _wake(self) -> None:
        if self.wakeup is not None and not self.wakeup.done():
            self.wakeup.set_result(None)

    async def writable(self) -> None:
        """Until the upstream takes more of the request (not at all once it has answered)."""
        if self._writable is not None and not self.status:
            await self._writable

    def reusable(self, loop: asyncio.AbstractEventLoop) -> bool:
        return (not self.lost and self.loop is loop and self.transport is not None
                and not self.transport.is_closing()
                and time.monotonic() - self.idle_since < IDLE_SECONDS)

    def close(self) -> None:
        """A clean end: what is written still goes out."""
        self.keep_alive = False
        if self.transport is None:
            return
        if self.loop.is_closed():   # made under an event loop that is gone (tests run several):
            return                  # the transport closes its socket when it is collected
        self.transport.close()

    def abort(self) -> None:
        """Giving up: the socket goes at once, with whatever is still unsent."""
        self.keep_alive = False
        if self.transport is None or self.loop.is_closed():
            return
        self.transport.abort()


def because(exc: Exception | None) -> str:
    return f": {exc}" if exc else ""
