"""Writing call records off the hot path: the proxy queues them and a writer stores them in
batches (each also an audit-chain event, so `dpghub audit verify` covers them); stopping
writes whatever is still queued — none is lost on a normal shutdown.

The writer is a separate process by default (`gateway_evidence_process`): in a thread it
shared the proxy's interpreter lock, and measured, that cost a third of the gateway's
throughput. The hub process then only queues each record and pickles batches to a pipe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..core import audit
from ..core.db import transaction
from .models import CallRecord

log = logging.getLogger("dpghub.gateway")


COALESCE = 5_000        # records the writer process gathers into one transaction at most
GATHER_SECONDS = 0.4    # and for how long
WRITER_NICENESS = 5     # the writer process yields the CPU to the hub's own


class Recorder:
    """Queue of call records; `flush()` stores what is queued and returns how many.

    Batches leave every 0.1 s: pickling one holds the interpreter lock, and a batch of a
    tenth of a second keeps that hold far below the gateway's latency budget."""

    def __init__(self, factory: sessionmaker[Session], *, batch: int = 500,
                 every: float = 0.1, process: WriterProcess | None = None) -> None:
        self.factory = factory
        self.batch = batch
        self.every = every
        self.process = process
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> None:
        self._queue.put(record)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="dpghub-evidence",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()
        if self.process is not None:
            self.process.stop()

    def flush(self, *, wait: bool = True) -> int:
        """Store everything queued now; with `wait`, return once it is in the database."""
        written = 0
        with self._lock:
            while True:
                items = []
                while len(items) < self.batch:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not items:
                    break
                if not self._store(items):
                    return written
                written += len(items)
            if self.process is not None and wait and self.process.running:
                written = self.process.confirm()
        return written

    def _store(self, items: list[dict[str, Any]]) -> bool:
        if self.process is not None and self.process.send(items):
            return True
        try:
            _write(self.factory, items)   # in this process: no writer process, or it died
        except Exception:  # noqa: BLE001 — keep them for the next attempt
            log.exception("could not write %d call records; will retry", len(items))
            for item in items:
                self._queue.put(item)
            return False
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.flush(wait=False)


class WriterProcess:
    """The writer as a child process (`python -m dpghub.gateway.evidence`) fed through a
    pipe, started with the first batch. It writes each batch as it comes and answers
    `confirm()` with how many records it stored since the last confirmation."""

    def __init__(self, database_url: str, home: Path) -> None:
        self.database_url = database_url
        self.home = home
        self._child: subprocess.Popen[bytes] | None = None
        self._to: Connection | None = None
        self._from: Connection | None = None

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def _start(self) -> None:
        down_read, down_write = os.pipe()     # hub → writer
        up_read, up_write = os.pipe()         # writer → hub
        self._child = subprocess.Popen(
            [sys.executable, "-m", "dpghub.gateway.evidence", str(down_read), str(up_write)],
            pass_fds=(down_read, up_write), stdin=subprocess.DEVNULL,
            start_new_session=True)           # Ctrl+C stops the hub, which stops the writer
        os.close(down_read)
        os.close(up_write)
        self._to = Connection(down_write, readable=False)
        self._from = Connection(up_read, writable=False)
        # the database address may hold a password: sent through the pipe, not the command
        self._to.send(("config", (self.database_url, str(self.home))))

    def send(self, items: list[dict[str, Any]]) -> bool:
        """Hand a batch over; False when the writer is gone (the caller writes it itself)."""
        if not self.running:
            if self._child is not None:
                log.error("the evidence writer process ended (exit code %s); starting another",
                          self._child.returncode)
                self._close()
            try:
                self._start()
            except OSError:
                log.exception("cannot start the evidence writer process")
                return False
        if self._to is None:
            return False
        try:
            self._to.send(("records", items))
        except (OSError, ValueError):
            log.error("the evidence writer process is gone; writing call records in the hub")
            return False
        return True

    def confirm(self, timeout: float = 60.0) -> int:
        """Wait until everything sent is stored; the count stored since the last confirm."""
        if not self.running or self._to is None or self._from is None:
            return 0
        try:
            self._to.send(("confirm", None))
            if self._from.poll(timeout):
                _, written = self._from.recv()
                return int(written)
        except (OSError, EOFError, ValueError):
            pass
        log.error("the evidence writer did not confirm its call records")
        return 0

    def stop(self) -> None:
        if self._child is None:
            return
        try:
            if self._to is not None:
                self._to.send(("stop", None))
        except (OSError, ValueError):
            pass
        try:
            self._child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        self._close()

    def _close(self) -> None:
        for end in (self._to, self._from):
            if end is not None:
                end.close()
        self._child = self._to = self._from = None


