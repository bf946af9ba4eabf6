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

Here is the hub process's side (`Recorder`, `WriterProcess`); the writer is writer.py, the
records' digests and what `audit verify` checks of them are chain.py.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from . import journal
from .writer import JournalWriter, writer_main

log = logging.getLogger("dpghub.gateway")

WATCH_SECONDS = 0.1     # how often the hub process looks after its writer


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


if __name__ == "__main__":          # the writer process (WriterProcess)
    logging.basicConfig(level=logging.WARNING)
    writer_main(Connection(int(sys.argv[1]), writable=False),
                 Connection(int(sys.argv[2]), readable=False))
