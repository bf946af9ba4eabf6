"""`dpghub serve`'s transport joins a response head with the write that follows it; a head
whose body is not there yet leaves alone when the event loop's turn ends. Its protocol limits
request heads: their size, their fields, and the time to send them."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time

import uvicorn
from uvicorn.server import ServerState

from dpghub.core.serving import HeadLimits, HubHttpProtocol, _HeadJoiningTransport


class Recording:
    """Stands in for the socket transport: what was written, one entry per system call."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def test_a_head_leaves_with_its_body_in_one_write() -> None:
    async def main() -> None:
        raw = Recording()
        joined = _HeadJoiningTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
        joined.write(HEAD)
        assert raw.writes == []                       # held for the body
        joined.write(b"ok")
        assert raw.writes == [HEAD + b"ok"]
        joined.write(HEAD)                            # the body is not there yet:
        await asyncio.sleep(0)                        # the turn ends, the head leaves alone
        assert raw.writes == [HEAD + b"ok", HEAD]
        joined.write(b"late body")                    # and later writes are not held
        assert raw.writes[-1] == b"late body"
        joined.write(HEAD)
        joined.close()                                # nothing held is lost on close
        assert raw.writes[-1] == HEAD and raw.closed
        assert joined.get_extra_info("peername") == "info:peername"

    asyncio.run(main())


def test_the_served_hub_protocol_answers_small_streamed_and_kept_alive_requests() -> None:
    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for piece in (b"one,", b"two,", b"three"):
                await asyncio.sleep(0.01)
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, http=HubHttpProtocol,
                                           log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            for _ in range(3):                        # one kept-alive connection
                client.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = b""
                while not answer.endswith(b"\r\n\r\nok"):
                    answer += client.recv(4096)
                assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
            client.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"0\r\n\r\n"):
                answer += client.recv(4096)
            assert b"transfer-encoding: chunked" in answer.lower()
            assert b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n" in answer
    finally:
        server.should_exit = True
        thread.join(10)


# --- limits on the request head -------------------------------------------------------------


class Connection:
    """The socket side of one connection: what the hub wrote, whether it half-closed or
    closed. The timers of the protocol run on `Clock`, moved by the test."""

    def __init__(self) -> None:
        self.written = b""
        self.eof_sent = False
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.eof_sent and not self.closed
        self.written += bytes(data)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_sent = True

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else None


