"""Selection: after the deadline operators select at most the call's number of submitted
applications, each with its reason; every other submitted application is declined with its
reason; every user of every applying organization is told in the portal; each selected one
gets an agreement. `of_org` tells later domains (AI-support credits, agile projects) what an
organization was selected for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.errors import Conflict, Invalid
from ...identity import service as identity
from ...identity.policy import SYSTEM, Actor, authorize
from .. import schemas
from ..models import (
    Agreement,
    Application,
    ApplicationMember,
    ApplicationState,
    Call,
)
from . import applications, calls


def select_(session: Session, *, actor: Actor, call: Call, data: schemas.SelectionCreate,
            now: datetime) -> schemas.SelectionRead:
    authorize(actor, "programmes.selection.decide", call)
    if call.decided_at is not None:
        raise Conflict("The selection of call {title} is already made", code="already_decided",
                       title=call.title)
    if calls.state(call, now) != "closed":
        raise Conflict("Call {title} takes applications until {closes_at}; select after it "
                       "closes", code="call_still_open", title=call.title,
                       closes_at=call.closes_at.isoformat())
    if len(data.selected) > call.select_count:
        raise Invalid("The call selects at most {count}; {asked} were chosen",
                      code="too_many_selected", field="selected", count=call.select_count,
                      asked=len(data.selected))
    if data.ends_on < data.starts_on:
        raise Invalid("An agreement ends after it starts", code="bad_period", field="ends_on")
    submitted = {a.id: a for a in applications.of_call(session, call)}
    reasons: dict[int, str] = {}
    for field, decisions in (("selected", data.selected), ("declined", data.declined)):
        for i, decision in enumerate(decisions):
            _check(session, call, submitted, decision.application, f"{field}.{i}", reasons)
            reasons[decision.application] = decision.reason
    chosen = [d.application for d in data.selected]
    others = [a for a in submitted if a not in chosen]
    for application_id in others:
        if application_id not in reasons:
            if data.declined_reason is None:
                raise Invalid("Application {id} needs the reason it was not selected",
                              code="reason_required", field="declined_reason",
                              id=application_id)
            reasons[application_id] = data.declined_reason
    agreements = []
    for application_id in chosen:
        application = submitted[application_id]
        _decide(session, application, ApplicationState.selected, reasons[application_id], now)
        agreement = Agreement(application_id=application.id, call_id=call.id,
                              org_id=application.org_id, budget_krw=call.budget_krw,
                              starts_on=data.starts_on, ends_on=data.ends_on,
                              deliverables=list(data.deliverables), created_by=actor.user_id)
        session.add(agreement)
        session.flush()
        agreements.append(agreement.id)
        audit.record(session, actor=actor, action="programmes.agreement.create",
                     target_type="agreement", target_id=agreement.id,
                     org_id=application.org_id,
                     details={"application": application.id, "budget_krw": call.budget_krw,
                              "starts_on": data.starts_on, "ends_on": data.ends_on,
                              "deliverables": agreement.deliverables})
    for application_id in others:
        _decide(session, submitted[application_id], ApplicationState.declined,
                reasons[application_id], now)
    call.decided_at = now
    session.flush()
    audit.record(session, actor=actor, action="programmes.selection.decide",
                 target_type="call", target_id=call.id,
                 details={"selected": chosen, "declined": others,
                          "reasons": {str(k): v for k, v in reasons.items()}})
    return schemas.SelectionRead(call=call.id, selected=chosen, declined=others,
                                 agreements=agreements)


def _check(session: Session, call: Call, submitted: dict[int, Application],
           application_id: int, field: str, reasons: dict[int, str]) -> None:
    if application_id in reasons:
        raise Invalid("Application {id} is decided twice", code="decided_twice", field=field,
                      id=application_id)
    if application_id in submitted:
        return
    found = session.get(Application, application_id)
    if found is None or found.call_id != call.id:
        raise Invalid("Application {id} is no application to this call", code="not_in_call",
                      field=field, id=application_id)
    raise Invalid("Application {id} was never submitted; only submitted applications are "
                  "decided", code="not_submitted", field=field, id=application_id)


def _decide(session: Session, application: Application, state: ApplicationState,
            reason: str, now: datetime) -> None:
    application.state, application.reason, application.decided_at = state, reason, now
    told: set[int] = set()
    for org_id in application.org_ids:
        org = identity.get_org_by_id(session, org_id)
        for membership in identity.list_members(session, actor=SYSTEM, org=org):
            if membership.user_id in told:
                continue
            told.add(membership.user_id)
            params = {"title": application.title, "call": application.call.title,
                      "reason": reason}
            link = f"/programmes/applications/{application.id}"
            if state is ApplicationState.selected:
                identity.notify(session, membership.user_id,
                                "Your application {title} to {call} was selected: {reason}",
                                link, domain="programmes", now=now, **params)
            else:
                identity.notify(session, membership.user_id,
                                "Your application {title} to {call} was not selected: "
                                "{reason}", link, domain="programmes", now=now, **params)


@dataclass(frozen=True)
class Selection:
    """An organization's selection: in which call of which programme, as lead or member."""

    call: int
    programme: str
    application: int
    agreement: int | None
    lead: bool


def of_org(session: Session, org_id: int, programme: str | None = None) -> list[Selection]:
    """What the organization was selected for (newest first) — the hook the AI-support
    credits and the agile projects use."""
    members = select(ApplicationMember.application_id).where(ApplicationMember.org_id == org_id)
    query = (select(Application, Call.programme, Agreement.id).select_from(Application)
             .join(Call, Call.id == Application.call_id)
             .outerjoin(Agreement, Agreement.application_id == Application.id)
             .where(Application.state == ApplicationState.selected,
                    (Application.org_id == org_id) | Application.id.in_(members))
             .order_by(Application.decided_at.desc(), Application.id.desc()))
    if programme is not None:
        query = query.where(Call.programme == programme)
    return [Selection(call=a.call_id, programme=p, application=a.id, agreement=agreement,
                      lead=a.org_id == org_id)
            for a, p, agreement in session.execute(query)]
