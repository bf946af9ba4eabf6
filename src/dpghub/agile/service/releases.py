"""Releases: a version with its notes, the items and feedback it delivers, and how it went.
A succeeded release marks its items done and completes its feedback, whose givers and voters
are told; a failed or rolled-back one changes neither."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.errors import Conflict
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import AgileProject, FeedbackStatus, ItemState, Release, ReleaseStatus
from . import feedback as feedback_rules
from . import items
from .common import record


def create(session: Session, *, actor: Actor, project: AgileProject,
           data: schemas.ReleaseCreate, now: datetime) -> Release:
    authorize(actor, "agile.project.work", project)
    delivered = [items.of_project(session, project, item_id, f"items.{i}")
                 for i, item_id in enumerate(dict.fromkeys(data.items))]
    answered = [feedback_rules.of_project(session, project, feedback_id, f"feedback.{i}")
                for i, feedback_id in enumerate(dict.fromkeys(data.feedback))]
    if session.scalar(select(Release.id).where(Release.project_id == project.id,
                                               Release.version == data.version)):
        raise Conflict("Release {version} of this project already exists",
                       code="release_exists", version=data.version)
    release = Release(project_id=project.id, version=data.version,
                      released_at=data.released_at, notes=data.notes, status=data.status,
                      item_ids=[i.id for i in delivered], feedback_ids=[f.id for f in answered],
                      created_by=actor.user_id)
    session.add(release)
    session.flush()
    record(session, actor, project, "agile.release.create", "agile_release", release.id,
           version=release.version, status=release.status, released_at=release.released_at,
           items=release.item_ids, feedback=release.feedback_ids)
    if release.status != ReleaseStatus.succeeded:
        return release
    for item in delivered:
        if item.state != ItemState.done:
            items.update(session, actor=actor, project=project, item=item,
                         data=schemas.ItemUpdate(state="done"), now=release.released_at)
    for found in answered:
        feedback_rules.set_status(session, actor=actor, project=project, feedback=found,
                                  status=FeedbackStatus.completed, now=now, release=release)
    return release


def list_(session: Session, project: AgileProject) -> list[Release]:
    return list(session.scalars(select(Release).where(Release.project_id == project.id)
                                .order_by(Release.released_at.desc(), Release.id.desc())))


def release_read(release: Release) -> schemas.ReleaseRead:
    return schemas.ReleaseRead(id=release.id, project=release.project_id,
                               version=release.version, released_at=release.released_at,
                               notes=release.notes, status=release.status,
                               items=list(release.item_ids),
                               feedback=list(release.feedback_ids))
