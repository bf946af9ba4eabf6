"""What operators read: the audit log and its verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.pagination import check_limit
from ..policy import Actor, authorize

# --- operator views ------------------------------------------------------------------------


def audit_events(
    session: Session, *, actor: Actor, limit: int = 50, before: int | None = None,
    action: str | None = None,
) -> list[audit.AuditEvent]:
    """Newest first; `before` is the sequence number to page below."""
    authorize(actor, "core.audit.read")
    check_limit(limit)
    query = select(audit.AuditEvent).order_by(audit.AuditEvent.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(audit.AuditEvent.seq < before)
    if action:
        query = query.where(audit.AuditEvent.action == action)
    return list(session.scalars(query))


def audit_verify(session: Session, *, actor: Actor, trusted_key: Any = None) -> audit.VerifyReport:
    authorize(actor, "core.audit.read")
    return audit.verify(session, trusted_key)
