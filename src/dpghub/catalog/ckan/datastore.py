"""CKAN organizations, resources and the datastore: a dataset's table is the datastore
resource of its package's id; `datastore_search_sql` runs through the hub's query pool."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from ...core.errors import Invalid, NotFound
from ...identity import service as identity
from ...identity.policy import Actor
from ...lake import rows as row_reader
from ...lake import service as lake
from ...lake.tables import version_data
from .errors import CkanError
from .packages import as_package, dataset_of, every, int_param, package_name, package_show, visible


def _organization(org: Any, count: int | None = None) -> dict[str, Any]:
    return {"id": org.slug, "name": org.slug, "title": org.name_ko, "display_name": org.name_ko,
            "title_en": org.name_en, "description": org.description, "type": "organization",
            "is_organization": True, "state": "active", "approval_status": "approved",
            "created": org.created_at.isoformat(), "package_count": count}


def organization_list(session: Session, actor: Actor, params: dict[str, Any],
                      request: Request) -> list[Any]:
    orgs = every(identity.list_orgs, session)
    if str(params.get("all_fields", "false")).lower() != "true":
        return [o.slug for o in orgs]
    counts: dict[int, int] = {}
    for dataset in visible(session, actor, False):
        counts[dataset.org_id] = counts.get(dataset.org_id, 0) + 1
    return [_organization(o, counts.get(o.id, 0)) for o in orgs]


def organization_show(session: Session, actor: Actor, params: dict[str, Any],
                      request: Request) -> dict[str, Any]:
    try:
        org = identity.get_org_by_slug(session, str(params.get("id") or ""))
    except NotFound:
        raise CkanError(404, "Not Found Error", "Not found") from None
    base = str(request.base_url).rstrip("/")
    packages = [as_package(d, base) for d in visible(session, actor, False) if d.org_id == org.id]
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
    dataset = dataset_of(session, params.get("resource_id"))
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
    limit = min(int_param(params.get("limit", 100), "limit"), 32_000)
    offset = int_param(params.get("offset", 0), "offset")
    from ...core.pagination import encode_cursor

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
    from ...analysis import schemas as analysis_schemas
    from ...analysis import service as analysis

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
    from ... import __version__

    return {"ckan_version": "2.10.4", "site_title": "DPG Hub", "site_description":
            "디지털플랫폼정부 허브", "site_url": str(request.base_url).rstrip("/"),
            "extensions": ["datastore"], "dpghub_version": __version__, "locale_default": "ko"}


