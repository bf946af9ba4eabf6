"""Portal notices: the lines a domain leaves in a person's inbox (an invitation to a sandbox
project, an application's outcome, a feedback's new status), read on that domain's page and
all together on /notices.

A notice is its reader's own: each function here reads or changes the acting person's notices
only, so no permission check is needed beyond being signed in; an anonymous actor has none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...core.db import utcnow
from ..models import Notice
from ..policy import Actor


def notify(session: Session, user_id: int, text: str, link: str = "", *, domain: str,
           now: datetime | None = None, **params: object) -> Notice:
    """Leave a line for `user_id`. `text` is an English message id with {placeholders} filled
    from `params`; pages translate it when they show it, so each person reads it in their own
    language. `domain` is the domain that speaks ("testbed", "programmes", "agile"); `now` is
    the caller's clock, when it has one."""
    notice = Notice(user_id=user_id, domain=domain, text=text, params=params, link=link,
                    created_at=now or utcnow())
    session.add(notice)
    session.flush()
    return notice


def of_user(session: Session, *, actor: Actor, domain: str | None = None,
            unread_only: bool = False, limit: int = 50) -> list[Notice]:
    """The actor's notices, newest first: of one domain, or of all when `domain` is None."""
    if actor.user_id is None:
        return []
    query = select(Notice).where(Notice.user_id == actor.user_id)
    if domain is not None:
        query = query.where(Notice.domain == domain)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    return list(session.scalars(query.order_by(Notice.created_at.desc(), Notice.id.desc())
                                .limit(limit)))


def mark_read(session: Session, *, actor: Actor, domain: str | None = None,
              now: datetime | None = None) -> int:
    """Mark the actor's unread notices read (of one domain, or all); how many were."""
    if actor.user_id is None:
        return 0
    query = update(Notice).where(Notice.user_id == actor.user_id, Notice.read_at.is_(None))
    if domain is not None:
        query = query.where(Notice.domain == domain)
    result = session.execute(query.values(read_at=now or utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def unread_count(session: Session, *, actor: Actor) -> int:
    """How many notices the actor has not read, in every domain (one COUNT, for the header)."""
    if actor.user_id is None:
        return 0
    return session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == actor.user_id, Notice.read_at.is_(None))) or 0
