"""Delivery metrics of a project over a window [from, to) and per week (weeks start on Monday
00:00 Asia/Seoul, clipped to the window). The definitions, exactly as docs/agile.md and the
portal's metrics page state them:

- deployment_frequency: successful deployments (`deployed_at` in the window) ÷ the window's
  length in weeks;
- lead_time_median_hours: median over those successful deployments of deployed_at − the
  earliest commit time it carries;
- change_failure_rate: deployments in the window with status failure or rolled_back ÷ all
  deployments in the window (None without deployments);
- time_to_restore_median_hours: median over incidents resolved in the window of
  resolved_at − opened_at;
- feedback_lead_time_median_hours: median over the service's feedback completed by a release
  released in the window of released_at − the feedback's created_at;
- feedback_response_median_hours: median over the service's feedback first answered (its first
  status change) in the window of that time − created_at.
A median of nothing is None."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.errors import Invalid
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import AgileProject, Deployment, DeploymentStatus, Feedback, Incident, Release
from .common import SEOUL

DEFAULT_WEEKS = 12
LONGEST = timedelta(days=3 * 366)
HOUR = 3600.0


@dataclass(frozen=True)
class Events:
    """Everything the metrics are made of: (time, …) tuples read once."""

    deployments: list[tuple[datetime, str, float | None]]    # deployed_at, status, lead (h)
    restores: list[tuple[datetime, float]]                    # resolved_at, hours
    feedback_leads: list[tuple[datetime, float]]              # released_at, hours
    responses: list[tuple[datetime, float]]                   # first_response_at, hours


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / HOUR


def events(session: Session, project: AgileProject) -> Events:
    deployments = [(d.deployed_at, d.status,
                    _hours(d.deployed_at, d.first_commit_at) if d.first_commit_at else None)
                   for d in session.scalars(select(Deployment)
                                            .where(Deployment.project_id == project.id))]
    restores = [(i.resolved_at, _hours(i.resolved_at, i.opened_at))
                for i in session.scalars(select(Incident).where(
                    Incident.project_id == project.id, Incident.resolved_at.is_not(None)))
                if i.resolved_at is not None]
    leads: list[tuple[datetime, float]] = []
    responses: list[tuple[datetime, float]] = []
    if project.service_id is not None:
        rows = session.execute(select(Feedback, Release.released_at)
                               .outerjoin(Release, Release.id == Feedback.release_id)
                               .where(Feedback.service_id == project.service_id)).all()
        for found, released_at in rows:
            if released_at is not None and found.status == "completed":
                leads.append((released_at, _hours(released_at, found.created_at)))
            if found.first_response_at is not None:
                responses.append((found.first_response_at,
                                  _hours(found.first_response_at, found.created_at)))
    return Events(deployments, restores, leads, responses)


def _median(values: list[float]) -> float | None:
    return round(median(values), 6) if values else None


def values(found: Events, start: datetime, end: datetime) -> dict[str, float | int | None]:
    def inside(at: datetime) -> bool:
        return start <= at < end

    deployed = [d for d in found.deployments if inside(d[0])]
    succeeded = [d for d in deployed if d[1] == DeploymentStatus.success]
    failed = [d for d in deployed if d[1] != DeploymentStatus.success]
    weeks = (end - start).total_seconds() / (7 * 24 * HOUR)
    return {
        "deployment_frequency": round(len(succeeded) / weeks, 6),
        "lead_time_median_hours": _median([d[2] for d in succeeded if d[2] is not None]),
        "change_failure_rate": round(len(failed) / len(deployed), 6) if deployed else None,
        "time_to_restore_median_hours": _median([h for at, h in found.restores if inside(at)]),
        "feedback_lead_time_median_hours": _median([h for at, h in found.feedback_leads
                                                    if inside(at)]),
        "feedback_response_median_hours": _median([h for at, h in found.responses
                                                   if inside(at)]),
        "deployments": len(deployed), "successful_deployments": len(succeeded)}


def week_starts(start: datetime, end: datetime) -> list[datetime]:
    """The Monday 00:00 (Asia/Seoul) of every week the window touches."""
    local = start.astimezone(SEOUL)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(),
                              tzinfo=SEOUL)
    found = []
    while monday < end:
        found.append(monday)
        monday = datetime.combine(monday.date() + timedelta(days=7), time(), tzinfo=SEOUL)
    return found


def metrics(session: Session, *, actor: Actor, project: AgileProject, start: datetime | None,
            end: datetime | None, now: datetime) -> schemas.Metrics:
    authorize(actor, "agile.public.read", project)
    end = end or now
    start = start or end - timedelta(weeks=DEFAULT_WEEKS)
    if start >= end:
        raise Invalid("The window's from ({start}) must come before its to ({end})",
                      code="bad_window", field="from", start=start.isoformat(),
                      end=end.isoformat())
    if end - start > LONGEST:
        raise Invalid("A window of metrics spans at most three years", code="window_too_long",
                      field="from")
    found = events(session, project)
    weeks = []
    for monday in week_starts(start, end):
        week_end = datetime.combine(monday.date() + timedelta(days=7), time(), tzinfo=SEOUL)
        weeks.append(schemas.WeekMetrics(week=monday.date(), **values(
            found, max(start, monday), min(end, week_end))))
    return schemas.Metrics(project=project.id, from_=start, to=end, weeks=weeks,
                           **values(found, start, end))
