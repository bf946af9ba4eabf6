"""Storing the gateway's call records: each is journalled by the hub process before its
answer ends (journal.py), and a writer stores the journal in the database in batches — each
batch also an audit-chain event listing its records' digests, so `dpghub audit verify`
covers them. A hub process that ends stores everything first; one that is killed leaves its
journal, and the next writer to start (any hub process's) stores it.

The writer is a separate process by default (`gateway_evidence_process`): in a thread it
shares the proxy's interpreter lock, and measured, that cost a third of the gateway's
throughput. It reads the journal itself, so the hub process's part of a call's evidence is
one line written to a file.

Gaps are visible: every journal numbers its records 1, 2, …; its opening and its closing
(with the last number) are audit events. `audit verify` reports numbers missing from the
database, a journal that is gone without being closed, and records still waiting in one.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..core import audit
from ..core.db import transaction
from . import journal
from .models import CallRecord

log = logging.getLogger("dpghub.gateway")


COALESCE = 5_000        # records the writer gathers into one transaction at most
GATHER_SECONDS = 0.4    # and for how long
TICK_SECONDS = 0.2      # how often the writer looks at the journal
WATCH_SECONDS = 0.1     # how often the hub process looks after its writer
WRITER_NICENESS = 5     # the writer process yields the CPU to the hub's own
ACTOR = "system:gateway"
OPENED = "gateway.journal_opened"
CLOSED = "gateway.journal_closed"


class Recorder:
    """The hub process's side: `add` journals a record (before the answer's last byte
    leaves), and a writer — a child process, or a thread of this one — stores the journal.

    `add` returns None when the record is written, or, with `sync`, a future done once it
    is on the disk."""

    def __init__(self, factory: sessionmaker[Session], *, root: Path, sync: bool = False,
                 process: WriterProcess | None = None, every: float = WATCH_SECONDS) -> None:
        self.journal = journal.Journal(root, sync=sync)
        self.process = process
        self.writer = None if process is not None else JournalWriter(
            factory, root, hub_pid=os.getpid())
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._told: str | None = None

    def add(self, record: dict[str, Any]) -> Any:
        return self.journal.append(record)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="dpghub-evidence",
                                            daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        self._guard(self._replay)
        while not self._stop.wait(self.every):
            if self.journal.id is not None:
                self._guard(self._keep_writing)

    def _guard(self, step: Any) -> None:
        try:
            step()
        except Exception:  # noqa: BLE001 — the journal keeps the records; try again later
            log.exception("the evidence writer could not store call records; will retry")
            self._stop.wait(1.0)

    def _replay(self) -> None:
        """Journals of hub processes that are gone: a writer starts now to store them."""
        if self.process is not None:
            if journal.journals(self.journal.root):
                self.process.ensure()
            return
        assert self.writer is not None
        with self._lock:
            self.writer.replay_orphans()

    def _keep_writing(self) -> None:
        if self.process is not None:
            self.process.ensure(self.journal.id)
            return
        assert self.writer is not None and self.journal.id is not None
        with self._lock:
            self._tell()
            self.writer.gather(self.journal.id)

    def _tell(self) -> None:
        assert self.writer is not None
        if self.journal.id is not None and self._told != self.journal.id:
            self.writer.opened(self.journal.id)
            self._told = self.journal.id

    def flush(self, *, wait: bool = True) -> int:
        """Store everything journalled so far; how many records were stored since the last
        flush."""
        if self.process is not None:
            if self.journal.id is None and not self.process.running:
                return 0
            self.process.ensure(self.journal.id)
            return self.process.confirm() if wait else 0
        assert self.writer is not None
        with self._lock:
            if self.journal.id is not None:
                self._tell()
                self.writer.drain(self.journal.id)
            return self.writer.take_written()

    def stop(self) -> None:
        """Close the journal, have every record of it stored, and give it up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.journal.close()
        if self.process is not None:
            if self.journal.id is not None:
                self.process.ensure(self.journal.id)
            self.process.stop()
        elif self.journal.id is not None:
            assert self.writer is not None
            with self._lock:
                self._tell()
                try:
                    self.writer.finish(self.journal.id, after_crash=False)
                except Exception:  # noqa: BLE001 — left for the next writer to replay
                    log.exception("call records of journal %s stay in %s for the next start",
                                  self.journal.id, self.journal.folder)
        self.journal.release()


