"""Every identity rule: organizations, users, memberships, invitations, tokens, sign-in.

Functions take a session and the acting `Actor`, check permission with `authorize`, change
state, write the audit event, and flush. The caller (request or command) commits once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..core import audit
from ..core.db import utcnow
from ..core.errors import (
    Conflict,
    Forbidden,
    HubError,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from ..core.pagination import check_limit, decode_cursor, encode_cursor
from ..core.security import TOKEN_PREFIX, digest, hash_password, new_token, verify_password
from . import schemas, throttle
from .models import ApiToken, Invitation, Membership, Organization, Role, User, WebSession
from .policy import ANONYMOUS, Actor, authorize

INVITATION_DAYS = 14
LAST_USED_RESOLUTION = timedelta(seconds=60)


# --- organizations -------------------------------------------------------------------------


def get_org_by_slug(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound("Organization {slug} does not exist", code="org_not_found", slug=slug)
    return org


def get_org_by_id(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("Organization {slug} does not exist", code="org_not_found", slug=org_id)
    return org


def list_orgs(
    session: Session, *, limit: int = 50, cursor: str | None = None,
    verified: bool | None = None,
) -> tuple[list[Organization], str | None]:
    check_limit(limit)
    query = select(Organization).order_by(Organization.slug)
    after = decode_cursor(cursor)
    if after:
        query = query.where(Organization.slug > str(after[0]))
    if verified is not None:
        query = query.where(Organization.verified.is_(verified))
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].slug]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def orgs_of(session: Session, user_id: int) -> list[tuple[Organization, str]]:
    rows = session.execute(
        select(Organization, Membership.role).join(Membership)
        .where(Membership.user_id == user_id).order_by(Organization.slug)
    )
    return [(org, role) for org, role in rows]


def create_org(
    session: Session, *, actor: Actor, data: schemas.OrganizationCreate
) -> Organization:
    """Create an organization; a user who creates one becomes its admin."""
    authorize(actor, "identity.org.create")
    if session.scalar(select(Organization.id).where(Organization.slug == data.slug)):
        raise Conflict("The slug {slug} is already taken", code="slug_taken", field="slug",
                       slug=data.slug)
    org = Organization(**data.model_dump(), verified=False)
    session.add(org)
    session.flush()
    if actor.user_id is not None:
        session.add(Membership(org_id=org.id, user_id=actor.user_id, role=Role.admin))
    audit.record(session, actor=actor, action="identity.org.create", target_type="organization",
                 target_id=org.slug, org_id=org.id, details=data.model_dump(mode="json"))
    session.flush()
    return org


def update_org(
    session: Session, *, actor: Actor, org: Organization, data: schemas.OrganizationUpdate
) -> Organization:
    authorize(actor, "identity.org.update", org)
    changes = data.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(org, name, value)
    audit.record(session, actor=actor, action="identity.org.update", target_type="organization",
                 target_id=org.slug, org_id=org.id, details=changes)
    session.flush()
    return org


def verify_org(
    session: Session, *, actor: Actor, org: Organization, verified: bool = True
) -> Organization:
    authorize(actor, "identity.org.verify", org)
    org.verified = verified
    org.verified_at = utcnow() if verified else None
    audit.record(session, actor=actor, action="identity.org.verify", target_type="organization",
                 target_id=org.slug, org_id=org.id, details={"verified": verified})
    session.flush()
    return org


# --- users ---------------------------------------------------------------------------------


def counts(session: Session) -> dict[str, int]:
    """How many organizations and people the hub has (the home page says so)."""
    return {"orgs": session.scalar(select(func.count()).select_from(Organization)) or 0,
            "users": session.scalar(select(func.count()).select_from(User)) or 0}


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User {user_id} does not exist", code="user_not_found", user_id=user_id)
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        raise NotFound("No account uses {email}", code="user_not_found", field="email",
                       email=email)
    return user


def _email_taken(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None


def create_user(
    session: Session, *, actor: Actor, data: schemas.SignUp, is_operator: bool = False
) -> User:
    """Create an account. Self sign-up passes the anonymous actor; operators may pass others."""
    if is_operator and not (actor.is_operator or actor.via == "system"):
        raise Forbidden("Only platform operators may do this", code="forbidden")
    if _email_taken(session, data.email):
        raise Conflict("An account with {email} already exists", code="email_taken",
                       field="email", email=data.email)
    user = User(email=data.email, display_name=data.display_name,
                password_hash=hash_password(data.password), language=data.language,
                is_operator=is_operator)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same address
        raise Conflict("An account with {email} already exists", code="email_taken",
                       field="email", email=data.email) from exc
    ref = actor.audit_ref if actor.is_authenticated else f"user:{user.id}:{user.email}:signup"
    audit.record(session, actor=ref, action="identity.user.create", target_type="user",
                 target_id=user.id, details={"email": user.email, "operator": is_operator})
    return user


def update_user(
    session: Session, *, actor: Actor, user: User, data: schemas.UserUpdate
) -> User:
    authorize(actor, "identity.user.update", user)
    changes = data.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(user, name, value)
    audit.record(session, actor=actor, action="identity.user.update", target_type="user",
                 target_id=user.id, details=changes)
    session.flush()
    return user


def change_password(
    session: Session, *, actor: Actor, user: User, data: schemas.PasswordChange,
    keep_session_hash: str | None = None,
) -> None:
    """Change one's password; every other web sign-in of the account ends."""
    authorize(actor, "identity.user.update", user)
    if not verify_password(user.password_hash, data.current_password):
        raise Invalid("The current password is wrong", code="wrong_password",
                      field="current_password")
    user.password_hash = hash_password(data.new_password)
    for web in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        if web.token_hash != keep_session_hash:
            session.delete(web)
    audit.record(session, actor=actor, action="identity.user.password", target_type="user",
                 target_id=user.id)
    session.flush()


