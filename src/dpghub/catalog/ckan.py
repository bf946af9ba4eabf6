"""A CKAN-compatible Action API at /api/3/action/{name} and /api/action/{name}.

Existing clients and harvesters (ckanapi, CKAN harvesters) read the hub as a CKAN portal: the
`{help, success, result}` envelope, CKAN's error `__type` strings and status codes, GET with
query parameters or POST with a JSON body, the token in `Authorization` or `X-CKAN-API-Key`.
A dataset is a CKAN package named `{org}__{dataset}`; its table is the datastore resource of
the same id.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from ..core.errors import Forbidden, HubError, Invalid, NotFound, Unauthenticated
from ..identity import service as identity
from ..identity.policy import ANONYMOUS, Actor, authorize, can
from ..lake import rows as row_reader
from ..lake import service as lake
from ..lake import vocabulary
from ..lake.models import Dataset
from ..lake.tables import version_data
from . import service

router = APIRouter(include_in_schema=False)
MAX_ROWS = 1000
PAGE = 500          # the catalogue's own page size while gathering every dataset
FACETS = {"organization", "tags", "res_format", "license_id", "access"}
FQ = re.compile(r'^\s*(\+?)(organization|tags|res_format|license_id|access|name):'
                r'("[^"]*"|[^\s"]+)\s*$')


class CkanError(Exception):
    def __init__(self, status: int, kind: str, message: str,
                 fields: dict[str, list[str]] | None = None) -> None:
        self.status, self.kind, self.message, self.fields = status, kind, message, fields or {}


@router.api_route("/api/3/action/{name}", methods=["GET", "POST"])
@router.api_route("/api/action/{name}", methods=["GET", "POST"])
async def action(name: str, request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    help_url = f"{base}/api/3/action/help_show?name={name}"
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if isinstance(body, dict):
            params.update(body)
    handler = ACTIONS.get(name)
    factory = request.app.state.session_factory
    try:
        if handler is None:
            raise CkanError(400, "Bad request", f"Action name not known: {name}")
        with factory() as session:
            actor = _actor(session, request)
            result = handler(session, actor, params, request)
            session.commit()
    except CkanError as error:
        detail: dict[str, Any] = {"__type": error.kind, "message": error.message}
        detail.update(error.fields)
        return JSONResponse({"help": help_url, "success": False, "error": detail},
                            status_code=error.status)
    except HubError as error:
        return JSONResponse({"help": help_url, "success": False,
                             "error": _translate(error)}, status_code=_status(error))
    return JSONResponse({"help": help_url, "success": True, "result": result})


def _translate(error: HubError) -> dict[str, Any]:
    if isinstance(error, NotFound):
        return {"__type": "Not Found Error", "message": str(error)}
    if isinstance(error, (Forbidden, Unauthenticated)):
        return {"__type": "Authorization Error", "message": str(error)}
    return {"__type": "Validation Error", error.field or "message": [str(error)]}


def _status(error: HubError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, (Forbidden, Unauthenticated)):
        return 403
    return 409


def _actor(session: Session, request: Request) -> Actor:
    raw = request.headers.get("x-ckan-api-key") or request.headers.get("authorization") or ""
    raw = raw.removeprefix("Bearer ").strip()
    if not raw:
        return ANONYMOUS
    return identity.actor_from_token(session, raw)


# --- packages --------------------------------------------------------------------------------


def package_name(dataset: Dataset) -> str:
    return f"{dataset.organization.slug}__{dataset.slug}"


def _dataset(session: Session, ref: str | None) -> Dataset:
    org, sep, slug = str(ref or "").partition("__")
    if not sep:
        raise CkanError(404, "Not Found Error", "Not found")
    try:
        return lake.get_dataset(session, org, slug)
    except NotFound:
        raise CkanError(404, "Not Found Error", "Not found") from None


def _package(dataset: Dataset, base: str) -> dict[str, Any]:
    name = package_name(dataset)
    org = dataset.organization
    rows = f"{base}/api/v1/datasets/{org.slug}/{dataset.slug}/rows"
    return {
        "id": name, "name": name, "title": dataset.title_ko, "title_en": dataset.title_en,
        "notes": dataset.description_ko or dataset.description_en, "type": "dataset",
        "state": "active", "private": dataset.access != "open", "access": dataset.access,
        "license_id": dataset.license,
        "license_title": vocabulary.licence_label(dataset.license, "en"),
        "license_url": vocabulary.LICENCES[dataset.license].eu
        if dataset.license in vocabulary.LICENCES else "",
        "theme": dataset.theme, "frequency": dataset.update_frequency,
        "spatial": dataset.spatial, "maintainer": dataset.contact_name,
        "maintainer_email": dataset.contact_email,
        "metadata_created": dataset.created_at.isoformat(),
        "metadata_modified": dataset.updated_at.isoformat(),
        "num_resources": 2, "num_tags": len(dataset.keywords),
        "tags": [{"name": k, "display_name": k} for k in dataset.keywords],
        "organization": {"id": org.slug, "name": org.slug, "title": org.name_ko,
                         "type": "organization", "is_organization": True},
        "owner_org": org.slug,
        "url": f"{base}/datasets/{org.slug}/{dataset.slug}",
        "resources": [
            {"id": name, "package_id": name, "name": "rows (JSON API)", "format": "JSON",
             "url": rows, "datastore_active": True, "position": 0},
            {"id": f"{name}__csv", "package_id": name, "name": "CSV download", "format": "CSV",
             "url": f"{rows}?format=csv", "datastore_active": False, "position": 1},
        ],
    }


def _visible(session: Session, actor: Actor, include_private: bool) -> list[Dataset]:
    """Every dataset the caller may read, page by page through the catalogue (no cap):
    CKAN's public packages are the open ones; `include_private` adds the rest they may read."""
    return [d for d in _every(lake.list_datasets, session)
            if (include_private or d.access == "open") and can(actor, "lake.rows.read", d)]