class WriterProcess:
    """The writer as a child process (`python -m dpghub.gateway.evidence`). It stores the
    journals of gone processes when it starts, then the journal it is told of as it grows;
    `confirm()` has it store everything written so far. When the hub process ends without
    a word (killed), the writer finishes the journal itself."""

    def __init__(self, database_url: str, home: Path) -> None:
        self.database_url = database_url
        self.home = home
        self._child: subprocess.Popen[bytes] | None = None
        self._to: Connection | None = None
        self._from: Connection | None = None
        self._told: str | None = None
        self._lock = threading.RLock()

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
        self._told = None
        # the database address may hold a password: sent through the pipe, not the command
        self._to.send(("config", (self.database_url, str(self.home), os.getpid())))

    def ensure(self, journal_id: str | None = None) -> None:
        """A running writer (a new one when it died), told of `journal_id`."""
        with self._lock:
            if not self.running:
                if self._child is not None:
                    log.error("the evidence writer process ended (exit code %s); starting "
                              "another", self._child.returncode)
                    self._close()
                self._start()
            if journal_id is not None and self._told != journal_id and self._to is not None:
                self._to.send(("journal", journal_id))
                self._told = journal_id

    def confirm(self, timeout: float = 60.0) -> int:
        """Wait until everything journalled is stored; the count stored since the last
        confirm."""
        with self._lock:
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

    def stop(self, timeout: float = 120.0) -> None:
        with self._lock:
            if self._child is None:
                return
            try:
                if self._to is not None:
                    self._to.send(("stop", None))
            except (OSError, ValueError):
                pass
            try:
                self._child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.error("the evidence writer did not finish; its journal stays for the next "
                          "start")
                self._child.kill()
                self._child.wait()
            self._close()

    def _close(self) -> None:
        for end in (self._to, self._from):
            if end is not None:
                end.close()
        self._child = self._to = self._from = None


