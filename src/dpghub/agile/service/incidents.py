"""Incidents: times the service was broken for its users, opened and resolved by the team (or
its CI with a project token); the gateway's error watch opens its own (watch.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.errors import Conflict, Invalid, NotFound
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import AgileProject, Incident
from .common import record


def _check_order(opened, resolved) -> None:  # type: ignore[no-untyped-def]
    if resolved is not None and resolved < opened:
        raise Invalid("resolved_at {resolved} is before opened_at {opened}",
                      code="resolved_before_opened", field="resolved_at",
                      resolved=resolved.isoformat(), opened=opened.isoformat())


def open_(session: Session, *, actor: Actor, project: AgileProject,
          data: schemas.IncidentCreate) -> Incident:
    if actor.via != "ci":        # a project token was checked by its route
        authorize(actor, "agile.project.work", project)
    _check_order(data.opened_at, data.resolved_at)
    found = Incident(project_id=project.id, title=data.title, opened_at=data.opened_at,
                     resolved_at=data.resolved_at, created_by=actor.user_id,
                     source="ci" if actor.via == "ci" else "team")
    session.add(found)
    session.flush()
    record(session, actor, project, "agile.incident.open", "agile_incident", found.id,
           title=found.title, opened_at=found.opened_at, resolved_at=found.resolved_at)
    return found


def resolve(session: Session, *, actor: Actor, project: AgileProject, incident_id: int,
            data: schemas.IncidentUpdate) -> Incident:
    if actor.via != "ci":
        authorize(actor, "agile.project.work", project)
    found = session.get(Incident, incident_id)
    if found is None or found.project_id != project.id:
        raise NotFound("Incident {id} is no incident of this project",
                       code="incident_not_found", id=incident_id)
    if found.resolved_at is not None:
        raise Conflict("Incident {id} is already resolved", code="already_resolved",
                       id=incident_id)
    _check_order(found.opened_at, data.resolved_at)
    found.resolved_at = data.resolved_at
    session.flush()
    record(session, actor, project, "agile.incident.resolve", "agile_incident", found.id,
           resolved_at=found.resolved_at)
    return found


def list_(session: Session, *, actor: Actor, project: AgileProject) -> list[Incident]:
    authorize(actor, "agile.project.read", project)
    return list(session.scalars(select(Incident).where(Incident.project_id == project.id)
                                .order_by(Incident.opened_at.desc(), Incident.id.desc())))


def incident_read(found: Incident) -> schemas.IncidentRead:
    return schemas.IncidentRead(id=found.id, project=found.project_id, title=found.title,
                                source=found.source, opened_at=found.opened_at,
                                resolved_at=found.resolved_at)


def set_alert(session: Session, *, actor: Actor, project: AgileProject,
              data: schemas.AlertSettings) -> AgileProject:
    """When the gateway's error watch opens an incident for the project's service."""
    authorize(actor, "agile.project.manage", project)
    project.alert_error_rate, project.alert_min_calls = data.error_rate, data.min_calls
    session.flush()
    record(session, actor, project, "agile.project.alert", "agile_project", project.id,
           error_rate=data.error_rate, min_calls=data.min_calls)
    return project
