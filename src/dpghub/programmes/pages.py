"""Programme pages: the calls, my applications and notices (/programmes), a call (its
description, criteria and the apply form; reviewers for operators), an application (answers,
consortium, submission, outcome, agreement and reports; the scoring form for its reviewers), the
ranking with the selection form, and the dashboard. Plain forms, no script."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..core.errors import Forbidden, HubError, Invalid
from ..identity import service as identity
from ..identity.dependencies import PageActor, SignedInPageActor
from ..identity.policy import can
from ..web import csrf
from ..web.context import DbSession, Lang
from ..web.forms import attempt, form_data, parse
from ..web.params import Id
from ..web.templating import redirect, render
from . import schemas, service

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
PROGRAMMES = ("agile", "ai_support", "testbed", "data_lake")


def _now(request: Request) -> Any:
    return request.app.state.clock()


# --- home ----------------------------------------------------------------------------------


@router.get("/programmes")
def home(request: Request, session: DbSession, actor: PageActor) -> Response:
    return _home(request, session, actor)


def _home(request: Request, session: Any, actor: Any, error: HubError | None = None,
          status: int = 200) -> Response:
    now = _now(request)
    return render(request, "programmes/home.html", {
        "calls": [service.calls.call_read(c, now) for c in service.calls.list_(session)],
        "mine": [service.applications.application_read(session, a)
                 for a in service.applications.mine(session, actor=actor)],
        "reviewing": [service.calls.call_read(c, now)
                      for c in service.reviews.calls_reviewed_by(session, actor=actor)],
        "notices": identity.of_user(session, actor=actor, domain="programmes",
                                    unread_only=True, limit=20),
        "can_create": can(actor, "programmes.call.create"),
        "programmes": PROGRAMMES, "error": error}, status=status)


@router.post("/programmes/calls")
async def create_call(request: Request, session: DbSession,
                      actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        form["questions"] = [_question(line) for line in _lines(form.get("questions", ""))]
        form["criteria"] = [_criterion(line) for line in _lines(form.get("criteria", ""))]
        call = service.calls.create(session, actor=actor, data=parse(schemas.CallCreate, form))
    if (error := tried.error) is not None:
        return _home(request, session, actor, error=error, status=error.status)
    return redirect(request, f"/programmes/calls/{call.id}", "The call was opened.")


def _question(line: str) -> dict[str, Any]:
    """`id | text | optional`: a question, required unless the third part says optional."""
    parts = [p.strip() for p in line.split("|")]
    if len(parts) < 2:
        raise Invalid("Write each question as: id | text (| optional)", code="invalid",
                      field="questions")
    return {"id": parts[0], "text": parts[1],
            "required": not (len(parts) > 2 and parts[2].lower() == "optional")}


def _criterion(line: str) -> dict[str, Any]:
    """`id | name | weight | max score`."""
    parts = [p.strip() for p in line.split("|")]
    if len(parts) != 4:
        raise Invalid("Write each criterion as: id | name | weight | max score", code="invalid",
                      field="criteria")
    return {"id": parts[0], "name": parts[1], "weight": parts[2], "max_score": parts[3]}


def _lines(text: Any) -> list[str]:
    items = text if isinstance(text, list) else str(text).splitlines()
    return [t.strip() for t in items if t.strip()]


@router.post("/programmes/notices/read")
def read_notices(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    identity.mark_read(session, actor=actor, domain="programmes")
    return redirect(request, "/programmes")


# --- a call --------------------------------------------------------------------------------


@router.get("/programmes/calls/{call_id}")
def call_page(call_id: Id, request: Request, session: DbSession, actor: PageActor) -> Response:
    return _call(call_id, request, session, actor)


def _call(call_id: int, request: Request, session: Any, actor: Any,
          error: HubError | None = None, status: int = 200) -> Response:
    call = service.calls.get(session, call_id)
    orgs = identity.orgs_of(session, actor.user_id) if actor.user_id else []
    operator = can(actor, "programmes.selection.read", call)
    return render(request, "programmes/call.html", {
        "call": service.calls.call_read(call, _now(request)),
        "orgs": [o for o, _ in orgs if can(actor, "programmes.application.create", o)],
        "reviewers": service.reviews.reviewers_read(session, call) if operator else [],
        "operator": operator,
        "to_review": [service.applications.application_read(session, a)
                      for a in service.applications.of_call(session, call)
                      if actor.user_id in a.reviewer_ids],
        "error": error}, status=status)


@router.post("/programmes/calls/{call_id}/applications")
async def apply(call_id: Id, request: Request, session: DbSession,
                actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    form["members"] = _slugs(form.get("members", ""))
    form["answers"] = _answers(form)
    with attempt(session) as tried:
        call = service.calls.get(session, call_id)
        found = service.applications.create(
            session, actor=actor, call=call, data=parse(schemas.ApplicationCreate, form),
            now=_now(request))
    if (error := tried.error) is not None:
        return _call(call_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/programmes/applications/{found.id}",
                    "The draft application was saved.")


def _slugs(text: Any) -> list[str]:
    return [s.strip() for s in str(text).replace("\n", ",").split(",") if s.strip()]


def _answers(form: dict[str, Any]) -> dict[str, str]:
    answers = {}
    for key in [k for k in form if k.startswith("answer:")]:
        answers[key.removeprefix("answer:")] = form.pop(key)
    return answers


@router.post("/programmes/calls/{call_id}/reviewers")
async def assign_reviewer(call_id: Id, request: Request, session: DbSession,
                          actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        call = service.calls.get(session, call_id)
        service.reviews.assign(session, actor=actor, call=call,
                               data=parse(schemas.ReviewerAssign, form))
    if (error := tried.error) is not None:
        return _call(call_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/programmes/calls/{call_id}", "The reviewer was assigned.")


# --- an application ------------------------------------------------------------------------


@router.get("/programmes/applications/{application_id}")
def application_page(application_id: Id, request: Request, session: DbSession,
                     actor: SignedInPageActor) -> Response:
    return _application(application_id, request, session, actor)


def _application(application_id: int, request: Request, session: Any, actor: Any,
                 error: HubError | None = None, status: int = 200) -> Response:
    found = service.applications.get(session, actor=actor, application_id=application_id)
    read = service.applications.application_read(session, found)
    signed = None
    if read.agreement:
        try:
            signed = service.agreements.get(session, actor=actor, agreement_id=read.agreement)
        except Forbidden:     # the call's reviewers read the application, not its agreement
            signed = None
    agreement = service.agreements.agreement_read(signed) if signed is not None else None
    reviewer = can(actor, "programmes.review.score", found)
    return render(request, "programmes/application.html", {
        "application": read,
        "call": service.calls.call_read(found.call, _now(request)),
        "editable": read.state == "draft" and can(actor, "programmes.application.update",
                                                   found),
        "reviewer": reviewer,
        "my_review": service.reviews.review_read(found, actor.user_id) if reviewer else None,
        "agreement": agreement,
        "can_report": signed is not None and can(actor, "programmes.report.submit", signed),
        "error": error}, status=status)


@router.post("/programmes/applications/{application_id}")
async def edit_application(application_id: Id, request: Request, session: DbSession,
                           actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    form["members"] = _slugs(form.get("members", ""))
    form["answers"] = _answers(form)
    return _act(application_id, request, session, actor, "The draft was saved.",
                lambda found: service.applications.update(
                    session, actor=actor, application=found,
                    data=parse(schemas.ApplicationUpdate, form), now=_now(request)))


@router.post("/programmes/applications/{application_id}/submit")
def submit_application(application_id: Id, request: Request, session: DbSession,
                       actor: SignedInPageActor) -> Response:
    return _act(application_id, request, session, actor, "The application was submitted.",
                lambda found: service.applications.submit(session, actor=actor,
                                                          application=found,
                                                          now=_now(request)))


@router.post("/programmes/applications/{application_id}/scores")
async def score(application_id: Id, request: Request, session: DbSession,
                actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    data = {key.removeprefix("score:"): {"score": value,
                                         "comment": form.get(f"comment:{key[6:]}", "")}
            for key, value in form.items() if key.startswith("score:")}
    return _act(application_id, request, session, actor, "Your scores were saved.",
                lambda found: service.reviews.score(
                    session, actor=actor, application=found,
                    data={k: parse(schemas.ScoreEntry, v) for k, v in data.items()}))


@router.post("/programmes/applications/{application_id}/reports")
async def report(application_id: Id, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    figures = {}
    for line in _lines(form.pop("figures", "")):
        name, _, value = line.partition("=")
        figures[name.strip()] = value.strip()
    form["figures"] = figures

    def submit(found: Any) -> Any:
        read = service.applications.application_read(session, found)
        if read.agreement is None:
            raise Invalid("This application has no agreement to report on",
                          code="no_agreement")
        agreement = service.agreements.get(session, actor=actor, agreement_id=read.agreement)
        return service.agreements.report(session, actor=actor, agreement=agreement,
                                         data=parse(schemas.ReportCreate, form))
    return _act(application_id, request, session, actor, "The progress report was submitted.",
                submit)


def _act(application_id: int, request: Request, session: Any, actor: Any, done: str,
         change: Any) -> Response:
    with attempt(session) as tried:
        change(service.applications.get(session, actor=actor, application_id=application_id))
    if (error := tried.error) is not None:
        return _application(application_id, request, session, actor, error=error,
                            status=error.status)
    return redirect(request, f"/programmes/applications/{application_id}", done)


# --- ranking and selection -----------------------------------------------------------------


@router.get("/programmes/calls/{call_id}/ranking")
def ranking_page(call_id: Id, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    return _ranking(call_id, request, session, actor)


def _ranking(call_id: int, request: Request, session: Any, actor: Any,
             error: HubError | None = None, status: int = 200) -> Response:
    call = service.calls.get(session, call_id)
    return render(request, "programmes/ranking.html", {
        "call": service.calls.call_read(call, _now(request)),
        "ranking": service.ranking.ranking(session, actor=actor, call=call),
        "error": error}, status=status)


@router.post("/programmes/calls/{call_id}/selection")
async def select(call_id: Id, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    chosen = [int(k.removeprefix("select:")) for k in form if k.startswith("select:")]
    decisions = {int(k.removeprefix("reason:")): v for k, v in form.items()
                 if k.startswith("reason:") and v.strip()}
    data = {"selected": [{"application": a, "reason": decisions.get(a, "")} for a in chosen],
            "declined": [{"application": a, "reason": r} for a, r in decisions.items()
                         if a not in chosen],
            "declined_reason": form.get("declined_reason") or None,
            "starts_on": form.get("starts_on", ""), "ends_on": form.get("ends_on", ""),
            "deliverables": _lines(form.get("deliverables", ""))}
    with attempt(session) as tried:
        call = service.calls.get(session, call_id)
        service.selections.select_(session, actor=actor, call=call,
                                   data=parse(schemas.SelectionCreate, data),
                                   now=_now(request))
    if (error := tried.error) is not None:
        return _ranking(call_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/programmes/calls/{call_id}/ranking",
                    "The selection was made and every applicant told.")


# --- dashboard -----------------------------------------------------------------------------


@router.get("/programmes/dashboard")
def dashboard(request: Request, session: DbSession, actor: PageActor, lang: Lang) -> Response:
    start = request.query_params.get("from") or None
    end = request.query_params.get("to") or None
    try:
        found = service.dashboard.figures(session, actor=actor, now=_now(request),
                                          start=start, end=end, language=lang)
    except Invalid as error:     # a month mistyped in the form: the default months, and why
        found = service.dashboard.figures(session, actor=actor, now=_now(request),
                                          language=lang)
        return render(request, "programmes/dashboard.html", {"dashboard": found,
                                                             "error": error}, status=422)
    return render(request, "programmes/dashboard.html", {"dashboard": found})
