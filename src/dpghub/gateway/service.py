"""Apps, keys and subscriptions: who may call what through the gateway, decided by whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, selectinload

from ..catalog import service as catalog
from ..core import audit
from ..core import months as months_of
from ..core.db import utcnow
from ..core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from ..core.security import TOKEN_PREFIX
from ..identity.models import Organization
from ..identity.policy import Actor, authorize, can
from ..lake import service as lake
from . import credentials, schemas
from .bell import mark_changed
from .models import (
    App,
    AppKey,
    CallRecord,
    GatewayState,
    Plan,
    Subscription,
    SubscriptionStatus,
)

ACTIVE_KEYS = 2             # a primary and a secondary, so keys rotate without downtime
DEVELOPMENT_LIMITS = (5.0, 1_000)         # requests per second, calls per day
PRODUCTION_LIMITS = (50.0, 100_000)


def bump(session: Session) -> None:
    """Tell every gateway process that cached answers may be stale (see GatewayState)."""
    moved = session.execute(update(GatewayState).where(GatewayState.id == 1)
                            .values(generation=GatewayState.generation + 1)).rowcount
    if not moved:
        session.add(GatewayState(id=1, generation=1))
    session.flush()
    mark_changed(session)       # gateway processes on this machine hear it after the commit


def _new_key(app: App, name: str, expires_at: datetime | None, actor: Actor
             ) -> tuple[AppKey, str]:
    key = credentials.new_key()
    row = AppKey(app_id=app.id, name=name, prefix=key[:12], digest=credentials.key_digest(key),
                 expires_at=expires_at, created_by=actor.user_id)
    return row, key


# --- apps and keys -------------------------------------------------------------------------


def create_app(session: Session, *, actor: Actor, org: Organization,
               data: schemas.AppCreate) -> tuple[App, str]:
    authorize(actor, "gateway.app.create", org)
    if session.scalar(select(App.id).where(App.org_id == org.id, App.name == data.name)):
        raise Conflict("{org} already has an app named {name}", code="app_exists",
                       field="name", org=org.slug, name=data.name)
    app = App(org_id=org.id, name=data.name, description=data.description,
              created_by=actor.user_id)
    app.organization = org
    session.add(app)
    session.flush()
    key, plain = _new_key(app, "primary", None, actor)
    session.add(key)
    session.flush()
    audit.record(session, actor=actor, action="gateway.app.create", target_type="app",
                 target_id=app.id, org_id=org.id, details={"name": app.name,
                                                           "key_prefix": key.prefix})
    return app, plain


def get_app(session: Session, *, actor: Actor, app_id: int) -> App:
    app = session.scalar(select(App).options(selectinload(App.organization))
                         .where(App.id == app_id))
    if app is None:
        raise NotFound("App {id} does not exist", code="app_not_found", id=app_id)
    authorize(actor, "gateway.app.read", app)
    return app


def list_apps(session: Session, *, actor: Actor, org: Organization) -> list[App]:
    authorize(actor, "gateway.app.read", org)
    return list(session.scalars(select(App).options(selectinload(App.organization))
                                .where(App.org_id == org.id).order_by(App.name)))


def keys_of(session: Session, app: App) -> list[AppKey]:
    return list(session.scalars(select(AppKey).where(AppKey.app_id == app.id)
                                .order_by(AppKey.id)))


def add_key(session: Session, *, actor: Actor, app: App,
            data: schemas.KeyCreate) -> tuple[AppKey, str]:
    authorize(actor, "gateway.app.manage", app)
    now = utcnow()
    active = [k for k in keys_of(session, app)
              if credentials.is_active(k.revoked_at, k.expires_at, now)]
    if len(active) >= ACTIVE_KEYS:
        raise Conflict("An app has at most {count} active keys; revoke one first",
                       code="too_many_keys", count=ACTIVE_KEYS)
    if data.expires_at is not None and data.expires_at <= now:
        raise Invalid("The expiry must lie in the future", code="expiry_in_past",
                      field="expires_at")
    key, plain = _new_key(app, data.name, data.expires_at, actor)
    session.add(key)
    session.flush()
    audit.record(session, actor=actor, action="gateway.key.create", target_type="app",
                 target_id=app.id, org_id=app.org_id,
                 details={"key_id": key.id, "prefix": key.prefix, "name": key.name})
    return key, plain


def revoke_key(session: Session, *, actor: Actor, app: App, key_id: int) -> AppKey:
    authorize(actor, "gateway.app.manage", app)
    key = session.get(AppKey, key_id)
    if key is None or key.app_id != app.id:
        raise NotFound("App {app} has no key {id}", code="key_not_found", app=app.id, id=key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        bump(session)
        audit.record(session, actor=actor, action="gateway.key.revoke", target_type="app",
                     target_id=app.id, org_id=app.org_id,
                     details={"key_id": key.id, "prefix": key.prefix})
    session.flush()
    return key


# --- subscriptions -------------------------------------------------------------------------


def request_subscription(session: Session, *, actor: Actor, app: App,
                         data: schemas.SubscriptionCreate) -> Subscription:
    authorize(actor, "gateway.subscription.request", app)
    service_id = dataset_id = None
    open_service = False
    if data.service:
        org_slug, slug = data.service.split("/")
        target = catalog.get_service(session, org_slug, slug)
        service_id, provider = target.id, target.org_id
        open_service = target.access == "open"
        target_ref = ("service", data.service)
    else:
        org_slug, slug = str(data.dataset).split("/")
        dataset = lake.get_dataset(session, org_slug, slug)
        if dataset.access == "sensitive":
            raise Forbidden("{name} is sensitive: only members of its organization read it",
                            code="sensitive_dataset", name=data.dataset)
        dataset_id, provider = dataset.id, dataset.org_id
        target_ref = ("dataset", str(data.dataset))
    open_states = (SubscriptionStatus.pending, SubscriptionStatus.approved)
    existing = session.scalar(select(Subscription.id).where(
        Subscription.app_id == app.id, Subscription.plan == data.plan,
        Subscription.service_id == service_id if service_id else
        Subscription.dataset_id == dataset_id, Subscription.status.in_(open_states)))
    if existing:
        raise Conflict("This app already has a {plan} subscription to {target} (#{id})",
                       code="subscription_exists", plan=data.plan, target=target_ref[1],
                       id=existing)
    rate, quota = DEVELOPMENT_LIMITS if data.plan == Plan.development else PRODUCTION_LIMITS
    now = utcnow()
    sub = Subscription(app_id=app.id, service_id=service_id, dataset_id=dataset_id,
                       provider_org_id=provider, plan=data.plan, purpose=data.purpose,
                       rate_per_second=rate, daily_quota=quota, requested_by=actor.user_id,
                       updated_at=now)
    # an open service approves every plan at once (data.go.kr's 자동승인); otherwise a
    # development plan on a service or open data starts at once with low limits. Data that
    # is not open is the owner's to give, whatever the plan (a development plan on it reads
    # a sample of the rows once approved)
    if open_service:
        sub.reason = "open service: approved at once"
    elif data.plan == Plan.development and (dataset_id is None or dataset.access == "open"):
        sub.reason = "development plan: approved at once"
    if sub.reason:
        sub.status = SubscriptionStatus.approved
        sub.decided_at = now
    session.add(sub)
    session.flush()
    bump(session)
    audit.record(session, actor=actor, action="gateway.subscription.request",
                 target_type="subscription", target_id=sub.id, org_id=app.org_id,
                 details={"app": app.id, target_ref[0]: target_ref[1], "plan": data.plan,
                          "status": sub.status, "purpose": data.purpose})
    return sub


def get_subscription(session: Session, *, actor: Actor, subscription_id: int) -> Subscription:
    sub = session.scalar(select(Subscription)
                         .options(selectinload(Subscription.app).selectinload(App.organization))
                         .where(Subscription.id == subscription_id))
    if sub is None:
        raise NotFound("Subscription {id} does not exist", code="subscription_not_found",
                       id=subscription_id)
    # the consumer's members (through the app) and the provider's (through the
    # subscription, whose org_id is the provider) may both see it
    if not can(actor, "gateway.app.read", sub):
        authorize(actor, "gateway.app.read", sub.app)
    return sub


def list_subscriptions(session: Session, *, actor: Actor, app: App | None = None,
                       provider: Organization | None = None) -> list[Subscription]:
    query = select(Subscription).options(
        selectinload(Subscription.app).selectinload(App.organization)).order_by(
        Subscription.id.desc())
    if app is not None:
        authorize(actor, "gateway.app.read", app)
        query = query.where(Subscription.app_id == app.id)
    if provider is not None:
        authorize(actor, "gateway.app.read", provider)
        query = query.where(Subscription.provider_org_id == provider.id)
    return list(session.scalars(query))


def decide(session: Session, *, actor: Actor, sub: Subscription, verdict: str,
           data: schemas.Decision) -> Subscription:
    """approve | reject | revoke, by the provider's admins."""
    authorize(actor, "gateway.subscription.decide", sub)
    allowed = {"approve": {SubscriptionStatus.pending},
               "reject": {SubscriptionStatus.pending},
               "revoke": {SubscriptionStatus.approved, SubscriptionStatus.pending}}[verdict]
    if sub.status not in allowed:
        raise Conflict("Subscription {id} is {status}: {verdict} is not possible now",
                       code="subscription_state", id=sub.id, status=sub.status,
                       verdict=verdict)
    if verdict in ("reject", "revoke") and not data.reason.strip():
        raise Invalid("Say why: the consumer sees the reason", code="reason_required",
                      field="reason")
    now = utcnow()
    if verdict == "approve":
        if data.expires_at is not None and data.expires_at <= now:
            raise Invalid("The expiry must lie in the future", code="expiry_in_past",
                          field="expires_at")
        sub.status = SubscriptionStatus.approved
        sub.rate_per_second = data.rate_per_second or sub.rate_per_second
        sub.daily_quota = data.daily_quota or sub.daily_quota
        sub.expires_at = data.expires_at
    else:
        sub.status = SubscriptionStatus.rejected if verdict == "reject" else \
            SubscriptionStatus.revoked
    sub.reason = data.reason
    sub.decided_by = actor.user_id
    sub.decided_at = now
    sub.updated_at = now
    session.flush()
    bump(session)
    audit.record(session, actor=actor, action=f"gateway.subscription.{verdict}",
                 target_type="subscription", target_id=sub.id, org_id=sub.provider_org_id,
                 details={"status": sub.status, "reason": data.reason,
                          "rate_per_second": sub.rate_per_second,
                          "daily_quota": sub.daily_quota,
                          "expires_at": sub.expires_at})
    return sub


