"""The audit chain on both backends: any altered, deleted or reordered event is named."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from dpghub.core import audit
from dpghub.core.audit import AuditCheckpoint, AuditEvent
from dpghub.core.security import load_signing_key
from tests.conftest import Hub


def _fill(hub: Hub, n: int) -> None:
    with hub.session() as s:
        for i in range(n):
            audit.record(s, actor="system:test", action="test.event", target_type="thing",
                         target_id=i, details={"i": i, "이름": "값"})


def _verify(hub: Hub) -> audit.VerifyReport:
    key = load_signing_key(hub.settings.home).public_key()
    with hub.session() as s:
        return audit.verify(s, key)


def test_an_untouched_chain_verifies_with_signed_checkpoints(hub: Hub) -> None:
    _fill(hub, 205)
    report = _verify(hub)
    assert report.ok and report.events == 205
    assert report.checkpoints == 2  # every CHECKPOINT_EVERY (100) events


def test_an_altered_detail_is_named(hub: Hub) -> None:
    _fill(hub, 10)
    with hub.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(details={"i": 99}))
    report = _verify(hub)
    assert not report.ok and report.broken_seq == 4 and "altered" in (report.reason or "")


def test_an_altered_event_with_a_recomputed_hash_breaks_the_next_link(hub: Hub) -> None:
    _fill(hub, 10)
    with hub.session() as s:
        event = s.get(AuditEvent, 4)
        assert event is not None
        event.actor = "user:666:mallory"
        event.hash = audit.event_hash(seq=4, at=event.at, actor=event.actor, action=event.action,
                                      target_type=event.target_type, target_id=event.target_id,
                                      org_id=event.org_id, details=event.details,
                                      prev_hash=event.prev_hash)
    report = _verify(hub)
    assert not report.ok and report.broken_seq == 5


def test_a_deleted_event_is_named(hub: Hub) -> None:
    _fill(hub, 10)
    with hub.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == 6))
    report = _verify(hub)
    assert not report.ok and report.broken_seq == 6 and "missing" in (report.reason or "")


def test_deleting_the_newest_events_is_detected(hub: Hub) -> None:
    _fill(hub, 10)
    with hub.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq > 8))
    report = _verify(hub)
    assert not report.ok and report.broken_seq == 9


def test_reordered_events_are_detected(hub: Hub) -> None:
    _fill(hub, 10)
    with hub.session() as s:
        # swap the content of events 3 and 7, keeping their numbers
        s.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(seq=-3))
        s.execute(update(AuditEvent).where(AuditEvent.seq == 7).values(seq=3))
        s.execute(update(AuditEvent).where(AuditEvent.seq == -3).values(seq=7))
    report = _verify(hub)
    assert not report.ok and report.broken_seq == 3


def test_a_rewritten_log_contradicts_its_signed_checkpoint(hub: Hub) -> None:
    """Rewrite everything consistently: only the Ed25519 checkpoint can tell."""
    _fill(hub, 100)
    with hub.session() as s:
        prev = audit.GENESIS
        for event in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            if event.seq == 50:
                event.details = {"i": "forged"}
            event.prev_hash = prev
            event.hash = audit.event_hash(seq=event.seq, at=event.at, actor=event.actor,
                                          action=event.action, target_type=event.target_type,
                                          target_id=event.target_id, org_id=event.org_id,
                                          details=event.details, prev_hash=prev)
            prev = event.hash
        s.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    report = _verify(hub)
    assert not report.ok and report.broken_seq == 100 and "checkpoint" in (report.reason or "")


def test_a_forged_checkpoint_signature_is_refused(hub: Hub) -> None:
    _fill(hub, 100)
    with hub.session() as s:
        s.execute(update(AuditCheckpoint).values(signature="AAAA" + "A" * 84))
    report = _verify(hub)
    assert not report.ok and "signature" in (report.reason or "")


@pytest.mark.parametrize("n", [1, 3])
def test_checkpoint_on_demand_signs_the_head_once(hub: Hub, n: int) -> None:
    _fill(hub, n)
    key = load_signing_key(hub.settings.home)
    with hub.session() as s:
        first = audit.checkpoint(s, key)
        assert first is not None and first.seq == n
    with hub.session() as s:
        assert audit.checkpoint(s, key) is None
