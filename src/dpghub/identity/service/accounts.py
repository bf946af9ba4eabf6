"""People's accounts: create, change, passwords, and signing in (with growing delays after
failures instead of locks)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...core import audit
from ...core.db import utcnow
from ...core.errors import (
    Conflict,
    Forbidden,
    HubError,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from ...core.security import hash_password, verify_password
from .. import schemas, throttle
from ..models import User, WebSession
from ..policy import Actor, authorize

# --- users ---------------------------------------------------------------------------------


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


def email_taken(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None


def create_user(
    session: Session, *, actor: Actor, data: schemas.SignUp, is_operator: bool = False
) -> User:
    """Create an account. Self sign-up passes the anonymous actor; operators may pass others."""
    if is_operator and not (actor.is_operator or actor.via == "system"):
        raise Forbidden("Only platform operators may do this", code="forbidden")
    if email_taken(session, data.email):
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
