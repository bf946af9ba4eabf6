"""What operators read: the audit log and its verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.errors import Invalid
from ...core.pagination import check_limit
from ..models import User
from ..policy import PLATFORM_ROLES, Actor, authorize

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


# --- platform roles ------------------------------------------------------------------------


def set_platform_role(session: Session, *, actor: Actor, user: User, role: str,
                      granted: bool = True) -> User:
    """Grant (or take back) a platform role: support staff of the testbed and, later, the
    key manager of linkage salts are people operators name, not members of an organization."""
    authorize(actor, "identity.platform_role.grant")
    if role not in PLATFORM_ROLES:
        raise Invalid("Unknown platform role {role}; known: {known}", code="unknown_role",
                      field="role", role=role, known=", ".join(PLATFORM_ROLES))
    roles = set((user.platform_roles or "").split())
    roles = roles | {role} if granted else roles - {role}
    user.platform_roles = " ".join(sorted(roles))
    audit.record(session, actor=actor, action="identity.platform_role." +
                 ("grant" if granted else "revoke"), target_type="user", target_id=user.id,
                 details={"role": role})
    session.flush()
    return user


def users_with_role(session: Session, role: str) -> list[User]:
    return [u for u in session.scalars(select(User).where(User.platform_roles.contains(role)))
            if role in (u.platform_roles or "").split()]
