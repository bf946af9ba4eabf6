"""Who belongs to an organization: members, roles, invitations, and their read views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...core import audit
from ...core.db import utcnow
from ...core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthenticated,
)
from ...core.security import digest, new_token
from .. import schemas
from ..models import Invitation, Membership, Organization, Role, User
from ..policy import Actor, authorize
from .accounts import email_taken, get_user_by_email
from .orgs import orgs_of

INVITATION_DAYS = 14


# --- memberships and invitations ----------------------------------------------------------


def list_members(session: Session, *, actor: Actor, org: Organization) -> list[Membership]:
    authorize(actor, "identity.member.list", org)
    return list(session.scalars(
        select(Membership).options(selectinload(Membership.user))
        .where(Membership.org_id == org.id).order_by(Membership.created_at, Membership.id)
    ))


def _membership(session: Session, org: Organization, user_id: int) -> Membership:
    membership = session.scalar(
        select(Membership).options(selectinload(Membership.user))
        .where(Membership.org_id == org.id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound("User {user_id} is not a member of {org}", code="member_not_found",
                       user_id=user_id, org=org.slug)
    return membership


def add_member(
    session: Session, *, actor: Actor, org: Organization, data: schemas.MembershipCreate
) -> Membership:
    authorize(actor, "identity.member.add", org)
    user = get_user_by_email(session, data.email)
    exists = session.scalar(select(Membership.id).where(
        Membership.org_id == org.id, Membership.user_id == user.id))
    if exists:
        raise Conflict("{email} is already a member of {org}", code="already_member",
                       field="email", email=user.email, org=org.slug)
    membership = Membership(org_id=org.id, user_id=user.id, role=data.role)
    session.add(membership)
    session.flush()
    audit.record(session, actor=actor, action="identity.member.add", target_type="membership",
                 target_id=f"{org.slug}/{user.id}", org_id=org.id,
                 details={"email": user.email, "role": data.role.value})
    session.refresh(membership)
    return membership


def _lock_org(session: Session, org: Organization) -> None:
    """Serialise membership changes of one organization (the last-admin rule needs it)."""
    session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())


def _admins(session: Session, org: Organization) -> int:
    return session.scalar(select(func.count()).select_from(Membership).where(
        Membership.org_id == org.id, Membership.role == Role.admin)) or 0


def update_member(
    session: Session, *, actor: Actor, org: Organization, user_id: int,
    data: schemas.MembershipUpdate,
) -> Membership:
    authorize(actor, "identity.member.update", org)
    _lock_org(session, org)
    membership = _membership(session, org, user_id)
    if membership.role == Role.admin and data.role != Role.admin and _admins(session, org) <= 1:
        raise Conflict("An organization must keep at least one admin", code="last_admin",
                       field="role")
    old = membership.role
    membership.role = data.role
    audit.record(session, actor=actor, action="identity.member.update",
                 target_type="membership", target_id=f"{org.slug}/{user_id}", org_id=org.id,
                 details={"from": old, "to": data.role.value})
    session.flush()
    return membership


def remove_member(session: Session, *, actor: Actor, org: Organization, user_id: int) -> None:
    action = "identity.member.leave" if user_id == actor.user_id else "identity.member.remove"
    authorize(actor, action, org)
    _lock_org(session, org)
    membership = _membership(session, org, user_id)
    if membership.role == Role.admin and _admins(session, org) <= 1:
        raise Conflict("An organization must keep at least one admin", code="last_admin",
                       field="user_id")
    audit.record(session, actor=actor, action=action, target_type="membership",
                 target_id=f"{org.slug}/{user_id}", org_id=org.id,
                 details={"email": membership.user.email, "role": membership.role})
    session.delete(membership)
    session.flush()


def invite(
    session: Session, *, actor: Actor, org: Organization, data: schemas.MembershipCreate,
) -> tuple[Invitation, str]:
    """Invite an address that has no account yet; returns the invitation and its secret."""
    authorize(actor, "identity.member.add", org)
    if email_taken(session, data.email):
        raise Conflict("{email} already has an account; add it as a member directly",
                       code="email_taken", field="email", email=data.email)
    secret = new_token("inv_")
    invitation = Invitation(org_id=org.id, email=data.email, role=data.role,
                            token_hash=digest(secret), invited_by=actor.user_id,
                            expires_at=utcnow() + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    session.flush()
    audit.record(session, actor=actor, action="identity.invitation.create",
                 target_type="invitation", target_id=invitation.id, org_id=org.id,
                 details={"email": data.email, "role": data.role.value})
    session.refresh(invitation)
    return invitation, secret


def add_or_invite(
    session: Session, *, actor: Actor, org: Organization, data: schemas.MembershipCreate,
) -> Membership | tuple[Invitation, str]:
    if email_taken(session, data.email):
        return add_member(session, actor=actor, org=org, data=data)
    return invite(session, actor=actor, org=org, data=data)


def get_invitation(session: Session, secret: str) -> Invitation:
    invitation = session.scalar(
        select(Invitation).options(selectinload(Invitation.organization))
        .where(Invitation.token_hash == digest(secret))
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid", code="invitation_not_found")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already used", code="invitation_used")
    if invitation.expires_at <= utcnow():
        raise Conflict("This invitation expired; ask for a new one", code="invitation_expired")
    return invitation


def accept_invitation(session: Session, *, actor: Actor, secret: str) -> Membership:
    invitation = get_invitation(session, secret)
    if actor.user_id is None:
        raise Unauthenticated()
    if (actor.email or "").lower() != invitation.email.lower():
        raise Forbidden("This invitation is for {email}; sign in with that address",
                        code="invitation_other_user", email=invitation.email)
    invitation.accepted_at = utcnow()
    membership = Membership(org_id=invitation.org_id, user_id=actor.user_id,
                            role=invitation.role)
    session.add(membership)
    session.flush()
    audit.record(session, actor=actor, action="identity.invitation.accept",
                 target_type="membership",
                 target_id=f"{invitation.organization.slug}/{actor.user_id}",
                 org_id=invitation.org_id, details={"role": invitation.role})
    return membership


def pending_invitations(session: Session, *, actor: Actor, org: Organization) -> list[Invitation]:
    authorize(actor, "identity.member.list", org)
    return list(session.scalars(
        select(Invitation).where(Invitation.org_id == org.id, Invitation.accepted_at.is_(None),
                                 Invitation.expires_at > utcnow())
        .order_by(Invitation.id.desc())
    ))


def membership_reads(memberships: list[Membership]) -> list[schemas.MembershipRead]:
    return [schemas.MembershipRead(user_id=m.user_id, email=m.user.email,
                                   display_name=m.user.display_name, role=Role(m.role),
                                   created_at=m.created_at) for m in memberships]


def user_read(session: Session, user: User) -> schemas.UserRead:
    return schemas.UserRead(
        id=user.id, email=user.email, display_name=user.display_name, language=user.language,
        is_operator=user.is_operator, created_at=user.created_at,
        memberships=[schemas.MembershipSummary(org=o.slug, name_ko=o.name_ko, name_en=o.name_en,
                                               role=Role(r)) for o, r in orgs_of(session, user.id)],
    )


def invitation_read(invitation: Invitation) -> dict[str, Any]:
    return dict(id=invitation.id, org=invitation.organization.slug, email=invitation.email,
                role=invitation.role, expires_at=invitation.expires_at,
                accepted_at=invitation.accepted_at)
