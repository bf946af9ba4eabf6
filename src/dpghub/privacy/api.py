"""Privacy JSON routes: findings, minimum cell size, pseudonymisation, re-identification risk,
combinations, safe zones with their queries, and export review."""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from ..identity.dependencies import ApiActor, OptionalApiActor
from ..lake import service as lake
from ..web.context import DbSession, HubSettings, wake_jobs
from ..web.params import Id, OptionalId
from ..web.problems import responses
from . import schemas, service

router = APIRouter(prefix="/api/v1", tags=["privacy"])


# --- datasets ------------------------------------------------------------------------------


@router.get("/privacy/datasets/{org}/{name}/findings", response_model=schemas.FindingsRead,
            responses=responses(404))
def get_findings(org: str, name: str, session: DbSession, actor: OptionalApiActor,
                 version: OptionalId = None) -> schemas.FindingsRead:
    """Personal data found in each column of a version (the current one by default): kind,
    share of values, confidence, and a masked example for those who may read the rows.
    Columns in `direct_columns` keep the dataset from being published as open."""
    dataset = lake.get_dataset(session, org, name)
    return service.findings.findings(session, actor=actor, dataset=dataset, version=version)


@router.put("/privacy/datasets/{org}/{name}/settings", response_model=schemas.MinCell,
            responses=responses(401, 403, 404, 422))
def set_settings(org: str, name: str, data: schemas.MinCell, session: DbSession,
                 actor: ApiActor) -> schemas.MinCell:
    """The smallest group (k) a safe-zone answer over this dataset may show (default 5)."""
    dataset = lake.get_dataset(session, org, name)
    return schemas.MinCell(k=service.findings.set_min_cell(session, actor=actor,
                                                           dataset=dataset, k=data.k))


@router.post("/privacy/datasets/{org}/{name}/pseudonymise", status_code=202,
             response_model=schemas.PseudonymisationRead,
             responses=responses(401, 403, 404, 409, 422))
