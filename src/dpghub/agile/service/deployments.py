"""Deployment events from the service's CI, as DORA tooling sends them: a version, the commits
it carries with their times, when it was deployed and whether it worked. A deploy time before
any of its commits is refused: the event would give a negative lead time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.errors import Invalid
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import AgileProject, Deployment, ProjectToken
from .common import record


def record_event(session: Session, *, token: ProjectToken, project: AgileProject,
                 data: schemas.DeploymentCreate, actor: Actor, now: datetime) -> Deployment:
    """Sent with a project token (`actor` is the token's CI actor)."""
    for i, commit in enumerate(data.commits):
        if data.deployed_at < commit.committed_at:
            raise Invalid("deployed_at {deployed} is before commit {sha}'s time {committed}",
                          code="deployed_before_commit", field=f"commits.{i}.committed_at",
                          deployed=data.deployed_at.isoformat(), sha=commit.sha[:12],
                          committed=commit.committed_at.isoformat())
    found = Deployment(project_id=project.id, version=data.version,
                       commits=[c.model_dump(mode="json") for c in data.commits],
                       first_commit_at=min(c.committed_at for c in data.commits),
                       deployed_at=data.deployed_at, status=data.status, token_id=token.id,
                       created_at=now)
    session.add(found)
    token.last_used_at = now
    session.flush()
    record(session, actor, project, "agile.deployment.create", "agile_deployment", found.id,
           version=found.version, status=found.status, deployed_at=found.deployed_at,
           commits=len(data.commits), token=token.prefix)
    return found


def list_(session: Session, *, actor: Actor, project: AgileProject) -> list[Deployment]:
    authorize(actor, "agile.project.read", project)
    return list(session.scalars(select(Deployment).where(Deployment.project_id == project.id)
                                .order_by(Deployment.deployed_at.desc(), Deployment.id.desc())))


def lead_time_hours(found: Deployment) -> float | None:
    if found.first_commit_at is None:
        return None
    return (found.deployed_at - found.first_commit_at).total_seconds() / 3600


def deployment_read(found: Deployment) -> schemas.DeploymentRead:
    return schemas.DeploymentRead(
        id=found.id, project=found.project_id, version=found.version,
        commits=[schemas.Commit(**c) for c in found.commits], deployed_at=found.deployed_at,
        status=found.status, lead_time_hours=lead_time_hours(found))
