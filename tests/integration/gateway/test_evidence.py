"""The evidence of gateway calls: every record is journalled before its answer ends and
stored in the database by the writer — on SQLite and PostgreSQL alike, through the driver,
with what `audit verify` recomputes matching what the proxy journalled. A hub killed with
`kill -9` (alone, or with its writer) loses no record of an answered call, and a record taken
out of the journal is reported by `audit verify`."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from dpghub.config import Settings
from dpghub.core import audit
from dpghub.core.db import make_engine
from dpghub.gateway import journal
from dpghub.gateway.chain import CLOSED, OPENED, digest_of, record_digest
from dpghub.gateway.evidence import Recorder, WriterProcess
from dpghub.gateway.models import CallRecord
from dpghub.gateway.writer import JournalWriter
from tests.conftest import Hub
from tests.support.loopback import free_port
from tests.support.server import DPGHUB, provision_gateway
from tests.support.upstream import serve

FIELDS = ("at", "request_id", "app_id", "consumer_org_id", "service_id", "provider_org_id",
          "subscription_id", "operation", "method", "path", "status", "request_bytes",
          "response_bytes", "upstream_ms", "hub_ms", "outcome", "fault", "request_sha256",
          "response_sha256", "journal", "journal_seq")


def _call(number: int, **changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "at": datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC) + timedelta(seconds=number),
        "request_id": f"req-{number:08d}", "method": "GET",
        "path": "/gw/kasi/spcde/getRestDeInfo?solYear=2026", "client": "app:hanbit/1",
        "service_ref": "kasi/spcde", "outcome": "ok", "service_id": 1, "provider_org_id": 1,
        "app_id": 7, "consumer_org_id": 2, "subscription_id": 3,
        "operation": "getRestDeInfo", "status": 200, "request_bytes": 0,
        "response_bytes": 1234, "upstream_ms": 1.23456, "hub_ms": 0.3333333,
        "request_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "response_sha256": "ab" * 32}
    record.update(changes)
    return record


def test_records_round_trip_and_verify(hub: Hub) -> None:
    recorder = Recorder(hub.factory, root=journal.root_of(hub.settings.home))   # a thread
    calls = [_call(1), _call(2, status=429, outcome="refused", fault="rate_limited",
                                upstream_ms=None, app_id=None, service_id=None),
             _call(3, method="POST", request_bytes=17, path="/gw/kasi/spcde/서울\t\n")]
    for call in calls:
        assert recorder.add(call) is None     # in the journal when add returns
    assert recorder.flush() == 3
    with hub.session() as s:
        records = list(s.scalars(select(CallRecord).order_by(CallRecord.id)))
        assert [r.request_id for r in records] == ["req-00000001", "req-00000002",
                                                   "req-00000003"]
        first, refused, posted = records
        assert first.at == calls[0]["at"] and first.at.tzinfo is not None
        assert first.upstream_ms == 1.235 and first.hub_ms == 0.333
        assert first.path.endswith("?solYear=2026") and first.response_bytes == 1234
        assert refused.app_id is None and refused.fault == "rate_limited"
        assert refused.upstream_ms == 0.0 and refused.status == 429
        assert posted.method == "POST" and posted.request_bytes == 17
        assert posted.path == "/gw/kasi/spcde/서울\t\n"
        assert [(r.journal, r.journal_seq) for r in records] == [
            (recorder.journal.id, 1), (recorder.journal.id, 2), (recorder.journal.id, 3)]
        assert len({first.audit_seq, refused.audit_seq, posted.audit_seq}) == 1
        # the digest the batch lists is the one recomputed from the stored row
        stored = {name: getattr(first, name) for name in FIELDS}
        batch = s.get(audit.AuditEvent, first.audit_seq)
        assert batch is not None and record_digest(stored) in batch.details["records"]
        report = audit.verify(s)
        assert report.ok and report.notes == []
        s.execute(update(CallRecord).where(CallRecord.id == posted.id).values(hub_ms=0.2))
    with hub.session() as s:
        report = audit.verify(s)
        assert not report.ok and report.broken_seq == posted.audit_seq
        assert f"call record {posted.id}" in (report.reason or "")
    recorder.stop()


def test_digest_depends_on_every_field() -> None:
    base = {**_call(1), "journal": "0123456789abcdef", "journal_seq": 1}
    digest = record_digest(base)
    for name, other in (("status", 500), ("path", "/gw/kasi/spcde/x"), ("hub_ms", 0.4),
                        ("at", datetime(2026, 1, 1, tzinfo=UTC)), ("fault", "timeout"),
                        ("response_sha256", "cd" * 32), ("app_id", None),
                        ("journal", "fedcba9876543210"), ("journal_seq", 2)):
        assert record_digest({**base, name: other}) != digest, name
    # latencies count to the microsecond, as stored
    assert record_digest({**base, "upstream_ms": 1.2349}) == digest
    # a record from before the journal keeps the digest its batch listed
    legacy = _call(1)
    assert record_digest(legacy) == digest_of(tuple(legacy.get(name) for name in FIELDS[:19]))
    assert record_digest(legacy) != record_digest({**legacy, "journal": "x", "journal_seq": 1})


def test_writer_process_stores_every_record_and_stops(hub: Hub) -> None:
    """The writer as `dpghub serve` runs it: a child process reading the hub's journal."""
    writer = WriterProcess(hub.settings.database_url or "", hub.settings.home)
    recorder = Recorder(hub.factory, root=journal.root_of(hub.settings.home), process=writer)
    recorder.start()
    for number in range(250):
        recorder.add(_call(number))
    assert recorder.flush() == 250 and writer.running
    recorder.add(_call(999, status=503, outcome="refused", fault="upstream_circuit_open"))
    folder = recorder.journal.folder
    assert folder is not None and folder.is_dir()
    recorder.stop()                   # what is still journalled is stored before it ends
    assert not writer.running and not folder.exists()
    with hub.session() as s:
        records = list(s.scalars(select(CallRecord).order_by(CallRecord.id)))
        assert len(records) == 251 and records[-1].fault == "upstream_circuit_open"
        assert [r.journal_seq for r in records] == list(range(1, 252))
        # the flush stored 250 in one transaction (one audit event), the last came alone
        assert len({r.audit_seq for r in records}) == 2
        closed = s.scalars(select(audit.AuditEvent).where(
            audit.AuditEvent.action == CLOSED)).one()
        assert closed.details["last"] == 251 and closed.details["after_crash"] is False
        report = audit.verify(s)
        assert report.ok and report.notes == []


