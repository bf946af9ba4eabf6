"""Calls for participants (공모): opened by operators, public to read. A call is `upcoming`
before its period, `open` during it, `closed` after it, and `decided` once operators selected."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.errors import Conflict, Invalid, NotFound
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Call


def create(session: Session, *, actor: Actor, data: schemas.CallCreate) -> Call:
    authorize(actor, "programmes.call.create")
    if data.closes_at <= data.opens_at:
        raise Invalid("A call closes after it opens", code="bad_period", field="closes_at")
    _unique([q.id for q in data.questions], "questions")
    _unique([c.id for c in data.criteria], "criteria")
    call = Call(programme=data.programme, title=data.title, description=data.description,
                eligibility=data.eligibility, opens_at=data.opens_at, closes_at=data.closes_at,
                questions=[q.model_dump() for q in data.questions],
                criteria=[c.model_dump() for c in data.criteria],
                select_count=data.select_count, budget_krw=data.budget_krw,
                created_by=actor.user_id)
    session.add(call)
    session.flush()
    audit.record(session, actor=actor, action="programmes.call.create", target_type="call",
                 target_id=call.id, details={"programme": call.programme, "title": call.title,
                                             "opens_at": call.opens_at,
                                             "closes_at": call.closes_at,
                                             "select_count": call.select_count,
                                             "budget_krw": call.budget_krw})
    return call


def _unique(ids: list[str], field: str) -> None:
    seen: set[str] = set()
    for i, key in enumerate(ids):
        if key in seen:
            raise Invalid("{key} is named twice", code="duplicate_id", field=f"{field}.{i}.id",
                          key=key)
        seen.add(key)


def get(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound("Call {id} does not exist", code="call_not_found", id=call_id)
    return call


def list_(session: Session, *, programme: str | None = None) -> list[Call]:
    """Every call, newest deadline first (announced ones too: a 공고 precedes its period)."""
    query = select(Call).order_by(Call.closes_at.desc(), Call.id.desc())
    if programme is not None:
        query = query.where(Call.programme == programme)
    return list(session.scalars(query))


def state(call: Call, now: datetime) -> str:
    if call.decided_at is not None:
        return "decided"
    if now < call.opens_at:
        return "upcoming"
    return "open" if now < call.closes_at else "closed"


def require_open(call: Call, now: datetime) -> None:
    """Applications are written and submitted only while the call is open."""
    current = state(call, now)
    params = {"title": call.title, "opens_at": call.opens_at.isoformat(),
              "closes_at": call.closes_at.isoformat()}
    if current == "upcoming":
        raise Conflict("Call {title} opens for applications only at {opens_at}",
                       code="call_closed", **params)
    if current != "open":
        raise Conflict("Call {title} is closed for applications since {closes_at}",
                       code="call_closed", **params)


def criterion(call: Call, key: str) -> dict[str, float | str]:
    for found in call.criteria:
        if found["id"] == key:
            return found
    raise Invalid("The call has no criterion {criterion}", code="unknown_criterion",
                  field=key, criterion=key)


def call_read(call: Call, now: datetime) -> schemas.CallRead:
    return schemas.CallRead(
        id=call.id, programme=call.programme, title=call.title, description=call.description,
        eligibility=call.eligibility, opens_at=call.opens_at, closes_at=call.closes_at,
        state=state(call, now),  # type: ignore[arg-type]
        questions=[schemas.Question(**q) for q in call.questions],
        criteria=[schemas.Criterion(**c) for c in call.criteria],
        select_count=call.select_count, budget_krw=call.budget_krw,
        created_at=call.created_at, decided_at=call.decided_at)
