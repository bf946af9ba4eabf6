"""Catalog pages: the list of services (APIs) and a service's operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..core.i18n import translate
from ..identity import service as identity
from ..identity.dependencies import PageActor
from ..lake import vocabulary
from ..web import csrf
from ..web.context import DbSession, language
from ..web.templating import render
from . import openapi, service
from . import search as search_index

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@router.get("/")
def home(request: Request, session: DbSession, actor: PageActor) -> Response:
    """The front page: the registry's newest and most used entries, and the organizations."""
    orgs, _ = identity.list_orgs(session, limit=12)
    mine = identity.orgs_of(session, actor.user_id) if actor.user_id else []
    newest, _ = service.search(session, actor=actor, sort="newest", limit=6)
    used, _ = service.search(session, actor=actor, sort="most_used", limit=6)
    return render(request, "catalog/home.html", {
        "orgs": orgs, "counts": identity.counts(session), "mine": mine,
        "newest": newest.hits, "most_used": [h for h in used.hits if h.uses],
        "total": newest.total})


@router.get("/services")
def services(request: Request, session: DbSession, actor: PageActor,
             org: str | None = None) -> Response:
    return render(request, "catalog/services.html", {
        "services": [(s, len(openapi.operations(s.openapi)))
                     for s in service.list_services(session, org=org)], "org": org})


# Sections a higher domain adds to a service's page (agile: the feedback form), registered in
# `app.register_hooks`: each gets (request, session, actor, service) and gives a template and
# its context, or None to add nothing.
ServicePanel = Callable[[Request, Any, Any, Any], "tuple[str, dict[str, Any]] | None"]
SERVICE_PANELS: list[ServicePanel] = []


def add_service_panel(panel: ServicePanel) -> None:
    if panel not in SERVICE_PANELS:
        SERVICE_PANELS.append(panel)


@router.get("/services/{org}/{slug}")
def service_page(org: str, slug: str, request: Request, session: DbSession,
                 actor: PageActor) -> Response:
    found = service.get_service(session, org, slug)
    panels = [p for p in (panel(request, session, actor, found) for panel in SERVICE_PANELS)
              if p is not None]
    return render(request, "catalog/service.html", {
        "service": found, "operations": openapi.operations(found.openapi),
        "servers": [s.get("url", "") for s in found.openapi.get("servers", [])],
        "panels": panels})


@router.get("/search")
def search_page(request: Request, session: DbSession, actor: PageActor, q: str = "",
                sort: str | None = None, cursor: str | None = None) -> Response:
    lang = language(request)
    filters = {name: request.query_params[name] for name in search_index.FACETS
               if request.query_params.get(name)}
    result, next_cursor = service.search(session, actor=actor, q=q[:500], filters=filters,
                                         sort=sort or None, cursor=cursor)

    def link(add: dict[str, str] | None = None, drop: str | None = None,
             cursor: str | None = None) -> str:
        params = {"q": q, **filters, **(add or {})}
        if drop:
            params.pop(drop, None)
        if sort:
            params["sort"] = sort
        if cursor:
            params["cursor"] = cursor
        return "/search?" + urlencode({k: v for k, v in params.items() if v})

    return render(request, "catalog/search.html", {
        "q": q, "result": result, "filters": filters, "next_cursor": next_cursor, "link": link,
        "sorts": [("relevance", translate("Relevance", lang)), ("newest", translate("Newest", lang)),
                  ("most_used", translate("Most used", lang))],
        "facet_titles": {"org": translate("Organization", lang), "kind": translate("Kind", lang),
                         "theme": translate("Theme", lang), "access": translate("Access", lang),
                         "format": translate("Format", lang), "keyword": translate("Keywords", lang)},
        "facet_label": lambda name, value: service.facet_label(result, name, value, lang),
        "kind_label": lambda kind: vocabulary.label(vocabulary.KINDS, kind, lang)})
