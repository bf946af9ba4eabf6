"""Loopback for tests: a free port, and the networks the tests' upstreams run on."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.0/8,::1/128"    # where the tests' upstreams run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
