"""The evidence writer: stores journals of call records in the database, in batches, each
batch one transaction with one audit event listing its records' digests (chain.py). It runs
in a child process of each hub process (evidence.py starts it, `writer_main` is its loop) or,
with `gateway_evidence_process` off, in a thread of the hub process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ..core import audit
from ..core.db import transaction
from . import journal
from .chain import (
    ACTION,
    CLOSED,
    DIGEST_FIELDS,
    JOURNAL_FIELDS,
    OPENED,
    digest_of,
    event_of,
    last_stored,
)
from .models import CallRecord

log = logging.getLogger("dpghub.gateway")

COALESCE = 5_000        # records the writer gathers into one transaction at most
GATHER_SECONDS = 0.4    # and for how long
TICK_SECONDS = 0.2      # how often the writer looks at the journal
WRITER_NICENESS = 5     # the writer process yields the CPU to the hub's own
ACTOR = "system:gateway"


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
            if event_of(session, OPENED, journal_id) is None:
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
            if event_of(session, CLOSED, journal_id) is None:
                last = last_stored(session, journal_id)
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
                        self._stored[journal_id] = last_stored(session, journal_id)
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


def writer_main(down: Connection, up: Connection) -> None:
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


