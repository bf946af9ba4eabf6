"""How often each resource is used (rows read, queried, called), for "most used" lists.

Reads must not turn into database writes on the hot path, so each process counts in memory
and adds its counts to the `resource_use` table in one statement per resource when flushed —
every few seconds by the web app, before every search (so one process always sees its own
use), and when the process ends. Several processes add up correctly: the flush is
`uses = uses + n`.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from .db import Base, UTCDateTime, transaction, utcnow

USAGE_INFO = "dpghub.usage"


class ResourceUse(Base):
    __tablename__ = "resource_use"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)   # dataset | service
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uses: Mapped[int] = mapped_column(BigInteger, default=0)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class UsageCounter:
    """Counts uses in memory; `flush` adds them to the table."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def hit(self, kind: str, ref_id: int, n: int = 1) -> None:
        with self._lock:
            self._counts[(kind, ref_id)] += n

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def flush(self, factory: sessionmaker[Session]) -> int:
        """Write the counted uses; returns how many were written. Lost counts are re-added."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0
        try:
            with transaction(factory) as session:
                add(session, counts)
        except Exception:
            with self._lock:
                self._counts.update(counts)
            raise
        return sum(counts.values())


def add(session: Session, counts: Counter[tuple[str, int]] | dict[tuple[str, int], int]) -> None:
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for (kind, ref_id), n in sorted(counts.items()):
        statement = insert(ResourceUse).values(kind=kind, ref_id=ref_id, uses=n,
                                               last_used_at=now)
        session.execute(statement.on_conflict_do_update(
            index_elements=["kind", "ref_id"],
            set_={"uses": ResourceUse.uses + n, "last_used_at": now}))


def hit(session: Session, kind: str, ref_id: int, n: int = 1) -> None:
    """Count one use through the session's counter (or directly when it has none)."""
    counter = session.info.get(USAGE_INFO)
    if isinstance(counter, UsageCounter):
        counter.hit(kind, ref_id, n)
    else:
        add(session, {(kind, ref_id): n})


def counts(session: Session, kind: str | None = None) -> dict[tuple[str, int], int]:
    query = select(ResourceUse.kind, ResourceUse.ref_id, ResourceUse.uses)
    if kind:
        query = query.where(ResourceUse.kind == kind)
    return {(k, i): int(u) for k, i, u in session.execute(query)}


def flush(session: Session) -> None:
    """Write the session's pending counts now (before reading them back)."""
    counter = session.info.get(USAGE_INFO)
    if isinstance(counter, UsageCounter) and counter.pending():
        with counter._lock:
            pending, counter._counts = counter._counts, Counter()
        add(session, pending)
