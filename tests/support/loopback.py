"""Loopback for tests: a free port, the networks the tests' upstreams run on, and an ASGI app
served for real on loopback in a thread (the tests' upstreams and developer servers)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK = "127.0.0.0/8,::1/128"    # where the tests' upstreams run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_asgi(app: Any, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """`app` answering real HTTP at the yielded `http://host:port` until the block ends."""
    import uvicorn

    # a free port can be taken by another process before the server binds it (the suite runs
    # in parallel processes): then the server's thread ends at once, and another port is tried
    for _ in range(1 if port else 3):
        bound = port or free_port()
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=bound, log_level="error",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        if server.started:
            break
    else:
        raise RuntimeError("the test server did not start")
    port = bound
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def read_body(receive: Any) -> bytes:
    """An ASGI request's whole body (the tests' servers answer once they have it)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
