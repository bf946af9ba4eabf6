"""Catalog JSON routes for services (APIs)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from ..identity import service as identity
from ..identity.dependencies import ApiActor, OptionalApiActor
from ..web.context import DbSession, Lang
from ..web.problems import responses
from . import openapi, schemas, service

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.post("/orgs/{org}/services", status_code=201, response_model=schemas.ServiceRead,
             responses=responses(401, 403, 404, 409, 422))
def register(org: str, data: schemas.ServiceCreate, session: DbSession,
             actor: ApiActor, request: Request) -> schemas.ServiceRead:
    """Register an API with its OpenAPI document (3.x, or Swagger 2.0, converted). An invalid
    document is refused with the JSON path of its first fault; an upstream outside the
    networks the operator allows, or whose host does not resolve, with `upstream_url`."""
    organization = identity.get_org_by_slug(session, org)
    return service.service_read(service.register(
        session, actor=actor, org=organization, data=data,
        networks=request.app.state.networks))


@router.get("/services", response_model=list[schemas.ServiceRead])
def list_services(session: DbSession, org: str | None = None) -> list[schemas.ServiceRead]:
    return [service.service_read(s) for s in service.list_services(session, org=org)]


@router.get("/services/{org}/{slug}", response_model=schemas.ServiceRead,
            responses=responses(404))
def get_service(org: str, slug: str, session: DbSession) -> schemas.ServiceRead:
    return service.service_read(service.get_service(session, org, slug))


@router.get("/services/{org}/{slug}/operations", response_model=list[schemas.OperationRead],
            responses=responses(404))
def operations(org: str, slug: str, session: DbSession) -> list[schemas.OperationRead]:
    """Each operation with its parameters and response schemas."""
    found = service.get_service(session, org, slug)
    return [schemas.OperationRead(**o) for o in openapi.operations(found.openapi)]


@router.get("/services/{org}/{slug}/openapi.json", responses=responses(404))
def document(org: str, slug: str, session: DbSession) -> dict:
    """The stored document, as OpenAPI 3."""
    return service.get_service(session, org, slug).openapi


@router.get("/search", response_model=schemas.SearchPage, responses=responses(422))
def search(
    session: DbSession, actor: OptionalApiActor, lang: Lang,
    q: Annotated[str, Query(max_length=500, examples=["도서관의 위치"],
                            description="Words in Korean or English; empty lists everything")] = "",
    kind: Annotated[Literal["dataset", "service"] | None, Query()] = None,
    org: str | None = None,
    theme: Annotated[str | None, Query(examples=["transport"])] = None,
    access: Annotated[str | None, Query(examples=["open"])] = None,
    format: Annotated[str | None, Query(examples=["CSV"])] = None,
    keyword: str | None = None,
    sort: Annotated[Literal["relevance", "newest", "most_used"] | None,
                    Query(description="relevance (default with q), newest (default without), "
                          "most_used")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> schemas.SearchPage:
    """One search over datasets and services: titles, descriptions, keywords, column names and
    operation summaries. Korean queries match inside compounds and ignore particles ("도서관의
    위치" finds 전국도서관표준데이터); English queries find Korean records by meaning. Each
    facet (`org`, `kind`, `theme`, `access`, `format`, `keyword`) narrows the result and is
    counted over it."""
    filters = {"org": org, "kind": kind, "theme": theme, "access": access, "format": format,
               "keyword": keyword}
    result, next_cursor = service.search(session, actor=actor, q=q,
                                         filters={k: v for k, v in filters.items() if v},
                                         sort=sort, limit=limit, cursor=cursor)
    return service.page_read(result, next_cursor, lang)