class JournalWriter:
    """Stores journals in the database: one growing (`gather`, `drain`), or whole (`finish`,
    `replay_orphans`). Idempotent: a journal's records are stored in order, and those whose
    number is already in the database are skipped (the table also holds them unique)."""

    def __init__(self, factory: sessionmaker[Session], root: Path, *,
                 hub_pid: int | None = None) -> None:
        self.factory = factory
        self.root = root
        self.hub_pid = hub_pid
        self._written = 0
        self._readers: dict[str, journal.Reader] = {}
        self._pending: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._since: dict[str, float] = {}
        self._finished: dict[str, list[Path]] = {}
        self._stored: dict[str, int] = {}

    def take_written(self) -> int:
        written, self._written = self._written, 0
        return written

    def opened(self, journal_id: str) -> None:
        """The journal's opening, as an audit event (once): from then on, a journal that
        disappears without its closing event is reported by `audit verify`."""
        with transaction(self.factory) as session:
            if _event_of(session, OPENED, journal_id) is None:
                audit.record(session, actor=ACTOR, action=OPENED, target_type="gateway",
                             target_id=journal_id, details={
                                 "journal": journal_id, "host": socket.gethostname(),
                                 "folder": str(self.root), "pid": self.hub_pid})

    def gather(self, journal_id: str) -> int:
        """Take what was appended; store it once it waited GATHER_SECONDS or is many."""
        self._read(journal_id)
        pending = self._pending.get(journal_id)
        if not pending:
            return 0
        if (len(pending) < COALESCE
                and time.monotonic() - self._since[journal_id] < GATHER_SECONDS):
            return 0
        return self._store(journal_id)

    def drain(self, journal_id: str, *, final: bool = False) -> int:
        """Store everything appended so far (with `final`, the writing process is gone)."""
        self._read(journal_id, final=final)
        return self._store(journal_id)

    def finish(self, journal_id: str, *, after_crash: bool) -> int:
        """Store the whole journal, record its closing, delete it. Its process has ended
        (or, on a normal stop, closed it): the caller holds the journal, nobody writes."""
        stored = self.drain(journal_id, final=True)
        reader = self._readers.pop(journal_id)
        with transaction(self.factory) as session:
            if _event_of(session, CLOSED, journal_id) is None:
                last = _last_stored(session, journal_id)
                audit.record(session, actor=ACTOR, action=CLOSED, target_type="gateway",
                             target_id=journal_id, details={
                                 "journal": journal_id, "last": last,
                                 "after_crash": after_crash, "damaged_lines": reader.damaged})
        journal.remove(self.root / journal_id)
        for table in (self._pending, self._since, self._finished, self._stored):
            table.pop(journal_id, None)
        return stored

    def replay_orphans(self) -> int:
        """Store the journals no running process holds (their process was killed)."""
        stored = 0
        for journal_id in journal.journals(self.root):
            held = journal.lock(self.root / journal_id, wait=False)
            if held is None:
                continue                        # a live hub process's
            try:
                replayed = self.finish(journal_id, after_crash=True)
            finally:
                os.close(held)
            log.warning("stored %d call records left in the journal %s of a hub process that "
                        "ended abruptly", replayed, journal_id)
            stored += replayed
        return stored

    def _read(self, journal_id: str, *, final: bool = False) -> None:
        reader = self._readers.get(journal_id)
        if reader is None:
            reader = self._readers[journal_id] = journal.Reader(self.root / journal_id)
        pending = self._pending.setdefault(journal_id, [])
        more = True
        while more:
            found, finished, more = reader.read(final=final)
            if found and not pending:
                self._since[journal_id] = time.monotonic()
            pending.extend(found)
            self._finished.setdefault(journal_id, []).extend(finished)
            if more and len(pending) >= COALESCE:   # a long journal: stored as it is read
                self._store(journal_id)

    def _store(self, journal_id: str) -> int:
        """Store what is pending (in transactions of at most COALESCE records), then delete
        the segments read to their end: all their records are in the database."""
        pending = self._pending.get(journal_id) or []
        stored = 0
        try:
            if pending:
                if journal_id not in self._stored:
                    with self.factory() as session:
                        self._stored[journal_id] = _last_stored(session, journal_id)
                last = self._stored[journal_id]
                fresh = [(seq, item) for seq, item in pending if seq > last]
                for begin in range(0, len(fresh), COALESCE):
                    batch = fresh[begin:begin + COALESCE]
                    _write(self.factory, batch, journal_id)
                    self._stored[journal_id] = batch[-1][0]
                    stored += len(batch)
                    self._written += len(batch)
        except Exception:
            self._stored.pop(journal_id, None)      # read again from the database next time
            self._pending[journal_id] = [(s, i) for s, i in pending
                                         if s > self._stored.get(journal_id, 0)]
            raise
        self._pending[journal_id] = []
        for segment in self._finished.pop(journal_id, []):
            segment.unlink(missing_ok=True)
        return stored


def _event_of(session: Session, action: str, journal_id: str) -> int | None:
    return session.scalar(select(audit.AuditEvent.seq).where(
        audit.AuditEvent.action == action, audit.AuditEvent.target_id == journal_id).limit(1))


def _last_stored(session: Session, journal_id: str) -> int:
    return int(session.scalar(select(func.max(CallRecord.journal_seq)).where(
        CallRecord.journal == journal_id)) or 0)


