"""CKAN packages: a dataset as a package named `{org}__{dataset}`, and `package_search` with
CKAN's `q`, `fq`, facets and sorting over the hub's own search."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from ...core.errors import NotFound
from ...identity.policy import Actor, authorize, can
from ...lake import service as lake
from ...lake import vocabulary
from ...lake.models import Dataset
from .. import service
from .errors import CkanError

MAX_ROWS = 1000
PAGE = 500          # the catalogue's own page size while gathering every dataset
FACETS = {"organization", "tags", "res_format", "license_id", "access"}
FQ = re.compile(r'^\s*(\+?)(organization|tags|res_format|license_id|access|name):'
                r'("[^"]*"|[^\s"]+)\s*$')


def package_name(dataset: Dataset) -> str:
    return f"{dataset.organization.slug}__{dataset.slug}"


def dataset_of(session: Session, ref: str | None) -> Dataset:
    org, sep, slug = str(ref or "").partition("__")
    if not sep:
        raise CkanError(404, "Not Found Error", "Not found")
    try:
        return lake.get_dataset(session, org, slug)
    except NotFound:
        raise CkanError(404, "Not Found Error", "Not found") from None


def as_package(dataset: Dataset, base: str) -> dict[str, Any]:
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


def visible(session: Session, actor: Actor, include_private: bool) -> list[Dataset]:
    """Every dataset the caller may read, page by page through the catalogue (no cap):
    CKAN's public packages are the open ones; `include_private` adds the rest they may read."""
    return [d for d in every(lake.list_datasets, session)
            if (include_private or d.access == "open") and can(actor, "lake.rows.read", d)]


def every(pages: Any, session: Session) -> list[Any]:
    """All items of a cursor-paged list, however many."""
    items, cursor = pages(session, limit=PAGE)
    while cursor:
        more, cursor = pages(session, limit=PAGE, cursor=cursor)
        items += more
    return items


def package_list(session: Session, actor: Actor, params: dict[str, Any],
                 request: Request) -> list[str]:
    return [package_name(d) for d in visible(session, actor, False)]


def package_show(session: Session, actor: Actor, params: dict[str, Any],
                 request: Request) -> dict[str, Any]:
    dataset = dataset_of(session, params.get("id") or params.get("name_or_id"))
    authorize(actor, "lake.rows.read", dataset)     # not open: a private package
    return as_package(dataset, str(request.base_url).rstrip("/"))


def package_search(session: Session, actor: Actor, params: dict[str, Any],
                   request: Request) -> dict[str, Any]:
    rows = int_param(params.get("rows", 10), "rows")
    start = int_param(params.get("start", 0), "start")
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
    packages = [as_package(d, base) for d in visible(session, actor, include_private)]
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


def int_param(value: Any, field: str) -> int:
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


