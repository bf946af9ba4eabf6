"""What every agile rule shares: the audit event of a project's change, and Seoul days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ...core import audit
from ...identity.policy import Actor
from ..models import AgileProject

SEOUL = ZoneInfo("Asia/Seoul")


def record(session: Session, actor: Actor, project: AgileProject, action: str,
           target_type: str, target_id: int, **details: object) -> None:
    """One `agile.*` audit event in the caller's transaction, under the lead organization."""
    audit.record(session, actor=actor, action=action, target_type=target_type,
                 target_id=target_id, org_id=project.org_id,
                 details={"project": project.id, **details})


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in Asia/Seoul (the end of an iteration's last day)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=SEOUL)
