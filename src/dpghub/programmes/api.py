"""Programme JSON routes: calls, applications, reviewers and scores, ranking and selection,
agreements with progress reports, and the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from ..identity.dependencies import ApiActor, OptionalApiActor
from ..identity.policy import can
from ..web.context import DbSession, Lang
from ..web.params import Id
from ..web.problems import responses
from . import schemas, service

router = APIRouter(prefix="/api/v1/programmes", tags=["programmes"])

ProgrammeFilter = Annotated[schemas.ProgrammeName | None,
                            Query(description="Only the calls of this programme")]
Scores = Annotated[dict[str, schemas.ScoreEntry], Body(
    description="A score and a comment for every criterion of the call, by criterion id",
    examples=[{"feasibility": {"score": 8, "comment": "명확한 추진 계획"},
               "impact": {"score": 9, "comment": "민원 처리 시간 단축"}}])]


def _now(request: Request) -> datetime:
    clock = request.app.state.clock
    return clock()  # type: ignore[no-any-return]


# --- calls ---------------------------------------------------------------------------------


@router.post("/calls", status_code=201, response_model=schemas.CallRead,
             responses=responses(401, 403, 422))
def create_call(data: schemas.CallCreate, request: Request, session: DbSession,
                actor: ApiActor) -> schemas.CallRead:
    """Open a call for participants (operators). Times without an offset are Asia/Seoul."""
    call = service.calls.create(session, actor=actor, data=data)
    return service.calls.call_read(call, _now(request))


@router.get("/calls", response_model=list[schemas.CallRead])
def list_calls(request: Request, session: DbSession, actor: OptionalApiActor,
               programme: ProgrammeFilter = None) -> list[schemas.CallRead]:
    """Every call — announced, open, closed and decided — newest deadline first (public)."""
    now = _now(request)
    return [service.calls.call_read(c, now)
            for c in service.calls.list_(session, programme=programme)]


@router.get("/calls/{call_id}", response_model=schemas.CallRead, responses=responses(404))
def get_call(call_id: Id, request: Request, session: DbSession,
             actor: OptionalApiActor) -> schemas.CallRead:
    return service.calls.call_read(service.calls.get(session, call_id), _now(request))


# --- applications --------------------------------------------------------------------------


@router.post("/calls/{call_id}/applications", status_code=201,
             response_model=schemas.ApplicationRead, responses=responses(401, 403, 404, 409, 422))
def create_application(call_id: Id, data: schemas.ApplicationCreate, request: Request,
                       session: DbSession, actor: ApiActor) -> schemas.ApplicationRead:
    """A draft application of `org` (the lead; its editors), naming consortium `members`."""
    call = service.calls.get(session, call_id)
    found = service.applications.create(session, actor=actor, call=call, data=data,
                                        now=_now(request))
    return service.applications.application_read(session, found)


@router.get("/calls/{call_id}/applications", response_model=list[schemas.ApplicationRead],
            responses=responses(401, 404))
def list_applications(call_id: Id, session: DbSession,
                      actor: ApiActor) -> list[schemas.ApplicationRead]:
    """The submitted applications of a call that one may read (its reviewers and operators
    see all of them)."""
    call = service.calls.get(session, call_id)
    return [service.applications.application_read(session, a)
            for a in service.applications.of_call(session, call)
            if can(actor, "programmes.application.read", a)]


@router.get("/applications", response_model=list[schemas.ApplicationRead],
            responses=responses(401))
def my_applications(session: DbSession, actor: ApiActor) -> list[schemas.ApplicationRead]:
    """Applications led by, or naming, one's organizations."""
    return [service.applications.application_read(session, a)
            for a in service.applications.mine(session, actor=actor)]


@router.get("/applications/{application_id}", response_model=schemas.ApplicationRead,
            responses=responses(401, 403, 404))
def get_application(application_id: Id, session: DbSession,
                    actor: ApiActor) -> schemas.ApplicationRead:
    found = service.applications.get(session, actor=actor, application_id=application_id)
    return service.applications.application_read(session, found)


@router.patch("/applications/{application_id}", response_model=schemas.ApplicationRead,
              responses=responses(401, 403, 404, 409, 422))
def update_application(application_id: Id, data: schemas.ApplicationUpdate, request: Request,
                       session: DbSession, actor: ApiActor) -> schemas.ApplicationRead:
    """Edit a draft (title, answers, consortium) until the deadline."""
    found = service.applications.get(session, actor=actor, application_id=application_id)
    found = service.applications.update(session, actor=actor, application=found, data=data,
                                        now=_now(request))
    return service.applications.application_read(session, found)


@router.post("/applications/{application_id}/submit", response_model=schemas.ApplicationRead,
             responses=responses(401, 403, 404, 409, 422))
def submit_application(application_id: Id, request: Request, session: DbSession,
                       actor: ApiActor) -> schemas.ApplicationRead:
    """Submit within the call's period (409 `call_closed` before or after it), every
    required question answered (422 `answer_required`)."""
    found = service.applications.get(session, actor=actor, application_id=application_id)
    found = service.applications.submit(session, actor=actor, application=found,
                                        now=_now(request))
    return service.applications.application_read(session, found)


# --- review --------------------------------------------------------------------------------


@router.post("/calls/{call_id}/reviewers", status_code=201, response_model=schemas.ReviewerRead,
             responses=responses(401, 403, 404, 409, 422))
