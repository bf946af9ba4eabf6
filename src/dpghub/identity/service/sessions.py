"""Web sign-ins: start, recognise, end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...core import audit
from ...core.db import utcnow
from ...core.security import digest, new_token
from ..models import User, WebSession
from ..policy import ANONYMOUS, Actor

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
