"""The programme dashboard (R&R council): per programme its calls, applicants, selected
participants and budget granted — public — and, for operators, each call's applicants with
their names and scores. The hub-wide figures and the agile and AI parts join here later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...identity.policy import Actor, can
from .. import schemas
from ..models import ApplicationState, Programme
from . import agreements, applications, calls, ranking


def figures(session: Session, *, actor: Actor, now: datetime) -> schemas.Dashboard:
    detailed = can(actor, "programmes.selection.read")
    programmes = []
    for programme in Programme:
        rows = []
        for call in calls.list_(session, programme=programme.value):
            submitted = applications.of_call(session, call)
            selected = [a for a in submitted if a.state == ApplicationState.selected]
            rows.append(schemas.CallFigures(
                id=call.id, title=call.title, state=calls.state(call, now),
                closes_at=call.closes_at, applicants=len(submitted),
                selected=[applications.org_ref(a.organization) for a in selected],
                budget_granted_krw=sum(a.budget_krw for a in agreements.of_call(session,
                                                                                 call.id)),
                ranking=ranking.rows(session, call) if detailed else None))
        programmes.append(schemas.ProgrammeFigures(
            programme=programme.value, calls=len(rows),
            open_calls=sum(r.state == "open" for r in rows),
            applicants=sum(r.applicants for r in rows),
            selected=sum(len(r.selected) for r in rows),
            budget_granted_krw=sum(r.budget_granted_krw for r in rows), call_figures=rows))
    return schemas.Dashboard(as_of=now, programmes=programmes)