def _writer_main(down: Connection, up: Connection) -> None:
    """The writer process: the journals of gone processes first, then the hub's own as it
    grows; confirmations answered; the hub's journal finished when the hub says stop, or
    when it is gone (the pipe closed without a word: it was killed)."""
    from ..core.audit import SIGNING_KEY_INFO
    from ..core.db import make_engine, make_session_factory
    from ..core.security import load_signing_key

    _, (database_url, home, hub_pid) = down.recv()          # ("config", …) comes first
    with contextlib.suppress(OSError):
        os.nice(WRITER_NICENESS)   # background work: the proxy's requests come first
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    factory.configure(info={SIGNING_KEY_INFO: load_signing_key(Path(home))})
    writer = JournalWriter(factory, journal.root_of(Path(home)), hub_pid=hub_pid)
    own: str | None = None

    def attempt(step: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            step(*args, **kwargs)
            return True
        except Exception:  # noqa: BLE001 — the database may be busy or down: later again
            log.exception("could not store call records; will retry")
            time.sleep(1.0)
            return False

    attempt(writer.replay_orphans)
    gone = False
    opened = False
    while True:
        try:
            kind, payload = down.recv() if down.poll(TICK_SECONDS) else ("tick", None)
        except (EOFError, OSError):
            gone = True
            break
        if kind == "journal":
            own = payload
            opened = attempt(writer.opened, own)
        elif kind == "tick" and own is not None:
            opened = opened or attempt(writer.opened, own)
            attempt(writer.gather, own)
        elif kind == "confirm":
            if own is not None:
                attempt(writer.drain, own)
            up.send(("written", writer.take_written()))
        elif kind == "stop":
            break
    if own is not None:
        # killed: the hub's lock is free, but another writer may be replaying the journal
        held = journal.lock(writer.root / own, wait=True) if gone else None
        try:
            for _ in range(60):
                if attempt(writer.finish, own, after_crash=gone):
                    break
        finally:
            if held is not None:
                os.close(held)
    engine.dispose()


ACTION = "gateway.calls"
DIGEST_FIELDS = journal.FIELDS
JOURNAL_FIELDS = ("journal", "journal_seq")


def record_digest(values: dict[str, Any]) -> str:
    """SHA-256 of a call record's content, as the batch's audit event lists it."""
    return digest_of(tuple(values.get(name) for name in DIGEST_FIELDS + JOURNAL_FIELDS))


def digest_of(row: tuple[Any, ...]) -> str:
    """The digest of a record's values in `DIGEST_FIELDS` order, then its journal and number
    there: the fields separated by a control character that none of them contains; the time
    in ISO 8601 UTC, the latencies (the only decimals) rounded to three places. Records from
    before the journal (none) are digested as they were."""
    at = row[0]
    if isinstance(at, datetime):
        at = at.astimezone(UTC).isoformat()   # aware: written now(UTC), read via UTCDateTime
    text = _DIGEST_FORMAT % (
        at, *row[1:_UPSTREAM_MS], _text(row[_UPSTREAM_MS]), _text(row[_HUB_MS]),
        *row[_HUB_MS + 1:len(DIGEST_FIELDS)])
    if len(row) > len(DIGEST_FIELDS) and row[len(DIGEST_FIELDS)] is not None:
        journal_id, seq = row[len(DIGEST_FIELDS):len(DIGEST_FIELDS) + 2]
        text += f"\x1f{journal_id}\x1f{seq}"
    return hashlib.sha256(text.encode()).hexdigest()


_DIGEST_FORMAT = "\x1f".join(["%s"] * len(DIGEST_FIELDS))
_UPSTREAM_MS = DIGEST_FIELDS.index("upstream_ms")
_HUB_MS = DIGEST_FIELDS.index("hub_ms")
assert _HUB_MS == _UPSTREAM_MS + 1


def _text(value: Any) -> str:
    return repr(round(value, 3)) if isinstance(value, float) else str(value)


ROW_FIELDS = ("at", *DIGEST_FIELDS[1:], *JOURNAL_FIELDS, "audit_seq")


def _row(item: dict[str, Any]) -> tuple[Any, ...]:
    """A record's column values, in `DIGEST_FIELDS` order."""
    get = item.get
    at = item["at"]
    if not isinstance(at, datetime):   # the proxy gives time.time(): converted here, off its path
        at = datetime.fromtimestamp(at, UTC)
    return (at, item["request_id"], get("app_id"), get("consumer_org_id"),
            get("service_id"), get("provider_org_id"), get("subscription_id"),
            get("operation", ""), item["method"], item["path"][:2000], item["status"],
            get("request_bytes", 0), get("response_bytes", 0),
            round(float(get("upstream_ms") or 0.0), 3), round(float(get("hub_ms") or 0.0), 3),
            item["outcome"], get("fault", ""), get("request_sha256", ""),
            get("response_sha256", ""))


def _write(factory: sessionmaker[Session], entries: list[tuple[int, dict[str, Any]]],
           journal_id: str) -> None:
    """One transaction per batch: one audit event listing each record's digest, then the
    records pointing at it. Changing, adding or deleting a record breaks `audit verify`.

    The records go to the driver's executemany with the column types' own conversions
    applied here: SQLAlchemy's per-row parameter handling cost more than everything else
    the writer does."""
    rows = [(*_row(item), journal_id, seq) for seq, item in entries]
    digests = [digest_of(row) for row in rows]
    with transaction(factory) as session:
        [seq] = audit.record_many(session, [{
            "actor": ACTOR, "action": ACTION, "target_type": "gateway",
            "target_id": "calls", "org_id": None,
            "details": {"count": len(rows), "records": digests, "journal": journal_id,
                        "first": entries[0][0], "last": entries[-1][0]}}])
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


# --- audit verify ---------------------------------------------------------------------------


def check_batch(session: Session, event: Any) -> str | None:
    """The audit-verify check of one batch: its records must be exactly those it lists."""
    listed = list(event.details.get("records") or [])
    records = list(session.scalars(select(CallRecord).where(CallRecord.audit_seq == event.seq)
                                   .order_by(CallRecord.id)))
    expected = set(listed)
    digests = []
    for record in records:
        digest = record_digest({k: getattr(record, k) for k in DIGEST_FIELDS + JOURNAL_FIELDS})
        if digest not in expected:
            return f"call record {record.id} (request {record.request_id}) was altered"
        digests.append(digest)
    if sorted(digests) != sorted(listed):
        return (f"call records of batch {event.seq} are missing or added "
                f"({len(records)} found, {len(listed)} listed)")
    return None


def check_closed(session: Session, event: Any) -> str | None:
    """A closed journal: its records in the database are exactly numbers 1 to its last."""
    return _sequence_fault(session, event.details["journal"], int(event.details["last"]))


def check_opened(session: Session, event: Any) -> str | audit.Note | None:
    """A journal not (yet) closed: its stored records have no gap, and its folder is still
    there — its process is running, or was killed and the next start stores the rest."""
    journal_id = event.details["journal"]
    if _event_of(session, CLOSED, journal_id) is not None:
        return None                                  # checked at its closing
    fault = _sequence_fault(session, journal_id, None)
    if fault:
        return fault
    host, pid = event.details.get("host"), event.details.get("pid")
    if host != socket.gethostname():
        return audit.Note(f"the journal {journal_id} of hub process {pid} on {host} is open; "
                          "its file is on that machine (not checked here)")
    folder = Path(event.details["folder"]) / journal_id
    stored = _last_stored(session, journal_id)
    if folder.is_dir():
        waiting = _waiting(folder, stored)
        if not waiting:
            return None                              # a running process, all stored so far
        return audit.Note(f"{waiting} call records of hub process {pid} wait in its journal "
                          f"{folder} (the process is running, or ended abruptly: the next "
                          "hub process to start stores them)")
    return (f"the journal {journal_id} of hub process {pid} is gone but was never closed: "
            f"call records after number {stored} of it may be lost (looked in {folder})")


def _sequence_fault(session: Session, journal_id: str, last: int | None) -> str | None:
    """None when the journal's records in the database are numbers 1 to `last` (to the
    highest stored, when None), each once; otherwise which numbers are missing."""
    number = CallRecord.journal_seq
    count, highest = session.execute(select(func.count(number), func.max(number)).where(
        CallRecord.journal == journal_id)).one()
    highest = int(highest or 0)
    last = highest if last is None else last
    if count == last and highest == last:
        return None
    missing: list[str] = []
    expected = 1
    for (seq,) in session.execute(select(number).where(CallRecord.journal == journal_id)
                                  .order_by(number).execution_options(yield_per=10_000)):
        if seq > expected:
            missing.append(str(expected) if seq == expected + 1 else f"{expected}-{seq - 1}")
        expected = seq + 1
    if last >= expected:
        missing.append(str(expected) if last == expected else f"{expected}-{last}")
    if not missing:
        return (f"call records of journal {journal_id} go beyond its last number {last} "
                f"({count} stored, highest {highest})")
    shown = ", ".join(missing[:10]) + (", …" if len(missing) > 10 else "")
    return (f"call records of journal {journal_id} are missing: numbers {shown} of 1-{last} "
            "never reached the database (deleted from the journal, or from the table)")


def _waiting(folder: Path, stored: int) -> int:
    """Records in a journal's files not yet in the database."""
    reader = journal.Reader(folder)
    waiting = 0
    more = True
    while more:
        found, _, more = reader.read()
        waiting += sum(1 for seq, _ in found if seq > stored)
    return waiting


audit.attach(ACTION, check_batch)
audit.attach(OPENED, check_opened)
audit.attach(CLOSED, check_closed)


if __name__ == "__main__":          # the writer process (WriterProcess)
    logging.basicConfig(level=logging.WARNING)
    _writer_main(Connection(int(sys.argv[1]), writable=False),
                 Connection(int(sys.argv[2]), readable=False))
