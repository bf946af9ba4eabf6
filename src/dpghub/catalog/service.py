"""Registering and reading services (APIs). Calling them belongs to the gateway."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..core import audit, netcheck
from ..core import months as months_of
from ..core.db import utcnow
from ..core.errors import Conflict, Invalid, NotFound
from ..core.pagination import decode_cursor, encode_cursor
from ..identity.models import Organization
from ..identity.policy import Actor, authorize
from ..lake import vocabulary
from . import openapi, schemas
from . import search as search_index
from .models import Service


def get_service(session: Session, org_slug: str, slug: str) -> Service:
    found = session.scalar(select(Service).join(Organization)
                           .options(selectinload(Service.organization))
                           .where(Organization.slug == org_slug, Service.slug == slug))
    if found is None:
        raise NotFound("Service {org}/{name} does not exist", code="service_not_found",
                       org=org_slug, name=slug)
    return found


def get_service_by_id(session: Session, service_id: int) -> Service:
    found = session.get(Service, service_id, options=[selectinload(Service.organization)])
    if found is None:
        raise NotFound("Service {name} does not exist", code="service_not_found",
                       name=service_id)
    return found


def list_services(session: Session, *, org: str | None = None) -> list[Service]:
    query = (select(Service).join(Organization).options(selectinload(Service.organization))
             .order_by(Organization.slug, Service.slug))
    if org:
        query = query.where(Organization.slug == org)
    return list(session.scalars(query))


def register(session: Session, *, actor: Actor, org: Organization, data: schemas.ServiceCreate,
             networks: netcheck.NetworkPolicy) -> Service:
    """`networks`: the operator's (`DPGHUB_GATEWAY_ALLOWED_NETWORKS`); the upstream's host
    must resolve, and only into them."""
    authorize(actor, "catalog.service.create", org)
    netcheck.check_upstream(data.upstream_url, networks)
    if session.scalar(select(Service.id).where(Service.org_id == org.id,
                                               Service.slug == data.slug)):
        raise Conflict("{org} already has a service named {name}", code="service_exists",
                       field="slug", org=org.slug, name=data.slug)
    document = openapi.normalize(data.openapi, data.upstream_url)
    service = Service(org_id=org.id, slug=data.slug, title_ko=data.title_ko,
                      title_en=data.title_en, description=data.description,
                      upstream_url=data.upstream_url, openapi=document, original=data.openapi,
                      theme=data.theme, keywords=data.keywords, access=data.access,
                      timeout_seconds=data.timeout_seconds, max_body_mb=data.max_body_mb,
                      created_by=actor.user_id, updated_at=utcnow())
    service.organization = org
    session.add(service)
    session.flush()
    audit.record(session, actor=actor, action="catalog.service.create", target_type="service",
                 target_id=f"{org.slug}/{service.slug}", org_id=org.id,
                 details={"upstream_url": data.upstream_url,
                          "operations": len(openapi.operations(document))})
    return service


def service_read(service: Service) -> schemas.ServiceRead:
    return schemas.ServiceRead(
        org=service.organization.slug, slug=service.slug, title_ko=service.title_ko,
        title_en=service.title_en, description=service.description,
        upstream_url=service.upstream_url, theme=service.theme, keywords=service.keywords,
        access=service.access, timeout_seconds=service.timeout_seconds,
        max_body_mb=service.max_body_mb, servers=[s.get("url", "") for s in service.openapi.get("servers", [])],
        operations=len(openapi.operations(service.openapi)), created_at=service.created_at)


def search(session: Session, *, actor: Actor, q: str = "", filters: dict[str, str] | None = None,
           sort: str | None = None, limit: int = 20, cursor: str | None = None
           ) -> tuple[search_index.Result, str | None]:
    """Datasets and services matching `q` (Korean or English), filtered by facets.
    Registry metadata is public (`lake.dataset.read` is open to anyone); rows are not."""
    authorize(actor, "catalog.search", None)
    if len(q) > 500:
        raise Invalid("The query is longer than {limit} characters", code="query_too_long",
                      field="q", limit=500)
    offset = 0
    if cursor:
        values = decode_cursor(cursor) or [0]
        if not isinstance(values[0], int) or values[0] < 0:
            raise Invalid("The cursor is not valid; use the one from the previous page",
                          code="invalid_cursor", field="cursor")
        offset = values[0]
    index = search_index.index_for(session)
    index.refresh(session)
    result = index.search(q, filters=filters, sort=sort, offset=offset, limit=limit)
    following = offset + limit
    return result, encode_cursor([following]) if following < result.total else None


def facet_label(result: search_index.Result, name: str, value: str, lang: str) -> str:
    if name == "org" and value in result.org_names:
        ko, en = result.org_names[value]
        return ko if lang == "ko" or not en else en
    if name == "theme":
        return vocabulary.theme_label(value, lang)
    if name == "kind":
        return vocabulary.label(vocabulary.KINDS, value, lang)
    if name == "access":
        return vocabulary.label(vocabulary.ACCESS, value, lang)
    return value


def hit_read(hit: search_index.Hit) -> schemas.SearchHit:
    record = hit.record
    path = "datasets" if record.kind == "dataset" else "services"
    return schemas.SearchHit(
        kind=record.kind, org=record.org, slug=record.slug, title_ko=record.title_ko,
        title_en=record.title_en, description=record.description, theme=record.theme,
        access=record.access, keywords=record.keywords, formats=record.formats,
        modified_at=record.modified_at, uses=hit.uses, score=hit.score,
        url=record.url or f"/{path}/{record.org}/{record.slug}", title_html=str(hit.title),
        snippet_html=str(hit.snippet), matches_html=[str(m) for m in hit.matches])


def page_read(result: search_index.Result, next_cursor: str | None,
              lang: str) -> schemas.SearchPage:
    return schemas.SearchPage(
        total=result.total, sort=result.sort, items=[hit_read(h) for h in result.hits],
        facets={name: [schemas.FacetValue(value=v, count=c,
                                          label=facet_label(result, name, v, lang))
                       for v, c in pairs] for name, pairs in result.facets.items()},
        next_cursor=next_cursor)


def monthly_figures(session: Session, months: list[str]) -> dict[str, dict[str, float]]:
    """Registered services at the end of each month (Asia/Seoul): the dashboard's figure."""
    start, end = months_of.bounds(months)
    before = session.scalar(select(func.count(Service.id)).where(Service.created_at < start))
    month = months_of.seoul_month(Service.created_at)
    per_month = dict(session.execute(
        select(month, func.count(Service.id))
        .where(Service.created_at >= start, Service.created_at < end).group_by(month)).all())
    return {"services": months_of.cumulative(before or 0, per_month, months)}
