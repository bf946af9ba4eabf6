"""The gateway's call-record journal: one append-only file per hub process, where each call's
record is written before the last byte of its answer leaves the hub.

Records used to wait in the hub's memory for the evidence writer (a batch every 0.1 s): a hub
killed with `kill -9` lost the calls it had just answered, and nothing showed they were
missing. Now the writer (evidence.py) stores what the journal holds, and whoever starts a
writer later stores what a dead process left behind.

What survives what. `os.write` hands the line to the operating system: it survives the hub
process being killed (any signal, the out-of-memory killer), not the machine stopping. With
`gateway_journal_sync` the line is also on the disk (fdatasync) before the answer ends, so it
survives a power loss; calls answered together share one fdatasync (group commit).

Layout: `<home>/journal/<journal id>/` holds `lock` and the segments `00000001.calls`, … A hub
process holds an exclusive flock on its `lock` for its whole life: a journal whose lock can be
taken belongs to no running process (it ended, or was killed) and is replayed by the next
writer. Each line is one record: its sequence number in the journal (1, 2, … with no gap),
then the record's fields, tab-separated; the free texts (method, path, operation) as JSON
strings. A segment is never written again once the next one exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import secrets
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring_ascii as _quote  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

log = logging.getLogger("dpghub.gateway")

FOLDER = "journal"
LOCK = "lock"
SUFFIX = ".calls"
SEGMENT_BYTES = 32 << 20     # a new segment after this much (the writer deletes stored ones)
READ_BYTES = 4 << 20         # what a reader takes from a segment at a time

# a record's fields in line order, after the sequence number (evidence.DIGEST_FIELDS)
FIELDS = ("at", "request_id", "app_id", "consumer_org_id", "service_id", "provider_org_id",
          "subscription_id", "operation", "method", "path", "status", "request_bytes",
          "response_bytes", "upstream_ms", "hub_ms", "outcome", "fault", "request_sha256",
          "response_sha256")
# the time in microseconds since 1970, the latencies to the microsecond (as stored)
_LINE = "\t".join(["%d", "%d", *["%s"] * 12, "%.3f", "%.3f", *["%s"] * 4]) + "\n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def root_of(home: Path) -> Path:
    return home / FOLDER


def encode(seq: int, record: dict[str, Any]) -> bytes:
    """One journal line. One format operation: it runs on the proxy's path for every call."""
    get = record.get
    at = record["at"]
    if type(at) is not float:     # noqa: E721 — the proxy gives time.time(); tests datetimes
        at = at.timestamp()
    return (_LINE % (
        seq, round(at * 1_000_000), record["request_id"], get("app_id"),
        get("consumer_org_id"), get("service_id"), get("provider_org_id"),
        get("subscription_id"), _quote(get("operation", "")), _quote(record["method"]),
        _quote(record["path"][:2000]), record["status"], get("request_bytes", 0),
        get("response_bytes", 0), get("upstream_ms") or 0.0, get("hub_ms") or 0.0,
        record["outcome"], get("fault", ""), get("request_sha256", ""),
        get("response_sha256", ""))).encode()


def decode(line: bytes) -> tuple[int, dict[str, Any]]:
    """A journal line back into its sequence number and record; ValueError if it is not one.
    Written out field by field: the writer decodes every call's line."""
    p = line.decode("ascii").split("\t")
    if len(p) != len(FIELDS) + 1:
        raise ValueError(f"{len(p)} fields")
    return int(p[0]), {
        "at": _EPOCH + timedelta(microseconds=int(p[1])), "request_id": p[2], "app_id": _number(p[3], int),
        "consumer_org_id": _number(p[4], int), "service_id": _number(p[5], int),
        "provider_org_id": _number(p[6], int), "subscription_id": _number(p[7], int),
        "operation": _text(p[8]), "method": _text(p[9]), "path": _text(p[10]),
        "status": int(p[11]), "request_bytes": int(p[12]), "response_bytes": int(p[13]),
        "upstream_ms": float(p[14]), "hub_ms": float(p[15]),
        "outcome": p[16], "fault": p[17], "request_sha256": p[18], "response_sha256": p[19]}


def _number(text: str, kind: type) -> Any:
    return None if text == "None" else kind(text)


def _text(quoted: str) -> str:
    if quoted[:1] != '"' or quoted[-1:] != '"' or len(quoted) < 2:
        raise ValueError(f"not a quoted text: {quoted[:40]!r}")
    return json.loads(quoted) if "\\" in quoted else quoted[1:-1]


