"""The evidence log: append-only, every entry chained to the previous one by SHA-256.

`record()` is called by services inside their own transaction, so an event exists exactly when
its state change was committed. Writers serialise on the single `audit_head` row (an UPDATE
takes the row lock on PostgreSQL and the write lock on SQLite), so the chain never forks.
Every `CHECKPOINT_EVERY` events, and on demand, the head is signed with the hub's Ed25519 key:
a checkpoint proves what the log held, even if someone later rewrites rows and hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import JSON, ForeignKey, Integer, String, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow

GENESIS = "0" * 64
CHECKPOINT_EVERY = 100
SIGNING_KEY_INFO = "signing_key"


class AuditActor(Protocol):
    @property
    def audit_ref(self) -> str: ...  # e.g. "user:12", "system"


class AuditEvent(Base):
    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the newest sequence number and hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(ForeignKey("audit_event.seq", ondelete="RESTRICT"))
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    public_key: Mapped[str] = mapped_column(String(100))
    signature: Mapped[str] = mapped_column(String(200))


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    org_id: int | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    body = json.dumps(
        [seq, at.isoformat(), actor, action, target_type, target_id, org_id, details, prev_hash],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: AuditActor | str,
    action: str,
    target_type: str,
    target_id: str | int,
    org_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction."""
    actor_ref = actor if isinstance(actor, str) else actor.audit_ref
    details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    row = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).first()
    if row is None:
        session.add(AuditHead(id=1, seq=1, hash=GENESIS))
        session.flush()
        seq, prev = 1, GENESIS
    else:
        seq, prev = row
    at = utcnow()
    fields = dict(
        seq=seq, at=at, actor=actor_ref, action=action, target_type=target_type,
        target_id=str(target_id), org_id=org_id, details=details, prev_hash=prev,
    )
    event = AuditEvent(**fields, hash=event_hash(**fields))
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    session.flush()
    key = session.info.get(SIGNING_KEY_INFO)
    if key is not None and seq % CHECKPOINT_EVERY == 0:
        _sign_checkpoint(session, key, seq, event.hash)
    return event


def record_many(session: Session, events: list[dict[str, Any]]) -> list[int]:
    """Append many events at once (the gateway's call records): one head update, one bulk
    insert. Each dict has actor, action, target_type, target_id, org_id, details (and may
    have `at`). Returns their sequence numbers, in order."""
    if not events:
        return []
    count = len(events)
    row = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + count)
        .returning(AuditHead.seq, AuditHead.hash)
    ).first()
    if row is None:
        session.add(AuditHead(id=1, seq=count, hash=GENESIS))
        session.flush()
        last, prev = count, GENESIS
    else:
        last, prev = row
    first = last - count + 1
    rows = []
    for offset, item in enumerate(events):
        fields = dict(
            seq=first + offset, at=item.get("at") or utcnow(), actor=str(item["actor"]),
            action=item["action"], target_type=item["target_type"],
            target_id=str(item["target_id"]), org_id=item.get("org_id"),
            details=json.loads(json.dumps(item.get("details") or {}, ensure_ascii=False,
                                          default=str)),
            prev_hash=prev)
        prev = event_hash(**fields)
        rows.append({**fields, "hash": prev})
    session.execute(insert(AuditEvent), rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))
    key = session.info.get(SIGNING_KEY_INFO)
    signed = last - last % CHECKPOINT_EVERY
    if key is not None and signed >= first:
        _sign_checkpoint(session, key, signed, rows[signed - first]["hash"])
    return [r["seq"] for r in rows]


def checkpoint(session: Session, key: Ed25519PrivateKey) -> AuditCheckpoint | None:
    """Sign the current head, unless it is already signed; None when the log is empty."""
    head = session.get(AuditHead, 1)
    if head is None:
        return None
    last = session.scalar(select(func.max(AuditCheckpoint.seq)))
    if last == head.seq:
        return None
    return _sign_checkpoint(session, key, head.seq, head.hash)


def _checkpoint_message(seq: int, hash_: str) -> bytes:
    return f"dpghub-audit-checkpoint:{seq}:{hash_}".encode()