def test_a_new_writer_process_takes_over_when_one_dies(hub: Hub) -> None:
    writer = WriterProcess(hub.settings.database_url or "", hub.settings.home)
    recorder = Recorder(hub.factory, root=journal.root_of(hub.settings.home), process=writer)
    recorder.add(_call(1))
    assert recorder.flush() == 1
    assert writer._child is not None
    first = writer._child
    first.kill()                          # the writer dies (killed, out of memory, …)
    first.wait()
    recorder.add(_call(2))
    assert recorder.flush() == 1          # a new writer took over
    assert writer.running and writer._child is not first
    recorder.stop()
    with hub.session() as s:
        assert [r.request_id for r in s.scalars(select(CallRecord).order_by(CallRecord.id))] \
            == ["req-00000001", "req-00000002"]
        assert audit.verify(s).ok


def test_a_journal_left_behind_is_stored_by_the_next_writer_and_its_gaps_reported(
        hub: Hub) -> None:
    """A hub process ended without its records stored (killed with its writer): its journal
    stays; `audit verify` says records wait; the next writer stores them; and an entry
    deleted from the journal meanwhile is named as missing."""
    root = journal.root_of(hub.settings.home)
    left = journal.Journal(root)
    for number in range(1, 6):
        left.append(_call(number))
    first_writer = JournalWriter(hub.factory, root, hub_pid=4242)
    first_writer.opened(left.id or "")            # its writer had started, then died
    left.close()
    left.release()                                # its process is gone: the lock is free
    with hub.session() as s:
        report = audit.verify(s)
        assert report.ok
        assert report.notes and "5 call records of hub process 4242 wait" in report.notes[0]
    assert left.folder is not None
    [segment] = journal.segments(left.folder)
    lines = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(b"".join(lines[:2] + lines[3:]))       # entry 3 taken out
    assert JournalWriter(hub.factory, root).replay_orphans() == 4
    assert not left.folder.exists()
    with hub.session() as s:
        assert [r.journal_seq for r in s.scalars(
            select(CallRecord).order_by(CallRecord.journal_seq))] == [1, 2, 4, 5]
        closed = s.scalars(select(audit.AuditEvent).where(
            audit.AuditEvent.action == CLOSED)).one()
        assert closed.details == {"journal": left.id, "last": 5, "after_crash": True,
                                  "damaged_lines": 0}
        report = audit.verify(s)
        assert not report.ok and report.broken_seq == closed.seq
        assert report.reason is not None and "missing: numbers 3 of 1-5" in report.reason


def test_a_journal_removed_before_it_was_stored_is_reported(hub: Hub) -> None:
    root = journal.root_of(hub.settings.home)
    gone = journal.Journal(root)
    gone.append(_call(1))
    JournalWriter(hub.factory, root, hub_pid=4343).opened(gone.id or "")
    gone.close()
    gone.release()
    assert gone.folder is not None
    shutil.rmtree(gone.folder)                    # someone deletes it before it is stored
    with hub.session() as s:
        opened = s.scalars(select(audit.AuditEvent).where(
            audit.AuditEvent.action == OPENED)).one()
        report = audit.verify(s)
    assert not report.ok and report.broken_seq == opened.seq
    assert report.reason is not None and "is gone but was never closed" in report.reason


