"""A hub on loopback holding `me/ev`: the real EV-charger dataset repeated to N rows.

Shared by the benchmarks that measure the hub over HTTP (rows.py, query.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from ingest import build

DPGHUB = str(Path(sys.executable).parent / "dpghub")


@dataclass
class Served:
    base: str
    rows: int
    files: list[str]  # the Parquet files of the table's current version


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """`dpghub serve` of the hub `env` names, on a free port, until the block ends: its URL
    once its health check answers."""
    port = free_port()
    server = subprocess.Popen([DPGHUB, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def hub_with_ev(rows: int) -> Iterator[Served]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "DPGHUB_HOME": str(work / "home")}
        env.pop("DPGHUB_DATABASE_URL", None)
        csv = work / "ev.csv"
        count = build(csv, rows)
        for command in (["init", "--admin-password", "bench-password-1"],
                        ["org", "create", "me", "--name-ko", "환경부", "--name-en", "ME",
                         "--kind", "public"],
                        ["ingest", str(csv), "--org", "me", "--dataset", "ev"]):
            subprocess.run([DPGHUB, *command], env=env, check=True, capture_output=True)
        files = sorted(str(p) for p in (work / "home" / "lake" / "tables").rglob("*.parquet"))
        with serving(env) as base:
            yield Served(base, count, files)
