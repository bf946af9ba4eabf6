"""The SQL console (editor, schema browser, results with a chart, downloads, history, saved
queries, save as dataset) and the lineage page. Works without JavaScript."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..identity import service as identity
from ..identity.dependencies import PageActor
from ..identity.policy import Actor, can
from ..lake import service as lake
from ..lake.rows import csv_chunks, parquet_chunks
from ..web import csrf
from ..web.context import DbSession, HubSettings
from ..web.forms import attempt, form_data, parse
from ..web.params import OptionalId
from ..web.templating import follow_job, redirect, render
from . import schemas, service

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
SHOWN_ROWS = 500
EXAMPLE = ("SELECT 시도명, count(*) AS 도서관수\nFROM mcst.libraries\nGROUP BY 1\n"
           "ORDER BY 2 DESC")


def _console(request: Request, session: Any, actor: Actor, **extra: Any) -> Response:
    datasets, _ = lake.list_datasets(session, limit=1000)
    readable = [d for d in datasets if d.current_version and can(actor, "lake.rows.read", d)
                and d.access != "sensitive"]
    context: dict[str, Any] = {
        "datasets": readable, "sql": extra.pop("sql", EXAMPLE), "result": None,
        "history": service.history(session, actor=actor, limit=15) if actor.user_id else [],
        "saved": service.saved_queries(session, actor=actor) if actor.user_id else [],
        "orgs": [o for o, role in identity.orgs_of(session, actor.user_id)
                 if role in ("admin", "editor")] if actor.user_id else [],
        "canonical": "/query", "limit": 1000, **extra}
    status = extra["error"].status if extra.get("error") else 200
    return render(request, "analysis/console.html", context, status=status)


@router.get("/query")
def console(request: Request, session: DbSession, actor: PageActor,
            saved: OptionalId = None) -> Response:
    sql = EXAMPLE
    if saved is not None and actor.user_id:
        found = [q for q in service.saved_queries(session, actor=actor) if q.id == saved]
        sql = found[0].sql if found else sql
    return _console(request, session, actor, sql=sql)


@router.post("/query")
async def run(request: Request, session: DbSession, actor: PageActor,
              settings: HubSettings) -> Response:
    form = await form_data(request)
    sql = str(form.get("sql", ""))
    with attempt(session) as tried:
        data = parse(schemas.QueryRequest, {"sql": sql, "limit": form.get("limit") or 1000})
        # in a thread: the event loop serves other requests while the query runs
        result = await run_in_threadpool(
            service.run_query, session, actor=actor, storage=request.app.state.storage,
            settings=settings, queries=request.app.state.queries, request=data)
    if (error := tried.error) is not None:
        return _console(request, session, actor, sql=sql, error=error)
    return _console(request, session, actor, sql=sql, result=result,
                    shown=result.rows[:SHOWN_ROWS], chart=_chart(result),
                    limit=data.limit)


def _chart(result: schemas.QueryResult) -> dict[str, Any] | None:
    """A bar chart of the first text column against the first numeric one (≤ 30 bars)."""
    kinds = [c.type for c in result.columns]
    if "text" not in kinds:
        return None
    label = kinds.index("text")
    numbers = [i for i, k in enumerate(kinds) if k in ("integer", "decimal")]
    if not numbers or not result.rows:
        return None
    value = numbers[0]
    rows = [r for r in result.rows[:30] if r[value] is not None]
    return {"labels": [str(r[label]) for r in rows], "values": [r[value] for r in rows],
            "title": f"{result.columns[value].name} · {result.columns[label].name}"}


@router.post("/query/download")
async def download(request: Request, session: DbSession, actor: PageActor,
                   settings: HubSettings) -> Response:
    form = await form_data(request)
    fmt = "parquet" if form.get("format") == "parquet" else "csv"
    data = parse(schemas.QueryRequest, {"sql": form.get("sql", ""), "format": fmt,
                                        "limit": 1_000_000})
    schema, batches, _ = await run_in_threadpool(
        service.open_stream, session, actor=actor, storage=request.app.state.storage,
        queries=request.app.state.queries, request=data)
    body = csv_chunks(schema, batches, spreadsheet=True) if fmt == "csv" else \
        parquet_chunks(schema, batches)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="query.{fmt}"'})


@router.post("/query/save")
async def save(request: Request, session: DbSession, actor: PageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        saved = await run_in_threadpool(
            service.save_query, session, actor=actor, queries=request.app.state.queries,
            data=parse(schemas.SavedQueryCreate, {"name": form.get("name", ""),
                                                  "sql": form.get("sql", "")}))
    if (error := tried.error) is not None:
        return _console(request, session, actor, sql=str(form.get("sql", "")), error=error)
    return redirect(request, f"/query?saved={saved.id}", "The query was saved.")


@router.post("/query/derive")
async def derive(request: Request, session: DbSession, actor: PageActor) -> Response:
    form = await form_data(request)
    sql = str(form.get("sql", ""))
    with attempt(session) as tried:
        org = identity.get_org_by_slug(session, str(form.get("org", "")))
        _, job = await run_in_threadpool(
            service.create_derived, session, actor=actor, org=org,
            storage=request.app.state.storage,
            queries=request.app.state.queries, data=parse(schemas.DerivedCreate, {"slug": form.get("slug", ""),
                                               "title_ko": form.get("title_ko", ""),
                                               "sql": sql}))
    if (error := tried.error) is not None:
        return _console(request, session, actor, sql=sql, error=error)
    return follow_job(request, job)


@router.post("/datasets/{org}/{name}/refresh")
def refresh(org: str, name: str, request: Request, session: DbSession,
            actor: PageActor) -> Response:
    job = service.refresh_derived(session, actor=actor, dataset=lake.get_dataset(session, org,
                                                                                 name))
    return follow_job(request, job)


@router.get("/lineage")
def lineage(request: Request, session: DbSession, actor: PageActor) -> Response:
    graph = service.lineage(session)
    sources = sorted({e.source for e in graph.edges})
    targets = sorted({e.target for e in graph.edges})
    nodes = {f"{n.org}/{n.name}": n for n in graph.nodes}
    return render(request, "analysis/lineage.html", {"graph": graph, "sources": sources,
                                                     "targets": targets, "nodes": nodes})
