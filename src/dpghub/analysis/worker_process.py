"""One query worker process as the pool (`workers.py`) sees it: how it is started and told
what it needs, its deadline, and the frames exchanged with it. A refusal read whole is a clean
end (the worker goes back to the pool); a socket that closes means the process is gone, and
`gone` says why — its deadline or, most likely, its memory."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..core.errors import Forbidden, HubError, Invalid, TooLarge
from ..lake.storage import LakeStorage
from . import sandbox, wire
from .sandbox import QueryTimeout, QueryTooLarge

log = logging.getLogger("dpghub.analysis.workers")

ERRORS: dict[str, type[HubError]] = {cls.__name__: cls for cls in (
    Invalid, Forbidden, TooLarge, QueryTooLarge, QueryTimeout)}


class Deadline:
    """When a query's time is up: parsing, waiting for a worker and running all count."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> QueryTimeout:
        return QueryTimeout("The query was stopped at its time limit of {seconds} s",
                            seconds=round(self.seconds, 3))


@dataclass(eq=False)
class WorkerProcess:
    process: subprocess.Popen[bytes]
    sock: socket.socket
    memory_mb: int                    # its memory limit, named when it dies of it
    result_max: int                   # the largest result it may send, in bytes
    started: float = field(default_factory=time.monotonic)
    recent: OrderedDict[tuple[Any, ...], None] = field(default_factory=OrderedDict)
    due: float | None = None          # the deadline of the query it runs
    killed_for_time: bool = False

    def kill(self) -> None:
        """Stop the process (its socket stays open: a reader may still be on it)."""
        if self.process.poll() is None:
            self.process.kill()
            threading.Thread(target=self.process.wait, daemon=True).start()  # reap it

    def close(self) -> None:
        self.kill()
        self.sock.close()

    def send(self, request: dict[str, Any], deadline: Deadline) -> None:
        message = {k: v for k, v in request.items() if k != "key"}
        self.sock.settimeout(max(deadline.left(), 0) + 1.0)
        try:
            wire.send(self.sock, wire.REQUEST, json.dumps(message, ensure_ascii=False,
                                                          default=str).encode())
        except OSError:
            raise self.gone(deadline) from None

    def receive(self, deadline: Deadline, expected: bytes) -> bytearray:
        kind, payload = self.frame(deadline, self.result_max)
        if kind != expected:
            raise unexpected(kind)
        return payload

    def frame(self, deadline: Deadline, max_bytes: int) -> tuple[bytes, bytearray]:
        """The worker's next frame, its refusal raised as the hub's error."""
        self.sock.settimeout(max(deadline.left(), 0) + 1.0)  # the watchdog acts first
        try:
            kind, payload = wire.receive(self.sock, max(max_bytes, 1 << 16))
        except wire.TooLarge:
            raise sandbox.result_too_large(self.result_max) from None
        except (OSError, wire.Closed):
            raise self.gone(deadline) from None
        if kind == wire.ERROR:
            raise refusal(json.loads(payload))
        return kind, payload

    def gone(self, deadline: Deadline) -> HubError:
        """Why the worker stopped answering: its deadline, or (most likely) its memory."""
        if self.killed_for_time or deadline.left() <= 0:
            self.kill()
            return deadline.passed()
        try:
            status = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            status = None
        self.kill()
        log.warning("query worker %s ended while running a query (exit status %s)",
                    self.process.pid, status)
        return QueryTooLarge("The query's worker process ended while running it, most likely "
                             "for needing more than the memory limit of {limit} MiB; it was "
                             "replaced", limit=self.memory_mb)


def launch(config: dict[str, Any]) -> WorkerProcess:
    """Start `python -m dpghub.analysis.worker` on one end of a socket pair and send it its
    configuration; it answers when ready (read by the pool)."""
    ours, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[2])   # dpghub importable as here
    # the hub's own settings (its secret key, its database's address) stay out of reach of
    # the SQL: the worker is told what it needs
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DPGHUB_")},
           "MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH"))
                                         if p)}
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "dpghub.analysis.worker", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL)
    finally:
        theirs.close()
    worker = WorkerProcess(process, ours, memory_mb=config["memory_mb"],
                           result_max=config["result_max_bytes"])
    wire.send_json(ours, wire.REQUEST, config)
    return worker


def worker_config(settings: Settings, memory_mb: int) -> dict[str, Any]:
    """What a worker is told: its limits and where the lake is (an object store's
    credentials only when the lake is remote)."""
    remote = LakeStorage.from_settings(settings).remote
    lake: dict[str, Any] = {"remote": remote}
    if remote:
        lake["settings"] = {
            "home": str(settings.home), "lake_uri": settings.lake_uri,
            "s3_endpoint_url": settings.s3_endpoint_url,
            "s3_access_key_id": settings.s3_access_key_id,
            "s3_secret_access_key": settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key else None,
            "s3_region": settings.s3_region}
    return {"memory_mb": memory_mb, "headroom_mb": settings.query_memory_headroom_mb,
            "threads": 2, "home": str(settings.home), "lake": lake,
            "result_max_bytes": settings.query_result_max_mb << 20}


def refusal(body: dict[str, Any]) -> HubError:
    """The worker's refusal as the hub's error, marked clean (the worker is kept)."""
    cls = ERRORS.get(body.get("kind", ""), Invalid)
    error = cls(body.get("message") or None, code=body.get("code"), field=body.get("field"),
                **body.get("params", {}))
    error.from_worker = True  # type: ignore[attr-defined]
    return error


def unexpected(kind: bytes) -> HubError:
    return Invalid("The query worker answered out of turn ({kind})", code="query_error",
                   kind=kind.decode("latin-1"))
