"""AI pages: the AI-support programme (/ai) — companies supported, credit granted and spent per
month (a chart and its table), sessions held, progress reports, public lead cases — and, for
support staff and operators, the plain forms that record a session and a lead case. No
script."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..core.errors import HubError, Invalid
from ..identity.dependencies import PageActor, SignedInPageActor
from ..identity.policy import can
from ..web import csrf
from ..web.context import DbSession
from ..web.forms import attempt, form_data, parse
from ..web.params import Id
from ..web.templating import redirect, render
from . import schemas_support as schemas
from .service import support

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
STATUSES = ("planned", "in_progress", "completed", "stopped")


def _now(request: Request) -> Any:
    return request.app.state.clock()


@router.get("/ai")
def programme(request: Request, session: DbSession, actor: PageActor) -> Response:
    return _programme(request, session, actor)


def _programme(request: Request, session: Any, actor: Any, *, error: HubError | None = None,
               status: int = 200, form: str | None = None,
               values: dict[str, Any] | None = None) -> Response:
    """The programme page; a refused form comes back with its reason and what was typed."""
    start = request.query_params.get("from") or None
    end = request.query_params.get("to") or None
    try:
        figures = support.programme_figures(session, actor=actor, now=_now(request),
                                            start=start, end=end)
    except Invalid as refused:   # a month mistyped: the default months, and why
        figures = support.programme_figures(session, actor=actor, now=_now(request))
        error, status = refused, 422
    top = max([max(m.granted_tokens, m.spent_tokens) for m in figures.months] + [1])
    chart = [(m, round(m.granted_tokens / top * 100), round(m.spent_tokens / top * 100))
             for m in figures.months]
    manages = can(actor, "ai.support.manage")
    return render(request, "ai/programme.html", {
        "figures": figures, "chart": chart,
        "sessions": [support.session_read(s)
                     for s in support.list_sessions(session, actor=actor, limit=50)]
        if actor.is_authenticated else [],
        "progress": support.progress(session, actor=actor) if actor.is_authenticated else [],
        "lead_cases": [support.lead_case_read(session, c)
                       for c in support.list_lead_cases(session, actor=actor)],
        "manages": manages, "manages_cases": can(actor, "ai.leadcase.manage"),
        "statuses": STATUSES, "error": error, "form": form, "values": values or {}},
        status=status)


def _words(value: Any) -> list[str]:
    """A field of several values, comma or line separated."""
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    return [w.strip() for w in text.replace("\n", ",").split(",") if w.strip()]


@router.post("/ai/sessions")
async def record_session(request: Request, session: DbSession,
                         actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    data: dict[str, Any] = {k: v for k, v in form.items() if v != ""}
    data["topics"] = _words(form.get("topics"))
    data["orgs"] = _words(form.get("orgs"))
    data["materials"] = [line.strip() for line in str(form.get("materials", "")).splitlines()
                         if line.strip()]
    with attempt(session) as tried:
        support.record_session(session, actor=actor,
                               data=parse(schemas.SupportSessionCreate, data),
                               now=_now(request))
    if (error := tried.error) is not None:
        return _programme(request, session, actor, error=error, status=error.status,
                          form="session", values=form)
    return redirect(request, "/ai#sessions-h", "The session was recorded.")


def _case_data(form: dict[str, Any], *, update: bool) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in form.items() if k != "public"}
    if not update:
        data = {k: v for k, v in data.items() if v != ""}
    elif data.get("service") == "":
        data["service"] = None         # emptied: the registered service is unlinked
    data["public"] = form.get("public") == "on"
    return data


@router.post("/ai/lead-cases")
async def create_lead_case(request: Request, session: DbSession,
                           actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        support.create_lead_case(session, actor=actor,
                                 data=parse(schemas.LeadCaseCreate,
                                            _case_data(form, update=False)),
                                 now=_now(request))
    if (error := tried.error) is not None:
        return _programme(request, session, actor, error=error, status=error.status,
                          form="lead-case", values=form)
    return redirect(request, "/ai#cases-h", "The lead case was recorded.")


@router.post("/ai/lead-cases/{case_id}")
async def update_lead_case(case_id: Id, request: Request, session: DbSession,
                           actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        support.update_lead_case(session, actor=actor, case_id=case_id,
                                 data=parse(schemas.LeadCaseUpdate,
                                            _case_data(form, update=True)),
                                 now=_now(request))
    if (error := tried.error) is not None:
        return _programme(request, session, actor, error=error, status=error.status,
                          form=f"case-{case_id}", values=form)
    return redirect(request, f"/ai#case-{case_id}", "The lead case was updated.")
