"""Iterations: a time box with a goal and the items committed at planning. Velocity is the sum
of the committed estimates of the items done before the iteration's last day ends (Asia/Seoul)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...core.errors import Invalid, NotFound
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import AgileProject, Item, ItemState, Iteration, IterationItem
from . import items
from .common import end_of_day, record


def create(session: Session, *, actor: Actor, project: AgileProject,
           data: schemas.IterationCreate) -> Iteration:
    authorize(actor, "agile.project.work", project)
    if data.ends_on < data.starts_on:
        raise Invalid("An iteration ends after it starts", code="bad_period", field="ends_on")
    chosen: list[Item] = []
    for i, item_id in enumerate(data.items):
        item = items.of_project(session, project, item_id, f"items.{i}")
        if item.state not in (ItemState.backlog, ItemState.selected):
            raise Invalid("Item {id} is already {state}; only backlog items are planned",
                          code="item_not_in_backlog", field=f"items.{i}", id=item_id,
                          state=item.state)
        if item not in chosen:
            chosen.append(item)
    iteration = Iteration(project_id=project.id, name=data.name, goal=data.goal,
                          starts_on=data.starts_on, ends_on=data.ends_on)
    iteration.committed = [IterationItem(item_id=i.id, estimate=i.estimate) for i in chosen]
    session.add(iteration)
    session.flush()
    for item in chosen:
        item.iteration_id, item.state = iteration.id, ItemState.selected
    session.flush()
    record(session, actor, project, "agile.iteration.create", "agile_iteration", iteration.id,
           name=iteration.name, starts_on=iteration.starts_on, ends_on=iteration.ends_on,
           items=[i.id for i in chosen])
    return iteration


def get(session: Session, project: AgileProject, iteration_id: int) -> Iteration:
    found = session.get(Iteration, iteration_id)
    if found is None or found.project_id != project.id:
        raise NotFound("Iteration {id} is no iteration of this project",
                       code="iteration_not_found", id=iteration_id)
    return found


def list_(session: Session, *, actor: Actor, project: AgileProject) -> list[Iteration]:
    authorize(actor, "agile.project.read", project)
    return list(session.scalars(
        select(Iteration).where(Iteration.project_id == project.id)
        .options(selectinload(Iteration.committed).selectinload(IterationItem.item))
        .order_by(Iteration.starts_on, Iteration.id)))


def iteration_read(iteration: Iteration) -> schemas.IterationRead:
    end = end_of_day(iteration.ends_on)
    done = [c for c in iteration.committed if c.item.state == ItemState.done
            and c.item.done_at is not None and c.item.done_at < end]
    return schemas.IterationRead(
        id=iteration.id, project=iteration.project_id, name=iteration.name,
        goal=iteration.goal, starts_on=iteration.starts_on, ends_on=iteration.ends_on,
        committed=[c.item_id for c in iteration.committed], done=[c.item_id for c in done],
        committed_points=sum(c.estimate or 0 for c in iteration.committed),
        velocity=sum(c.estimate or 0 for c in done))
