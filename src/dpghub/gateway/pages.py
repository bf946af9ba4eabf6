"""Developer portal pages: my apps and keys, subscriptions on both sides, usage, try-it."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..catalog import openapi
from ..catalog import service as catalog
from ..core.errors import HubError
from ..identity import service as identity
from ..identity.dependencies import PageActor, SignedInPageActor
from ..identity.policy import can
from ..web import csrf
from ..web.context import DbSession
from ..web.forms import attempt, form_data, parse
from ..web.params import Id
from ..web.templating import redirect, render
from . import metrics, schemas, service
from .upstream import TARGET_SAFE

SHOWN = 20_000    # bytes of a tried answer shown on the page

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@router.get("/apps")
def apps(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    return _apps(request, session, actor)


def _apps(request: Request, session: Any, actor: Any, error: HubError | None = None,
          status: int = 200) -> Response:
    mine = identity.orgs_of(session, actor.user_id)
    listed = [(org, service.list_apps(session, actor=actor, org=org)) for org, _ in mine]
    return render(request, "gateway/apps.html", {
        "groups": listed, "orgs": [org for org, _ in mine], "error": error,
        "editable": {org.id for org, _ in mine if can(actor, "gateway.app.create", org)}},
        status=status)


@router.post("/apps")
async def create_app(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        org = identity.get_org_by_slug(session, str(form.pop("org", "")))
        app, key = service.create_app(session, actor=actor, org=org,
                                      data=parse(schemas.AppCreate, form))
    if (error := tried.error) is not None:
        return _apps(request, session, actor, error=error, status=error.status)
    return redirect(request, f"/apps/{app.id}", "The app was created.", reveal={"key": key})


@router.get("/apps/{app_id}")
def app_page(app_id: Id, request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    return _app_page(app_id, request, session, actor)


def _app_page(app_id: Id, request: Request, session: Any, actor: Any,
              error: HubError | None = None, status: int = 200) -> Response:
    app = service.get_app(session, actor=actor, app_id=app_id)
    subs = [service.subscription_read(session, s)
            for s in service.list_subscriptions(session, actor=actor, app=app)]
    return render(request, "gateway/app.html", {
        "app": app, "keys": service.keys_of(session, app), "subscriptions": subs,
        "services": catalog.list_services(session), "error": error,
        "can_manage": can(actor, "gateway.app.manage", app),
        "usage": metrics.usage(session, app_id=app.id, days=14)}, status=status)


@router.post("/apps/{app_id}/keys")
def add_key(app_id: Id, request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    app = service.get_app(session, actor=actor, app_id=app_id)
    with attempt(session) as tried:
        _, key = service.add_key(session, actor=actor, app=app,
                                 data=schemas.KeyCreate(name="secondary"))
    if (error := tried.error) is not None:
        return _app_page(app_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/apps/{app_id}#keys", "A new key was made.", reveal={"key": key})


@router.post("/apps/{app_id}/keys/{key_id}/revoke")
def revoke_key(app_id: Id, key_id: Id, request: Request, session: DbSession,
               actor: SignedInPageActor) -> Response:
    app = service.get_app(session, actor=actor, app_id=app_id)
    service.revoke_key(session, actor=actor, app=app, key_id=key_id)
    return redirect(request, f"/apps/{app_id}#keys", "The key was revoked.")


@router.post("/apps/{app_id}/subscriptions")
async def subscribe(app_id: Id, request: Request, session: DbSession,
                    actor: SignedInPageActor) -> Response:
    app = service.get_app(session, actor=actor, app_id=app_id)
    form = await form_data(request)
    with attempt(session) as tried:
        service.request_subscription(session, actor=actor, app=app,
                                     data=parse(schemas.SubscriptionCreate, form))
    if (error := tried.error) is not None:
        return _app_page(app_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/apps/{app_id}#subscriptions", "The request was sent.")


@router.get("/orgs/{org}/subscriptions")
def received(org: str, request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    return _received(org, request, session, actor)


def _received(org: str, request: Request, session: Any, actor: Any,
              error: HubError | None = None, status: int = 200) -> Response:
    organization = identity.get_org_by_slug(session, org)
    subs = service.list_subscriptions(session, actor=actor, provider=organization)
    usage = [(s, metrics.usage(session, service_id=s.id, days=14))
             for s in catalog.list_services(session, org=org)]
    return render(request, "gateway/received.html", {
        "org": organization, "subscriptions": [service.subscription_read(session, s)
                                               for s in subs], "usage": usage,
        "can_decide": can(actor, "gateway.subscription.decide", organization),
        "error": error}, status=status)


@router.post("/subscriptions/{subscription_id}/{verdict}")
async def decide(subscription_id: Id, verdict: str, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    sub = service.get_subscription(session, actor=actor, subscription_id=subscription_id)
    org = identity.get_org_by_id(session, sub.provider_org_id)
    form = {k: v for k, v in (await form_data(request)).items() if v != ""}
    with attempt(session) as tried:
        if verdict not in ("approve", "reject", "revoke"):
            from ..core.errors import NotFound

            raise NotFound()
        service.decide(session, actor=actor, sub=sub, verdict=verdict,
                       data=parse(schemas.Decision, form))
    if (error := tried.error) is not None:
        return _received(org.slug, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/orgs/{org.slug}/subscriptions", "The decision was recorded.")


@router.post("/services/{org}/{slug}/try")
async def try_it(org: str, slug: str, request: Request, session: DbSession,
                 actor: PageActor) -> Response:
    """Sends the request through the gateway itself (limits, evidence and all) and shows
    the answer."""
    found = catalog.get_service(session, org, slug)
    form = await form_data(request)
    method, _, path = str(form.get("operation", "GET /")).partition(" ")
    query = str(form.get("query", "")).lstrip("?")
    body = str(form.get("body", "")).encode()
    headers = {"X-API-Key": str(form.get("key", "")).strip(), "Accept-Language": "ko"}
    if body:
        headers["Content-Type"] = "application/json"
    status, answer_headers, content, size = await _call_hub(
        request, method or "GET", f"/gw/{org}/{slug}{path}" + (f"?{query}" if query else ""),
        headers, body)
    text = content.decode("utf-8", "replace")
    result: dict[str, Any] = {"status": status, "headers": answer_headers,
                              "body": text, "truncated": size > SHOWN,
                              "operation": f"{method} {path}", "query": query}
    return render(request, "catalog/service.html", {
        "service": found, "operations": openapi.operations(found.openapi),
        "servers": [s.get("url", "") for s in found.openapi.get("servers", [])],
        "tried": result, "form": form})


async def _call_hub(request: Request, method: str, target: str, headers: dict[str, str],
                    body: bytes) -> tuple[int, dict[str, str], bytes, int]:
    """One call into this hub's own app, in process, as any caller's call would arrive (key,
    limits, evidence and all); no HTTP client needed. Returns the status, the headers, the
    first SHOWN bytes of the body and the body's whole size."""
    raw_path, _, raw_query = quote(target, safe=TARGET_SAFE).partition("?")
    # addressed to the gateway's own origin when it has one (it answers only there)
    origin = urlsplit(request.app.state.settings.gateway_origin or "http://hub")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method.upper(), "scheme": origin.scheme, "path": unquote(raw_path),
             "raw_path": raw_path.encode(), "root_path": "", "query_string": raw_query.encode(),
             "headers": [(b"host", origin.netloc.encode()),
                         (b"content-length", str(len(body)).encode()),
                         *((k.lower().encode(), v.encode()) for k, v in headers.items())],
             "client": request.scope.get("client"), "server": ("hub", 80), "state": {}}
    answered = asyncio.Event()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    status, pieces, size = 0, bytearray(), 0
    answer_headers: dict[str, str] = {}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                key = name.decode("latin-1").lower()
                text = value.decode("latin-1")
                answer_headers[key] = f"{answer_headers[key]}, {text}" \
                    if key in answer_headers else text
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            size += len(chunk)
            if len(pieces) <= SHOWN:
                pieces.extend(chunk[:SHOWN + 1 - len(pieces)])
            if not message.get("more_body", False):
                answered.set()

    try:
        await request.app(scope, receive, send)
    finally:
        answered.set()
    return status, answer_headers, bytes(pieces[:SHOWN]), size
