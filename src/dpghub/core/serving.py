"""How `dpghub serve` runs uvicorn: its httptools protocol, with a response's head and body
leaving in one system call.

uvicorn writes a response's status line and headers as soon as the app sends
`http.response.start`, and the body with the next message: two `send()` calls and two
packets for every small answer. Here the head waits for the write that follows it and leaves
with it; when no write follows in the same turn of the event loop (a body still on its way),
the head leaves alone at the end of that turn. Nothing else is delayed. For the gateway, whose
answers are mostly small and arrive whole, that is one system call fewer per call.

It also bounds what a client may send before the hub sees a request: the head's size, its
number of header fields, the size of each field (431, or 414 for the request line), and the
time to send the whole head (408). httptools alone keeps any head in memory however large,
and uvicorn waits for a head's next line for ever — one header line a second held a
connection open indefinitely. A refused connection is answered, then half-closed, and what
the client still sends is read and dropped for a moment (as nginx's lingering close does):
closing at once with unread bytes would reset the connection and lose the answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

LINGER_SECONDS = 1.0       # how long a refused client's further bytes are read and dropped
LINGER_BYTES = 1 << 20     # and how many at most


class _HeadJoiningTransport:
    """A transport that holds a response head until the next write (or the loop's turn
    ends) and sends both together."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head + bytes(data))
        elif data[:7] == b"HTTP/1." and data[-4:] == b"\r\n\r\n":
            self._head = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


@dataclass(frozen=True)
class HeadLimits:
    """What a request head may be (settings `http_max_head_bytes`, `http_max_headers`,
    `http_max_header_bytes`, `http_head_timeout_seconds`)."""

    max_head_bytes: int = 32 * 1024
    max_headers: int = 100
    max_header_bytes: int = 8 * 1024
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> HeadLimits:
        return cls(max_head_bytes=settings.http_max_head_bytes,
                   max_headers=settings.http_max_headers,
                   max_header_bytes=settings.http_max_header_bytes,
                   timeout_seconds=settings.http_head_timeout_seconds)


REFUSALS = {
    408: b"HTTP/1.1 408 Request Timeout\r\n",
    414: b"HTTP/1.1 414 URI Too Long\r\n",
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
}
REASONS = {
    408: b"The request head did not arrive in time.\n",
    414: b"The request line is too long.\n",
    431: b"The request's header fields are too many or too large.\n",
}


class _Refused(Exception):
    """Raised in a parser callback to stop parsing a head that broke a limit."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class HubHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a `_HeadJoiningTransport`, with `HeadLimits`.

    `dpghub serve` passes the limits as `functools.partial(HubHttpProtocol, limits=…)`
    (a partial pickles, so the worker processes of `--workers` get it too)."""

    def __init__(self, *args: Any, limits: HeadLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or HeadLimits()
        self._in_head = True          # between one request's end and the next one's head end
        self._head_received = 0       # bytes received while in a head (whole reads)
        self._head_size = 0           # the head's request line and fields, as parsed
        self._head_fields = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False
        self._lingered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(
            _HeadJoiningTransport(transport, self.loop))  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:             # lingering: read and drop, up to a point
            self._lingered += len(data)
            if self._lingered > LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head:
            self._head_received += len(data)
            if self._head_timer is None:      # the first bytes of a kept-alive request
                self._arm_head_timer()
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _Refused):
                self._refuse(exc.__context__.status)
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # a head still incomplete after more than the limit: httptools holds a header it is
        # reading whole, so this bounds the memory one connection can take
        if self._in_head and self._head_received > self.limits.max_head_bytes:
            self._refuse(431)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0
        self._head_fields = 0

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        if self._head_size > self.limits.max_head_bytes:
            raise _Refused(414)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + 4          # "name: value\r\n"
        self._head_size += size
        self._head_fields += 1
        if (size > self.limits.max_header_bytes or self._head_fields > self.limits.max_headers
                or self._head_size > self.limits.max_head_bytes):
            raise _Refused(431)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True                      # the next request's head, when it comes
        self._head_received = 0

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.timeout_seconds, self._head_late)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self._head_received == 0 and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()        # nothing asked on this connection: nothing to say
            return
        self._refuse(408)

    def _refuse(self, status: int) -> None:
        """Answer `status` and close; while an earlier answer on this connection is still
        being written (a pipelined head), only close once it is done."""
        self._refused = True
        self._cancel_head_timer()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
            return
        reason = REASONS[status]
        self.transport.write(b"".join([
            REFUSALS[status], b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(reason), b"connection: close\r\n\r\n", reason]))
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()
