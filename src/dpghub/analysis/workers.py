"""The pool of query worker processes (`worker.py`) that every path running user SQL goes
through: the query API in all its formats, saved queries, the SQL console, CKAN's
`datastore_search_sql` and derived datasets.

The hub process never holds a query's working memory: a worker does, under an operating-system
limit. Workers are started ahead of need (one when the pool starts, then one more whenever the
last idle one is taken, up to the pool's size), so a query does not wait for a process to
start. A worker that passes its query's deadline is killed — DuckDB's own interrupt is not
checked while a list function builds a billion-element list — and one that dies is replaced;
the caller gets `query_timeout` or `query_memory`, and the hub answers the next query.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..config import Settings
from ..core.errors import HubError, TooLarge, Unavailable
from ..lake.tables import VersionData
from . import wire
from .guard import GuardedQuery, TableRef
from .worker_process import Deadline, WorkerProcess, launch, unexpected, worker_config

__all__ = ["Deadline", "QueryPool", "Rows"]

log = logging.getLogger("dpghub.analysis.workers")

START_SECONDS = 60          # a worker not ready by then is taken as failed
RETRY_SECONDS = 10          # after a failed start, callers are refused this long
KEEP = 6                    # as worker.KEEP: the locked databases a worker keeps
PIECE_MAX = 64 << 20        # the largest Arrow piece taken (a worker sends ≈ 8 MiB ones)
GUARDS_KEPT = 256           # checked texts remembered (a dashboard repeats its queries)...
GUARD_KEPT_CHARS = 8_000    # ...when they are this short (the cache stays a few MiB)

@dataclass
class Rows:
    """A query's rows as the worker wrote them: `json` is the JSON array of row arrays, ready
    to be placed in an answer as it is; `rows` parses it for callers that want values."""

    columns: list[dict[str, str]]
    json: bytes
    truncated: bool
    count: int

    @property
    def rows(self) -> list[list[Any]]:
        return json.loads(self.json)


class QueryPool:
    """Worker processes for one hub process (each uvicorn worker and each `dpghub worker`
    has its own). `start` with the app, `stop` with it."""

    def __init__(self, settings: Settings, *, size: int | None = None,
                 memory_mb: int | None = None) -> None:
        self.size = size or settings.query_workers
        self.memory_mb = memory_mb or settings.query_memory_mb
        self.max_chars = settings.query_max_chars
        self.result_max = settings.query_result_max_mb << 20
        self.config = worker_config(settings, self.memory_mb)
        self.idle: list[WorkerProcess] = []
        self.busy: set[WorkerProcess] = set()
        self.starting = 0
        self.failure: str | None = None
        self.failed_at = 0.0
        self.closed = False
        lock = threading.RLock()
        self.changed = threading.Condition(lock)   # the pool's state: idle, busy, …
        # the watchdog waits on its own condition (same lock), woken only by an earlier
        # deadline: a wake-up per query taken cost the caller a thread switch
        self.watching = threading.Condition(lock)
        self.watch_until = math.inf
        self.guarded: OrderedDict[tuple[str, bool], GuardedQuery] = OrderedDict()
        self.watchdog: threading.Thread | None = None

    # --- life ------------------------------------------------------------------------------

    def start(self) -> QueryPool:
        with self.changed:
            self.closed = False
            if self.watchdog is None:
                self.watchdog = threading.Thread(target=self._watch, daemon=True,
                                                 name="dpghub-query-watchdog")
                self.watchdog.start()
            if not self.idle and not self.starting:
                self._spawn()
        return self

    def stop(self) -> None:
        with self.changed:
            self.closed = True
            idle, busy = list(self.idle), list(self.busy)
            self.idle.clear()
            self.changed.notify_all()
            self.watching.notify_all()
        for worker in idle:
            worker.close()
        for worker in busy:     # their readers see the end, and close the sockets they read
            worker.kill()
        if self.watchdog is not None:
            self.watchdog.join(timeout=5)
            self.watchdog = None

    def __enter__(self) -> QueryPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        """The worker processes alive now (for operators and tests)."""
        with self.changed:
            return [w.process.pid for w in (*self.idle, *self.busy)
                    if w.process.poll() is None]

    # --- what callers use -----------------------------------------------------------------

    def check_length(self, text: str) -> None:
        if len(text) > self.max_chars:
            raise TooLarge("The query is {length} characters long; the most accepted is "
                           "{limit}", code="query_too_long", field="sql", length=len(text),
                           limit=self.max_chars)

    def guard(self, text: str, deadline: Deadline, *, ckan_names: bool = False
              ) -> GuardedQuery:
        """The guard's answer for `text`, checked in a worker within the deadline."""
        self.check_length(text)
        key = (text, ckan_names)
        with self.changed:
            if key in self.guarded:
                self.guarded.move_to_end(key)
                return self.guarded[key]
        with self._worker(None, deadline) as worker:
            worker.send({"op": "guard", "sql": text, "ckan_names": ckan_names},
                       deadline)
            answer = json.loads(worker.receive(deadline, wire.REPLY))
        query = GuardedQuery(answer["sql"], tuple(
            TableRef(schema, name, version, view)
            for schema, name, version, view in answer["tables"]))
        if len(text) <= GUARD_KEPT_CHARS:
            with self.changed:
                self.guarded[key] = query
                while len(self.guarded) > GUARDS_KEPT:
                    self.guarded.popitem(last=False)
        return query

    def rows(self, query: GuardedQuery, sources: list[tuple[TableRef, VersionData]], *,
             params: Any, limit: int, deadline: Deadline) -> Rows:
        """At most `limit` rows as JSON values, and whether there were more."""
        request = self._request(query, sources, params, limit, "rows")
        with self._worker(request["key"], deadline) as worker:
            worker.send(request, deadline)
            columns = json.loads(worker.receive(deadline, wire.REPLY))["columns"]
            pieces: list[bytes] = []     # each a JSON array of rows, its brackets taken off
            size = 0
            while True:
                kind, payload = worker.frame(deadline, self.result_max - size)
                if kind == wire.ROWS:
                    size += len(payload)
                    if len(payload) > 2:
                        pieces.append(bytes(payload[1:-1]))
                elif kind == wire.END:
                    end = json.loads(payload)
                    return Rows(columns, b"[" + b",".join(pieces) + b"]", end["truncated"],
                                end["rows"])
                else:
                    raise unexpected(kind)

    def batches(self, query: GuardedQuery, sources: list[tuple[TableRef, VersionData]], *,
                params: Any, limit: int, deadline: Deadline
                ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """The result's schema once the query has started, and its batches (at most `limit`
        rows) as the worker makes them; the worker is held until they are read or closed."""
        request = self._request(query, sources, params, limit, "arrow")
        held = self._worker(request["key"], deadline)
        worker = held.__enter__()
        try:
            worker.send(request, deadline)
            schema = pa.ipc.open_stream(worker.receive(deadline, wire.ARROW)).schema
        except BaseException as exc:
            held.__exit__(type(exc), exc, exc.__traceback__)
            raise

        def read() -> Iterator[pa.RecordBatch]:
            try:
                while True:
                    kind, payload = worker.frame(deadline,
                                                max(self.result_max, PIECE_MAX))
                    if kind == wire.END:
                        break
                    if kind != wire.ARROW:
                        raise unexpected(kind)
                    yield pa.ipc.open_stream(payload).read_next_batch()
            except BaseException as exc:
                held.__exit__(type(exc), exc, exc.__traceback__)
                raise
            held.__exit__(None, None, None)

        return schema, read()

    # --- workers ---------------------------------------------------------------------------

    @contextmanager
    def _worker(self, key: tuple[Any, ...] | None, deadline: Deadline) -> Iterator[WorkerProcess]:
        """A worker for one request; back to the pool when the request ended cleanly
        (an answer or a refusal read whole), killed and replaced otherwise."""
        worker = self._take(key, deadline)
        clean = False
        try:
            yield worker
            clean = True
        except HubError as error:
            clean = getattr(error, "from_worker", False)
            raise
        finally:
            self._give_back(worker, clean)

    def _take(self, key: tuple[Any, ...] | None, deadline: Deadline) -> WorkerProcess:
        with self.changed:
            while True:
                if self.closed:
                    raise Unavailable("The query service is stopping", code="query_stopped")
                for dead in [w for w in self.idle if w.process.poll() is not None]:
                    log.warning("query worker %s ended while idle (exit status %s)",
                                dead.process.pid, dead.process.returncode)
                    self.idle.remove(dead)        # ended while idle (an operator, the OOM
                    dead.close()                  # killer): never handed to a caller
                if self.idle:
                    worker = next((w for w in reversed(self.idle) if key in w.recent),
                                  self.idle[-1])   # the same tables, else the last used
                    self.idle.remove(worker)
                    self.busy.add(worker)
                    worker.due = deadline.at
                    worker.killed_for_time = False
                    if key is not None:
                        worker.recent[key] = None
                        worker.recent.move_to_end(key)
                        while len(worker.recent) > KEEP:
                            worker.recent.popitem(last=False)
                    if not self.idle and self._count() < self.size and not self.starting:
                        self._spawn()       # the next caller should not wait for a start
                    if worker.due < self.watch_until:
                        self.watching.notify()
                    return worker
                if self.failure and self._count() == 0 and \
                        time.monotonic() - self.failed_at < RETRY_SECONDS:
                    raise Unavailable("No query worker could start: {reason}",
                                      code="query_workers_failed", reason=self.failure)
                if not self.starting and self._count() < self.size:
                    self._spawn()
                left = deadline.left()
                if left <= 0 and self.busy:
                    raise Unavailable("All {count} query workers stayed busy for the "
                                      "query's time limit of {seconds} s; try again",
                                      code="query_workers_busy", count=len(self.busy),
                                      seconds=round(deadline.seconds, 3),
                                      headers={"Retry-After": "1"})
                if left <= 0:
                    raise Unavailable("No query worker was ready within the query's time "
                                      "limit of {seconds} s (they are starting); try again",
                                      code="query_workers_busy",
                                      seconds=round(deadline.seconds, 3),
                                      headers={"Retry-After": "1"})
                self.changed.wait(left)

    def _give_back(self, worker: WorkerProcess, clean: bool) -> None:
        with self.changed:
            self.busy.discard(worker)
            worker.due = None
            if clean and not self.closed and not worker.killed_for_time and \
                    worker.process.poll() is None:
                self.idle.append(worker)
            else:
                worker.close()
                if not self.closed and self._count() < self.size and not self.starting:
                    self._spawn()              # its replacement
            self.changed.notify_all()

    def _count(self) -> int:
        return len(self.idle) + len(self.busy) + self.starting

    def _spawn(self) -> None:
        """Start one worker in the background (the lock is held by the caller)."""
        self.starting += 1
        threading.Thread(target=self._bring_up, daemon=True, name="dpghub-query-start").start()

    def _bring_up(self) -> None:
        worker: WorkerProcess | None = None
        try:
            worker = launch(self.config)
            worker.sock.settimeout(START_SECONDS)
            kind, payload = wire.receive(worker.sock, 1 << 20)
            answer = json.loads(payload)
            if kind != wire.REPLY:
                raise RuntimeError(answer.get("message", "the worker failed to start"))
            if answer["address_space_mb"]:
                log.debug("query worker %s ready, address space limit %s MiB",
                          answer["pid"], answer["address_space_mb"])
            else:
                log.warning("query worker %s runs without an address-space limit (this "
                            "system does not say its size): only DuckDB's memory limit holds",
                            answer["pid"])
        except Exception as exc:  # noqa: BLE001 — said to the callers waiting for it
            log.error("a query worker failed to start: %s", exc)
            with self.changed:
                self.starting -= 1
                self.failure = str(exc)[:300] or type(exc).__name__
                self.failed_at = time.monotonic()
                self.changed.notify_all()
            if worker is not None:
                worker.close()
            return
        with self.changed:
            self.starting -= 1
            self.failure = None
            if self.closed:
                worker.close()
            else:
                self.idle.insert(0, worker)   # cold: taken after the warm ones
            self.changed.notify_all()

    def _watch(self) -> None:
        """Kill workers whose query's deadline has passed, whoever is reading them (a slow
        download's reader may be waiting on its client, not on the worker), and start their
        replacements; the reader finds the end of the stream and answers `query_timeout`."""
        with self.changed:
            while not self.closed:
                now = time.monotonic()
                overdue = [w for w in self.busy if w.due is not None and w.due <= now]
                for worker in overdue:
                    worker.killed_for_time = True
                    worker.kill()
                    self.busy.discard(worker)
                    if self._count() < self.size and not self.starting:
                        self._spawn()
                if overdue:
                    self.changed.notify_all()
                dues = [w.due for w in self.busy if w.due is not None]
                self.watch_until = min(dues) if dues else math.inf
                self.watching.wait(self.watch_until - now if dues else None)

    # --- frames ----------------------------------------------------------------------------

    def _request(self, query: GuardedQuery, sources: list[tuple[TableRef, VersionData]],
                 params: Any, limit: int, output: str) -> dict[str, Any]:
        views = []
        for ref, data in sources:
            view: dict[str, Any] = {"name": ref.view, "files": list(data.files)}
            if not data.files or self.config["lake"].get("remote"):
                view["schema"] = base64.b64encode(data.schema.serialize().to_pybytes()
                                                  ).decode()
            views.append(view)
        key = tuple((v["name"], tuple(v["files"])) for v in views)
        return {"op": "run", "sql": query.sql, "views": views, "params": params,
                "limit": limit, "output": output, "key": key}
