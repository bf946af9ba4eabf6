"""`dpghub serve`'s transport joins a response head with the write that follows it; a head
whose body is not there yet leaves alone when the event loop's turn ends."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn

from dpghub.core.serving import HubHttpProtocol, _HeadJoiningTransport


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
