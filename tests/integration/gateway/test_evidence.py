"""The evidence writer on both databases: call records go in through the driver (not the ORM),
so what is read back — values, aware UTC times — and what `audit verify` recomputes must match
what the proxy queued, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from dpghub.core import audit
from dpghub.gateway.evidence import Recorder, digest_of, record_digest
from dpghub.gateway.models import CallRecord
from tests.conftest import Hub


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
    recorder = Recorder(hub.factory, batch=2)
    calls = [_call(1), _call(2, status=429, outcome="refused", fault="rate_limited",
                                upstream_ms=None, app_id=None, service_id=None),
             _call(3, method="POST", request_bytes=17)]
    for call in calls:
        recorder.add(call)
    assert recorder.flush() == 3              # two batches: two audit events
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
        assert len({first.audit_seq, refused.audit_seq, posted.audit_seq}) == 2
        # the digest the batch lists is the one recomputed from the stored row
        stored = {name: getattr(first, name) for name in
                  ("at", "request_id", "app_id", "consumer_org_id", "service_id",
                   "provider_org_id", "subscription_id", "operation", "method", "path",
                   "status", "request_bytes", "response_bytes", "upstream_ms", "hub_ms",
                   "outcome", "fault", "request_sha256", "response_sha256")}
        batch = s.get(audit.AuditEvent, first.audit_seq)
        assert batch is not None and record_digest(stored) in batch.details["records"]
        assert audit.verify(s).ok
        s.execute(update(CallRecord).where(CallRecord.id == posted.id).values(hub_ms=0.2))
    with hub.session() as s:
        report = audit.verify(s)
        assert not report.ok and report.broken_seq == posted.audit_seq
        assert f"call record {posted.id}" in (report.reason or "")


def test_digest_depends_on_every_field() -> None:
    base = _call(1)
    digest = record_digest(base)
    for name, other in (("status", 500), ("path", "/gw/kasi/spcde/x"), ("hub_ms", 0.4),
                        ("at", datetime(2026, 1, 1, tzinfo=UTC)), ("fault", "timeout"),
                        ("response_sha256", "cd" * 32), ("app_id", None)):
        assert record_digest({**base, name: other}) != digest, name
    # latencies count to the microsecond, as stored
    assert record_digest({**base, "upstream_ms": 1.2349}) == digest
    assert digest_of(tuple(base.get(name) for name in (
        "at", "request_id", "app_id", "consumer_org_id", "service_id", "provider_org_id",
        "subscription_id", "operation", "method", "path", "status", "request_bytes",
        "response_bytes", "upstream_ms", "hub_ms", "outcome", "fault", "request_sha256",
        "response_sha256"))) == digest


def test_writer_process_stores_every_record_and_stops(hub: Hub) -> None:
    """The writer as `dpghub serve` runs it: a child process fed through a pipe."""
    from dpghub.gateway.evidence import WriterProcess

    writer = WriterProcess(hub.settings.database_url or "", hub.settings.home)
    recorder = Recorder(hub.factory, batch=100, process=writer)
    recorder.start()
    for number in range(250):
        recorder.add(_call(number))
    assert recorder.flush() == 250 and writer.running
    recorder.add(_call(999, status=503, outcome="refused", fault="upstream_circuit_open"))
    recorder.stop()                       # what is still queued is written before it ends
    assert not writer.running
    with hub.session() as s:
        records = list(s.scalars(select(CallRecord).order_by(CallRecord.id)))
        assert len(records) == 251 and records[-1].fault == "upstream_circuit_open"
        # the flush's batches of 100, 100 and 50 arrive together: the writer stores them in
        # one transaction (one audit event); the last record comes alone
        assert len({r.audit_seq for r in records}) == 2
        assert audit.verify(s).ok


def test_a_new_writer_process_takes_over_when_one_dies(hub: Hub) -> None:
    from dpghub.gateway.evidence import WriterProcess

    writer = WriterProcess(hub.settings.database_url or "", hub.settings.home)
    recorder = Recorder(hub.factory, process=writer)
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
