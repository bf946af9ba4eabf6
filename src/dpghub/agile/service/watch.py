"""The error watch: incidents opened and resolved from the gateway's call records. Every
minute (app.py) each project's service is looked at over the last five minutes: when more than
the project's `alert_error_rate` of at least `alert_min_calls` calls failed (upstream errors,
timeouts, 5xx — not the hub's own refusals), an incident opens; it is resolved at the first
look, at least a window later, that finds the service healthy again (enough calls under the
threshold, or some calls and none failed). One open gateway incident per project, however many
hub processes watch (a unique index decides)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...gateway import service as gateway
from ...identity.policy import SYSTEM
from ..models import AgileProject, Incident
from .common import record

WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Change:
    project: int
    incident: int
    opened: bool      # else resolved


def check(session: Session, *, now: datetime) -> list[Change]:
    """Look at every watched project's service once; what opened or was resolved."""
    projects = list(session.scalars(select(AgileProject).where(
        AgileProject.service_id.is_not(None), AgileProject.alert_error_rate.is_not(None))))
    counts = gateway.error_counts(session, [p.service_id for p in projects if p.service_id],
                                  now - WINDOW, now)
    changes: list[Change] = []
    for project in projects:
        calls, failed = counts.get(project.service_id or 0, (0, 0))
        threshold = project.alert_error_rate or 0.0
        current = session.scalar(select(Incident).where(
            Incident.project_id == project.id, Incident.source == "gateway",
            Incident.resolved_at.is_(None)))
        failing = calls >= project.alert_min_calls and failed / calls > threshold
        if failing and current is None:
            opened = _open(session, project, calls, failed, now)
            if opened is not None:
                changes.append(Change(project.id, opened.id, True))
        elif current is not None and not failing and current.opened_at <= now - WINDOW and (
                calls >= project.alert_min_calls or (calls and not failed)):
            current.resolved_at = now
            session.flush()
            record(session, SYSTEM, project, "agile.incident.resolve", "agile_incident",
                   current.id, resolved_at=now, source="gateway", calls=calls, failed=failed)
            changes.append(Change(project.id, current.id, False))
    return changes


def _open(session: Session, project: AgileProject, calls: int, failed: int,
          now: datetime) -> Incident | None:
    incident = Incident(project_id=project.id, source="gateway", opened_at=now,
                        title=f"오류율 {failed / calls:.0%} (5분간 {calls}건 중 {failed}건) · "
                              f"error rate {failed / calls:.0%} over 5 minutes "
                              f"({failed} of {calls} calls)")
    try:
        with session.begin_nested():
            session.add(incident)
            session.flush()
    except IntegrityError:      # another hub process opened it a moment ago
        return None
    record(session, SYSTEM, project, "agile.incident.open", "agile_incident", incident.id,
           title=incident.title, opened_at=now, source="gateway", calls=calls, failed=failed,
           threshold=project.alert_error_rate)
    return incident