def _writer_main(down: Connection, up: Connection) -> None:
    """The writer process: store each batch (retrying while the database is busy or down),
    answer confirmations, stop when told or when the hub process is gone."""
    from ..core.audit import SIGNING_KEY_INFO
    from ..core.db import make_engine, make_session_factory
    from ..core.security import load_signing_key

    _, (database_url, home) = down.recv()          # ("config", …) comes first
    with contextlib.suppress(OSError):
        os.nice(WRITER_NICENESS)   # background work: the proxy's requests come first
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    factory.configure(info={SIGNING_KEY_INFO: load_signing_key(Path(home))})
    written = 0
    pending: list[dict[str, Any]] = []
    since = time.monotonic()

    def store() -> None:
        nonlocal written, pending
        for attempt in range(60):
            try:
                _write(factory, pending)
                written += len(pending)
                break
            except Exception:  # noqa: BLE001 — the database may be busy; try again
                log.exception("could not write %d call records (attempt %d)",
                              len(pending), attempt + 1)
                time.sleep(1.0)
        pending = []

    while True:
        try:
            kind, payload = down.recv()
        except (EOFError, OSError):
            break
        if kind == "records":
            if not pending:
                since = time.monotonic()
            pending.extend(payload)
            # the hub sends small batches often (short holds of its interpreter lock); what
            # arrives within GATHER_SECONDS is stored in one transaction (and audit event)
            wait = since + GATHER_SECONDS - time.monotonic()
            if len(pending) < COALESCE and down.poll(max(0.0, wait)):
                continue
            store()
        elif kind == "confirm":
            if pending:
                store()
            up.send(("written", written))
            written = 0
        elif kind == "stop":
            break
    if pending:
        store()
    engine.dispose()


ACTION = "gateway.calls"
DIGEST_FIELDS = ("at", "request_id", "app_id", "consumer_org_id", "service_id",
                 "provider_org_id", "subscription_id", "operation", "method", "path", "status",
                 "request_bytes", "response_bytes", "upstream_ms", "hub_ms", "outcome", "fault",
                 "request_sha256", "response_sha256")


def record_digest(values: dict[str, Any]) -> str:
    """SHA-256 of a call record's content, as the batch's audit event lists it."""
    return digest_of(tuple(values.get(name) for name in DIGEST_FIELDS))


def digest_of(row: tuple[Any, ...]) -> str:
    """The digest of a record's values in `DIGEST_FIELDS` order: the fields separated by a
    control character that none of them contains; the time in ISO 8601 UTC, the latencies
    (the only decimals) rounded to three places. One format operation: the writer computes
    this for every call, on the proxy's interpreter lock."""
    at = row[0]
    if isinstance(at, datetime):
        at = at.astimezone(UTC).isoformat()   # aware: written now(UTC), read via UTCDateTime
    return hashlib.sha256((_DIGEST_FORMAT % (
        at, *row[1:_UPSTREAM_MS], _text(row[_UPSTREAM_MS]), _text(row[_HUB_MS]),
        *row[_HUB_MS + 1:len(DIGEST_FIELDS)])).encode()).hexdigest()


_DIGEST_FORMAT = "\x1f".join(["%s"] * len(DIGEST_FIELDS))
_UPSTREAM_MS = DIGEST_FIELDS.index("upstream_ms")
_HUB_MS = DIGEST_FIELDS.index("hub_ms")
assert _HUB_MS == _UPSTREAM_MS + 1


