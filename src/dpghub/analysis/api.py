"""Analysis JSON routes: the SQL endpoint, history, saved queries, derived datasets, lineage."""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ..identity import service as identity
from ..identity.dependencies import ApiActor, OptionalApiActor
from ..lake import schemas as lake_schemas
from ..lake import service as lake
from ..lake.rows import csv_chunks, parquet_chunks
from ..web.context import DbSession, HubSettings, wake_jobs
from ..web.params import Id
from ..web.problems import responses
from . import schemas, service
from .regions import index_for


def load_dataset(org: str, name: str, session: DbSession) -> Any:
    return lake.get_dataset(session, org, name)


CurrentDataset = Annotated[Any, Depends(load_dataset)]

router = APIRouter(prefix="/api/v1", tags=["analysis"])
MEDIA = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson",
         "parquet": "application/vnd.apache.parquet"}


QUERY_REFUSALS = {
    408: "The query passed its time limit (`query_timeout`, naming the limit): its worker "
         "process was stopped",
    413: "The SQL text is longer than DPGHUB_QUERY_MAX_CHARS (`query_too_long`)",
    422: "Invalid input; among the query's own refusals: `syntax_error` (with line and "
         "column), `query_too_deep`, `unknown_table`, `query_error` (DuckDB's message), "
         "`query_memory` (the query needed more than DPGHUB_QUERY_MEMORY_MB; its worker "
         "process was stopped), `query_result_too_large`",
    503: "Every query worker stayed busy for the query's time limit (`query_workers_busy`, "
         "with Retry-After)",
}


