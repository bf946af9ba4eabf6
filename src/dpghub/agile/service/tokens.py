"""Project tokens for the service's CI: made by the lead's editors, shown once, kept only as a
SHA-256 digest. A token sends deployment events and incidents of its own project only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.errors import Forbidden, NotFound, Unauthenticated
from ...core.security import digest, new_token
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import AgileProject, ProjectToken
from .common import record

PREFIX = "dat_"          # DPG hub agile token


def is_project_token(credential: str | None) -> bool:
    return bool(credential) and str(credential).startswith(PREFIX)


def create(session: Session, *, actor: Actor, project: AgileProject,
           data: schemas.TokenCreate) -> tuple[ProjectToken, str]:
    authorize(actor, "agile.project.manage", project)
    secret = new_token(PREFIX)
    token = ProjectToken(project_id=project.id, name=data.name, prefix=secret[:10],
                         digest=digest(secret), created_by=actor.user_id)
    session.add(token)
    session.flush()
    record(session, actor, project, "agile.token.create", "agile_token", token.id,
           name=token.name, prefix=token.prefix)
    return token, secret


def list_(session: Session, *, actor: Actor, project: AgileProject) -> list[ProjectToken]:
    authorize(actor, "agile.project.read", project)
    return list(session.scalars(select(ProjectToken).where(ProjectToken.project_id == project.id)
                                .order_by(ProjectToken.id)))


def revoke(session: Session, *, actor: Actor, project: AgileProject, token_id: int,
           now: datetime) -> ProjectToken:
    authorize(actor, "agile.project.manage", project)
    token = session.get(ProjectToken, token_id)
    if token is None or token.project_id != project.id:
        raise NotFound("Token {id} is no token of this project", code="token_not_found",
                       id=token_id)
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
        record(session, actor, project, "agile.token.revoke", "agile_token", token.id,
               prefix=token.prefix)
    return token


def resolve(session: Session, credential: str) -> ProjectToken:
    """The live token a CI sends; 401 naming the fault otherwise."""
    token = session.scalar(select(ProjectToken).where(ProjectToken.digest == digest(credential)))
    if token is None:
        raise Unauthenticated("This project token is not registered",
                              code="project_token_not_registered")
    if token.revoked_at is not None:
        raise Unauthenticated("This project token was revoked", code="project_token_revoked")
    return token


def actor_for(session: Session, credential: str, path: str) -> Actor:
    """A project token on the JSON API: its project's deployment and incident routes only."""
    token = resolve(session, credential)
    base = f"/api/v1/agile/projects/{token.project_id}/"
    if not (path.startswith(base + "deployments") or path.startswith(base + "incidents")):
        raise Forbidden("A project token sends its project's deployments and incidents only",
                        code="project_token_outside_ci")
    return ci_actor(token)


def ci_actor(token: ProjectToken) -> Actor:
    return Actor(via="ci", email=f"project:{token.project_id}:{token.prefix}",
                 scopes=frozenset({"write"}))


def token_read(token: ProjectToken) -> schemas.TokenRead:
    return schemas.TokenRead(id=token.id, name=token.name, prefix=token.prefix,
                             created_at=token.created_at, last_used_at=token.last_used_at,
                             revoked_at=token.revoked_at)
