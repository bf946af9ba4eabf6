"""The support desk: questions from a project's people, answered by support staff
(platform role `supporter`), with first-answer and resolution times; answered questions
whose askers agree become a public FAQ that the catalogue search also finds."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...catalog.records import Record, Source
from ...core import audit
from ...core.db import utcnow
from ...core.errors import Conflict, Forbidden, Invalid, NotFound
from ...identity import service as identity
from ...identity.policy import Actor, authorize, can
from .. import schemas
from ..models import Project, SandboxRequest, Ticket, TicketAnswer, TicketState
from . import projects


def _audit(session: Session, actor: Actor, ticket: Ticket, action: str, org_id: int | None,
           **details: object) -> None:
    audit.record(session, actor=actor, action=f"testbed.ticket.{action}", target_type="ticket",
                 target_id=ticket.id, org_id=org_id, details=details)


def create(session: Session, *, actor: Actor, project: Project, data: schemas.TicketCreate,
           now: datetime | None = None) -> Ticket:
    """Only people of the project ask about it (checked by `testbed.project.work`)."""
    authorize(actor, "testbed.project.work", project)
    if data.request is not None:
        entry = session.get(SandboxRequest, data.request)
        if entry is None or entry.project_id != project.id:
            raise NotFound("Inspector entry {id} is not a request of this project",
                           code="request_not_found", field="request", id=data.request)
    now = now or utcnow()
    ticket = Ticket(project_id=project.id, asker_id=actor.user_id, title=data.title,
                    question=data.question, category=data.category, priority=data.priority,
                    request_id=data.request, link=data.link,
                    consent_to_publish=data.consent_to_publish, created_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    _audit(session, actor, ticket, "create", project.org_id, project=project.id,
           category=data.category, priority=data.priority)
    for staff in identity.users_with_role(session, "supporter"):
        identity.notify(session, staff.id, "New support question: {title}",
                        f"/testbed/tickets/{ticket.id}", domain="testbed", now=now,
                        title=ticket.title)
    return ticket


def get(session: Session, *, actor: Actor, ticket_id: int) -> tuple[Ticket, Project]:
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id)
                            .options(selectinload(Ticket.answers)))
    if ticket is None:
        raise NotFound("Ticket {id} does not exist", code="ticket_not_found", id=ticket_id)
    project = projects.load(session, ticket.project_id)
    if not can(actor, "testbed.support.answer"):   # staff see every ticket, not the project
        authorize(actor, "testbed.project.read", project)
    return ticket, project


def list_(session: Session, *, actor: Actor, project: Project | None = None,
          state: str | None = None, queue: bool = False) -> list[Ticket]:
    """A project's tickets (its people), or the support queue (staff): every project's.
    One's own questions are listed while one may still read their project, as each ticket
    is (someone taken out of a project reads its answers no more)."""
    query = select(Ticket).options(selectinload(Ticket.answers)).order_by(Ticket.id.desc())
    own = False
    if queue or project is None:
        if not can(actor, "testbed.support.answer"):
            if actor.user_id is None:
                authorize(actor, "testbed.support.answer")
            query = query.where(Ticket.asker_id == actor.user_id)   # one's own questions
            own = True
    else:
        authorize(actor, "testbed.project.read", project)
        query = query.where(Ticket.project_id == project.id)
    if state:
        if state not in TicketState.__members__:
            raise Invalid("Unknown state {state}: open, answered or closed",
                          code="invalid_state", field="state", state=state)
        query = query.where(Ticket.state == state)
    found = list(session.scalars(query.limit(500)))
    if own:
        readable = {pid for pid in {t.project_id for t in found}
                    if can(actor, "testbed.project.read", projects.load(session, pid))}
        found = [t for t in found if t.project_id in readable]
    return found


def answer(session: Session, *, actor: Actor, ticket: Ticket, project: Project,
           data: schemas.AnswerCreate, now: datetime | None = None) -> Ticket:
    """Staff answer (the asker is told in the portal); the project's people may add to it.
    The first staff answer stamps the first-answer time."""
    staff = can(actor, "testbed.support.answer")
    if not staff:
        authorize(actor, "testbed.project.work", project)
    if ticket.state == TicketState.closed:
        raise Conflict("Ticket {id} is closed; reopen it first", code="ticket_closed",
                       id=ticket.id)
    now = now or utcnow()
    ticket.answers.append(TicketAnswer(author_id=actor.user_id, body=data.body,
                                       by_staff=staff, created_at=now))
    if staff:
        ticket.state = TicketState.answered
        ticket.first_answer_at = ticket.first_answer_at or now
        if ticket.assignee_id is None:
            ticket.assignee_id = actor.user_id
        if ticket.asker_id != actor.user_id:
            identity.notify(session, ticket.asker_id, "Your question was answered: {title}",
                            f"/testbed/tickets/{ticket.id}", domain="testbed", now=now,
                            title=ticket.title)
    else:
        ticket.state = TicketState.open
    if data.close:
        ticket.state = TicketState.closed
        ticket.closed_at = now
    ticket.updated_at = now
    session.flush()
    _audit(session, actor, ticket, "answer", project.org_id, by_staff=staff,
           state=ticket.state)
    return ticket


def act(session: Session, *, actor: Actor, ticket: Ticket, project: Project,
        data: schemas.TicketAction, now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    staff = can(actor, "testbed.support.answer")
    if data.action in ("close", "reopen"):
        if not staff and ticket.asker_id != actor.user_id:
            authorize(actor, "testbed.project.work", project)
        if data.action == "close":
            ticket.state, ticket.closed_at = TicketState.closed, now
        else:
            ticket.state, ticket.closed_at = TicketState.open, None
    elif data.action == "assign":
        authorize(actor, "testbed.support.answer")
        assignee = identity.get_user_by_email(session, data.assignee or actor.email or "")
        if "supporter" not in (assignee.platform_roles or "").split():
            raise Invalid("{email} is not support staff", code="not_supporter",
                          field="assignee", email=assignee.email)
        ticket.assignee_id = assignee.id
    elif data.action == "publish":
        authorize(actor, "testbed.support.answer")
        if not ticket.consent_to_publish:
            raise Forbidden("The asker did not agree to publish this ticket",
                            code="no_consent")
        if not any(a.by_staff for a in ticket.answers):
            raise Conflict("Only an answered ticket can be published", code="not_answered")
        ticket.published = True
    ticket.updated_at = now
    session.flush()
    _audit(session, actor, ticket, data.action, project.org_id)
    return ticket


# --- FAQ and figures -----------------------------------------------------------------------


def faq(session: Session, q: str = "") -> list[schemas.FaqRead]:
    """Published tickets: the question as asked (no names), and staff answers."""
    tickets = session.scalars(select(Ticket).where(Ticket.published.is_(True))
                              .options(selectinload(Ticket.answers)).order_by(Ticket.id.desc()))
    found = []
    needle = q.strip().lower()
    for t in tickets:
        text = "\n\n".join(a.body for a in t.answers if a.by_staff)
        if needle and needle not in f"{t.title}\n{t.question}\n{text}".lower():
            continue
        found.append(schemas.FaqRead(id=t.id, title=t.title, question=t.question,
                                     answer=text, category=t.category))
    return found


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def stats(tickets: list[Ticket]) -> schemas.SupportStats:
    first = [m for t in tickets if (m := _minutes(t.created_at, t.first_answer_at)) is not None]
    done = [m for t in tickets if (m := _minutes(t.created_at, t.closed_at)) is not None]
    return schemas.SupportStats(
        tickets=len(tickets), open=sum(t.state == "open" for t in tickets),
        answered=sum(t.state == "answered" for t in tickets),
        closed=sum(t.state == "closed" for t in tickets),
        median_first_answer_minutes=statistics.median(first) if first else None,
        median_resolution_minutes=statistics.median(done) if done else None)


def ticket_read(session: Session, ticket: Ticket, project: Project) -> schemas.TicketRead:
    def name(user_id: int | None) -> str | None:
        return None if user_id is None else identity.get_user(session, user_id).display_name

    return schemas.TicketRead(
        id=ticket.id, project_id=project.id, project=project.name, title=ticket.title,
        question=ticket.question, category=ticket.category, priority=ticket.priority,
        state=ticket.state, asker=name(ticket.asker_id) or "", assignee=name(ticket.assignee_id),
        request=ticket.request_id, link=ticket.link,
        consent_to_publish=ticket.consent_to_publish, published=ticket.published,
        answers=[schemas.AnswerRead(id=a.id, author=name(a.author_id) or "", body=a.body,
                                    by_staff=a.by_staff, created_at=a.created_at)
                 for a in ticket.answers],
        created_at=ticket.created_at, first_answer_at=ticket.first_answer_at,
        closed_at=ticket.closed_at,
        first_answer_minutes=_minutes(ticket.created_at, ticket.first_answer_at),
        resolution_minutes=_minutes(ticket.created_at, ticket.closed_at))


# --- the FAQ in the catalogue's search -----------------------------------------------------


def faq_records(session: Session) -> list[Record]:
    """Published tickets as search records (kind `faq`): the question, the staff's answers
    as the description, no names. Registered with the catalogue in `app.register_hooks`."""
    found = []
    for ticket in session.scalars(select(Ticket).where(Ticket.published.is_(True))
                                  .options(selectinload(Ticket.answers))):
        answer = "\n\n".join(a.body for a in ticket.answers if a.by_staff)
        found.append(Record(
            kind="faq", ref_id=ticket.id, org="testbed", org_name_ko="테스트베드",
            org_name_en="Testbed", slug=f"faq-{ticket.id}", title_ko=ticket.title, title_en="",
            description=f"{ticket.question}\n\n{answer}", keywords=[ticket.category],
            theme="", access="open", formats=[], columns=[], created_at=ticket.created_at,
            modified_at=ticket.updated_at, stamp=ticket.updated_at.isoformat(),
            url=f"/testbed/faq#q{ticket.id}"))
    return found


def faq_fingerprint() -> tuple[Any, ...]:
    published = Ticket.published.is_(True)
    return (select(func.count(Ticket.id)).where(published).scalar_subquery(),
            select(func.max(Ticket.updated_at)).where(published).scalar_subquery())


FAQ_SOURCE = Source("faq", faq_records, faq_fingerprint)


def ticket_reads(session: Session, tickets: list[Ticket]) -> list[schemas.TicketRead]:
    """Many tickets as read, each project loaded once (a queue holds many of one project)."""
    loaded: dict[int, Project] = {}
    for ticket in tickets:
        if ticket.project_id not in loaded:
            loaded[ticket.project_id] = projects.load(session, ticket.project_id)
    return [ticket_read(session, t, loaded[t.project_id]) for t in tickets]
