"""Personal API tokens: created shown once, stored as digests, listed, revoked, recognised."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...core import audit
from ...core.db import utcnow
from ...core.errors import (
    NotFound,
    Unauthenticated,
)
from ...core.security import TOKEN_PREFIX, digest, new_token
from .. import schemas
from ..models import ApiToken, User
from ..policy import Actor, authorize

LAST_USED_RESOLUTION = timedelta(seconds=60)


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
