"""Gateway JSON routes: apps, keys and subscriptions (the proxy itself is in proxy.py)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..identity import service as identity
from ..web.context import ApiActor, DbSession
from ..web.problems import responses
from . import oauth, schemas, service

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
def get_app(app_id: int, session: DbSession, actor: ApiActor) -> schemas.AppRead:
    return service.app_read(session, service.get_app(session, actor=actor, app_id=app_id))


@router.post("/apps/{app_id}/keys", status_code=201, response_model=schemas.KeyCreated,
             responses=responses(401, 403, 404, 409, 422))
def add_key(app_id: int, data: schemas.KeyCreate, session: DbSession,
            actor: ApiActor) -> schemas.KeyCreated:
    """A further key (at most two are active: rotate by adding one, then revoking the old)."""
    app = service.get_app(session, actor=actor, app_id=app_id)
    key, plain = service.add_key(session, actor=actor, app=app, data=data)
    return schemas.KeyCreated(**schemas.KeyRead.model_validate(key).model_dump(), key=plain)


@router.delete("/apps/{app_id}/keys/{key_id}", response_model=schemas.KeyRead,
               responses=responses(401, 403, 404))
def revoke_key(app_id: int, key_id: int, session: DbSession,
               actor: ApiActor) -> schemas.KeyRead:
    """Revoke a key; the gateway refuses it from the next call on."""
    app = service.get_app(session, actor=actor, app_id=app_id)
    return schemas.KeyRead.model_validate(
        service.revoke_key(session, actor=actor, app=app, key_id=key_id))


@router.post("/apps/{app_id}/subscriptions", status_code=201,
             response_model=schemas.SubscriptionRead,
             responses=responses(401, 403, 404, 409, 422))
def subscribe(app_id: int, data: schemas.SubscriptionCreate, session: DbSession,
              actor: ApiActor) -> schemas.SubscriptionRead:
    """Ask for a service or a dataset. `development` is approved at once with low limits;
    `production` waits for the provider's admins."""
    app = service.get_app(session, actor=actor, app_id=app_id)
    sub = service.request_subscription(session, actor=actor, app=app, data=data)
    return service.subscription_read(session, sub)


@router.get("/apps/{app_id}/subscriptions", response_model=list[schemas.SubscriptionRead],
            responses=responses(401, 403, 404))
def app_subscriptions(app_id: int, session: DbSession,
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
def get_subscription(subscription_id: int, session: DbSession,
                     actor: ApiActor) -> schemas.SubscriptionRead:
    sub = service.get_subscription(session, actor=actor, subscription_id=subscription_id)
    return service.subscription_read(session, sub)


@router.post("/subscriptions/{subscription_id}/{verdict}",
             response_model=schemas.SubscriptionRead, responses=responses(401, 403, 404, 409, 422))
def decide(subscription_id: int, verdict: Literal["approve", "reject", "revoke"],
           session: DbSession, actor: ApiActor,
           data: schemas.Decision | None = None) -> schemas.SubscriptionRead:
    """The provider's admins approve (optionally setting limits and an expiry), reject or
    revoke, with a reason the consumer sees."""
    sub = service.get_subscription(session, actor=actor, subscription_id=subscription_id)
    sub = service.decide(session, actor=actor, sub=sub, verdict=verdict,
                         data=data or schemas.Decision())
    return service.subscription_read(session, sub)


@public.post("/oauth/token", responses={
    200: {"content": {"application/json": {"example": {
        "access_token": "eyJ…", "token_type": "Bearer", "expires_in": 600}}}},
    400: {"description": "unsupported_grant_type"}, 401: {"description": "invalid_client"}})
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
    return JSONResponse({"error": error.error, "error_description": error.description},
                        status_code=error.status, headers=headers)


@public.get("/.well-known/jwks.json")
def jwks(request: Request) -> dict:
    """The public key that signs gateway tokens (JWK set, OKP/Ed25519)."""
    return oauth.jwks(request.app.state.signing_key)
