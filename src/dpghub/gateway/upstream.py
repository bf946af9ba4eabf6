"""The gateway's HTTP/1.1 client for upstreams: pooled keep-alive connections, streamed bodies.

Why our own: a proxy needs little of a general client (no cookies, redirects, decompression,
proxies or sessions), and aiohttp's request machinery cost about a third of the hub's CPU per
call. This is asyncio protocols with httptools' parser (llhttp, which uvicorn already uses):
connections are kept per (scheme, host, port) and reused while the upstream keeps them alive.
Here are the pool and the answer as the proxy reads it; one connection, writing a request and
parsing its answer, is connection.py.

One request: `await pool.request(...)` → `Answer` (status and headers as they arrived) →
`await answer.read()` until it says there is no more → the connection goes back to the pool,
or is closed when the answer was cut short, not read to its end, or not keep-alive.

`request` returns when the head has arrived together with the first piece of the body (or
the answer's end), not at the head alone. Many servers write a small answer's head and body
in two packets; waking the caller at the head would cost the proxy one more turn of its task
and send its own client the head and the body in two writes as well.

Every new connection goes to an address the operator's networks allow (core/netcheck.py):
the name is resolved once, every address it gives is checked, and the socket is opened to a
checked address, so the name is never resolved a second time between the check and the
connection (DNS rebinding). Reused keep-alive connections were checked when they were opened.
"""

from __future__ import annotations

import asyncio
import functools
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

from ..core import netcheck
from .connection import AddressRefused, Connection, UpstreamError

KEEP_IDLE = 64             # idle connections kept per upstream address
NO_BODY = {"HEAD"}
TARGET_SAFE = "/?&=%:@!$'()*+,;~"   # kept as they are; other bytes (Korean, spaces) %-encoded


class Answer:
    """The upstream's answer: `status`, `headers` (as received), and the body by `read`."""

    def __init__(self, pool: Pool, key: tuple[str, str, int], connection: Connection) -> None:
        self._pool = pool
        self._key = key
        self._connection = connection
        self._released = False
        self.status = connection.status
        self.headers = connection.headers

    async def read(self) -> tuple[bytes, bool]:
        """(the body bytes that have arrived, whether more will come). Raises TimeoutError
        past the request's deadline and UpstreamError when the upstream breaks off."""
        connection = self._connection
        while not connection.chunks and not connection.complete:
            if connection.error is not None:
                self.close()
                raise connection.error
            connection.wakeup = connection.loop.create_future()
            await connection.wakeup      # woken by data, the end, a failure or the deadline
        if connection.error is not None and not connection.chunks:
            self.close()
            raise connection.error
        data = b"".join(connection.chunks) if len(connection.chunks) != 1 else \
            connection.chunks[0]
        connection.chunks.clear()
        connection.buffered = 0
        if connection.paused and connection.transport is not None:
            connection.paused = False
            connection.transport.resume_reading()
        more = not connection.complete
        if not more:
            self._release()
        return data, more

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        connection = self._connection
        connection.stop_timer()
        if connection.complete and connection.keep_alive and connection.error is None:
            self._pool._put(self._key, connection)
        else:
            connection.close()

    def close(self) -> None:
        """Give up on the rest of the answer: the connection cannot be reused."""
        if not self._released:
            self._released = True
            self._connection.stop_timer()
            self._connection.abort()