# --- reading back --------------------------------------------------------------------------


def app_read(session: Session, app: App) -> schemas.AppRead:
    return schemas.AppRead(id=app.id, org=app.organization.slug, name=app.name,
                           description=app.description,
                           keys=[schemas.KeyRead.model_validate(k) for k in keys_of(session, app)],
                           created_at=app.created_at)


def subscription_read(session: Session, sub: Subscription) -> schemas.SubscriptionRead:
    service_ref = dataset_ref = None
    if sub.service_id is not None:
        from ..catalog.models import Service

        found = session.get(Service, sub.service_id)
        service_ref = f"{found.organization.slug}/{found.slug}" if found else None
    if sub.dataset_id is not None:
        dataset = lake.get_dataset_by_id(session, sub.dataset_id)
        dataset_ref = f"{dataset.organization.slug}/{dataset.slug}"
    return schemas.SubscriptionRead(
        id=sub.id, app_id=sub.app_id, app=sub.app.name, consumer_org=sub.app.organization.slug,
        service=service_ref, dataset=dataset_ref, plan=sub.plan, purpose=sub.purpose,
        status=sub.status, reason=sub.reason, rate_per_second=sub.rate_per_second,
        daily_quota=sub.daily_quota, expires_at=sub.expires_at, decided_at=sub.decided_at,
        created_at=sub.created_at)