def query_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem statuses of a route running SQL, with what each means for a query."""
    found = responses(*statuses)
    for status, description in QUERY_REFUSALS.items():
        if status in found:
            found[status] = {**found[status], "description": description}
    return found


@router.post("/query", response_model=schemas.QueryResult,
             responses={**query_responses(400, 401, 403, 404, 408, 413, 422, 503),
                        200: {"content": {"text/csv": {}, "application/x-ndjson": {},
                                          "application/vnd.apache.parquet": {}}}})
def query(data: schemas.QueryRequest, session: DbSession, actor: OptionalApiActor,
          request: Request, settings: HubSettings) -> Response:
    """Run one SELECT over datasets (`org.dataset`, `org.dataset@VERSION`) in the sandbox.

    Every table must be a dataset the caller may read; the query runs in a worker process
    with no file, network or settings access, within `timeout_ms` (checking the text
    included) and the sandbox's memory, and returns at most `limit` rows (`truncated` says
    when there were more; files stop at `limit`)."""
    storage, queries = request.app.state.storage, request.app.state.queries
    if data.format == "json":
        return Response(service.run_query_json(session, actor=actor, storage=storage,
                                               settings=settings, queries=queries,
                                               request=data), media_type="application/json")
    schema, batches, used = service.open_stream(session, actor=actor, storage=storage,
                                                queries=queries, request=data)
    writers = {"csv": csv_chunks, "ndjson": _ndjson, "parquet": parquet_chunks}
    return StreamingResponse(writers[data.format](schema, batches), media_type=MEDIA[data.format],
                             headers={"X-Datasets": ", ".join(
                                 f"{u['org']}/{u['name']}@{u['version']}" for u in used)})


def _ndjson(schema: pa.Schema, batches):  # type: ignore[no-untyped-def]
    import json

    from .sandbox import plain

    for batch in batches:
        names = batch.schema.names
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        yield "".join(json.dumps(dict(zip(names, map(plain, row), strict=True)),
                                 ensure_ascii=False) + "\n"
                      for row in zip(*columns, strict=True)).encode()


@router.get("/query/history", response_model=list[schemas.QueryRecordRead],
            responses=responses(401))
def history(session: DbSession, actor: ApiActor,
            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[schemas.QueryRecordRead]:
    """Your recent queries, newest first."""
    return [schemas.QueryRecordRead.model_validate(r)
            for r in service.history(session, actor=actor, limit=limit)]


@router.get("/queries", response_model=list[schemas.SavedQueryRead], responses=responses(401))
def saved(session: DbSession, actor: ApiActor) -> list[schemas.SavedQueryRead]:
    return [schemas.SavedQueryRead.model_validate(q)
            for q in service.saved_queries(session, actor=actor)]


@router.post("/queries", status_code=201, response_model=schemas.SavedQueryRead,
             responses=query_responses(401, 403, 408, 413, 422, 503))
def save(data: schemas.SavedQueryCreate, session: DbSession, actor: ApiActor,
         request: Request) -> schemas.SavedQueryRead:
    """Save a query under a name (it is checked by the SQL guard first)."""
    return schemas.SavedQueryRead.model_validate(service.save_query(
        session, actor=actor, queries=request.app.state.queries, data=data))


@router.delete("/queries/{saved_id}", status_code=204, responses=responses(401, 404))
def delete_saved(saved_id: Id, session: DbSession, actor: ApiActor) -> Response:
    service.delete_saved(session, actor=actor, saved_id=saved_id)
    return Response(status_code=204)


@router.post("/orgs/{org}/derived", status_code=202,
             responses=query_responses(401, 403, 404, 408, 409, 413, 422, 503))
def create_derived(org: str, data: schemas.DerivedCreate, session: DbSession, actor: ApiActor,
                   request: Request, background: BackgroundTasks) -> JSONResponse:
    """Save a query as a new dataset of the organization; a job builds its first version and
    records the input versions it read (lineage)."""
    organization = identity.get_org_by_slug(session, org)
    dataset, job = service.create_derived(session, actor=actor, org=organization,
                                          storage=request.app.state.storage,
                                          queries=request.app.state.queries, data=data)
    background.add_task(wake_jobs, request)
    return JSONResponse({"dataset": lake.dataset_read(dataset).model_dump(mode="json",
                                                                          by_alias=True),
                         "job": lake_schemas.JobRead.model_validate(job).model_dump(
                             mode="json")}, status_code=202,
                        headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get("/datasets/{org}/{name}/lineage", responses=responses(404))
def dataset_lineage(dataset: CurrentDataset, session: DbSession) -> JSONResponse:
    """What a derived dataset was made from, and whether an input has moved on (`stale`)."""
    return JSONResponse(service.lineage_of(session, dataset))


@router.post("/datasets/{org}/{name}/refresh", status_code=202,
             responses=responses(401, 403, 404, 422))
def refresh(dataset: CurrentDataset, session: DbSession, actor: ApiActor, request: Request,
            background: BackgroundTasks) -> JSONResponse:
    """Rebuild a derived dataset from its inputs' current versions (a new version)."""
    job = service.refresh_derived(session, actor=actor, dataset=dataset)
    background.add_task(wake_jobs, request)
    return JSONResponse(lake_schemas.JobRead.model_validate(job).model_dump(mode="json"),
                        status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get("/lineage", response_model=schemas.Lineage)
def lineage(session: DbSession) -> schemas.Lineage:
    """The graph of datasets feeding derived datasets."""
    return service.lineage(session)


@router.get("/join-suggestions", responses=responses(401, 403, 404, 422))
def join_suggestions(left: Annotated[str, Query(description="org/name", examples=["mois/population"])],
                     right: Annotated[str, Query(description="org/name")],
                     session: DbSession, actor: OptionalApiActor, request: Request,
                     settings: HubSettings) -> JSONResponse:
    """Column pairs that would link two datasets — the same values, or names and codes that
    map to the same 시군구 — with the match rate over the left's distinct keys and the keys that
    did not match."""
    datasets = []
    for ref in (left, right):
        org, _, name = ref.partition("/")
        datasets.append(lake.get_dataset(session, org, name))
    found = service.join_suggestions(session, actor=actor, storage=request.app.state.storage,
                                     settings=settings, left=datasets[0], right=datasets[1])
    return JSONResponse({"left": left, "right": right, "suggestions": found})


@router.get("/regions/resolve")
def resolve_region(q: Annotated[str, Query(description="A name, code or address")],
                   settings: HubSettings) -> JSONResponse:
    """How the region functions read a text: 시도 and 시군구 codes and the current name."""
    index = index_for(settings.home)
    sigungu = index.sigungu_code(q)
    return JSONResponse({"input": q, "sido_code": index.sido_code(q), "sigungu_code": sigungu,
                         "name": index.region_name(sigungu) if sigungu else None})
