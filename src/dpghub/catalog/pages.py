"""Catalog pages: the list of services (APIs) and a service's operations."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..web import csrf
from ..web.context import DbSession, PageActor
from ..web.templating import render
from . import openapi, service

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@router.get("/services")
def services(request: Request, session: DbSession, actor: PageActor,
             org: str | None = None) -> Response:
    return render(request, "catalog/services.html", {
        "services": [(s, len(openapi.operations(s.openapi)))
                     for s in service.list_services(session, org=org)], "org": org})


@router.get("/services/{org}/{slug}")
def service_page(org: str, slug: str, request: Request, session: DbSession,
                 actor: PageActor) -> Response:
    found = service.get_service(session, org, slug)
    return render(request, "catalog/service.html", {
        "service": found, "operations": openapi.operations(found.openapi),
        "servers": [s.get("url", "") for s in found.openapi.get("servers", [])]})
