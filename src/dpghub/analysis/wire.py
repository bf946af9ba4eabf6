"""Frames between the hub and its query workers, over a Unix socket pair.

A frame is one kind byte, a 4-byte length and the payload. Control messages are JSON (never
pickle: a worker runs other people's SQL, and what it sends back must not be able to run code
in the hub); rows travel as JSON arrays and file formats as Arrow IPC streams.
"""

from __future__ import annotations

import json
import select
import socket
import struct
from typing import Any

HEADER = struct.Struct(">cI")
MAX_FRAME = (1 << 32) - 1

REQUEST = b"q"   # hub → worker: a request (JSON)
REPLY = b"j"     # worker → hub: an answer or a header (JSON)
ROWS = b"r"      # worker → hub: a piece of a result as a JSON array of rows
ARROW = b"a"     # worker → hub: an Arrow IPC stream (a schema, and at most one batch)
END = b"e"       # worker → hub: the result is complete (JSON)
ERROR = b"x"     # worker → hub: the request failed (JSON: the error to raise)


class Closed(EOFError):
    """The other end is gone."""


class TooLarge(ValueError):
    """A frame longer than the reader accepts."""

    def __init__(self, size: int) -> None:
        super().__init__(f"a frame of {size} bytes")
        self.size = size


def send(sock: socket.socket, kind: bytes, payload: bytes | bytearray | memoryview) -> None:
    size = len(payload)
    if size > MAX_FRAME:
        raise TooLarge(size)
    if size < 65_536:          # one write for small frames
        sock.sendall(HEADER.pack(kind, size) + bytes(payload))
    else:
        sock.sendall(HEADER.pack(kind, size))
        sock.sendall(payload)


def send_json(sock: socket.socket, kind: bytes, message: Any) -> None:
    send(sock, kind, json.dumps(message, ensure_ascii=False).encode())


class Outbox:
    """Frames gathered and written together: a one-row answer is three frames, and three
    writes wake the reader three times."""

    def __init__(self, sock: socket.socket, flush_at: int = 1 << 18) -> None:
        self.sock, self.flush_at = sock, flush_at
        self.pending = bytearray()

    def put(self, kind: bytes, payload: bytes | bytearray) -> None:
        if len(payload) > MAX_FRAME:
            raise TooLarge(len(payload))
        self.pending += HEADER.pack(kind, len(payload))
        self.pending += payload
        if len(self.pending) >= self.flush_at:
            self.flush()

    def put_json(self, kind: bytes, message: Any) -> None:
        self.put(kind, json.dumps(message, ensure_ascii=False).encode())

    def flush(self) -> None:
        if self.pending:
            self.sock.sendall(self.pending)
            self.pending = bytearray()


def receive(sock: socket.socket, max_bytes: int = MAX_FRAME) -> tuple[bytes, bytearray]:
    """The next frame; `Closed` at the end, `TooLarge` (the frame left unread) past
    `max_bytes`, the socket's own timeout error when its timeout passes."""
    kind, size = HEADER.unpack(_exactly(sock, HEADER.size))
    if size > max_bytes:
        raise TooLarge(size)
    return kind, _exactly(sock, size)


def _exactly(sock: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if count == 0:
            raise Closed("the other end closed the connection")
        got += count
    return buffer


def waiting(sock: socket.socket) -> bool:
    """Whether something can be read now (without blocking)."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)
