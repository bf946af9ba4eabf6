"""Lake pages: dataset list and page (schema, profile charts, preview, versions), new dataset,
upload form, and a job page that follows progress without JavaScript (meta refresh)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ..core.errors import Forbidden, Unauthenticated
from ..identity import service as identity
from ..identity.dependencies import PageActor, SignedInPageActor
from ..identity.policy import can
from ..web import csrf
from ..web.context import DbSession, HubSettings
from ..web.forms import attempt, form_data, parse
from ..web.params import Id, OptionalVersion, VersionNumber
from ..web.templating import follow_job, redirect, render
from . import rows as row_reader
from . import schemas, service
from .models import AccessLevel, WriteMode
from .tables import version_data

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
PREVIEW_ROWS = 20


@router.get("/datasets")
def datasets(request: Request, session: DbSession, actor: PageActor,
             cursor: str | None = None, org: str | None = None) -> Response:
    items, next_cursor = service.list_datasets(session, limit=50, cursor=cursor, org=org)
    return render(request, "lake/datasets.html", {"datasets": items, "next_cursor": next_cursor,
                                                  "org": org})


@router.get("/orgs/{org}/datasets/new")
def new_dataset_form(org: str, request: Request, session: DbSession,
                     actor: SignedInPageActor) -> Response:
    organization = identity.get_org_by_slug(session, org)
    return render(request, "lake/dataset_new.html", {"org": organization, "form": {},
                                                     "levels": list(AccessLevel),
                                                     "canonical": request.url.path})


@router.post("/orgs/{org}/datasets/new")
async def new_dataset(org: str, request: Request, session: DbSession,
                      actor: PageActor) -> Response:
    organization = identity.get_org_by_slug(session, org)
    form = await form_data(request)
    data = {k: v for k, v in dict(form).items()
            if v != "" or k not in ("temporal_start", "temporal_end", "contact_email")}
    data["keywords"] = [k.strip() for k in str(form.get("keywords", "")).split(",") if k.strip()]
    with attempt(session) as tried:
        dataset = service.create_dataset(session, actor=actor, org=organization,
                                         data=parse(schemas.DatasetCreate, data))
    if (error := tried.error) is not None:
        return render(request, "lake/dataset_new.html", {
            "org": organization, "form": form, "levels": list(AccessLevel), "error": error,
            "canonical": f"/orgs/{org}/datasets/new"}, status=error.status)
    return redirect(request, f"/datasets/{org}/{dataset.slug}/upload",
                    "The dataset was created. Upload its first files.")


def _dataset_page(request: Request, session: Any, actor: Any, org: str, name: str,
                  version: OptionalVersion = None, **extra: Any) -> Response:
    dataset = service.get_dataset(session, org, name)
    versions = service.list_versions(session, dataset=dataset)
    current = None
    preview: list[dict[str, Any]] = []
    preview_error = None
    if versions:
        current = service.get_version(session, dataset=dataset, version=version)
        try:
            service.readable_version(session, actor=actor, dataset=dataset,
                                     version=current.version)
            storage = request.app.state.storage
            data = version_data(storage.table_uri(dataset.id), storage.storage_options,
                                current.delta_version)
            query = row_reader.parse_query(storage, data, current.columns, {}, sort=None,
                                           columns=None)
            preview, _, _ = row_reader.page(query, version=current.version,
                                            limit=PREVIEW_ROWS, cursor=None)
        except (Forbidden, Unauthenticated) as refused:
            preview_error = refused
    context = {"dataset": dataset, "versions": versions, "current": current,
               "profile": service.visible_profile(actor, dataset, current) if current
               else {"columns": []},
               "preview": preview, "preview_error": preview_error,
               "can_edit": can(actor, "lake.dataset.ingest", dataset),
               "can_read_raw": can(actor, "lake.raw.read", dataset),
               **service.described(session, dataset, actor),   # e.g. a derivation, from analysis
               "base_url": request.app.state.settings.base_url.rstrip("/"),
               "canonical": f"/datasets/{org}/{name}", **extra}
    return render(request, "lake/dataset.html", context)


@router.get("/datasets/{org}/{name}")
def dataset_page(org: str, name: str, request: Request, session: DbSession, actor: PageActor,
                 version: OptionalVersion = None) -> Response:
    return _dataset_page(request, session, actor, org, name, version)


@router.get("/datasets/{org}/{name}/upload")
def upload_form(org: str, name: str, request: Request, session: DbSession,
                actor: SignedInPageActor) -> Response:
    dataset = service.get_dataset(session, org, name)
    return render(request, "lake/upload.html", {"dataset": dataset, "modes": list(WriteMode),
                                                "form": {}, "canonical": request.url.path})


@router.post("/datasets/{org}/{name}/upload")
async def upload(org: str, name: str, request: Request, session: DbSession, actor: PageActor,
                 settings: HubSettings) -> Response:
    dataset = service.get_dataset(session, org, name)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    uploads = [f for f in form.getlist("files") if not isinstance(f, str) and f.filename]
    with attempt(session) as tried:
        options = schemas.ingest_options(fields.get("mode") or "append",
                                         [fields.get("key", "")], fields.get("encoding") or "auto",
                                         fields.get("sheet"), fields.get("delimiter"), None)
        received = [service.store_upload(session, actor=actor,
                                         storage=request.app.state.storage, dataset=dataset,
                                         name=f.filename or "upload", stream=f.file,
                                         max_bytes=settings.upload_max_mb << 20)
                    for f in uploads]
        job = service.request_ingest(session, actor=actor, dataset=dataset, files=received,
                                     options=options)
    if (error := tried.error) is not None:
        return render(request, "lake/upload.html", {
            "dataset": dataset, "modes": list(WriteMode), "form": fields, "error": error,
            "canonical": f"/datasets/{org}/{name}/upload"}, status=error.status)
    return follow_job(request, job)


@router.post("/datasets/{org}/{name}/versions/{version}/restore")
def restore(org: str, name: str, version: VersionNumber, request: Request, session: DbSession,
            actor: PageActor) -> Response:
    dataset = service.get_dataset(session, org, name)
    job = service.request_restore(session, actor=actor, dataset=dataset, version=version)
    return follow_job(request, job)


JOB_PAGE_WAIT = 5.0     # seconds a job page waits for a running job before it answers


@router.get("/jobs/{job_id}")
def job_page(job_id: Id, request: Request, session: DbSession, actor: SignedInPageActor,
             wait: Annotated[float, Query(ge=0, le=30)] = JOB_PAGE_WAIT) -> Response:
    job = service.get_job(session, actor=actor, job_id=job_id)
    # no automatic reload (WCAG 2.2.1: a page must not refresh itself on a timer): the page
    # waits a moment for a running job to finish, and otherwise offers to look again
    deadline = time.monotonic() + wait
    while job.state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        session.refresh(job)
    dataset = None
    if job.params.get("dataset_id"):
        dataset = service.get_dataset_by_id(session, job.params["dataset_id"])
    running = job.state in ("queued", "running")
    return render(request, "lake/job.html", {"job": job, "dataset": dataset,
                                             "running": running})


@router.post("/jobs/{job_id}/cancel")
def job_cancel(job_id: Id, request: Request, session: DbSession, actor: PageActor) -> Response:
    service.cancel_job(session, actor=actor, job_id=job_id)
    return redirect(request, f"/jobs/{job_id}", "Cancellation requested.")
