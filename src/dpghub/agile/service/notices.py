"""Lines in a person's portal: a feedback they gave or voted on changed status."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...core.db import utcnow
from ...identity.policy import Actor
from ..models import FeedbackNotice


def notify(session: Session, user_id: int, text: str, link: str = "", **params: object
           ) -> FeedbackNotice:
    """`text` is an English message id with {placeholders}; the page translates it when it
    shows it, so each person reads it in their own language."""
    notice = FeedbackNotice(user_id=user_id, text=text, params=params, link=link)
    session.add(notice)
    session.flush()
    return notice


def of_user(session: Session, *, actor: Actor, unread_only: bool = False,
            limit: int = 50) -> list[FeedbackNotice]:
    if actor.user_id is None:
        return []
    query = select(FeedbackNotice).where(FeedbackNotice.user_id == actor.user_id)
    if unread_only:
        query = query.where(FeedbackNotice.read_at.is_(None))
    return list(session.scalars(query.order_by(FeedbackNotice.id.desc()).limit(limit)))


def mark_read(session: Session, *, actor: Actor) -> None:
    if actor.user_id is not None:
        session.execute(update(FeedbackNotice).where(FeedbackNotice.user_id == actor.user_id,
                                                     FeedbackNotice.read_at.is_(None))
                        .values(read_at=utcnow()))
