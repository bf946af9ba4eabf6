"""Applications to a call: written by the lead organization's editors as a draft, alone or
naming consortium members, then submitted while the call is open with every required answer.

The consortium is the lead's statement: its editors name the member organizations, which are
shown on the application and read it like the lead; members confirm nothing in the hub (a
signed consortium agreement is part of the paperwork outside it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.errors import Conflict, Invalid, NotFound
from ...identity import service as identity
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Agreement, Application, ApplicationMember, ApplicationState, Call
from . import calls

if TYPE_CHECKING:
    from ...identity.models import Organization


def create(session: Session, *, actor: Actor, call: Call, data: schemas.ApplicationCreate,
           now: datetime) -> Application:
    lead = identity.get_org_by_slug(session, data.org)
    authorize(actor, "programmes.application.create", lead)
    _require_writable(call, now)
    if session.scalar(select(Application.id).where(Application.call_id == call.id,
                                                   Application.org_id == lead.id)):
        raise Conflict("{org} has already applied to this call; edit its application",
                       code="already_applied", org=lead.slug)
    _check_answers(call, data.answers)
    application = Application(call=call, org_id=lead.id, title=data.title,
                              answers=dict(data.answers), created_by=actor.user_id,
                              updated_at=now)
    application.members = [ApplicationMember(org_id=o.id)
                           for o in _members(session, lead, data.members)]
    session.add(application)
    session.flush()
    audit.record(session, actor=actor, action="programmes.application.create",
                 target_type="application", target_id=application.id, org_id=lead.id,
                 details={"call": call.id, "title": application.title,
                          "members": data.members})
    return application


def update(session: Session, *, actor: Actor, application: Application,
           data: schemas.ApplicationUpdate, now: datetime) -> Application:
    authorize(actor, "programmes.application.update", application)
    _require_draft(application)
    _require_writable(application.call, now)
    changed: dict[str, object] = {}
    if data.title is not None:
        application.title = changed["title"] = data.title
    if data.answers is not None:
        _check_answers(application.call, data.answers)
        application.answers = dict(data.answers)
        changed["answers"] = sorted(data.answers)
    if data.members is not None:
        wanted = [o.id for o in _members(session, application.organization, data.members)]
        kept = {m.org_id: m for m in application.members if m.org_id in wanted}
        # the same organization keeps its row: a new one would be inserted before the old
        # one is deleted, against the unique (application, org) constraint
        application.members = [kept.get(o) or ApplicationMember(org_id=o) for o in wanted]
        changed["members"] = data.members
    application.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="programmes.application.update",
                 target_type="application", target_id=application.id,
                 org_id=application.org_id, details=changed)
    return application


def submit(session: Session, *, actor: Actor, application: Application,
           now: datetime) -> Application:
    """Submitted only within the call's period, with every required question answered."""
    authorize(actor, "programmes.application.update", application)
    _require_draft(application)
    calls.require_open(application.call, now)
    for question in application.call.questions:
        if question["required"] and not application.answers.get(question["id"], "").strip():
            raise Invalid("The question {question} must be answered before submitting",
                          code="answer_required", field=f"answers.{question['id']}",
                          question=question["text"])
    application.state, application.submitted_at = ApplicationState.submitted, now
    session.flush()
    audit.record(session, actor=actor, action="programmes.application.submit",
                 target_type="application", target_id=application.id,
                 org_id=application.org_id, details={"call": application.call_id})
    return application


@dataclass(frozen=True)
class Readers:
    """Who reads an application (`programmes.application.read`): its applying organizations,
    and the call's reviewers once it is submitted — a draft is its writers' alone."""

    org_ids: list[int]
    reviewer_ids: list[int]


def readers(application: Application) -> Readers:
    submitted = application.state != ApplicationState.draft
    return Readers(org_ids=application.org_ids,
                   reviewer_ids=application.reviewer_ids if submitted else [])


def get(session: Session, *, actor: Actor, application_id: int) -> Application:
    """Seen by the applying organizations, operators, and the call's reviewers once
    submitted."""
    found = session.get(Application, application_id)
    if found is None:
        raise NotFound("Application {id} does not exist", code="application_not_found",
                       id=application_id)
    authorize(actor, "programmes.application.read", readers(found))
    return found


def of_call(session: Session, call: Call, *, drafts: bool = False) -> list[Application]:
    query = select(Application).where(Application.call_id == call.id)
    if not drafts:
        query = query.where(Application.state != ApplicationState.draft)
    return list(session.scalars(query.order_by(Application.id)))


def mine(session: Session, *, actor: Actor) -> list[Application]:
    """Applications led by, or naming, an organization the actor belongs to."""
    org_ids = list(actor.roles)
    if not org_ids:
        return []
    members = select(ApplicationMember.application_id).where(
        ApplicationMember.org_id.in_(org_ids))
    return list(session.scalars(select(Application).where(or_(
        Application.org_id.in_(org_ids), Application.id.in_(members)))
        .order_by(Application.id.desc())))


def _require_draft(application: Application) -> None:
    if application.state != ApplicationState.draft:
        raise Conflict("This application is already {state}; it cannot change",
                       code="application_submitted", state=application.state)


def _require_writable(call: Call, now: datetime) -> None:
    """Drafts may be written from the announcement until the deadline, not after."""
    if calls.state(call, now) in ("closed", "decided"):
        calls.require_open(call, now)


def _members(session: Session, lead: Organization, slugs: list[str]) -> list[Organization]:
    found: list[Organization] = []
    for i, slug in enumerate(slugs):
        if slug == lead.slug:
            raise Invalid("The lead {org} is not also a member of its consortium",
                          code="lead_in_consortium", field=f"members.{i}", org=slug)
        if any(o.slug == slug for o in found):
            raise Invalid("{org} is named twice", code="duplicate_member",
                          field=f"members.{i}", org=slug)
        try:
            found.append(identity.get_org_by_slug(session, slug))
        except NotFound:
            raise Invalid("No organization is called {org}", code="unknown_org",
                          field=f"members.{i}", org=slug) from None
    return found


def _check_answers(call: Call, answers: dict[str, str]) -> None:
    known = {q["id"] for q in call.questions}
    for key in answers:
        if key not in known:
            raise Invalid("The call asks no question {question}", code="unknown_question",
                          field=f"answers.{key}", question=key)


def org_ref(org: Organization) -> schemas.OrgRef:
    return schemas.OrgRef(slug=org.slug, name_ko=org.name_ko, name_en=org.name_en)


def application_read(session: Session, application: Application) -> schemas.ApplicationRead:
    agreement = session.scalar(select(Agreement.id).where(
        Agreement.application_id == application.id))
    return schemas.ApplicationRead(
        id=application.id, call=application.call_id, call_title=application.call.title,
        programme=application.call.programme, lead=org_ref(application.organization),
        members=[org_ref(m.organization) for m in application.members],
        title=application.title, answers=application.answers,
        state=application.state,  # type: ignore[arg-type]
        reason=application.reason, agreement=agreement, created_at=application.created_at,
        submitted_at=application.submitted_at, decided_at=application.decided_at)
