"""Gateway JSON routes: apps, keys and subscriptions (the proxy itself is in proxy.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ..catalog import service as catalog
from ..core.errors import Invalid, Unauthenticated
from ..identity import service as identity
from ..identity.dependencies import ApiActor
from ..identity.policy import authorize
from ..web.context import DbSession, HubSettings
from ..web.params import Id, OptionalId
from ..web.problems import responses
from . import credentials, metrics, oauth, schemas, service
from .faults import FAULTS

router = APIRouter(prefix="/api/v1", tags=["gateway"])
public = APIRouter(tags=["gateway"])


@router.post("/orgs/{org}/apps", status_code=201, response_model=schemas.AppCreated,
             responses=responses(401, 403, 404, 409, 422))
def create_app(org: str, data: schemas.AppCreate, session: DbSession,
               actor: ApiActor) -> schemas.AppCreated:
    """Create an application of the organization. The answer carries its first API key —
    the only time it is shown."""
    organization = identity.get_org_by_slug(session, org)
    app, key = service.create_app(session, actor=actor, org=organization, data=data)
    return schemas.AppCreated(**service.app_read(session, app).model_dump(), key=key)


@router.get("/orgs/{org}/apps", response_model=list[schemas.AppRead],
            responses=responses(401, 403, 404))
def list_apps(org: str, session: DbSession, actor: ApiActor) -> list[schemas.AppRead]:
    organization = identity.get_org_by_slug(session, org)
    return [service.app_read(session, a)
            for a in service.list_apps(session, actor=actor, org=organization)]


@router.get("/apps/{app_id}", response_model=schemas.AppRead, responses=responses(401, 403, 404))
def get_app(app_id: Id, session: DbSession, actor: ApiActor) -> schemas.AppRead:
    return service.app_read(session, service.get_app(session, actor=actor, app_id=app_id))


@router.post("/apps/{app_id}/keys", status_code=201, response_model=schemas.KeyCreated,
             responses=responses(401, 403, 404, 409, 422))
def add_key(app_id: Id, data: schemas.KeyCreate, session: DbSession,
            actor: ApiActor) -> schemas.KeyCreated:
    """A further key (at most two are active: rotate by adding one, then revoking the old)."""
    app = service.get_app(session, actor=actor, app_id=app_id)
    key, plain = service.add_key(session, actor=actor, app=app, data=data)
    return schemas.KeyCreated(**schemas.KeyRead.model_validate(key).model_dump(), key=plain)


@router.delete("/apps/{app_id}/keys/{key_id}", response_model=schemas.KeyRead,
               responses=responses(401, 403, 404))
def revoke_key(app_id: Id, key_id: Id, session: DbSession,
               actor: ApiActor) -> schemas.KeyRead:
    """Revoke a key; the gateway refuses it from the next call on."""
    app = service.get_app(session, actor=actor, app_id=app_id)
    return schemas.KeyRead.model_validate(
        service.revoke_key(session, actor=actor, app=app, key_id=key_id))


@router.post("/apps/{app_id}/subscriptions", status_code=201,
             response_model=schemas.SubscriptionRead,
             responses=responses(401, 403, 404, 409, 422))
def subscribe(app_id: Id, data: schemas.SubscriptionCreate, session: DbSession,
              actor: ApiActor) -> schemas.SubscriptionRead:
    """Ask for a service or a dataset. On a service (or an open dataset) `development` is
    approved at once with low limits; `production` waits for the provider's admins. A
    restricted dataset always waits for its owner: approved, `development` reads a sample of
    its current rows (`SAMPLE_ROWS`), `production` every row; sensitive datasets are refused."""
    app = service.get_app(session, actor=actor, app_id=app_id)
    sub = service.request_subscription(session, actor=actor, app=app, data=data)
    return service.subscription_read(session, sub)


@router.get("/apps/{app_id}/subscriptions", response_model=list[schemas.SubscriptionRead],
            responses=responses(401, 403, 404))
def app_subscriptions(app_id: Id, session: DbSession,
                      actor: ApiActor) -> list[schemas.SubscriptionRead]:
    app = service.get_app(session, actor=actor, app_id=app_id)
    return [service.subscription_read(session, s)
            for s in service.list_subscriptions(session, actor=actor, app=app)]


@router.get("/orgs/{org}/subscriptions/received", response_model=list[schemas.SubscriptionRead],
            responses=responses(401, 403, 404))
def received(org: str, session: DbSession, actor: ApiActor) -> list[schemas.SubscriptionRead]:
    """Subscriptions to the organization's services and datasets (the provider's view)."""
    organization = identity.get_org_by_slug(session, org)
    return [service.subscription_read(session, s)
            for s in service.list_subscriptions(session, actor=actor, provider=organization)]


@router.get("/subscriptions/{subscription_id}", response_model=schemas.SubscriptionRead,
            responses=responses(401, 403, 404))
def get_subscription(subscription_id: Id, session: DbSession,
                     actor: ApiActor) -> schemas.SubscriptionRead:
    sub = service.get_subscription(session, actor=actor, subscription_id=subscription_id)
    return service.subscription_read(session, sub)


@router.post("/subscriptions/{subscription_id}/{verdict}",
             response_model=schemas.SubscriptionRead, responses=responses(401, 403, 404, 409, 422))
def decide(subscription_id: Id, verdict: Literal["approve", "reject", "revoke"],
           session: DbSession, actor: ApiActor,
           data: schemas.Decision | None = None) -> schemas.SubscriptionRead:
    """The provider's admins approve (optionally setting limits and an expiry), reject or
    revoke, with a reason the consumer sees."""
    sub = service.get_subscription(session, actor=actor, subscription_id=subscription_id)
    sub = service.decide(session, actor=actor, sub=sub, verdict=verdict,
                         data=data or schemas.Decision())
    return service.subscription_read(session, sub)


@public.post("/oauth/token", responses={
    200: {"model": schemas.TokenIssued},
    400: {"model": schemas.TokenError, "description": "RFC 6749 error "
          "`unsupported_grant_type`"},
    # the client's credentials refused (RFC 6749's body), or a bearer credential sent along
    # that is not valid (refused before the route, as on every JSON route: a problem)
    401: {"model": schemas.TokenError, "description": "RFC 6749 error `invalid_client`, or "
          "a problem when an `Authorization: Bearer` credential sent is not valid",
          "content": {"application/problem+json": {}}}})
async def token(request: Request, session: DbSession) -> JSONResponse:
    """OAuth2 client credentials (RFC 6749 §4.4): `grant_type=client_credentials` with
    `client_id` (`app-<id>`) and `client_secret` (an active API key of that app), as form
    fields or HTTP Basic. Answers a JWT signed with the hub's Ed25519 key (EdDSA), valid
    ten minutes, for `Authorization: Bearer` at the gateway."""
    import base64

    form = await request.form()
    client, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            client, _, secret = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return _oauth_error(oauth.OAuthError("invalid_client", "malformed Basic header",
                                                 401))
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(oauth.OAuthError("unsupported_grant_type",
                                             "only client_credentials is supported"))
    try:
        answer = oauth.issue(session, signing_key=request.app.state.signing_key,
                             issuer=request.app.state.settings.base_url, client=client,
                             secret=secret)
    except oauth.OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def _oauth_error(error: oauth.OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="dpghub"'
    body = schemas.TokenError(error=error.error, error_description=error.description)
    return JSONResponse(body.model_dump(), status_code=error.status, headers=headers)


@public.get("/.well-known/jwks.json")
def jwks(request: Request) -> dict:
    """The public key that signs gateway tokens (JWK set, OKP/Ed25519)."""
    return oauth.jwks(request.app.state.signing_key)


# --- discovery (what X-Road calls listMethods / allowedMethods) ------------------------------


def _gateway_url(settings: HubSettings, org: str, slug: str) -> str:
    return f"{settings.gateway_base}/gw/{org}/{slug}"


@router.get("/discovery/services", response_model=list[schemas.DiscoveredService])
def discover(session: DbSession, settings: HubSettings) -> list[schemas.DiscoveredService]:
    """Every published service, with its gateway address and document."""
    return [schemas.DiscoveredService(
        org=s.organization.slug, slug=s.slug, title_ko=s.title_ko, title_en=s.title_en,
        access=s.access, gateway_url=_gateway_url(settings, s.organization.slug, s.slug),
        openapi_url=f"/api/v1/discovery/services/{s.organization.slug}/{s.slug}/openapi")
        for s in catalog.list_services(session)]


@router.get("/discovery/allowed", response_model=list[schemas.AllowedService],
            responses=responses(401))
def discover_allowed(request: Request, session: DbSession,
                     settings: HubSettings) -> list[schemas.AllowedService]:
    """What the presented credential (X-API-Key, serviceKey or Bearer token) may call now."""
    credential = credentials.presented_in(request.headers, list(request.query_params.items()))
    if not credential:          # where to put one is HTTP's to say, not the service's
        no_key = FAULTS["no_key"]
        raise Unauthenticated(no_key.message, code=no_key.code)
    app = service.app_for_credential(session, credential, request.app.state.signing_key)
    return [schemas.AllowedService(
        org=svc.organization.slug, slug=svc.slug, title_ko=svc.title_ko,
        gateway_url=_gateway_url(settings, svc.organization.slug, svc.slug),
        subscription_id=sub.id, plan=sub.plan, rate_per_second=sub.rate_per_second,
        daily_quota=sub.daily_quota, expires_at=sub.expires_at)
        for sub, svc in service.allowed(session, app)]


@router.get("/discovery/services/{org}/{slug}/openapi", responses=responses(404))
def discovered_document(org: str, slug: str, session: DbSession,
                        settings: HubSettings) -> dict:
    """The service's OpenAPI document as callers use it: the hub's gateway as its server,
    and the credentials the gateway accepts."""
    found = catalog.get_service(session, org, slug)
    document = dict(found.openapi)
    document["servers"] = [{"url": _gateway_url(settings, org, slug),
                            "description": "DPG Hub gateway"}]
    components = dict(document.get("components") or {})
    components["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "serviceKey": {"type": "apiKey", "in": "query", "name": "serviceKey"},
        "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {
            "tokenUrl": f"{settings.base_url.rstrip('/')}/oauth/token", "scopes": {}}}}}
    document["components"] = components
    document["security"] = [{"apiKey": []}, {"serviceKey": []}, {"oauth2": []}]
    return document


# --- monitoring ----------------------------------------------------------------------------


@router.get("/gateway/usage", response_model=schemas.Usage, responses=responses(401, 403, 404))
def usage(session: DbSession, actor: ApiActor, service_ref: Annotated[
        str | None, Query(alias="service", examples=["kasi/spcde"])] = None,
          app: OptionalId = None, days: Annotated[int, Query(ge=1, le=90)] = 7
          ) -> schemas.Usage:
    """Calls, errors, p50/p95 latency per day and today's quota use — of a service (for
    its provider's members) or of an app (for its organization's members)."""
    if (service_ref is None) == (app is None):
        raise Invalid("Give either service or app", code="usage_target", field="service")
    if service_ref is not None:
        org_slug, _, slug = service_ref.partition("/")
        found = catalog.get_service(session, org_slug, slug)
        authorize(actor, "gateway.app.read", found)
        return schemas.Usage(**metrics.usage(session, service_id=found.id, days=days))
    owned = service.get_app(session, actor=actor, app_id=int(app or 0))
    return schemas.Usage(**metrics.usage(session, app_id=owned.id, days=days))


@public.get("/metrics", response_class=PlainTextResponse, responses={
    **responses(401, 403),
    200: {"description": "Prometheus text exposition format 0.0.4"}})
def prometheus(request: Request, actor: ApiActor) -> Response:
    """This process's gateway counters in Prometheus text format (operators' tokens)."""
    authorize(actor, "core.audit.read")
    return Response(request.app.state.metrics.text(),
                    media_type="text/plain; version=0.0.4; charset=utf-8")