# --- discovery -----------------------------------------------------------------------------


def app_for_credential(session: Session, credential: str | None,
                       signing_key: Any) -> App:
    """The app a gateway credential (API key or OAuth token) belongs to."""
    if not credential:
        raise Unauthenticated("An app's API key or OAuth token is required",
                              code="key_missing")
    if credential.startswith(TOKEN_PREFIX):
        raise Unauthenticated("This is a person's access token (dpg_…); an app's API key or "
                              "OAuth token is needed here", code="personal_token_on_gateway")
    try:
        match = credentials.key_match(credential, signing_key)
    except Exception:  # noqa: BLE001 — expired or forged: the same answer
        raise Unauthenticated("This API key or token has expired",
                              code="key_expired") from None
    row = session.execute(select(AppKey, App).join(App, App.id == AppKey.app_id)
                          .where(*match.where)).first()
    if row is None or not credentials.is_active(row[0].revoked_at, row[0].expires_at,
                                                utcnow()):
        raise Unauthenticated("This API key is not registered, or was revoked",
                              code="key_not_registered")
    return row[1]


def allowed(session: Session, app: App) -> list[tuple[Subscription, Any]]:
    """The app's approved, unexpired subscriptions to services, with the services."""
    from ..catalog.models import Service

    now = utcnow()
    rows = session.execute(
        select(Subscription, Service).join(Service, Service.id == Subscription.service_id)
        .options(selectinload(Service.organization))
        .where(Subscription.app_id == app.id,
               Subscription.status == SubscriptionStatus.approved)).all()
    return [(sub, svc) for sub, svc in rows
            if sub.expires_at is None or sub.expires_at > now]