def _sign_checkpoint(
    session: Session, key: Ed25519PrivateKey, seq: int, hash_: str
) -> AuditCheckpoint:
    from .security import public_key_bytes

    signature = key.sign(_checkpoint_message(seq, hash_))
    cp = AuditCheckpoint(
        seq=seq,
        hash=hash_,
        at=utcnow(),
        public_key=base64.b64encode(public_key_bytes(key)).decode(),
        signature=base64.b64encode(signature).decode(),
    )
    session.add(cp)
    session.flush()
    return cp


@dataclass
class VerifyReport:
    ok: bool
    events: int
    checkpoints: int
    broken_seq: int | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "events": self.events, "checkpoints": self.checkpoints,
            "broken_seq": self.broken_seq, "reason": self.reason, "notes": self.notes,
        }


class Note(str):
    """What an attached check says that does not break the chain (e.g. call records still
    waiting in a hub process's journal); `verify` lists it in the report's notes."""


# Checks of what an event vouches for outside the log (e.g. the gateway's call records,
# whose hashes a batch event lists): action → checker(session, event) → a reason, a Note,
# or None.
ATTACHED: dict[str, Callable[[Session, AuditEvent], str | None]] = {}


def attach(action: str, checker: Callable[[Session, AuditEvent], str | None]) -> None:
    ATTACHED[action] = checker


def verify(session: Session, trusted_key: Ed25519PublicKey | None = None) -> VerifyReport:
    """Walk the whole chain; report the first entry that was altered, deleted or reordered.

    With `trusted_key`, checkpoints must also be signed by that key (the hub's own); without
    it, each checkpoint is checked against the key it names.
    """
    expected_prev = GENESIS
    expected_seq = 1
    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    wanted = {cp.seq for cp in checkpoints}
    hashes: dict[int, str] = {}
    notes: list[str] = []
    count = 0
    for event in session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    ):
        count += 1
        if event.seq != expected_seq:
            return VerifyReport(False, count, 0, expected_seq,
                                f"event {expected_seq} is missing (deleted or renumbered)")
        if event.prev_hash != expected_prev:
            return VerifyReport(False, count, 0, event.seq,
                                f"event {event.seq} does not follow event {event.seq - 1} "
                                "(reordered, or an earlier event was replaced)")
        recomputed = event_hash(
            seq=event.seq, at=event.at, actor=event.actor, action=event.action,
            target_type=event.target_type, target_id=event.target_id, org_id=event.org_id,
            details=event.details, prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            return VerifyReport(False, count, 0, event.seq,
                                f"event {event.seq} was altered (its content does not match "
                                "its hash)")
        checker = ATTACHED.get(event.action)
        if checker is not None:
            fault = checker(session, event)
            if isinstance(fault, Note):
                notes.append(str(fault))
            elif fault:
                return VerifyReport(False, count, 0, event.seq, fault, notes)
        if event.seq in wanted:
            hashes[event.seq] = event.hash
        expected_prev = event.hash
        expected_seq += 1
    head = session.get(AuditHead, 1)
    if head is not None and head.seq != expected_seq - 1:
        return VerifyReport(False, count, 0, expected_seq,
                            f"events {expected_seq}..{head.seq} are missing (deleted)")
    if head is not None and head.hash != expected_prev:
        return VerifyReport(False, count, 0, head.seq, "the chain head does not match the last "
                            "event")
    checked = 0
    for cp in checkpoints:
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(cp.public_key))
            if trusted_key is not None:
                from .security import public_key_bytes

                if public_key_bytes(public) != public_key_bytes(trusted_key):
                    raise InvalidSignature
            public.verify(base64.b64decode(cp.signature), _checkpoint_message(cp.seq, cp.hash))
        except (InvalidSignature, ValueError):
            return VerifyReport(False, count, checked, cp.seq,
                                f"the checkpoint at event {cp.seq} has no valid hub signature")
        if hashes.get(cp.seq) != cp.hash:
            return VerifyReport(False, count, checked, cp.seq,
                                f"event {cp.seq} differs from what the signed checkpoint "
                                "recorded (the log was rewritten)")
        checked += 1
    return VerifyReport(True, count, checked, notes=notes)
