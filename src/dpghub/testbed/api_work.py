"""Testbed JSON routes for the work a project runs: synthetic copies (and SQL over them) and
contract validations with their signed reports (JSON, JUnit XML)."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..core.errors import Conflict
from ..identity.dependencies import ApiActor, OptionalApiActor
from ..lake import tables
from ..web.context import DbSession
from ..web.params import MAX_ID, Id
from ..web.problems import responses
from . import contract, schemas, service

router = APIRouter(prefix="/api/v1", tags=["testbed"])
MAX_ROWS = 100_000


@router.post("/testbed/projects/{project_id}/synthetic", status_code=202,
             response_model=schemas.SyntheticRead, responses=responses(401, 403, 404, 422))
def request_synthetic(project_id: Id, data: schemas.SyntheticCreate, session: DbSession,
                      actor: ApiActor) -> schemas.SyntheticRead:
    """Make a synthetic copy of a dataset one may read (a job: follow `job_id`). Open data:
    any project; restricted data: only a project of its own organization; sensitive: never.
    The copy keeps the schema and the row count (or `rows`), and none of the real rows."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    copy = service.synthetic.request(session, actor=actor, project=project, data=data)
    return service.synthetic.copy_read(session, copy)


@router.get("/testbed/projects/{project_id}/synthetic", response_model=list[schemas.SyntheticRead],
            responses=responses(401, 403, 404))
def list_synthetic(project_id: Id, request: Request, session: DbSession,
                   actor: OptionalApiActor) -> list[schemas.SyntheticRead]:
    """The project's synthetic copies with their quality report (`quality.overall`,
    `quality.column_shapes`, `quality.column_pair_trends`) and privacy report
    (`privacy.exact_copies`, `privacy.dcr`). Readable with the project's sandbox key too."""
    project = service.projects.load(session, project_id)
    service.synthetic.reader_check(actor, project, request.app.state.clock())
    return [service.synthetic.copy_read(session, c)
            for c in service.synthetic.list_(session, project)]


@router.get("/testbed/projects/{project_id}/synthetic/{copy_id}/rows",
            responses={**responses(401, 403, 404, 422), 200: {"content": {
                "application/json": {}, "text/csv": {}, "application/x-ndjson": {}}}})
def synthetic_rows(project_id: Id, copy_id: Id, request: Request, session: DbSession,
                   actor: OptionalApiActor,
                   format: Literal["json", "csv", "ndjson"] = "json",
                   limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 1000,
                   offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
    """Rows of a synthetic copy (`format` json, csv or ndjson), with a member's token or the
    project's sandbox key (`X-API-Key`)."""
    project = service.projects.load(session, project_id)
    service.synthetic.reader_check(actor, project, request.app.state.clock())
    copy = service.synthetic.get(session, project, copy_id)
    storage = request.app.state.storage
    service.synthetic.ready_data(session, storage, copy)
    table = tables.open_table(storage.sandbox_uri(copy.id), storage.storage_options,
                              copy.delta_version)
    assert table is not None
    found = table.to_pyarrow_dataset().head(offset + limit).slice(offset)
    return _rows(found, format)


def _rows(found: pa.Table, fmt: str) -> Response:
    if fmt == "csv":
        buffer = io.BytesIO()
        buffer.write(b"\xef\xbb\xbf")     # Excel opens UTF-8 CSV with Korean text correctly
        pacsv.write_csv(found, buffer)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    rows = found.to_pylist()
    if fmt == "ndjson":
        body = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
        return Response(body.encode(), media_type="application/x-ndjson")
    return Response(json.dumps({"columns": found.column_names, "rows": rows},
                               ensure_ascii=False, default=str).encode(),
                    media_type="application/json")


@router.post("/testbed/projects/{project_id}/query", responses=responses(401, 403, 404, 408,
                                                                        413, 422))
def sandbox_query(project_id: Id, data: schemas.SandboxQuery, request: Request,
                  session: DbSession, actor: OptionalApiActor) -> Any:
    """SQL over the project's synthetic copies, named `sandbox.<org>_<dataset>` — the same
    sandbox and limits as every query; real datasets are out of its reach."""
    project = service.projects.load(session, project_id)
    state = request.app.state
    return service.synthetic.query(session, actor=actor, project=project, storage=state.storage,
                                   queries=state.queries, data=data, now=state.clock())


@router.post("/testbed/projects/{project_id}/validations", status_code=202,
             response_model=schemas.ValidationRead, responses=responses(401, 403, 404, 422))
def request_validation(project_id: Id, data: schemas.ValidationCreate, request: Request,
                       session: DbSession, actor: ApiActor) -> schemas.ValidationRead:
    """Validate a server against a service's OpenAPI document (a job): the `url` given, else
    the project's server for the service. Each operation gets its examples and at most
    `max_cases` generated cases; the report names every failure with a curl that shows it."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    validation = service.validations.request(session, actor=actor, project=project, data=data,
                                             networks=request.app.state.networks)
    return service.validations.validation_read(session, validation)


@router.get("/testbed/projects/{project_id}/validations",
            response_model=list[schemas.ValidationRead], responses=responses(401, 403, 404))
def list_validations(project_id: Id, session: DbSession,
                     actor: ApiActor) -> list[schemas.ValidationRead]:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    return [service.validations.validation_read(session, v)
            for v in service.validations.list_(session, project)]


@router.get("/testbed/validations/{validation_id}",
            responses={**responses(401, 403, 404), 200: {"content": {
                "application/json": {}, "application/xml": {}}}})
def get_validation(validation_id: Id, session: DbSession, actor: ApiActor,
                   format: Literal["json", "junit", "signed"] = "json") -> Any:
    """The report: `passed`, `failures` (each with `operation`, `check`, `curl`, `status`);
    `?format=junit` as JUnit XML for CI systems; `?format=signed` the signed envelope that
    `dpghub testbed verify-report` checks."""
    validation, _ = service.validations.get(session, actor=actor, validation_id=validation_id)
    if format == "signed":
        return validation.report or {}
    read = service.validations.validation_read(session, validation)
    if format == "junit":
        report = (validation.report or {}).get("report")
        if not report:
            raise Conflict("Validation {id} has no report yet ({state})",
                           code="report_not_ready", id=validation.id, state=validation.state)
        xml = contract.junit_xml(contract.ValidationResult.from_dict(report), read.service)
        return Response(xml.encode(), media_type="application/xml")
    return read
