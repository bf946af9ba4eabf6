"""The backlog and the board: user stories and their state, `backlog` → `selected` →
`in_progress` → `done`. Cards may move either way (a board, not a workflow engine); entering
`done` stamps `done_at`, leaving it clears the stamp."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.errors import Invalid, NotFound
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import AgileProject, Feedback, Item, ItemState
from . import feedback as feedback_rules
from .common import record

STATES = [s.value for s in ItemState]


def create(session: Session, *, actor: Actor, project: AgileProject, data: schemas.ItemCreate,
           now: datetime) -> Item:
    authorize(actor, "agile.project.work", project)
    item = Item(project_id=project.id, title=data.title, story=data.story,
                acceptance=list(data.acceptance), priority=data.priority,
                estimate=data.estimate, labels=list(data.labels), created_by=actor.user_id,
                created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    record(session, actor, project, "agile.item.create", "agile_item", item.id,
           title=item.title, priority=item.priority, estimate=item.estimate)
    for i, feedback_id in enumerate(data.feedback):
        found = feedback_rules.of_project(session, project, feedback_id, f"feedback.{i}")
        feedback_rules.triage(session, actor=actor, project=project, feedback=found,
                              item=item, now=now)
    return item


def get(session: Session, project: AgileProject, item_id: int) -> Item:
    found = session.get(Item, item_id)
    if found is None or found.project_id != project.id:
        raise NotFound("Item {id} is no item of this project", code="item_not_found",
                       id=item_id)
    return found


def of_project(session: Session, project: AgileProject, item_id: int, field: str) -> Item:
    """An item a request names (a release's, an iteration's): 422 when it is another
    project's or none at all."""
    found = session.get(Item, item_id)
    if found is None:
        raise Invalid("Item {id} does not exist", code="unknown_item", field=field, id=item_id)
    if found.project_id != project.id:
        raise Invalid("Item {id} belongs to another project ({other}), not to {project}",
                      code="foreign_item", field=field, id=item_id, other=found.project_id,
                      project=project.id)
    return found


def list_(session: Session, *, actor: Actor, project: AgileProject,
          state: str | None = None) -> list[Item]:
    authorize(actor, "agile.project.read", project)
    query = (select(Item).where(Item.project_id == project.id)
             .order_by(Item.priority, Item.id))
    if state is not None:
        query = query.where(Item.state == state)
    return list(session.scalars(query))


def board(session: Session, *, actor: Actor, project: AgileProject) -> dict[str, list[Item]]:
    """Columns by state, each by priority."""
    columns: dict[str, list[Item]] = {s: [] for s in STATES}
    for item in list_(session, actor=actor, project=project):
        columns[item.state].append(item)
    return columns


def update(session: Session, *, actor: Actor, project: AgileProject, item: Item,
           data: schemas.ItemUpdate, now: datetime) -> Item:
    authorize(actor, "agile.project.work", project)
    changes = data.model_dump(exclude_unset=True)
    before = item.state
    for name, value in changes.items():
        setattr(item, name, list(value) if isinstance(value, list) else value)
    if item.state != before:
        item.done_at = now if item.state == ItemState.done else None
    item.updated_at = now
    session.flush()
    action = "agile.item.move" if set(changes) == {"state"} else "agile.item.update"
    record(session, actor, project, action, "agile_item", item.id,
           **({"from": before, "to": item.state} if "state" in changes else {}),
           changed=sorted(changes))
    return item


def feedback_of(session: Session, item: Item) -> list[int]:
    return list(session.scalars(select(Feedback.id).where(Feedback.item_id == item.id)
                                .order_by(Feedback.id)))


def item_read(session: Session, item: Item) -> schemas.ItemRead:
    return schemas.ItemRead(
        id=item.id, project=item.project_id, title=item.title, story=item.story,
        acceptance=list(item.acceptance), priority=item.priority, estimate=item.estimate,
        labels=list(item.labels), state=item.state, iteration=item.iteration_id,
        feedback=feedback_of(session, item), created_at=item.created_at, done_at=item.done_at)