def _every(pages: Any, session: Session) -> list[Any]:
    """All items of a cursor-paged list, however many."""
    items, cursor = pages(session, limit=PAGE)
    while cursor:
        more, cursor = pages(session, limit=PAGE, cursor=cursor)
        items += more
    return items


def package_list(session: Session, actor: Actor, params: dict[str, Any],
                 request: Request) -> list[str]:
    return [package_name(d) for d in _visible(session, actor, False)]


def package_show(session: Session, actor: Actor, params: dict[str, Any],
                 request: Request) -> dict[str, Any]:
    dataset = _dataset(session, params.get("id") or params.get("name_or_id"))
    authorize(actor, "lake.rows.read", dataset)     # not open: a private package
    return _package(dataset, str(request.base_url).rstrip("/"))


def package_search(session: Session, actor: Actor, params: dict[str, Any],
                   request: Request) -> dict[str, Any]:
    rows = _int(params.get("rows", 10), "rows")
    start = _int(params.get("start", 0), "start")
    if rows > MAX_ROWS:
        raise CkanError(409, "Validation Error", "Validation error",
                        {"rows": [f"Must be less than or equal to {MAX_ROWS}"]})
    facet_fields = params.get("facet.field") or params.get("facet_field") or []
    if isinstance(facet_fields, str):
        try:
            facet_fields = json.loads(facet_fields)
        except ValueError:
            raise CkanError(409, "Validation Error", "Validation error",
                            {"facet.field": ["Must be a JSON list"]}) from None
    unknown = [f for f in facet_fields if f not in FACETS]
    if unknown:
        raise CkanError(409, "Validation Error", "Validation error",
                        {"facet.field": [f"Unknown facet field: {unknown[0]}"]})
    include_private = str(params.get("include_private", "false")).lower() == "true"
    base = str(request.base_url).rstrip("/")
    packages = [_package(d, base) for d in _visible(session, actor, include_private)]
    query = str(params.get("q") or "").strip()
    rank: dict[str, int] = {}
    if query and query != "*:*":
        # The hub's own search (Korean-aware, cross-lingual) decides what matches.
        found, _ = service.search(session, actor=actor, q=query, filters={"kind": "dataset"},
                                  limit=max(len(packages), 1))
        rank = {f"{h.record.org}__{h.record.slug}": i for i, h in enumerate(found.hits)}
        packages = [p for p in packages if p["name"] in rank]
        packages.sort(key=lambda p: rank[p["name"]])
    for clause in _fq(str(params.get("fq") or "")):
        packages = [p for p in packages if clause(p)]
    sort = str(params.get("sort") or "score desc")
    if sort.startswith("metadata_modified"):
        packages.sort(key=lambda p: p["metadata_modified"], reverse=sort.endswith("desc"))
    elif sort.startswith(("name", "title")):
        packages.sort(key=lambda p: p[sort.split()[0]], reverse=sort.endswith("desc"))
    facets = {f: _facet(packages, f) for f in facet_fields}
    return {"count": len(packages), "results": packages[start:start + rows], "sort": sort,
            "facets": facets,
            "search_facets": {f: {"title": f, "items": [
                {"name": k, "display_name": k, "count": v} for k, v in counts.items()]}
                for f, counts in facets.items()}}


