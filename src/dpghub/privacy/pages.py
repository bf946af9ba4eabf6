"""Privacy pages: the overview (zones, combinations, exports to review), a dataset's personal
data with the pseudonymisation and risk forms, a safe zone (sources, analysts, the query form
and its checked answers, the query log, exports), a combination, an export request. Plain
forms, no script."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..core.errors import HubError
from ..identity import service as identity
from ..identity.dependencies import SignedInPageActor
from ..identity.policy import can
from ..lake import service as lake
from ..web import csrf
from ..web.context import DbSession, wake_jobs
from ..web.forms import attempt, form_data, parse
from ..web.params import Id
from ..web.templating import redirect, render
from . import schemas, service

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

ACTIONS = ("keep", "drop", "mask", "generalise", "hmac", "token")
GENERALISATIONS = ("age_band", "birth_year", "sigungu", "sido", "month", "year", "range",
                   "top_bottom")
# The form shows every option field on every row; only those of the chosen action are sent on,
# so a width typed before the action was changed to "drop" does not refuse the plan
FORM_OPTIONS = {"mask": ("keep_start", "keep_end"),
                "generalise": ("to", "width", "low", "high")}


@router.get("/privacy")
def home(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    return _home(request, session, actor)


def _home(request: Request, session: Any, actor: Any, error: HubError | None = None,
          status: int = 200) -> Response:
    mine = identity.orgs_of(session, actor.user_id) if actor.user_id else []
    zones = service.zones.list_(session, actor=actor)
    return render(request, "privacy/home.html", {
        "zones": [service.zones.zone_read(session, z, actor) for z in zones],
        "my_zones": [z for z in zones if can(actor, "privacy.combination.request",
                                             z.organization)],
        "combinations": [service.combinations.combination_read(session, c)
                         for c in service.combinations.list_(session, actor=actor)],
        "reviewing": [service.exports.export_read(e)
                      for e in service.exports.list_for_review(session, actor=actor)]
        if can(actor, "privacy.export.review") else [],
        "key_manager": can(actor, "privacy.combination.key"),
        "orgs": [org for org, _ in mine if can(actor, "privacy.zone.create", org)],
        "error": error}, status=status)


@router.post("/privacy/zones")
async def create_zone(request: Request, session: DbSession,
                      actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    form["datasets"] = _lines(form.get("datasets", ""))
    if not form.get("epsilon"):
        form.pop("epsilon", None)
    with attempt(session) as tried:
        zone = service.zones.create(session, actor=actor, data=parse(schemas.ZoneCreate, form))
    if (error := tried.error) is not None:
        return _home(request, session, actor, error=error, status=error.status)
    return redirect(request, f"/privacy/zones/{zone.id}", "The safe zone was opened.")


@router.post("/privacy/combinations")
async def request_combination(request: Request, session: DbSession,
                              actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    parts = []
    for line in _lines(form.pop("parts", "")):
        dataset, _, columns = line.partition(":")
        parts.append({"dataset": dataset.strip(),
                      "columns": [c.strip() for c in columns.split(",") if c.strip()]})
    form["datasets"] = parts
    with attempt(session) as tried:
        found = service.combinations.request(session, actor=actor,
                                             data=parse(schemas.CombinationCreate, form))
    if (error := tried.error) is not None:
        return _home(request, session, actor, error=error, status=error.status)
    return redirect(request, f"/privacy/combinations/{found.id}",
                    "The combination was requested.")


def _lines(text: Any) -> list[str]:
    if isinstance(text, list):
        return [t.strip() for t in text if t.strip()]
    return [t.strip() for t in str(text).splitlines() if t.strip()]


# --- a dataset -----------------------------------------------------------------------------


@router.get("/privacy/datasets/{org}/{name}")
def dataset_page(org: str, name: str, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    return _dataset(org, name, request, session, actor)


def _dataset(org: str, name: str, request: Request, session: Any, actor: Any,
             error: HubError | None = None, status: int = 200,
             risk: dict[str, Any] | None = None) -> Response:
    dataset = lake.get_dataset(session, org, name)
    current = lake.get_version(session, dataset=dataset) if dataset.current_version else None
    return render(request, "privacy/dataset.html", {
        "dataset": dataset, "current": current,
        "found": service.findings.findings(session, actor=actor, dataset=dataset),
        "min_cell": service.findings.min_cell(session, dataset),
        "can_pseudonymise": can(actor, "privacy.pseudonymise", dataset),
        "can_risk": can(actor, "privacy.risk.read", dataset),
        **service.pseudonyms.section(session, dataset, actor),
        "actions": ACTIONS, "generalisations": GENERALISATIONS,
        "risk": risk, "error": error}, status=status)


@router.post("/privacy/datasets/{org}/{name}/pseudonymise")
async def pseudonymise(org: str, name: str, request: Request, session: DbSession,
                       actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    plan: dict[str, dict[str, Any]] = {}
    for key, value in form.items():   # action:<column>, opt:<column>:<option>
        if key.startswith("action:") and value and value != "keep":
            plan[key.removeprefix("action:")] = {"action": value}
    for key, value in form.items():
        if key.startswith("opt:") and value != "":
            column, _, option = key.removeprefix("opt:").rpartition(":")
            if column in plan and option in FORM_OPTIONS.get(plan[column]["action"], ()):
                plan[column][option] = value if option == "to" else _number(value)
    data = {"target": form.get("target", ""), "plan": plan}
    if form.get("access"):
        data["access"] = form["access"]
    with attempt(session) as tried:
        dataset = lake.get_dataset(session, org, name)
        found, _ = service.pseudonyms.request(
            session, actor=actor, source=dataset,
            data=parse(schemas.PseudonymiseRequest, data),
            today=request.app.state.clock().date())
    if (error := tried.error) is not None:
        return _dataset(org, name, request, session, actor, error=error, status=error.status)
    wake_jobs(request)
    return redirect(request, f"/privacy/datasets/{org}/{name}",
                    "Pseudonymisation started: the new dataset fills when the job ends.")


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


@router.post("/privacy/datasets/{org}/{name}/risk")
async def risk(org: str, name: str, request: Request, session: DbSession,
               actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    quasi = form.get("quasi", [])
    quasi = [quasi] if isinstance(quasi, str) else quasi
    report = None
    with attempt(session) as tried:
        dataset = lake.get_dataset(session, org, name)
        report = service.risk.report(
            session, actor=actor, dataset=dataset, settings=request.app.state.settings,
            storage=request.app.state.storage, quasi=quasi, k=int(form.get("k") or 5),
            sensitive=[s for s in [form.get("sensitive", "")] if s])
    return _dataset(org, name, request, session, actor, error=tried.error,
                    status=tried.error.status if tried.error else 200, risk=report)


@router.post("/privacy/datasets/{org}/{name}/settings")
async def settings(org: str, name: str, request: Request, session: DbSession,
                   actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        dataset = lake.get_dataset(session, org, name)
        service.findings.set_min_cell(session, actor=actor, dataset=dataset,
                                      k=parse(schemas.MinCell, form).k)
    if (error := tried.error) is not None:
        return _dataset(org, name, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/privacy/datasets/{org}/{name}", "Saved.")


# --- a safe zone ---------------------------------------------------------------------------


@router.get("/privacy/zones/{zone_id}")
def zone_page(zone_id: Id, request: Request, session: DbSession,
              actor: SignedInPageActor) -> Response:
    return _zone(zone_id, request, session, actor)


def _zone(zone_id: int, request: Request, session: Any, actor: Any,
          error: HubError | None = None, status: int = 200,
          answer: schemas.ZoneAnswer | None = None, sql: str = "") -> Response:
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    read = service.zones.zone_read(session, zone, actor)
    owners = {s.owner_org_id for s in zone.sources if actor.role_in(s.owner_org_id)}
    return render(request, "privacy/zone.html", {
        "zone": read, "answer": answer, "sql": sql, "error": error,
        "analyst": actor.user_id in zone.participant_ids,
        "can_manage": can(actor, "privacy.zone.manage", zone),
        "decide": [s for s, raw in zip(read.sources, zone.sources, strict=True)
                   if raw.dataset_id and raw.owner_org_id in owners
                   and can(actor, "privacy.zone.approve",
                           lake.get_dataset_by_id(session, raw.dataset_id))],
        "log": service.zone_queries.log(session, zone)[:50],
        "exports": [service.exports.export_read(e) for e in service.exports.of_zone(session,
                                                                                    zone)]},
        status=status)


@router.post("/privacy/zones/{zone_id}/query")
async def zone_query(zone_id: Id, request: Request, session: DbSession,
                     actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    answer = None
    with attempt(session) as tried:
        zone = service.zones.get(session, actor=actor, zone_id=zone_id)
        data = parse(schemas.ZoneQueryRequest, {"sql": form.get("sql", ""),
                                                "dp": form.get("dp") == "on"})
        state = request.app.state
        answer = service.zone_queries.query(session, actor=actor, zone=zone, data=data,
                                            storage=state.storage, queries=state.queries)
    return _zone(zone_id, request, session, actor, error=tried.error,
                 status=tried.error.status if tried.error else 200, answer=answer,
                 sql=str(form.get("sql", "")))


@router.post("/privacy/zones/{zone_id}/analysts")
async def add_analyst(zone_id: Id, request: Request, session: DbSession,
                      actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        zone = service.zones.get(session, actor=actor, zone_id=zone_id)
        service.zones.add_analyst(session, actor=actor, zone=zone,
                                  email=parse(schemas.AnalystAdd, form).email)
    if (error := tried.error) is not None:
        return _zone(zone_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/privacy/zones/{zone_id}", "The analyst was added.")


@router.post("/privacy/zones/{zone_id}/approvals")
async def decide_source(zone_id: Id, request: Request, session: DbSession,
                        actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        zone = service.zones.get(session, actor=actor, zone_id=zone_id)
        data = parse(schemas.Decision, form)
        service.zones.decide(session, actor=actor, zone=zone, dataset_ref=data.dataset,
                             verdict=data.verdict, comment=data.comment)
    if (error := tried.error) is not None:
        return _zone(zone_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/privacy/zones/{zone_id}", "Your decision was recorded.")


@router.post("/privacy/zones/{zone_id}/exports")
async def request_export(zone_id: Id, request: Request, session: DbSession,
                         actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    form["quasi"] = [q.strip() for q in str(form.get("quasi", "")).split(",") if q.strip()]
    with attempt(session) as tried:
        zone = service.zones.get(session, actor=actor, zone_id=zone_id)
        export = service.exports.create(
            session, actor=actor, zone=zone, data=parse(schemas.ExportCreate, form),
            reviewers_needed=request.app.state.settings.privacy_export_reviewers)
    if (error := tried.error) is not None:
        return _zone(zone_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/privacy/exports/{export.id}", "The export was requested.")


# --- combinations and exports --------------------------------------------------------------


@router.get("/privacy/combinations/{combination_id}")
def combination_page(combination_id: Id, request: Request, session: DbSession,
                     actor: SignedInPageActor) -> Response:
    return _combination(combination_id, request, session, actor)


def _combination(combination_id: int, request: Request, session: Any, actor: Any,
                 error: HubError | None = None, status: int = 200) -> Response:
    found = service.combinations.get(session, actor=actor, combination_id=combination_id)
    read = service.combinations.combination_read(session, found)
    return render(request, "privacy/combination.html", {
        "combination": read, "error": error,
        "decide": [p.dataset for p, raw in zip(read.parts, found.parts, strict=True)
                   if raw.decision is None and actor.role_in(raw.org_id) is not None
                   and can(actor, "privacy.combination.approve",
                           lake.get_dataset_by_id(session, raw.dataset_id))],
        "key_manager": can(actor, "privacy.combination.key") and not read.key_approved},
        status=status)


@router.post("/privacy/combinations/{combination_id}/approve")
async def approve_combination(combination_id: Id, request: Request, session: DbSession,
                              actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        found = service.combinations.get(session, actor=actor, combination_id=combination_id)
        service.combinations.answer(session, actor=actor, combination=found,
                                    data=parse(schemas.CombinationDecision, form),
                                    secret=request.app.state.settings.secret)
    if (error := tried.error) is not None:
        return _combination(combination_id, request, session, actor, error=error,
                            status=error.status)
    wake_jobs(request)
    return redirect(request, f"/privacy/combinations/{combination_id}",
                    "Your decision was recorded.")


@router.get("/privacy/exports/{export_id}")
def export_page(export_id: Id, request: Request, session: DbSession,
                actor: SignedInPageActor) -> Response:
    return _export(export_id, request, session, actor)


def _export(export_id: int, request: Request, session: Any, actor: Any,
            error: HubError | None = None, status: int = 200) -> Response:
    export = service.exports.get(session, actor=actor, export_id=export_id)
    return render(request, "privacy/export.html", {
        "export": service.exports.export_read(export), "error": error,
        "may_review": can(actor, "privacy.export.review")
        and actor.role_in(export.org_id) is None
        and all(r.reviewer_id != actor.user_id for r in export.reviews),
        "may_download": actor.user_id == export.requested_by}, status=status)


@router.post("/privacy/exports/{export_id}/reviews")
async def review_export(export_id: Id, request: Request, session: DbSession,
                        actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        export = service.exports.get(session, actor=actor, export_id=export_id)
        data = parse(schemas.ReviewCreate, form)
        service.exports.review(session, actor=actor, export=export, verdict=data.verdict,
                               comment=data.comment)
    if (error := tried.error) is not None:
        return _export(export_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/privacy/exports/{export_id}", "Your review was recorded.")


@router.post("/privacy/exports/{export_id}/file")
def download_export(export_id: Id, request: Request, session: DbSession,
                    actor: SignedInPageActor) -> Response:
    """A form's POST, not a link: the one download should not be spent by a prefetch."""
    export = service.exports.get(session, actor=actor, export_id=export_id)
    filename, content = service.exports.download(session, actor=actor, export=export)
    return Response(content, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