def set_password(session: Session, *, actor: Actor, user: User, password: str) -> None:
    """Operator reset (CLI): sets a password, lifts sign-in delays on the account from every
    address, and ends every web sign-in."""
    if not (actor.is_operator or actor.via == "system"):
        raise Forbidden("Only platform operators may do this", code="forbidden")
    schemas.PasswordChange(current_password="", new_password=password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    throttle.lift(session, user.email)
    for web in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        session.delete(web)
    audit.record(session, actor=actor, action="identity.user.password_reset",
                 target_type="user", target_id=user.id)
    session.flush()


@dataclass
class SignInResult:
    user: User | None
    error: HubError | None


def authenticate(
    session: Session, *, email: str, password: str, address: str,
    limits: throttle.Limits, now: datetime | None = None,
) -> SignInResult:
    """Check a password; after repeated failures from one address, make that address wait
    (growing delays) for that account, exactly alike for accounts that do not exist.

    The result is returned, not raised, so the caller can commit the failure count before
    answering with the error.
    """
    now = now or utcnow()
    left = throttle.wait_left(session, email, address, now)
    if left > 0:
        return SignInResult(None, _slow_down(left))
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    wrong = Unauthenticated("The e-mail address or password is wrong", code="wrong_credentials")
    if user is None or not verify_password(user.password_hash, password):
        if user is None:
            verify_password(None, password)  # same time as a real check
        delay = throttle.failed(session, email, address, now, limits)
        if user is not None:
            audit.record(session, actor=f"user:{user.id}:{user.email}:signin",
                         action="identity.user.sign_in_failed", target_type="user",
                         target_id=user.id, details={"address": address,
                                                     "delay_seconds": delay})
        session.flush()
        return SignInResult(None, wrong)
    if not user.is_active:     # told only to whoever knows the password
        return SignInResult(None, Forbidden("This account is disabled", code="account_disabled"))
    throttle.succeeded(session, email, address)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return SignInResult(user, None)


def _slow_down(seconds: float) -> TooManyRequests:
    wait = max(1, math.ceil(seconds))
    return TooManyRequests("Too many failed sign-ins from this address; try again in "
                           "{seconds} seconds", code="sign_in_throttled", seconds=wait,
                           headers={"Retry-After": str(wait)})


# --- web sessions --------------------------------------------------------------------------


def start_web_session(session: Session, *, user: User, hours: int) -> str:
    raw = new_token("s_")
    session.add(WebSession(token_hash=digest(raw), user_id=user.id,
                           expires_at=utcnow() + timedelta(hours=hours)))
    audit.record(session, actor=f"user:{user.id}:{user.email}:session",
                 action="identity.user.sign_in", target_type="user", target_id=user.id)
    session.flush()
    return raw


def actor_from_web_session(session: Session, raw: str | None) -> Actor:
    if not raw:
        return ANONYMOUS
    web = session.scalar(
        select(WebSession).options(selectinload(WebSession.user).selectinload(User.memberships))
        .where(WebSession.token_hash == digest(raw))
    )
    if web is None or web.expires_at <= utcnow() or not web.user.is_active:
        return ANONYMOUS
    return Actor.for_user(web.user, via="session")


def end_web_session(session: Session, raw: str | None) -> None:
    if not raw:
        return
    web = session.scalar(select(WebSession).where(WebSession.token_hash == digest(raw)))
    if web is not None:
        audit.record(session, actor=f"user:{web.user_id}::session",
                     action="identity.user.sign_out", target_type="user", target_id=web.user_id)
        session.delete(web)
        session.flush()


# --- API tokens ----------------------------------------------------------------------------


def create_token(
    session: Session, *, actor: Actor, user: User, data: schemas.TokenCreate
) -> tuple[ApiToken, str]:
    """Create a personal token; the secret is returned once and only its hash is kept."""
    authorize(actor, "identity.token.manage", user)
    secret = new_token(TOKEN_PREFIX)
    expires = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    token = ApiToken(user_id=user.id, name=data.name, prefix=secret[: len(TOKEN_PREFIX) + 6],
                     token_hash=digest(secret), scopes=sorted({s.value for s in data.scopes}),
                     expires_at=expires)
    session.add(token)
    session.flush()
    audit.record(session, actor=actor, action="identity.token.create", target_type="token",
                 target_id=token.id, details={"name": token.name, "scopes": token.scopes,
                                              "user": user.id})
    return token, secret


def list_tokens(session: Session, *, actor: Actor, user: User) -> list[ApiToken]:
    authorize(actor, "identity.token.list", user)
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ))


def revoke_token(session: Session, *, actor: Actor, user: User, token_id: int) -> ApiToken:
    authorize(actor, "identity.token.manage", user)
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("Token {token_id} does not exist", code="token_not_found",
                       token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor=actor, action="identity.token.revoke", target_type="token",
                     target_id=token.id, details={"name": token.name})
        session.flush()
    return token


def actor_from_token(session: Session, raw: str) -> Actor:
    """The actor a bearer token stands for; a clear refusal when it cannot be used."""
    token = session.scalar(
        select(ApiToken).options(selectinload(ApiToken.user).selectinload(User.memberships))
        .where(ApiToken.token_hash == digest(raw.strip()))
    )
    now = utcnow()
    if token is None:
        raise Unauthenticated("The token is not valid", code="token_invalid")
    if token.revoked_at is not None:
        raise Unauthenticated("The token was revoked", code="token_revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("The token expired on {date}", code="token_expired",
                              date=token.expires_at.date().isoformat())
    if not token.user.is_active:
        raise Unauthenticated("This account is disabled", code="account_disabled")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return Actor.for_user(token.user, via="token", scopes=frozenset(token.scopes))


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
    if _email_taken(session, data.email):
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
    if _email_taken(session, data.email):
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