class Journal:
    """A hub process's journal (its writing side). Opened at the first record."""

    def __init__(self, root: Path, *, sync: bool = False,
                 segment_bytes: int = SEGMENT_BYTES) -> None:
        self.root = root
        self.sync = sync
        self.segment_bytes = segment_bytes
        self.id: str | None = None
        self.seq = 0
        self._fd = -1
        self._lock_fd = -1
        self._segment = 0
        self._size = 0
        self._pending: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._committing = False

    @property
    def folder(self) -> Path | None:
        return None if self.id is None else self.root / self.id

    def open(self) -> None:
        """Made under a hidden name and renamed once locked, so that no writer ever takes a
        journal being made for one that was left behind."""
        journal_id = secrets.token_hex(8)
        making = self.root / f".{journal_id}"
        making.mkdir(parents=True)
        self._lock_fd = os.open(making / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = os.open(making / _segment_name(1),
                           os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC,
                           0o600)
        self._segment = 1
        os.rename(making, self.root / journal_id)
        self.id = journal_id
        if self.sync:
            _sync_folder(self.root)

    def append(self, record: dict[str, Any]) -> asyncio.Future[None] | None:
        """Journal a record. Without `sync`, it is written when this returns (None); with it,
        the returned future is done once the line is on the disk."""
        if self.id is None:
            self.open()
        self.seq += 1
        line = encode(self.seq, record)
        if not self.sync:
            self._write(line)
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:              # outside the event loop: on the disk right now
            self._write(line)
            os.fdatasync(self._fd)
            return None
        waiter = loop.create_future()
        self._pending.append(line)
        self._waiters.append(waiter)
        if not self._committing:
            self._committing = True
            loop.call_soon(self._commit, loop)
        return waiter

    def _commit(self, loop: asyncio.AbstractEventLoop) -> None:
        """Group commit: what was appended during the loop's turn (and during the previous
        fdatasync) goes in one write and one fdatasync, run off the loop."""
        lines, waiters = self._pending, self._waiters
        self._pending, self._waiters = [], []
        try:
            self._write(b"".join(lines))
        except OSError as exc:
            self._committing = False
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        synced = loop.run_in_executor(None, os.fdatasync, self._fd)
        synced.add_done_callback(lambda done: self._synced(loop, done, waiters))

    def _synced(self, loop: asyncio.AbstractEventLoop, done: asyncio.Future[None],
                waiters: list[asyncio.Future[None]]) -> None:
        failure = done.exception()
        for waiter in waiters:
            if not waiter.done():
                if failure is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(failure)
        if self._pending:
            loop.call_soon(self._commit, loop)
        else:
            self._committing = False

    def _write(self, data: bytes) -> None:
        if self._size >= self.segment_bytes:   # here, not after a write: with `sync`, no
            self._next_segment()               # fdatasync of the old segment is under way
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)

    def _next_segment(self) -> None:
        assert self.folder is not None
        if self.sync:
            os.fdatasync(self._fd)
        os.close(self._fd)
        self._segment += 1
        self._fd = os.open(self.folder / _segment_name(self._segment),
                           os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC,
                           0o600)
        self._size = 0
        if self.sync:
            _sync_folder(self.folder)

    def close(self) -> None:
        """No more records: what is pending is written (and synced), the segment closed.
        The lock is kept until `release()`, after the writer has stored everything."""
        if self._fd < 0:
            return
        if self._pending:
            lines, waiters = self._pending, self._waiters
            self._pending, self._waiters = [], []
            self._write(b"".join(lines))
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        if self.sync:
            os.fdatasync(self._fd)
        os.close(self._fd)
        self._fd = -1

    def release(self) -> None:
        """Give the journal up. Its folder goes when the writer stored (and deleted) every
        segment; otherwise it stays, unlocked, for the next writer to replay."""
        if self._lock_fd < 0:
            return
        folder = self.folder
        if folder is not None and not segments(folder):
            with contextlib.suppress(OSError):
                (folder / LOCK).unlink()
                folder.rmdir()
        os.close(self._lock_fd)
        self._lock_fd = -1


def _segment_name(number: int) -> str:
    return f"{number:08d}{SUFFIX}"


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def segments(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX))
    except FileNotFoundError:
        return []


def journals(root: Path) -> list[str]:
    """The ids of the journals under `root` (hidden ones are still being made)."""
    try:
        return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def lock(folder: Path, *, wait: bool) -> int | None:
    """Take a journal's lock: its file descriptor, or None when a live process holds it (or
    the journal is gone). Closing the descriptor releases it."""
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def remove(folder: Path) -> None:
    """Delete a journal whose records are all stored (under its lock)."""
    for segment in segments(folder):
        segment.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        (folder / LOCK).unlink()
        folder.rmdir()


class Reader:
    """Reads one journal's records in order, as they are appended."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._segment: Path | None = None
        self._offset = 0
        self._partial = b""
        self._ended = False           # the last segment was finished: the hub is gone
        self.damaged = 0              # lines that were not records (torn by a crash, edited)

    def read(self, *, final: bool = False,
             limit: int = READ_BYTES) -> tuple[list[tuple[int, dict[str, Any]]], list[Path], bool]:
        """Records appended since the last read (at most about `limit` bytes of them); the
        segments read to their end that the hub has left (delete them once these records are
        stored); and whether more is there to read now. With `final` the hub is gone: a last
        line without its end is torn, and the last segment is finished too."""
        found: list[tuple[int, dict[str, Any]]] = []
        finished: list[Path] = []
        while not self._ended:
            present = segments(self.folder)    # listed before reading: see `later` below
            if self._segment is None:
                if not present:
                    return found, finished, False
                self._segment, self._offset = present[0], 0
            later = [p for p in present if p.name > self._segment.name]
            try:
                with open(self._segment, "rb") as handle:
                    handle.seek(self._offset)
                    data = handle.read(limit)
            except FileNotFoundError:
                data = b""
            self._offset += len(data)
            lines = (self._partial + data).split(b"\n")
            self._partial = lines.pop()
            for line in lines:
                try:
                    found.append(decode(line))
                except (ValueError, UnicodeDecodeError):
                    self._damaged(line)
            if len(data) == limit:
                return found, finished, True
            # read to its end: the segment is complete when the hub had already started a
            # later one before this read began, or when the hub is gone
            if not later and not final:
                return found, finished, False
            if self._partial:
                self._damaged(self._partial)
                self._partial = b""
            finished.append(self._segment)
            if not later:
                self._ended = True
                return found, finished, False
            self._segment, self._offset = later[0], 0
        return found, finished, False

    def _damaged(self, line: bytes) -> None:
        self.damaged += 1
        log.error("journal %s: a line that is not a call record was skipped (%d bytes): %r",
                  self.folder.name, len(line), line[:120])
