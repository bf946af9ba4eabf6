"""DCAT-AP 3 over HTTP: /catalog.ttl, /catalog.jsonld, /catalog.rdf (paged) and
/dataset/{org}/{name}.ttl or .jsonld, for harvesters of European-style data portals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ..core.errors import NotFound
from ..lake import service as lake
from ..web.context import DbSession
from ..web.params import MAX_ID
from ..web.problems import responses
from .dcat import catalog_graph, dataset_graph

router = APIRouter(tags=["catalog"])
FORMATS = {"ttl": ("turtle", "text/turtle; charset=utf-8"),
           "jsonld": ("json-ld", "application/ld+json"),
           "rdf": ("xml", "application/rdf+xml")}
PAGE = 100


# response_class=Response: the schema lists the RDF media types answered, not JSON
@router.get("/catalog.{fmt}", response_class=Response, responses={**responses(404), 200: {
    "description": "A page of the catalogue", "content": {
        "text/turtle": {}, "application/ld+json": {}, "application/rdf+xml": {}}}})
def catalog(fmt: Annotated[str, Path(description="`ttl`, `jsonld` or `rdf` (any other: 404, "
                                     "as for a file that is not there)", examples=["ttl"])],
            request: Request, session: DbSession,
            page: Annotated[int, Query(ge=1, le=MAX_ID)] = 1) -> Response:
    """The whole registry as DCAT-AP 3, 100 datasets a page (Hydra paging links)."""
    if fmt not in FORMATS:
        raise NotFound("No catalogue format {fmt}; use ttl, jsonld or rdf", code="not_found",
                       fmt=fmt)
    base = str(request.base_url).rstrip("/")
    items, _ = lake.list_datasets(session, limit=1000)
    chunk = items[(page - 1) * PAGE: page * PAGE]
    more = len(items) > page * PAGE
    graph = catalog_graph(base, chunk, page={
        "self": f"{base}/catalog.{fmt}?page={page}", "total": len(items),
        "next": f"{base}/catalog.{fmt}?page={page + 1}" if more else None})
    syntax, media = FORMATS[fmt]
    return Response(graph.serialize(format=syntax), media_type=media)


@router.get("/dataset/{org}/{name}.{fmt}", response_class=Response, responses={
    **responses(404), 200: {"description": "The dataset", "content": {
        "text/turtle": {}, "application/ld+json": {}}}})
def dataset(org: str, name: str, fmt: Annotated[str, Path(
        description="`ttl` or `jsonld` (any other: 404)", examples=["ttl"])],
            request: Request, session: DbSession) -> Response:
    """One dataset as DCAT-AP 3."""
    if fmt not in ("ttl", "jsonld"):
        raise NotFound("No dataset format {fmt}; use ttl or jsonld", code="not_found", fmt=fmt)
    found = lake.get_dataset(session, org, name)
    syntax, media = FORMATS[fmt]
    graph = dataset_graph(str(request.base_url).rstrip("/"), found)
    return Response(graph.serialize(format=syntax), media_type=media)