def assign_reviewer(call_id: Id, data: schemas.ReviewerAssign, session: DbSession,
                    actor: ApiActor) -> schemas.ReviewerRead:
    """Assign a reviewer by e-mail (operators); `conflicts` lists the applications they
    belong to and may not score."""
    call = service.calls.get(session, call_id)
    reviewer = service.reviews.assign(session, actor=actor, call=call, data=data)
    return next(r for r in service.reviews.reviewers_read(session, call)
                if r.user == reviewer.user_id)


@router.get("/calls/{call_id}/reviewers", response_model=list[schemas.ReviewerRead],
            responses=responses(401, 403, 404))
def list_reviewers(call_id: Id, session: DbSession,
                   actor: ApiActor) -> list[schemas.ReviewerRead]:
    call = service.calls.get(session, call_id)
    return service.reviews.list_(session, actor=actor, call=call)


@router.post("/applications/{application_id}/scores", response_model=schemas.ReviewRead,
             responses=responses(401, 403, 404, 409, 422))
def score_application(application_id: Id, data: Scores, session: DbSession,
                      actor: ApiActor) -> schemas.ReviewRead:
    """Score every criterion (0..its max) with a comment; scoring again replaces one's own
    scores. Refused (403 `reviewer_conflict`) for an application of one's own organization."""
    found = service.applications.get(session, actor=actor, application_id=application_id)
    return service.reviews.score(session, actor=actor, application=found, data=data)


@router.get("/calls/{call_id}/ranking", response_model=schemas.Ranking,
            responses=responses(401, 403, 404))
def get_ranking(call_id: Id, session: DbSession, actor: ApiActor) -> schemas.Ranking:
    """Submitted applications by weighted score: the mean over reviewers of
    Σ weight·score/max ÷ Σ weight × 100 (operators)."""
    call = service.calls.get(session, call_id)
    return service.ranking.ranking(session, actor=actor, call=call)


@router.post("/calls/{call_id}/selection", response_model=schemas.SelectionRead,
             responses=responses(401, 403, 404, 409, 422))
def select_participants(call_id: Id, data: schemas.SelectionCreate, request: Request,
                        session: DbSession, actor: ApiActor) -> schemas.SelectionRead:
    """Select after the deadline (operators), each with its reason; the other submitted
    applications are declined with theirs; everyone is told; the selected get agreements."""
    call = service.calls.get(session, call_id)
    return service.selections.select_(session, actor=actor, call=call, data=data,
                                      now=_now(request))


# --- agreements ----------------------------------------------------------------------------


@router.get("/agreements/{agreement_id}", response_model=schemas.AgreementRead,
            responses=responses(401, 403, 404))
def get_agreement(agreement_id: Id, session: DbSession,
                  actor: ApiActor) -> schemas.AgreementRead:
    found = service.agreements.get(session, actor=actor, agreement_id=agreement_id)
    return service.agreements.agreement_read(found)


@router.post("/agreements/{agreement_id}/reports", status_code=201,
             response_model=schemas.ReportRead, responses=responses(401, 403, 404, 422))
def submit_report(agreement_id: Id, data: schemas.ReportCreate, session: DbSession,
                  actor: ApiActor) -> schemas.ReportRead:
    """A progress report (the lead's editors): text and optional figures."""
    found = service.agreements.get(session, actor=actor, agreement_id=agreement_id)
    return service.agreements.report_read(
        service.agreements.report(session, actor=actor, agreement=found, data=data))


# --- dashboard -----------------------------------------------------------------------------


FromMonth = Annotated[str | None, Query(alias="from", examples=["2026-01"], description=(
    "The first month, YYYY-MM in Asia/Seoul (default: eleven months before `to`)"))]
ToMonth = Annotated[str | None, Query(alias="to", examples=["2026-12"], description=(
    "The last month, YYYY-MM (default: this month)"))]


@router.get("/dashboard", response_model=schemas.Dashboard, responses=responses(422))
def dashboard(request: Request, session: DbSession, actor: OptionalApiActor, lang: Lang,
              start: FromMonth = None, end: ToMonth = None) -> schemas.Dashboard:
    """Per programme: calls, applicants, selected participants, budget granted (public);
    each call's ranking with the applicants' names and scores for operators. `hub`: the
    hub's figures per month — open datasets and their rows, services, gateway calls, agile
    releases, feedback answered for everyone; every dataset, sandbox projects, validations
    passed and AI tokens for operators too."""
    return service.dashboard.figures(session, actor=actor, now=_now(request), start=start,
                                     end=end, language=lang)


@router.get("/dashboard.csv", response_class=Response, responses={
    **responses(422), 200: {"content": {"text/csv": {"example": "month,datasets_open\r\n"
                                                                 "2026-05,12\r\n"}}}})
def dashboard_csv(request: Request, session: DbSession, actor: OptionalApiActor, lang: Lang,
                  start: FromMonth = None, end: ToMonth = None) -> Response:
    """The hub's monthly figures as CSV (UTF-8 with BOM, so Excel reads the Korean): one row
    per month, one column per figure the caller may see."""
    found = service.dashboard.monthly(session, actor=actor, now=_now(request), start=start,
                                      end=end, language=lang)
    name = f"dpghub-figures-{found.months[0]}-{found.months[-1]}.csv"
    return Response("\ufeff" + service.dashboard.as_csv(found), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