def _text(value: Any) -> str:
    return repr(round(value, 3)) if isinstance(value, float) else str(value)


ROW_FIELDS = ("at", *DIGEST_FIELDS[1:], "audit_seq")


def _row(item: dict[str, Any]) -> tuple[Any, ...]:
    """A record's column values, in `ROW_FIELDS` order."""
    get = item.get
    at = item["at"]
    if not isinstance(at, datetime):   # the proxy queues time.time(): converted here, off its path
        at = datetime.fromtimestamp(at, UTC)
    return (at, item["request_id"], get("app_id"), get("consumer_org_id"),
            get("service_id"), get("provider_org_id"), get("subscription_id"),
            get("operation", ""), item["method"], item["path"][:2000], item["status"],
            get("request_bytes", 0), get("response_bytes", 0),
            round(float(get("upstream_ms") or 0.0), 3), round(float(get("hub_ms") or 0.0), 3),
            item["outcome"], get("fault", ""), get("request_sha256", ""),
            get("response_sha256", ""))


def _write(factory: sessionmaker[Session], items: list[dict[str, Any]]) -> None:
    """One transaction per batch: one audit event listing each record's digest, then the
    records pointing at it. Changing, adding or deleting a record breaks `audit verify`.

    The records go to the driver's executemany with the column types' own conversions
    applied here: SQLAlchemy's per-row parameter handling cost more than everything else
    the writer does, and the writer shares the proxy's interpreter lock."""
    rows = [_row(item) for item in items]
    digests = [digest_of(row) for row in rows]
    with transaction(factory) as session:
        [seq] = audit.record_many(session, [{
            "actor": "system:gateway", "action": ACTION, "target_type": "gateway",
            "target_id": "calls", "org_id": None,
            "details": {"count": len(rows), "records": digests}}])
        connection = session.connection()
        statement, convert_at = _insert_for(connection.dialect)
        connection.exec_driver_sql(statement, [(convert_at(row[0]), *row[1:], seq)
                                               for row in rows])


_INSERTS: dict[str, tuple[str, Any]] = {}


def _insert_for(dialect: Any) -> tuple[str, Any]:
    """The driver-level INSERT for `dialect` and the conversion of `at` to what it stores."""
    if dialect.name not in _INSERTS:
        marks = "?" if dialect.paramstyle == "qmark" else "%s"
        statement = (f"INSERT INTO {CallRecord.__tablename__} ({', '.join(ROW_FIELDS)}) "
                     f"VALUES ({', '.join([marks] * len(ROW_FIELDS))})")
        column_type = CallRecord.__table__.c.at.type
        convert = column_type.dialect_impl(dialect).bind_processor(dialect)
        _INSERTS[dialect.name] = (statement, convert or (lambda value: value))
    return _INSERTS[dialect.name]


def check_batch(session: Session, event: Any) -> str | None:
    """The audit-verify check of one batch: its records must be exactly those it lists."""
    listed = list(event.details.get("records") or [])
    records = list(session.scalars(select(CallRecord).where(CallRecord.audit_seq == event.seq)
                                   .order_by(CallRecord.id)))
    expected = set(listed)
    digests = []
    for record in records:
        digest = record_digest({k: getattr(record, k) for k in DIGEST_FIELDS})
        if digest not in expected:
            return f"call record {record.id} (request {record.request_id}) was altered"
        digests.append(digest)
    if sorted(digests) != sorted(listed):
        return (f"call records of batch {event.seq} are missing or added "
                f"({len(records)} found, {len(listed)} listed)")
    return None


audit.attach(ACTION, check_batch)


if __name__ == "__main__":          # the writer process (WriterProcess)
    logging.basicConfig(level=logging.WARNING)
    _writer_main(Connection(int(sys.argv[1]), writable=False),
                 Connection(int(sys.argv[2]), readable=False))