def _int(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CkanError(409, "Validation Error", "Validation error",
                        {field: ["Invalid integer"]}) from None
    if number < 0:
        raise CkanError(409, "Validation Error", "Validation error",
                        {field: ["Must be a natural number"]})
    return number


def _fq(text: str):  # type: ignore[no-untyped-def]
    clauses = []
    for part in [p for p in re.split(r"\s+AND\s+|(?<=\S)\s+(?=\+?\w+:)", text.strip()) if p]:
        match = FQ.match(part)
        if not match:
            raise CkanError(409, "Validation Error", "Validation error",
                            {"fq": [f"Cannot parse filter query: {part}"]})
        field, value = match.group(2), match.group(3).strip('"')
        clauses.append(lambda p, f=field, v=value: v in _values(p, f))
    return clauses


def _values(package: dict[str, Any], field: str) -> list[str]:
    if field == "organization":
        return [package["organization"]["name"]]
    if field == "tags":
        return [t["name"] for t in package["tags"]]
    if field == "res_format":
        return [r["format"] for r in package["resources"]]
    if field == "license_id":
        return [package["license_id"]]
    if field == "access":
        return [package["access"]]
    return [package["name"]]


def _facet(packages: list[dict[str, Any]], field: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for package in packages:
        for value in set(_values(package, field)):
            counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


# --- organizations, resources, datastore ----------------------------------------------------


def _organization(org: Any, count: int | None = None) -> dict[str, Any]:
    return {"id": org.slug, "name": org.slug, "title": org.name_ko, "display_name": org.name_ko,
            "title_en": org.name_en, "description": org.description, "type": "organization",
            "is_organization": True, "state": "active", "approval_status": "approved",
            "created": org.created_at.isoformat(), "package_count": count}


def organization_list(session: Session, actor: Actor, params: dict[str, Any],
                      request: Request) -> list[Any]:
    orgs = _every(identity.list_orgs, session)
    if str(params.get("all_fields", "false")).lower() != "true":
        return [o.slug for o in orgs]
    counts: dict[int, int] = {}
    for dataset in _visible(session, actor, False):
        counts[dataset.org_id] = counts.get(dataset.org_id, 0) + 1
    return [_organization(o, counts.get(o.id, 0)) for o in orgs]


def organization_show(session: Session, actor: Actor, params: dict[str, Any],
                      request: Request) -> dict[str, Any]:
    try:
        org = identity.get_org_by_slug(session, str(params.get("id") or ""))
    except NotFound:
        raise CkanError(404, "Not Found Error", "Not found") from None
    base = str(request.base_url).rstrip("/")
    packages = [_package(d, base) for d in _visible(session, actor, False) if d.org_id == org.id]
    return {**_organization(org, len(packages)), "packages": packages}


def resource_show(session: Session, actor: Actor, params: dict[str, Any],
                  request: Request) -> dict[str, Any]:
    ref = str(params.get("id") or "")
    package = package_show(session, actor, {"id": ref.removesuffix("__csv")}, request)
    for resource in package["resources"]:
        if resource["id"] == ref:
            return resource
    raise CkanError(404, "Not Found Error", "Not found")


def datastore_search(session: Session, actor: Actor, params: dict[str, Any],
                     request: Request) -> dict[str, Any]:
    dataset = _dataset(session, params.get("resource_id"))
    found = lake.readable_version(session, actor=actor, dataset=dataset)
    storage = request.app.state.storage
    data = version_data(storage.table_uri(dataset.id), storage.storage_options,
                        found.delta_version)
    filters = params.get("filters") or {}
    if isinstance(filters, str):
        try:
            filters = json.loads(filters)
        except ValueError:
            raise CkanError(409, "Validation Error", "Validation error",
                            {"filters": ["Cannot parse JSON"]}) from None
    fields = params.get("fields")
    if isinstance(fields, list):
        fields = ",".join(fields)
    sort = str(params.get("sort") or "")
    order = ",".join(("-" if p.strip().lower().endswith(" desc") else "") +
                     p.strip().split(" ")[0].strip('"') for p in sort.split(",") if p.strip())
    try:
        query = row_reader.parse_query(storage, data, found.columns,
                                       {k: str(v) for k, v in filters.items()},
                                       sort=order or None, columns=fields or None)
    except Invalid as error:
        raise CkanError(409, "Validation Error", "Validation error",
                        {error.field or "filters": [str(error)]}) from None
    if params.get("q"):
        text = [c["name"] for c in found.columns if c["type"] == "text"][:1]
        if text:
            query.filters.append((text[0], "contains", str(params["q"])))
    limit = min(_int(params.get("limit", 100), "limit"), 32_000)
    offset = _int(params.get("offset", 0), "offset")
    from ..core.pagination import encode_cursor

    cursor = encode_cursor([found.version, offset]) if offset else None
    records, total, _ = row_reader.page(query, version=found.version, limit=max(limit, 1),
                                        cursor=cursor)
    records = records[:limit]
    names = query.columns or [c["name"] for c in found.columns]
    types = {c["name"]: c["type"] for c in found.columns}
    kind = {"integer": "int", "decimal": "float", "date": "date", "timestamp": "timestamp",
            "boolean": "bool"}
    result: dict[str, Any] = {
        "resource_id": package_name(dataset),
        "fields": [{"id": n, "type": kind.get(types[n], "text")} for n in names],
        "limit": limit, "offset": offset,
        "_links": {"start": "/api/3/action/datastore_search",
                   "next": f"/api/3/action/datastore_search?offset={offset + limit}"}}
    records_format = str(params.get("records_format") or "objects")
    if records_format == "lists":
        result["records"] = [[r.get(n) for n in names] for r in records]
    elif records_format in ("csv", "tsv"):
        sep = "," if records_format == "csv" else "\t"
        result["records"] = "\n".join(sep.join("" if r.get(n) is None else str(r.get(n))
                                               for n in names) for r in records)
    else:
        result["records"] = records
    if str(params.get("include_total", "true")).lower() != "false":
        result["total"] = total
    return result


def datastore_search_sql(session: Session, actor: Actor, params: dict[str, Any],
                         request: Request) -> dict[str, Any]:
    """SQL through the analysis sandbox; CKAN resource ids ("org__dataset") work as tables."""
    from ..analysis import schemas as analysis_schemas
    from ..analysis import service as analysis

    sql = str(params.get("sql") or "")
    result = analysis.run_query(session, actor=actor, storage=request.app.state.storage,
                                settings=request.app.state.settings,
                                queries=request.app.state.queries, ckan_names=True,
                                request=analysis_schemas.QueryRequest(sql=sql, limit=32_000))
    names = [c.name for c in result.columns]
    return {"fields": [{"id": c.name, "type": c.type} for c in result.columns],
            "records": [dict(zip(names, row, strict=True)) for row in result.rows],
            "sql": params.get("sql")}


def status_show(session: Session, actor: Actor, params: dict[str, Any],
                request: Request) -> dict[str, Any]:
    from .. import __version__

    return {"ckan_version": "2.10.4", "site_title": "DPG Hub", "site_description":
            "디지털플랫폼정부 허브", "site_url": str(request.base_url).rstrip("/"),
            "extensions": ["datastore"], "dpghub_version": __version__, "locale_default": "ko"}


ACTIONS = {f.__name__: f for f in (
    status_show, package_list, package_show, package_search, organization_list,
    organization_show, resource_show, datastore_search, datastore_search_sql)}
