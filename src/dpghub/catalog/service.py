"""Registering and reading services (APIs). Calling them belongs to the gateway."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..core import audit
from ..core.db import utcnow
from ..core.errors import Conflict, NotFound
from ..identity.models import Organization
from ..identity.policy import Actor, authorize
from . import openapi, schemas
from .models import Service


def get_service(session: Session, org_slug: str, slug: str) -> Service:
    found = session.scalar(select(Service).join(Organization)
                           .options(selectinload(Service.organization))
                           .where(Organization.slug == org_slug, Service.slug == slug))
    if found is None:
        raise NotFound("Service {org}/{name} does not exist", code="service_not_found",
                       org=org_slug, name=slug)
    return found


def list_services(session: Session, *, org: str | None = None) -> list[Service]:
    query = (select(Service).join(Organization).options(selectinload(Service.organization))
             .order_by(Organization.slug, Service.slug))
    if org:
        query = query.where(Organization.slug == org)
    return list(session.scalars(query))


def register(session: Session, *, actor: Actor, org: Organization,
             data: schemas.ServiceCreate) -> Service:
    authorize(actor, "catalog.service.create", org)
    if session.scalar(select(Service.id).where(Service.org_id == org.id,
                                               Service.slug == data.slug)):
        raise Conflict("{org} already has a service named {name}", code="service_exists",
                       field="slug", org=org.slug, name=data.slug)
    document = openapi.normalize(data.openapi, data.upstream_url)
    service = Service(org_id=org.id, slug=data.slug, title_ko=data.title_ko,
                      title_en=data.title_en, description=data.description,
                      upstream_url=data.upstream_url, openapi=document, original=data.openapi,
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
        upstream_url=service.upstream_url,
        servers=[s.get("url", "") for s in service.openapi.get("servers", [])],
        operations=len(openapi.operations(service.openapi)), created_at=service.created_at)
