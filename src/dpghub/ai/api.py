"""AI JSON routes: providers (operators), monthly budgets, usage, and the hub's own AI
features (ask the data, catalogue Q&A). The OpenAI-compatible calls themselves are
`/ai/v1/…`, answered by proxy.py before the framework."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from ..core.errors import Invalid
from ..gateway import service as gateway
from ..identity import service as identity
from ..identity.dependencies import ApiActor, OptionalApiActor
from ..web.context import DbSession, HubSettings, language
from ..web.params import Id
from ..web.problems import responses
from . import schemas, service

router = APIRouter(prefix="/api/v1/ai", tags=["ai"])


def _now(request: Request) -> datetime:
    return request.app.state.clock()  # type: ignore[no-any-return]


@router.post("/providers", status_code=201, response_model=schemas.ProviderRead,
             responses=responses(401, 403, 409, 422))
def create_provider(data: schemas.ProviderCreate, request: Request, session: DbSession,
                    actor: ApiActor) -> schemas.ProviderRead:
    """Register an OpenAI-compatible provider with its models (operators). `api_key` is
    sealed under a key derived from the hub's secret and never shown again."""
    found = service.providers.create(session, actor=actor, data=data,
                                     secret=request.app.state.settings.secret)
    request.app.state.ai.forget_routes()
    return service.providers.provider_read(found)


@router.get("/providers", response_model=list[schemas.ProviderRead],
            responses=responses(401, 403))
def list_providers(session: DbSession, actor: ApiActor) -> list[schemas.ProviderRead]:
    """The providers and their models, without secrets (operators)."""
    return [service.providers.provider_read(p)
            for p in service.providers.list_(session, actor=actor)]


@router.put("/budgets/{org}", response_model=schemas.BudgetRead,
            responses=responses(401, 403, 404, 422))
def set_budget(org: str, data: schemas.BudgetSet, request: Request, session: DbSession,
               actor: ApiActor) -> schemas.BudgetRead:
    """Grant the organization `tokens` for the month (operators): a call that would go over
    it is refused before it is sent."""
    found = identity.get_org_by_slug(session, org)
    budget = service.budgets.set_(session, actor=actor, org=found, data=data,
                                  now=_now(request))
    session.commit()                       # before the gateway reads it again
    request.app.state.ai.forget_credit(found.id)
    return service.budgets.read(session, actor=actor, org=found, now=_now(request),
                                month=budget.month, pending=_pending(request, found.id,
                                                                     budget.month))


@router.get("/budgets/{org}", response_model=schemas.BudgetRead,
            responses=responses(401, 403, 404, 422))
def get_budget(org: str, request: Request, session: DbSession, actor: ApiActor,
               month: Annotated[str | None, Query(examples=["2026-05"])] = None
               ) -> schemas.BudgetRead:
    """Granted, used and left for the month (its members; operators)."""
    found = identity.get_org_by_slug(session, org)
    now = _now(request)
    chosen = month or service.budgets.month_now(now)
    return service.budgets.read(session, actor=actor, org=found, now=now, month=chosen,
                                pending=_pending(request, found.id, chosen))


@router.get("/usage", response_model=schemas.UsageRead, responses=responses(401, 403, 404,
                                                                                 422))
def usage(request: Request, session: DbSession, actor: ApiActor,
          app: Annotated[Id | None, Query(description="One app's usage")] = None,
          org: Annotated[str | None, Query(description="An organization's usage")] = None,
          days: Annotated[int, Query(ge=1, le=366)] = 31) -> schemas.UsageRead:
    """Calls, input and output tokens and cost (KRW) per model and Seoul day (the ledger,
    which the gateway writes within about half a second of each call)."""
    if (app is None) == (org is None):
        raise Invalid("Give one of app or org", code="app_or_org", field="org")
    if org is not None:
        return service.ledger.usage(session, actor=actor,
                                    org=identity.get_org_by_slug(session, org), days=days,
                                    now=_now(request))
    found = gateway.get_app(session, actor=actor, app_id=app)   # type: ignore[arg-type]
    return service.ledger.usage(session, actor=actor, app=found, days=days, now=_now(request))


@router.get("/settings/{org}", response_model=schemas.SettingsRead,
            responses=responses(401, 403, 404))
def get_settings(org: str, session: DbSession, actor: ApiActor) -> schemas.SettingsRead:
    """The organization's AI settings (its members; operators)."""
    return service.settings.read(session, actor=actor, org=identity.get_org_by_slug(session,
                                                                                    org))


@router.put("/settings/{org}", response_model=schemas.SettingsRead,
            responses=responses(401, 403, 404, 422))
def put_settings(org: str, data: schemas.SettingsUpdate, request: Request, session: DbSession,
                 actor: ApiActor) -> schemas.SettingsRead:
    """Mask personal data in the organization's prompts before they leave the hub (its
    admins; operators). Holds from the next call."""
    found = identity.get_org_by_slug(session, org)
    changed = service.settings.update(session, actor=actor, org=found, data=data,
                                      now=_now(request))
    session.commit()                       # before the gateway reads it again
    request.app.state.ai.forget_credit(found.id)
    return changed


def _pending(request: Request, org_id: int, month: str) -> int:
    return int(request.app.state.ai.pending.get((org_id, month), 0))


# --- the hub's own AI features -------------------------------------------------------------


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


@router.post("/sql", response_model=schemas.AskDataRead,
             responses=responses(401, 403, 422, 429, 502, 503))
async def ask_data(data: schemas.AskDataRequest, request: Request, session: DbSession,
                   actor: ApiActor, settings: HubSettings) -> schemas.AskDataRead:
    """Ask the data in Korean or English (signed-in): the hub's configured model writes one
    SQL statement over the datasets you may read, and it runs in the SQL sandbox with your
    rights, as `POST /api/v1/query` would; a statement that fails is repaired once. `refused`
    says why a statement was refused or failed; `chart` suggests a chart when one fits.
    `model` is ignored. 503 `ai_features_off` when no model is configured."""
    state = request.app.state
    answer = await service.nl2sql.ask(
        session, actor=actor, question=data.question, complete=state.ai.complete,
        storage=state.storage, settings=settings, queries=state.queries,
        limits=state.ai_assist_limits, address=_address(request))
    return service.nl2sql.answer_read(answer, language(request))


@router.post("/ask", response_model=schemas.AskRead,
             responses=responses(422, 429, 502, 503))
async def ask_catalogue(data: schemas.AskRequest, request: Request, session: DbSession,
                        actor: OptionalApiActor, settings: HubSettings) -> schemas.AskRead:
    """Ask the catalogue (anyone; anonymous callers within an abuse limit): the answer comes
    from the datasets, services and FAQ you may see, citing the ones it used; "I don't know"
    without asking the model when nothing relevant is found."""
    state = request.app.state
    return await service.qa.ask(session, actor=actor, question=data.question,
                                complete=state.ai.complete, settings=settings,
                                limits=state.ai_assist_limits, address=_address(request))
