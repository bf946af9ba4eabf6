"""Lake JSON routes: datasets, uploads (202 + job), jobs, versions, profiles, raw files, rows."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ..core.errors import Invalid
from ..identity import service as identity
from ..identity.dependencies import ApiActor, OptionalApiActor
from ..web.context import DbSession, HubSettings, wake_jobs
from ..web.params import MAX_ID, Id, OptionalVersion, VersionNumber
from ..web.problems import responses
from . import rows as row_reader
from . import schemas, service
from .models import Dataset, WriteMode
from .tables import version_data

router = APIRouter(prefix="/api/v1", tags=["lake"])
MEDIA = {"json": "application/json", "ndjson": "application/x-ndjson",
         "csv": "text/csv; charset=utf-8", "xml": "application/xml; charset=utf-8",
         "parquet": "application/vnd.apache.parquet"}


def load_dataset(org: str, name: str, session: DbSession) -> Dataset:
    return service.get_dataset(session, org, name)


CurrentDataset = Annotated[Dataset, Depends(load_dataset)]


@router.get("/datasets", response_model=schemas.DatasetPage)
def list_datasets(session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                  cursor: str | None = None, org: str | None = None) -> schemas.DatasetPage:
    """Every dataset, by organization and name."""
    items, next_cursor = service.list_datasets(session, limit=limit, cursor=cursor, org=org)
    return schemas.DatasetPage(items=[service.dataset_read(d) for d in items],
                               next_cursor=next_cursor)


@router.post("/orgs/{org}/datasets", status_code=201, response_model=schemas.DatasetRead,
             responses=responses(401, 403, 404, 409, 422))
def create_dataset(org: str, data: schemas.DatasetCreate, session: DbSession,
                   actor: ApiActor) -> schemas.DatasetRead:
    """Describe a new dataset (editors and admins of the organization); upload data next."""
    organization = identity.get_org_by_slug(session, org)
    return service.dataset_read(service.create_dataset(session, actor=actor, org=organization,
                                                       data=data))


@router.get("/datasets/{org}/{name}", response_model=schemas.DatasetRead,
            responses=responses(404))
def get_dataset(dataset: CurrentDataset) -> schemas.DatasetRead:
    """Metadata, the typed `schema`, `row_count` and the current version."""
    return service.dataset_read(dataset)


@router.patch("/datasets/{org}/{name}", response_model=schemas.DatasetRead,
              responses=responses(401, 403, 404, 422))
def update_dataset(dataset: CurrentDataset, data: schemas.DatasetUpdate, session: DbSession,
                   actor: ApiActor) -> schemas.DatasetRead:
    return service.dataset_read(service.update_dataset(session, actor=actor, dataset=dataset,
                                                       data=data))


@router.post("/datasets/{org}/{name}/ingest", status_code=202, response_model=schemas.JobRead,
             responses=responses(401, 403, 404, 413, 422))
def ingest(
    dataset: CurrentDataset, session: DbSession, actor: ApiActor, settings: HubSettings,
    request: Request, background: BackgroundTasks,
    files: Annotated[list[UploadFile], File(description="One or more files (CSV, TSV, Excel, "
                                             "JSON, NDJSON, Parquet, zip)")],
    mode: Annotated[WriteMode, Form()] = WriteMode.append,
    key: Annotated[list[str], Form(description="Key column(s) for upsert; repeat or "
                                   "comma-separate")] = [],  # noqa: B006
    encoding: Annotated[str, Form(description="auto, utf-8 or cp949")] = "auto",
    sheet: Annotated[str | None, Form(description="Excel sheet name or number")] = None,
    delimiter: Annotated[str | None, Form()] = None,
    types: Annotated[str | None, Form(description='Type overrides as JSON, e.g. '
                                      '{"법정동코드": "text"}')] = None,
) -> JSONResponse:
    """Store the files in the raw zone and start an ingestion job (202; follow the job)."""
    options = schemas.ingest_options(mode, key, encoding, sheet, delimiter, types)
    received = [service.store_upload(session, actor=actor, storage=request.app.state.storage,
                                     dataset=dataset, name=upload.filename or f"file{i}",
                                     stream=upload.file, max_bytes=settings.upload_max_mb << 20)
                for i, upload in enumerate(files, start=1)]
    job = service.request_ingest(session, actor=actor, dataset=dataset, files=received,
                                 options=options)
    background.add_task(wake_jobs, request)
    return JSONResponse(schemas.JobRead.model_validate(job).model_dump(mode="json"),
                        status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get("/jobs/{job_id}", response_model=schemas.JobRead, responses=responses(401, 403, 404))
def get_job(job_id: Id, session: DbSession, actor: ApiActor) -> schemas.JobRead:
    """A background job: state, progress in bytes and rows, result or error with position."""
    return schemas.JobRead.model_validate(service.get_job(session, actor=actor, job_id=job_id))


@router.post("/jobs/{job_id}/cancel", response_model=schemas.JobRead,
             responses=responses(401, 403, 404))
def cancel_job(job_id: Id, session: DbSession, actor: ApiActor) -> schemas.JobRead:
    """Cancel a queued or running job; a running ingestion stops before it commits."""
    return schemas.JobRead.model_validate(service.cancel_job(session, actor=actor, job_id=job_id))


@router.get("/datasets/{org}/{name}/versions", response_model=list[schemas.VersionRead],
            responses=responses(404))
def versions(dataset: CurrentDataset, session: DbSession) -> list[schemas.VersionRead]:
    """Every version, newest first: who, when, how, from which files, how many rows."""
    return [_version_read(v) for v in service.list_versions(session, dataset=dataset)]


def _version_read(version) -> schemas.VersionRead:  # type: ignore[no-untyped-def]
    return schemas.VersionRead(
        version=version.version, operation=version.operation, row_count=version.row_count,
        rows_written=version.rows_written,
        schema=[schemas.ColumnRead(**c) for c in version.columns],
        schema_changes=version.schema_changes,
        source_files=[schemas.SourceFileRead(**{k: v for k, v in f.items()
                                                if k in schemas.SourceFileRead.model_fields})
                      for f in version.source_files],
        created_by=version.created_by, created_at=version.created_at)


@router.post("/datasets/{org}/{name}/versions/{version}/restore", status_code=202,
             response_model=schemas.JobRead, responses=responses(401, 403, 404))
def restore(version: VersionNumber, dataset: CurrentDataset, session: DbSession, actor: ApiActor,
            request: Request, background: BackgroundTasks) -> JSONResponse:
    """Make an earlier version current again, as a new version (history is kept)."""
    job = service.request_restore(session, actor=actor, dataset=dataset, version=version)
    background.add_task(wake_jobs, request)
    return JSONResponse(schemas.JobRead.model_validate(job).model_dump(mode="json"),
                        status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get("/datasets/{org}/{name}/profile", response_model=schemas.ProfileRead,
            responses=responses(404))
def profile(dataset: CurrentDataset, session: DbSession, actor: OptionalApiActor,
            version: OptionalVersion = None) -> schemas.ProfileRead:
    """Per column: type, nulls, distinct (approximate), min, max, top values, histogram.
    Values (min, max, top, histogram) only for callers who may read the rows."""
    found = service.get_version(session, dataset=dataset, version=version)
    stats = service.visible_profile(actor, dataset, found)
    return schemas.ProfileRead(version=found.version, rows=stats["rows"],
                               columns=stats["columns"],
                               values_hidden=stats.get("values_hidden", False))


@router.get("/datasets/{org}/{name}/raw/{sha256}", responses=responses(401, 403, 404))
def raw(sha256: str, dataset: CurrentDataset, session: DbSession, actor: OptionalApiActor,
        request: Request) -> StreamingResponse:
    """A received file, byte for byte as it was uploaded."""
    found = service.raw_file_for(session, actor=actor, dataset=dataset, sha256=sha256)
    storage = request.app.state.storage
    handle = storage.open_raw(found.sha256)

    def chunks():  # type: ignore[no-untyped-def]
        with handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    return StreamingResponse(chunks(), media_type="application/octet-stream", headers={
        "Content-Disposition": _attachment(found.first_name),
        "Content-Length": str(found.size), "ETag": f'"{found.sha256}"'})


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@router.get("/datasets/{org}/{name}/rows", responses={
    **responses(401, 403, 404, 422),
    200: {"content": {m: {} for m in MEDIA.values()},
          "description": "Rows. JSON pages carry `next_cursor`; other formats stream."}})
def rows(
    dataset: CurrentDataset, session: DbSession, actor: OptionalApiActor, request: Request,
    limit: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Rows per page (json: ≤ 1000, "
                                       "default 100); other formats: all rows when absent")] = None,
    cursor: str | None = None,
    sort: Annotated[str | None, Query(description="Columns, `-` for descending: "
                                      "`-열람좌석수,도서관명`")] = None,
    columns: Annotated[str | None, Query(description="Columns to return, comma-separated")] = None,
    version: OptionalVersion = None,
    format: Annotated[str, Query(pattern="^(json|ndjson|csv|xml|parquet)$")] = "json",
    spreadsheet: Annotated[bool, Query(description="csv only: make the file safe to open in "
                                       "a spreadsheet (text starting with = + - @ gets a "
                                       "leading apostrophe). Without it, csv keeps every "
                                       "value exactly as stored.")] = False,
) -> Response:
    """Rows of a version. Filter with `column=value` or `column__op=value`; op is one of
    `in` (comma-separated), `gt`, `gte`, `lt`, `lte`, `contains`, `isnull`."""
    found, sample = service.sampled_version(session, actor=actor, dataset=dataset,
                                            version=version)
    storage = request.app.state.storage
    data = version_data(storage.table_uri(dataset.id), storage.storage_options,
                        found.delta_version)
    query = row_reader.parse_query(storage, data, found.columns, dict(request.query_params),
                                   sort=sort, columns=columns, sample=sample)
    if format == "json":
        size = limit or 100
        if size > 1000:
            raise Invalid("limit must be between 1 and {maximum}", code="invalid_limit",
                          field="limit", maximum=1000)
        items, total, next_cursor = row_reader.page_json(query, version=found.version,
                                                         limit=size, cursor=cursor)
        head = json.dumps({"dataset": f"{dataset.organization.slug}/{dataset.slug}",
                           "version": found.version, "total": total,
                           # set when the caller may read a sample only (at most this many rows)
                           "sample": sample,
                           "columns": [{"name": c["name"], "type": c["type"]} for c in
                                       found.columns if not query.columns or
                                       c["name"] in query.columns]},
                          ensure_ascii=False)
        tail = json.dumps(next_cursor)
        # The rows are DuckDB's JSON already; they go between the other fields as they are.
        body = b"".join((head[:-1].encode(), b', "rows": ', items,
                         b', "next_cursor": ', tail.encode(), b"}"))
        return Response(body, media_type="application/json")
    extension = {"ndjson": "ndjson", "csv": "csv", "xml": "xml", "parquet": "parquet"}[format]
    return StreamingResponse(
        row_reader.stream(query, fmt=format, limit=limit, spreadsheet=spreadsheet),
        media_type=MEDIA[format],
        headers={"Content-Disposition": _attachment(
            f"{dataset.organization.slug}-{dataset.slug}-v{found.version}.{extension}"),
            "X-Dataset-Version": str(found.version),
            **({"X-Sample-Rows": str(sample)} if sample is not None else {})})
