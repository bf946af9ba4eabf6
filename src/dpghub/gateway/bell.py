"""A doorbell between the hub's processes on one machine: "the gateway's state changed".

Every change that can turn a gateway answer around (a key revoked, a subscription decided)
bumps `GatewayState.generation` in its own transaction, and the gateway must see it on the
very next call, in every process. Reading that row on every call costs, with SQLite, two
file-lock system calls and a run of the SQL engine: measured, a tenth of the gateway's
throughput. With SQLite every process of the hub is on this machine, so after such a
transaction commits it also writes a fresh random number into a small memory-mapped file
beside the database (`hub.db-gateway`). The gateway reads those 8 bytes on every call and
reads the row only when they changed (or at least once a second, for changes made by other
means). With a server database (PostgreSQL, hub processes on several machines) there is no
bell: the gateway reads the row on every call.
"""

from __future__ import annotations

import logging
import mmap
import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger("dpghub.gateway")
SIZE = 8
CHANGED = "dpghub.gateway_changed"     # a session's info key: ring after it commits


class Bell:
    """The shared 8 bytes: `read()` on every call, `ring()` after a committed change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < SIZE:
                os.ftruncate(descriptor, SIZE)
            self._map = mmap.mmap(descriptor, SIZE)
        finally:
            os.close(descriptor)          # the mapping keeps the file open

    def read(self) -> bytes:
        return self._map[:SIZE]

    def ring(self) -> None:
        # random, not a counter: two processes ringing at once must not write the same
        # value, or a reader that saw the first ring would miss the second
        self._map[:SIZE] = os.urandom(SIZE)

    def close(self) -> None:
        self._map.close()


def bell_path(engine: Engine) -> Path | None:
    """The bell file of a SQLite database file; None for other databases (or in memory)."""
    url = engine.url
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}-gateway")


_bells: dict[Path, Bell] = {}


def bell_for(engine: Engine) -> Bell | None:
    """This process's bell for the database of `engine` (one mapping per file)."""
    path = bell_path(engine)
    if path is None:
        return None
    bell = _bells.get(path)
    if bell is None:
        try:
            bell = _bells[path] = Bell(path)
        except OSError as exc:      # a read-only home, say: the gateway reads the row instead
            log.warning("no gateway bell at %s (%s); the gateway reads its state row on "
                        "every call", path, exc)
            return None
    return bell


def mark_changed(session: Session) -> None:
    """Ring the bell once this session's transaction has committed. (A rollback keeps the
    mark: a needless ring only costs the gateway one read, a missing one a stale answer.)"""
    session.info[CHANGED] = True


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if session.info.pop(CHANGED, False):
        bell = bell_for(session.get_bind().engine)     # an Engine's .engine is itself
        if bell is not None:
            bell.ring()