def actor_for_credential(session: Session, credential: str | None, signing_key: Any) -> Actor:
    """An app acting with its key or token outside the gateway (the rows API, the
    data.go.kr front): it may read the restricted datasets it holds approved subscriptions
    to, and what anyone may read."""
    app = app_for_credential(session, credential, signing_key)
    now = utcnow()
    rows = session.execute(select(Subscription.dataset_id, Subscription.plan,
                                  Subscription.expires_at).where(
        Subscription.app_id == app.id, Subscription.dataset_id.is_not(None),
        Subscription.status == SubscriptionStatus.approved)).all()
    live = [(d, plan) for d, plan, expires in rows if expires is None or expires > now]
    datasets = frozenset(d for d, plan in live if plan == Plan.production)
    samples = frozenset(d for d, plan in live if plan != Plan.production) - datasets
    return Actor(via="app", email=f"{app.organization.slug}/{app.id}", datasets=datasets,
                 samples=samples, scopes=frozenset({"read"}))


# --- figures other domains read ------------------------------------------------------------

FAILED = ("upstream_error", "timeout")   # the service failed its caller (refusals are ours)


def error_counts(session: Session, service_ids: list[int], since: datetime,
                 until: datetime) -> dict[int, tuple[int, int]]:
    """Per service, (calls, failed calls) in [since, until): calls the hub refused itself
    (keys, limits) are no calls of the service; a failed one is an upstream error, a
    timeout or a 5xx answer. The agile error watch reads this."""
    if not service_ids:
        return {}
    failed = case((CallRecord.outcome.in_(FAILED) | (CallRecord.status >= 500), 1), else_=0)
    rows = session.execute(
        select(CallRecord.service_id, func.count(CallRecord.id), func.sum(failed))
        .where(CallRecord.service_id.in_(service_ids), CallRecord.at >= since,
               CallRecord.at < until, CallRecord.outcome != "refused")
        .group_by(CallRecord.service_id))
    return {sid: (int(calls), int(errors or 0)) for sid, calls, errors in rows}


def monthly_figures(session: Session, months: list[str]) -> dict[str, dict[str, float]]:
    """Calls through the gateway in each month (Asia/Seoul), refusals left out."""
    start, end = months_of.bounds(months)
    month = months_of.seoul_month(CallRecord.at)
    per_month = dict(session.execute(
        select(month, func.count(CallRecord.id))
        .where(CallRecord.at >= start, CallRecord.at < end, CallRecord.outcome != "refused")
        .group_by(month)).all())
    return {"gateway_calls": {m: per_month.get(m, 0) for m in months}}
