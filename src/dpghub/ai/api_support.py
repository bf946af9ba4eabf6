"""AI-support programme JSON routes: consulting and education sessions, public lead cases and
the programme's figures. (Applications and selection: `/api/v1/programmes/…` with programme
`ai_support`; progress reports: `POST /api/v1/programmes/agreements/{id}/reports`.)"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from ..identity import service as identity
from ..identity.dependencies import ApiActor, OptionalApiActor
from ..web.context import DbSession
from ..web.params import Id
from ..web.problems import responses
from . import schemas_support as schemas
from .service import support

router = APIRouter(prefix="/api/v1/ai", tags=["ai"])

FromMonth = Annotated[str | None, Query(alias="from", examples=["2026-01"], description=(
    "The first month, YYYY-MM in Asia/Seoul (default: eleven months before `to`)"))]
ToMonth = Annotated[str | None, Query(alias="to", examples=["2026-12"], description=(
    "The last month, YYYY-MM (default: this month)"))]


def _now(request: Request) -> datetime:
    return request.app.state.clock()  # type: ignore[no-any-return]


@router.post("/support/sessions", status_code=201, response_model=schemas.SupportSessionRead,
             responses=responses(401, 403, 422))
def record_session(data: schemas.SupportSessionCreate, request: Request, session: DbSession,
                   actor: ApiActor) -> schemas.SupportSessionRead:
    """Record a consulting or education session and the organizations that attended (support
    staff and operators)."""
    return support.session_read(support.record_session(session, actor=actor, data=data,
                                                       now=_now(request)))


@router.get("/support/sessions", response_model=list[schemas.SupportSessionRead],
            responses=responses(401, 403, 404))
def list_sessions(session: DbSession, actor: ApiActor,
                  org: Annotated[str | None, Query(
                      examples=["alpha"], description="Only the sessions it attended")] = None
                  ) -> list[schemas.SupportSessionRead]:
    """The sessions one may read, newest first: every one for support staff and operators,
    those one's organizations attended for their members."""
    found = identity.get_org_by_slug(session, org) if org is not None else None
    return [support.session_read(s)
            for s in support.list_sessions(session, actor=actor, org=found)]


@router.post("/lead-cases", status_code=201, response_model=schemas.LeadCaseRead,
             responses=responses(401, 403, 422))
def create_lead_case(data: schemas.LeadCaseCreate, request: Request, session: DbSession,
                     actor: ApiActor) -> schemas.LeadCaseRead:
    """Record a public lead case (공공 선도 적용): an agency, its AI supplier, the service, status
    and outcome (support staff and operators). Everyone reads it once `public` is true."""
    found = support.create_lead_case(session, actor=actor, data=data, now=_now(request))
    return support.lead_case_read(session, found)


@router.patch("/lead-cases/{case_id}", response_model=schemas.LeadCaseRead,
              responses=responses(401, 403, 404, 422))
def update_lead_case(case_id: Id, data: schemas.LeadCaseUpdate, request: Request,
                     session: DbSession, actor: ApiActor) -> schemas.LeadCaseRead:
    """Change a lead case's fields given (support staff and operators)."""
    found = support.update_lead_case(session, actor=actor, case_id=case_id, data=data,
                                     now=_now(request))
    return support.lead_case_read(session, found)


@router.get("/lead-cases", response_model=list[schemas.LeadCaseRead])
def list_lead_cases(session: DbSession, actor: OptionalApiActor
                    ) -> list[schemas.LeadCaseRead]:
    """The public lead cases for everyone; every one for support staff and operators, and
    its agency's and supplier's people see their own before it is public."""
    return [support.lead_case_read(session, c)
            for c in support.list_lead_cases(session, actor=actor)]


@router.get("/programme", response_model=schemas.ProgrammeRead, responses=responses(422))
def programme(request: Request, session: DbSession, actor: OptionalApiActor,
              start: FromMonth = None, end: ToMonth = None) -> schemas.ProgrammeRead:
    """The programme's figures: companies supported (selected in `ai_support` calls), credit
    granted to them and tokens they spent, sessions held and their hours, lead cases by
    status — totals, and per month. Each company's credit and sessions: support staff and
    operators only."""
    return support.programme_figures(session, actor=actor, now=_now(request), start=start,
                                     end=end)