class Timer:
    def __init__(self, due: float, callback, args) -> None:  # type: ignore[no-untyped-def]
        self.due, self.callback, self.args, self.cancelled = due, callback, args, False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """The event loop as the protocol sees it, with time that moves only when told. An app
    task runs at once to its end (the test app never waits)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[Timer] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback, *args) -> Timer:  # type: ignore[no-untyped-def]
        timer = Timer(self.now + delay, callback, args)
        self.timers.append(timer)
        return timer

    def call_soon(self, callback, *args) -> Timer:  # type: ignore[no-untyped-def]
        return self.call_later(0, callback, *args)

    def create_task(self, coroutine, **_: object):  # type: ignore[no-untyped-def]
        with contextlib.suppress(StopIteration):
            coroutine.send(None)
        done = asyncio.Future(loop=asyncio.new_event_loop())
        done.set_result(None)
        return done

    def advance(self, seconds: float) -> None:
        until = self.now + seconds
        while True:
            due = [t for t in self.timers if not t.cancelled and t.due <= until]
            if not due:
                break
            timer = min(due, key=lambda t: t.due)
            self.timers.remove(timer)
            self.now = timer.due
            timer.callback(*timer.args)
        self.now = until


def served(limits: HeadLimits | None = None):  # type: ignore[no-untyped-def]
    """A hub protocol on one connection, its clock, and the requests its app received."""
    seen: list[str] = []

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    config = uvicorn.Config(app, http=HubHttpProtocol, lifespan="off", log_level="error")
    config.load()
    clock = Clock()
    protocol = HubHttpProtocol(config=config, server_state=ServerState(), app_state={},
                               _loop=clock, limits=limits or HeadLimits())  # type: ignore[arg-type]
    connection = Connection()
    protocol.connection_made(connection)  # type: ignore[arg-type]
    return protocol, connection, clock, seen


def test_too_many_header_fields_are_refused_with_431_and_the_connection_closed() -> None:
    protocol, connection, clock, seen = served(HeadLimits(max_headers=100))
    head = b"GET /api/v1/health HTTP/1.1\r\n" + b"".join(
        b"X-Field-%d: %d\r\n" % (n, n) for n in range(200)) + b"\r\n"
    protocol.data_received(head)
    assert connection.written.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in connection.written and seen == []
    assert connection.eof_sent                   # answered, then half-closed
    protocol.data_received(b"GET / HTTP/1.1\r\n\r\n")   # what follows is dropped
    clock.advance(5)
    assert connection.closed and seen == []
    # a hundred fields are within the limit
    protocol, connection, clock, seen = served(HeadLimits(max_headers=100))
    protocol.data_received(b"GET /ok HTTP/1.1\r\n" + b"".join(
        b"X-Field-%d: %d\r\n" % (n, n) for n in range(99)) + b"Host: x\r\n\r\n")
    assert connection.written.startswith(b"HTTP/1.1 200 OK\r\n") and seen == ["/ok"]


def test_a_header_field_or_head_too_large_is_refused_before_it_is_held_whole() -> None:
    protocol, connection, _, seen = served(HeadLimits(max_header_bytes=8192))
    protocol.data_received(b"GET / HTTP/1.1\r\nCookie: " + b"a" * 10_000 + b"\r\n\r\n")
    assert connection.written.startswith(b"HTTP/1.1 431 ") and seen == []
    # many fields, each small, together beyond the head's limit
    protocol, connection, _, seen = served(HeadLimits(max_head_bytes=32 * 1024))
    protocol.data_received(b"GET / HTTP/1.1\r\n" + b"".join(
        b"X-%d: %s\r\n" % (n, b"v" * 1000) for n in range(40)) + b"\r\n")
    assert connection.written.startswith(b"HTTP/1.1 431 ") and seen == []
    # a 64 MB header arriving in reads of 256 KB: refused at the first read past the limit,
    # the rest dropped, and the connection closed after a bounded amount
    protocol, connection, clock, seen = served(HeadLimits(max_head_bytes=32 * 1024))
    protocol.data_received(b"GET /api/v1/health HTTP/1.1\r\nX-Big: ")
    reads = 0
    while not connection.closed and reads < 256:
        protocol.data_received(b"a" * 256 * 1024)
        reads += 1
        if reads == 1:
            assert connection.written.startswith(b"HTTP/1.1 431 ")
    assert connection.closed and reads < 8 and seen == []


def test_a_request_line_too_long_is_refused_with_414() -> None:
    protocol, connection, _, seen = served(HeadLimits(max_head_bytes=32 * 1024))
    protocol.data_received(b"GET /" + b"a" * 40_000 + b" HTTP/1.1\r\n\r\n")
    assert connection.written.startswith(b"HTTP/1.1 414 URI Too Long\r\n") and seen == []


def test_a_head_sent_one_line_a_second_is_cut_with_408() -> None:
    protocol, connection, clock, seen = served(HeadLimits(timeout_seconds=10))
    protocol.data_received(b"GET /api/v1/health HTTP/1.1\r\n")
    for n in range(30):
        if connection.written:
            break
        clock.advance(1)
        protocol.data_received(b"X-Slow-%d: 1\r\n" % n)
    assert connection.written.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert clock.now == 10 and seen == []
    clock.advance(5)
    assert connection.closed


def test_the_head_time_counts_from_the_connection_and_from_each_later_heads_first_byte(
) -> None:
    # a connection that never sends anything is closed silently at the limit
    protocol, connection, clock, _ = served(HeadLimits(timeout_seconds=10))
    clock.advance(9.9)
    assert not connection.closed
    clock.advance(0.2)
    assert connection.closed and connection.written == b""
    # a kept-alive connection: the time of the second head counts from its first byte
    protocol, connection, clock, seen = served(HeadLimits(timeout_seconds=10))
    clock.advance(9)
    protocol.data_received(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
    clock.advance(0)                             # the loop's turn: the answer leaves
    assert seen == ["/one"] and connection.written.endswith(b"\r\n\r\nok")
    clock.advance(4)                             # within uvicorn's keep-alive of 5 s
    protocol.data_received(b"GET /two HTTP/1.1\r\n")
    clock.advance(9)
    protocol.data_received(b"Host: x\r\n\r\n")
    clock.advance(0)
    assert seen == ["/one", "/two"] and not connection.written.count(b"408")
    protocol.data_received(b"GET /three HTTP/1.1\r\n")
    clock.advance(10)
    assert b"HTTP/1.1 408 " in connection.written and seen == ["/one", "/two"]
