"""The gateway's own HTTP/1.1 client against scripted upstreams on loopback: every way an
answer can be framed, kept-alive connections reused, and every way an upstream can fail."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dpghub.core.netcheck import NetworkPolicy
from dpghub.gateway.upstream import Pool, UpstreamError

LOOPBACK = NetworkPolicy("127.0.0.0/8")   # where these upstreams run, allowed explicitly
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Upstream:
    """A raw TCP server that answers with whatever bytes a test scripts."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body) of one request, chunked or with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    body = b""
    if b"content-length:" in lower:
        length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
    elif b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            piece = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += piece[:-2]
    return head, body


async def read_all(answer) -> bytes:  # type: ignore[no-untyped-def]
    data, more = await answer.read()
    while more:
        chunk, more = await answer.read()
        data += chunk
    return data


def run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_a_kept_alive_connection_serves_many_requests() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Seen: "
                         + head.split(b" ")[1] + b"\r\n\r\nhello")
            await writer.drain()

    async def main() -> None:
        upstream = Upstream(handler)
        async with upstream as base:
            pool = Pool(LOOPBACK)
            for i in range(20):
                answer = await pool.request("GET", f"{base}/item/{i}?q=가&r=a%20b", [], None, timeout=5)
                assert answer.status == 200
                seen = dict((k.lower(), v) for k, v in answer.headers)[b"x-seen"]
                assert seen == f"/item/{i}?q=%EA%B0%80&r=a%20b".encode()
                assert await read_all(answer) == b"hello"
            assert upstream.connections == 1
            await pool.close()

    run(main())


def test_chunked_and_read_until_close_answers_arrive_whole() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        if b"/chunked" in head:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in (b"\xec\x84\x9c\xec\x9a\xb8", b"-", b"x" * 70_000):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                await asyncio.sleep(0.01)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            await read_request(reader)            # the connection is kept: a second request
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            await reader.read()                   # kept open until the client closes it
        else:                                     # HTTP/1.0 style: the end is the close
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        await writer.drain()

    async def main() -> None:
        upstream = Upstream(handler)
        async with upstream as base:
            pool = Pool(LOOPBACK)
            answer = await pool.request("GET", f"{base}/chunked", [], None, timeout=5)
            assert await read_all(answer) == "서울".encode() + b"-" + b"x" * 70_000
            answer = await pool.request("GET", f"{base}/chunked", [], None, timeout=5)
            assert answer.status == 204 and await read_all(answer) == b""
            other = Pool(LOOPBACK)                        # a new connection: the first one is busy
            answer = await other.request("GET", f"{base}/close", [], None, timeout=5)
            assert await read_all(answer) == b"until the end"
            assert upstream.connections == 2
            await pool.close()
            await other.close()

    run(main())


def test_request_bodies_stream_with_their_length_or_chunked() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, body = await read_request(reader)
            framing = b"length" if b"content-length" in head.lower() else b"chunked"
            answer = framing + b":" + body
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(answer), answer))
            await writer.drain()

    async def body() -> AsyncIterator[bytes]:
        for piece in (b'{"a":', b'"\xea\xb0\x80"}'):
            yield piece

    async def main() -> None:
        async with Upstream(handler) as base:
            pool = Pool(LOOPBACK)
            answer = await pool.request("POST", f"{base}/x", [("content-type", "json")],
                                        body(), timeout=5, content_length=11)
            assert await read_all(answer) == b'length:{"a":"\xea\xb0\x80"}'
            answer = await pool.request("POST", f"{base}/x", [], body(), timeout=5)
            assert await read_all(answer) == b'chunked:{"a":"\xea\xb0\x80"}'
            answer = await pool.request("POST", f"{base}/x", [], None, timeout=5)
            assert await read_all(answer) == b"length:"
            await pool.close()

    run(main())


def test_an_interim_100_continue_is_skipped_and_head_has_no_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            if head.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                             b"Content-Length: 2\r\n\r\nok")
            await writer.drain()

    async def main() -> None:
        async with Upstream(handler) as base:
            pool = Pool(LOOPBACK)
            answer = await pool.request("POST", f"{base}/x", [], None, timeout=5)
            assert answer.status == 201 and await read_all(answer) == b"ok"
            answer = await pool.request("HEAD", f"{base}/x", [], None, timeout=5)
            assert answer.status == 200 and await read_all(answer) == b""
            await pool.close()

    run(main())


def test_a_connection_the_upstream_closed_while_idle_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()          # then the upstream closes (its keep-alive timeout)

    async def main() -> None:
        upstream = Upstream(handler)
        async with upstream as base:
            pool = Pool(LOOPBACK)
            for _ in range(3):
                answer = await pool.request("GET", f"{base}/", [], None, timeout=5)
                assert await read_all(answer) == b"ok"
                await asyncio.sleep(0.05)     # the close reaches us
            assert upstream.connections == 3
            await pool.close()

    run(main())