# --- a real hub process, killed ------------------------------------------------------------


def hub_env(home: Path) -> dict[str, str]:
    return {**os.environ, "DPGHUB_HOME": str(home)}


def make_hub(home: Path, upstream_url: str) -> str:
    """An initialised hub at `home` with a service and an app's key for it."""
    subprocess.run([DPGHUB, "init", "--admin-password", "operator-pass-1"], env=hub_env(home),
                   check=True, capture_output=True)
    return provision_gateway(home, upstream_url)


def wait_for(condition, seconds: float = 90):  # type: ignore[no-untyped-def]
    """Polls `condition` until it gives something true; what it gave last."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@contextmanager
def running_hub(home: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    with open(log, "ab") as output:
        process = subprocess.Popen([DPGHUB, "serve", "--port", str(port)], env=hub_env(home),
                                   stdout=output, stderr=subprocess.STDOUT)

    def healthy() -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/health")
            return connection.getresponse().status == 200
        except OSError:
            return process.poll() is not None      # ended: stop waiting

    try:
        assert wait_for(healthy) and process.poll() is None, log.read_text()
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def answered_calls(port: int, key: str, count: int) -> list[str]:
    """Calls through the gateway, one after another: the request id of every answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ids = []
    for number in range(count):
        connection.request("GET", f"/gw/kasi/spcde/echo/{number}", headers={"X-API-Key": key})
        answer = connection.getresponse()
        answer.read()
        ids.append(answer.getheader("X-Hub-Request-Id"))
    connection.close()
    return ids


def stored_ids(home: Path) -> list[str]:
    engine = make_engine(Settings(home=home).prepare().database_url or "")
    try:
        with engine.connect() as connection:
            return sorted(connection.scalars(select(CallRecord.request_id)))
    finally:
        engine.dispose()


def writer_of(pid: int) -> int | None:
    """The evidence writer process of hub process `pid`."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid and b"dpghub.gateway.evidence" in command:
                return int(entry.name)
    return None


def audit_verify(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DPGHUB, "audit", "verify"], env=hub_env(home), capture_output=True,
                          text=True)


def test_answered_calls_are_all_recorded_when_the_hub_is_killed(tmp_path: Path) -> None:
    home, log = tmp_path / "home", tmp_path / "hub.log"
    with serve() as (upstream_url, _):
        key = make_hub(home, upstream_url)
        with running_hub(home, log) as (hub, port):
            answered = answered_calls(port, key, 20)
            hub.send_signal(signal.SIGKILL)       # right after the last answer arrived
            hub.wait()
        with running_hub(home, log):
            stored = wait_for(lambda: len(stored_ids(home)) >= 20 and stored_ids(home))
            assert stored == sorted(answered), f"{len(stored or [])} of 20 stored"
    report = audit_verify(home)
    assert report.returncode == 0 and "chain intact" in report.stdout, report.stderr
    assert "note:" not in report.stdout


def test_answered_calls_are_all_recorded_when_the_hub_and_its_writer_are_killed(
        tmp_path: Path) -> None:
    """As when the machine's memory runs out, or the container is killed: no process is
    left to store what the hub had answered. The next hub process stores it."""
    home, log = tmp_path / "home", tmp_path / "hub.log"
    with serve() as (upstream_url, _):
        key = make_hub(home, upstream_url)
        with running_hub(home, log) as (hub, port):
            answered = answered_calls(port, key, 1)          # the journal and its writer start
            writer = wait_for(lambda: writer_of(hub.pid))
            assert writer is not None and wait_for(lambda: opened_events(home))
            os.kill(writer, signal.SIGSTOP)     # the writer stalls: what follows stays waiting
            answered += answered_calls(port, key, 20)
            os.kill(writer, signal.SIGKILL)
            hub.send_signal(signal.SIGKILL)
            hub.wait()
        waiting = audit_verify(home)              # before any hub starts again
        assert waiting.returncode == 0, waiting.stderr
        counted = re.search(r"(\d+) call records of hub process \d+ wait", waiting.stdout)
        assert counted and int(counted.group(1)) >= 20, waiting.stdout
        assert int(counted.group(1)) + len(stored_ids(home)) == 21, waiting.stdout
        with running_hub(home, log):
            stored = wait_for(lambda: len(stored_ids(home)) >= 21 and stored_ids(home))
            assert stored == sorted(answered), f"{len(stored or [])} of 21 stored"
            assert wait_for(lambda: not journal.journals(journal.root_of(home)))
    report = audit_verify(home)
    assert report.returncode == 0 and "chain intact" in report.stdout, report.stderr
    assert "note:" not in report.stdout


def opened_events(home: Path) -> int:
    engine = make_engine(Settings(home=home).prepare().database_url or "")
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(audit.AuditEvent)
                                         .where(audit.AuditEvent.action == OPENED)) or 0)
    finally:
        engine.dispose()
