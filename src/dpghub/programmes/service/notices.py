"""Lines in a person's portal: the outcome of an application of their organization."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...core.db import utcnow
from ...identity.policy import Actor
from ..models import Notice


def notify(session: Session, user_id: int, text: str, link: str = "", **params: object
           ) -> Notice:
    """`text` is an English message id with {placeholders}; the page translates it when it
    shows it, so each person reads it in their own language."""
    notice = Notice(user_id=user_id, text=text, params=params, link=link)
    session.add(notice)
    session.flush()
    return notice


def unread(session: Session, *, actor: Actor, limit: int = 20) -> list[Notice]:
    if actor.user_id is None:
        return []
    return list(session.scalars(select(Notice).where(Notice.user_id == actor.user_id,
                                                     Notice.read_at.is_(None))
                                .order_by(Notice.id.desc()).limit(limit)))


def mark_read(session: Session, *, actor: Actor) -> None:
    if actor.user_id is not None:
        session.execute(update(Notice).where(Notice.user_id == actor.user_id,
                                             Notice.read_at.is_(None)).values(read_at=utcnow()))