def test_failures_are_upstream_errors_or_timeouts_within_the_deadline() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        if b"/garbage" in head:
            writer.write(b"SPDY/9 what\r\n\r\n")
        elif b"/cut" in head:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
            await writer.drain()
            return                                # closes with 91 bytes missing
        elif b"/slow-head" in head:
            await asyncio.sleep(5)
        elif b"/slow-body" in head:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
            await writer.drain()
            await asyncio.sleep(5)
        elif b"/hang-up" in head:
            return
        await writer.drain()

    async def main() -> None:
        async with Upstream(handler) as base:
            pool = Pool(LOOPBACK)
            with pytest.raises(UpstreamError, match="not valid HTTP"):
                await pool.request("GET", f"{base}/garbage", [], None, timeout=5)
            with pytest.raises(UpstreamError, match="closed the connection"):
                await pool.request("GET", f"{base}/hang-up", [], None, timeout=5)
            answer = await pool.request("GET", f"{base}/cut", [], None, timeout=5)
            with pytest.raises(UpstreamError, match="closed the connection"):
                await read_all(answer)
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await pool.request("GET", f"{base}/slow-head", [], None, timeout=0.3)
            answer = await pool.request("GET", f"{base}/slow-body", [], None, timeout=0.3)
            with pytest.raises(TimeoutError):
                await read_all(answer)
            assert time.monotonic() - started < 2
            await pool.close()
        with pytest.raises(UpstreamError, match="cannot connect"):
            await pool.request("GET", base + "/", [], None, timeout=5)   # nobody listens now

    run(main())


def test_a_large_answer_is_read_in_pieces_without_holding_it_all() -> None:
    size = 8 << 20

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        block = b"y" * 65_536
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()

    async def main() -> None:
        async with Upstream(handler) as base:
            pool = Pool(LOOPBACK)
            answer = await pool.request("GET", f"{base}/big", [], None, timeout=10)
            total, pieces, largest, more = 0, 0, 0, True
            while more:
                chunk, more = await answer.read()
                total, pieces, largest = total + len(chunk), pieces + 1, max(largest, len(chunk))
                await asyncio.sleep(0)
            assert total == size and pieces > 8
            assert largest < 2 << 20          # the upstream was paused while we lagged
            await pool.close()

    run(main())


def test_an_answer_before_the_whole_request_is_returned_not_waited_out() -> None:
    # the upstream refuses a large upload after its head and stops reading: its answer is the
    # answer (not a hang until the deadline, not a broken connection)
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big!")
        await writer.drain()
        await asyncio.sleep(3)

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"z" * (1 << 20)
            await asyncio.sleep(0)

    async def main() -> None:
        async with Upstream(handler) as base:
            pool = Pool(LOOPBACK)
            started = time.monotonic()
            answer = await pool.request("POST", f"{base}/up", [], upload(), timeout=2.5)
            assert answer.status == 413 and await read_all(answer) == b"too big!"
            assert time.monotonic() - started < 2
            await pool.close()

    run(main())


def test_trailers_are_not_headers_and_a_cut_close_delimited_answer_is_an_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        if b"/trailer" in head:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n"
                         b"\r\n2\r\nok\r\n0\r\nX-Sum: 13\r\n\r\n")
            await writer.drain()
            await reader.read()
        else:                                      # no length: the end is the close, but the
            writer.write(b"HTTP/1.0 200 OK\r\n\r\npart,")   # upstream is reset instead
            await writer.drain()
            writer.get_extra_info("socket").setsockopt(     # RST, not FIN
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    async def main() -> None:
        async with Upstream(handler) as base:
            pool = Pool(LOOPBACK)
            answer = await pool.request("GET", f"{base}/trailer", [], None, timeout=5)
            assert await read_all(answer) == b"ok"
            assert b"x-sum" not in {name.lower() for name, _ in answer.headers}
            other = Pool(LOOPBACK)                          # a new connection: the first one is kept
            answer = await other.request("GET", f"{base}/reset", [], None, timeout=5)
            with pytest.raises(UpstreamError):
                await read_all(answer)
            await pool.close()
            await other.close()

    run(main())


def test_request_waits_for_the_first_body_piece_so_head_and_body_leave_together() -> None:
    """Many upstreams write a small answer's head and body in two packets: `request` returns
    only once the body has begun, so the proxy answers its client in one write."""
    head_sent, release = asyncio.Event(), asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        await writer.drain()
        head_sent.set()
        await release.wait()
        writer.write(b"hello")
        await writer.drain()

    async def main() -> None:
        async with Upstream(handler) as base:
            pool = Pool(LOOPBACK)
            waiting = asyncio.ensure_future(pool.request("GET", f"{base}/", [], None, timeout=5))
            await head_sent.wait()
            for _ in range(50):            # turns of the loop: the head is read meanwhile
                await asyncio.sleep(0)
            assert not waiting.done()
            release.set()
            answer = await waiting
            assert answer.status == 200
            assert await answer.read() == (b"hello", False)
            await pool.close()

    run(main())