class Pool:
    """Keep-alive connections to upstreams, by (scheme, host, port)."""

    def __init__(self, networks: netcheck.NetworkPolicy) -> None:
        self.networks = networks
        self._idle: dict[tuple[str, str, int], deque[Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    async def request(self, method: str, url: str, headers: list[tuple[str, str]],
                      body: AsyncIterator[bytes] | bytes | None, *, timeout: float,
                      content_length: int | None = None) -> Answer:
        """Send the request and wait for the answer's head (with its first body piece).
        `body` is streamed: with its `content_length` as given, otherwise chunked; or it is
        given whole as bytes, and leaves with the head in one write (one system call)."""
        whole = body if isinstance(body, bytes) else None
        if whole is not None:
            content_length = len(whole)
        deadline = time.monotonic() + timeout
        origin, target = _split(url)
        key, host = _origin(origin)
        if _NEEDS_QUOTING.search(target):
            target = quote(target, safe=TARGET_SAFE)
        head = [f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers]
        if body is not None:
            head.append(f"Content-Length: {content_length}\r\n" if content_length is not None
                        else "Transfer-Encoding: chunked\r\n")
        elif method in ("POST", "PUT", "PATCH"):
            head.append("Content-Length: 0\r\n")
        head.append("\r\n")
        connection = await self._connect(key, deadline)
        transport = connection.transport
        assert transport is not None
        loop = connection.loop
        connection.bodiless = method in NO_BODY
        connection.timer = loop.call_at(loop.time() + deadline - time.monotonic(),
                                        connection.expire)
        try:
            if whole is not None:
                transport.write("".join(head).encode("latin-1") + whole)
            else:
                transport.write("".join(head).encode("latin-1"))
                if body is not None:
                    await self._send_body(connection, body, content_length is None, deadline)
            await connection.ready
        except BaseException:
            connection.stop_timer()
            connection.abort()
            raise
        return Answer(self, key, connection)

    async def _send_body(self, connection: Connection, body: AsyncIterator[bytes],
                         chunked: bool, deadline: float) -> None:
        transport = connection.transport
        assert transport is not None
        pieces = body.__aiter__()
        while True:
            if connection.status:         # answered before it had the whole request: the
                connection.keep_alive = False  # rest is not sent, the connection not reused
                return
            try:
                chunk = await _within(pieces.__anext__(), deadline)   # the client's next piece
            except StopAsyncIteration:
                break
            if connection.error is not None:
                raise connection.error
            if connection.status:         # the answer came while we waited for the client
                connection.keep_alive = False
                return
            if connection.lost:
                raise UpstreamError("the upstream closed the connection while we sent")
            if chunked:
                transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                transport.write(chunk)
            await connection.writable()
        if chunked and not connection.status:
            transport.write(b"0\r\n\r\n")

    async def _connect(self, key: tuple[str, str, int], deadline: float) -> Connection:
        loop = asyncio.get_running_loop()
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.reusable(loop):
                connection.reset()
                return connection
            connection.close()
        scheme, host, port = key
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        failure: OSError | None = None
        for address in await self._addresses(host, port, deadline):
            try:
                _, connection = await _within(loop.create_connection(
                    lambda: Connection(loop), address, port, ssl=tls,
                    server_hostname=host if tls else None), deadline)
                return connection
            except TimeoutError:
                raise
            except OSError as exc:        # the next address, if the name has another
                failure = exc
        raise UpstreamError(f"cannot connect to {host}:{port}: {failure}") from failure

    async def _addresses(self, host: str, port: int, deadline: float) -> list[str]:
        """The checked addresses to connect to. An IP literal needs no lookup; a name is
        resolved in a thread, as asyncio's own create_connection would."""
        try:
            if netcheck.literal(netcheck.normal_host(host)) is not None:
                return self.networks.addresses(host, port)
            return await _within(asyncio.to_thread(self.networks.addresses, host, port),
                                 deadline)
        except netcheck.Outside as exc:
            raise AddressRefused(str(exc)) from None
        except netcheck.Unresolved as exc:
            raise UpstreamError(str(exc)) from None

    def _put(self, key: tuple[str, str, int], connection: Connection) -> None:
        if self._closed:
            connection.close()
            return
        idle = self._idle.setdefault(key, deque())
        if len(idle) >= KEEP_IDLE:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def close(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


# what `quote(..., safe=TARGET_SAFE)` would change: most targets need no quoting at all
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_.~/?&=%:@!$'()*+,;-]")


def _split(url: str) -> tuple[str, str]:
    """("scheme://host:port", "/path?query") of an absolute URL, without urlsplit's cost on
    every call; a fragment, which never goes on the wire, is dropped."""
    start = url.find("//") + 2
    cut = len(url)
    for mark in "/?#":
        found = url.find(mark, start)
        if 0 <= found < cut:
            cut = found
    target = url[cut:].partition("#")[0]
    if not target.startswith("/"):
        target = "/" + target
    return url[:cut], target


@functools.lru_cache(maxsize=1024)
def _origin(origin: str) -> tuple[tuple[str, str, int], str]:
    """((scheme, host, port), the Host header) of "scheme://host:port": parsed once per
    upstream, not once per call."""
    parts = urlsplit(origin)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamError(f"not an http(s) address: {origin}")
    port = parts.port or (443 if scheme == "https" else 80)
    host = parts.netloc.rpartition("@")[2]
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return (scheme, parts.hostname, port), host


async def _within(awaitable: Any, deadline: float) -> Any:
    """Await a coroutine until the deadline (time.monotonic()); TimeoutError after it."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        awaitable.close()         # never started: no "never awaited" warning
        raise TimeoutError
    async with asyncio.timeout(remaining):
        return await awaitable