def pseudonymise(org: str, name: str, data: schemas.PseudonymiseRequest, request: Request,
                 session: DbSession, actor: ApiActor,
                 background: BackgroundTasks) -> JSONResponse:
    """Build a pseudonymised dataset `target` of the same organization from the current
    version (a job; follow `job_id`). The plan is checked before anything is made."""
    dataset = lake.get_dataset(session, org, name)
    found, job = service.pseudonyms.request(session, actor=actor, source=dataset, data=data,
                                            today=request.app.state.clock().date())
    background.add_task(wake_jobs, request)
    return JSONResponse(service.pseudonyms.record_read(session, found).model_dump(mode="json"),
                        status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get("/privacy/pseudonymisations/{pseudonymisation_id}",
            response_model=schemas.PseudonymisationRead, responses=responses(404))
def get_pseudonymisation(pseudonymisation_id: Id, session: DbSession,
                         actor: ApiActor) -> schemas.PseudonymisationRead:
    """The pseudonymisation record: source version, plan, what was done per column."""
    found = service.pseudonyms.get_visible(session, actor=actor,
                                           pseudonymisation_id=pseudonymisation_id)
    return service.pseudonyms.record_read(session, found)


@router.get("/privacy/pseudonymisations/{pseudonymisation_id}/tokens/{column}",
            responses={**responses(401, 403, 404, 422), 200: {"content": {"text/csv": {}}}})
def get_tokens(pseudonymisation_id: Id, column: str, request: Request, session: DbSession,
               actor: ApiActor) -> Response:
    """The mapping value → token of a tokenised column, as CSV: the owner's admins only."""
    found = service.pseudonyms.get(session, pseudonymisation_id)
    body = service.pseudonyms.token_csv(session, actor=actor, found=found, column=column,
                                        storage=request.app.state.storage)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="tokens-{pseudonymisation_id}.csv"'})


@router.get("/privacy/datasets/{org}/{name}/risk", responses=responses(401, 403, 404, 422))
def get_risk(org: str, name: str, request: Request, session: DbSession, actor: ApiActor,
             settings: HubSettings,
             quasi: Annotated[str | None, Query(max_length=2000,
                                                description="Quasi-identifier columns, "
                                                "comma-separated (at least one)",
                                                examples=["성별,나이대,시군구"])] = None,
             k: Annotated[int, Query(ge=2, le=1000)] = 5,
             sensitive: Annotated[str | None, Query(max_length=2000, description="Sensitive "
                                                    "columns for l-diversity")] = None,
             version: OptionalId = None) -> dict[str, Any]:
    """k-anonymity and l-diversity of a version over the quasi-identifiers named: the
    smallest group, records at risk, and generalisations that would lower the risk."""
    dataset = lake.get_dataset(session, org, name)
    return service.risk.report(session, actor=actor, dataset=dataset, settings=settings,
                               storage=request.app.state.storage,
                               quasi=_names(quasi or ""), k=k,
                               sensitive=_names(sensitive) if sensitive else [],
                               version=version)


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


# --- combinations --------------------------------------------------------------------------


@router.post("/privacy/combinations", status_code=201, response_model=schemas.CombinationRead,
             responses=responses(401, 403, 404, 409, 422))
def request_combination(data: schemas.CombinationCreate, session: DbSession,
                        actor: ApiActor) -> schemas.CombinationRead:
    """Ask to combine datasets of several organizations into one's safe zone. Each owner
    approves its dataset, and a key manager approves with a salt; then a job combines."""
    found = service.combinations.request(session, actor=actor, data=data)
    return service.combinations.combination_read(session, found)


@router.get("/privacy/combinations", response_model=list[schemas.CombinationRead],
            responses=responses(401))
def list_combinations(session: DbSession, actor: ApiActor) -> list[schemas.CombinationRead]:
    """Combinations one's organizations asked for or take part in (key managers: all)."""
    return [service.combinations.combination_read(session, c)
            for c in service.combinations.list_(session, actor=actor)]


@router.get("/privacy/combinations/{combination_id}", response_model=schemas.CombinationRead,
            responses=responses(401, 403, 404))
def get_combination(combination_id: Id, session: DbSession,
                    actor: ApiActor) -> schemas.CombinationRead:
    """State, approvals and, when done, the match rate of each dataset."""
    found = service.combinations.get(session, actor=actor, combination_id=combination_id)
    return service.combinations.combination_read(session, found)


@router.post("/privacy/combinations/{combination_id}/approve",
             response_model=schemas.CombinationRead, responses=responses(401, 403, 404, 409,
                                                                         422))
def approve_combination(combination_id: Id, data: schemas.CombinationDecision, request: Request,
                        session: DbSession, actor: ApiActor, settings: HubSettings,
                        background: BackgroundTasks) -> schemas.CombinationRead:
    """An owner's decision on its dataset (`dataset`, `verdict`), or — without `dataset` — a
    key manager's approval with a fresh salt of theirs. The last approval starts the job."""
    found = service.combinations.get(session, actor=actor, combination_id=combination_id)
    found = service.combinations.answer(session, actor=actor, combination=found, data=data,
                                        secret=settings.secret)
    background.add_task(wake_jobs, request)
    return service.combinations.combination_read(session, found)


# --- safe zones ----------------------------------------------------------------------------


@router.post("/privacy/zones", status_code=201, response_model=schemas.ZoneRead,
             responses=responses(401, 403, 404, 409, 422))
def create_zone(data: schemas.ZoneCreate, session: DbSession,
                actor: ApiActor) -> schemas.ZoneRead:
    """Open a safe zone of an organization (its editors); the creator is its first analyst.
    Each dataset named waits for its owner's approval."""
    zone = service.zones.create(session, actor=actor, data=data)
    return service.zones.zone_read(session, zone, actor)


@router.get("/privacy/zones", response_model=list[schemas.ZoneRead], responses=responses(401))
def list_zones(session: DbSession, actor: ApiActor) -> list[schemas.ZoneRead]:
    return [service.zones.zone_read(session, z, actor)
            for z in service.zones.list_(session, actor=actor)]


@router.get("/privacy/zones/{zone_id}", response_model=schemas.ZoneRead,
            responses=responses(401, 403, 404))
def get_zone(zone_id: Id, session: DbSession, actor: ApiActor) -> schemas.ZoneRead:
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    return service.zones.zone_read(session, zone, actor)


@router.post("/privacy/zones/{zone_id}/analysts", status_code=201,
             response_model=schemas.ZoneRead, responses=responses(401, 403, 404, 409, 422))
def add_analyst(zone_id: Id, data: schemas.AnalystAdd, session: DbSession,
                actor: ApiActor) -> schemas.ZoneRead:
    """A new analyst reaches a dataset once its owner approves again."""
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    zone = service.zones.add_analyst(session, actor=actor, zone=zone, email=data.email)
    return service.zones.zone_read(session, zone, actor)


@router.delete("/privacy/zones/{zone_id}/analysts/{user_id}", response_model=schemas.ZoneRead,
               responses=responses(401, 403, 404))
def remove_analyst(zone_id: Id, user_id: Id, session: DbSession,
                   actor: ApiActor) -> schemas.ZoneRead:
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    zone = service.zones.remove_analyst(session, actor=actor, zone=zone, user_id=user_id)
    return service.zones.zone_read(session, zone, actor)


@router.post("/privacy/zones/{zone_id}/sources", status_code=201,
             response_model=schemas.ZoneRead, responses=responses(401, 403, 404, 409, 422))
def add_source(zone_id: Id, data: schemas.SourceAdd, session: DbSession,
               actor: ApiActor) -> schemas.ZoneRead:
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    service.zones.add_source(session, actor=actor, zone=zone, dataset_ref=data.dataset)
    return service.zones.zone_read(session, zone, actor)


@router.post("/privacy/zones/{zone_id}/approvals", response_model=schemas.ZoneRead,
             responses=responses(401, 403, 404, 422))
def decide_source(zone_id: Id, data: schemas.Decision, session: DbSession,
                  actor: ApiActor) -> schemas.ZoneRead:
    """The owner's decision on its dataset in this zone (its admins); an approval covers the
    zone's analysts as they are now."""
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    service.zones.decide(session, actor=actor, zone=zone, dataset_ref=data.dataset,
                         verdict=data.verdict, comment=data.comment)
    return service.zones.zone_read(session, zone, actor)


@router.post("/privacy/zones/{zone_id}/query", response_model=schemas.ZoneAnswer,
             responses=responses(401, 403, 404, 408, 413, 422))
def zone_query(zone_id: Id, data: schemas.ZoneQueryRequest, request: Request,
               session: DbSession, actor: ApiActor) -> schemas.ZoneAnswer:
    """Counts, sums and means per group over the zone's approved sources. Groups under k are
    suppressed, with enough others that no margin gives them away (`suppressed` says which
    and why); row-level output is refused; every query is logged."""
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    state = request.app.state
    return service.zone_queries.query(session, actor=actor, zone=zone, data=data,
                                      storage=state.storage, queries=state.queries)


@router.get("/privacy/zones/{zone_id}/queries", response_model=list[schemas.ZoneQueryLog],
            responses=responses(401, 403, 404))
def zone_log(zone_id: Id, session: DbSession, actor: ApiActor) -> list[schemas.ZoneQueryLog]:
    """Every query asked in the zone, answered or refused, with how many cells were hidden."""
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    return service.zone_queries.log(session, zone)


# --- exports -------------------------------------------------------------------------------


@router.post("/privacy/zones/{zone_id}/exports", status_code=201,
             response_model=schemas.ExportRead, responses=responses(401, 403, 404, 422))
def request_export(zone_id: Id, data: schemas.ExportCreate, session: DbSession,
                   actor: ApiActor, settings: HubSettings) -> schemas.ExportRead:
    """Ask for an answered query's result to leave the zone, with a purpose; a
    re-identification report over `quasi` is attached for the reviewers."""
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    export = service.exports.create(session, actor=actor, zone=zone, data=data,
                                    reviewers_needed=settings.privacy_export_reviewers)
    return service.exports.export_read(export)


@router.post("/privacy/zones/{zone_id}/exports/file", status_code=201,
             response_model=schemas.ExportRead, responses=responses(401, 403, 404, 422))
async def request_file_export(
    zone_id: Id, session: DbSession, actor: ApiActor, settings: HubSettings,
    file: Annotated[UploadFile, File(description="A file made in the zone (CSV for a "
                                     "re-identification report)")],
    purpose: Annotated[str, Form(max_length=4000)],
    contents: Annotated[str, Form(max_length=4000)] = "",
    quasi: Annotated[str, Form(max_length=2000)] = "",
) -> schemas.ExportRead:
    """Ask for a file made in the zone to leave it."""
    zone = service.zones.get(session, actor=actor, zone_id=zone_id)
    body = await file.read(service.exports.MAX_FILE_BYTES + 1)
    data = schemas.ExportCreate(purpose=purpose or " ", contents=contents, quasi=_names(quasi))
    export = service.exports.create(session, actor=actor, zone=zone, data=data,
                                    reviewers_needed=settings.privacy_export_reviewers,
                                    upload=(file.filename or "export", body))
    return service.exports.export_read(export)


@router.get("/privacy/exports", response_model=list[schemas.ExportRead],
            responses=responses(401, 403))
def review_queue(session: DbSession, actor: ApiActor) -> list[schemas.ExportRead]:
    """Reviewers: the export requests waiting for a decision."""
    return [service.exports.export_read(e)
            for e in service.exports.list_for_review(session, actor=actor)]


@router.get("/privacy/exports/{export_id}", response_model=schemas.ExportRead,
            responses=responses(401, 403, 404))
def get_export(export_id: Id, session: DbSession, actor: ApiActor) -> schemas.ExportRead:
    return service.exports.export_read(service.exports.get(session, actor=actor,
                                                           export_id=export_id))


@router.post("/privacy/exports/{export_id}/reviews", response_model=schemas.ExportRead,
             responses=responses(401, 403, 404, 409, 422))
def review_export(export_id: Id, data: schemas.ReviewCreate, session: DbSession,
                  actor: ApiActor) -> schemas.ExportRead:
    """A reviewer's verdict (never from the applicant's organization). Approved when enough
    reviewers approve; one rejection, with its reason, ends the request."""
    export = service.exports.get(session, actor=actor, export_id=export_id)
    export = service.exports.review(session, actor=actor, export=export, verdict=data.verdict,
                                    comment=data.comment)
    return service.exports.export_read(export)


@router.get("/privacy/exports/{export_id}/file",
            responses={**responses(401, 403, 404, 409), 200: {"content": {
                "application/octet-stream": {}}}})
def download_export(export_id: Id, session: DbSession, actor: ApiActor) -> Response:
    """The approved file, once, to the analyst who asked (409 on a second try); its SHA-256
    is in the audit log and the `Digest` header."""
    export = service.exports.get(session, actor=actor, export_id=export_id)
    filename, content = service.exports.download(session, actor=actor, export=export)
    return Response(content, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Repr-Digest": f"sha-256=:{_b64(content)}:"})


def _b64(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()
