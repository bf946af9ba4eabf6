"""The proxy's cached look-ups: a service's route, a credential's client (its app and the
approved subscription it calls under), and the operation a call is for.

Every cached answer is dropped when a key or a subscription changed anywhere: the service
bumps a generation in the database (`GatewayState`), and `fresh()`, run before each call,
compares it. With SQLite on one machine a bell (bell.py) says when to look.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ..catalog.models import Service
from ..identity.models import Organization
from . import credentials
from .bell import bell_for
from .credentials import KeyState
from .models import App, AppKey, Subscription, SubscriptionStatus

OPERATIONS_REMEMBERED = 4096   # (method, path) pairs per service
RECHECK_SECONDS = 1.0     # the state row is read at least this often, bell or not
ROUTE_SECONDS = 5.0      # a service's upstream address is re-read at least this often
CLIENTS_REMEMBERED = 100_000
GENERATION_SQL = "SELECT generation FROM gateway_state WHERE id = 1"
KEY_REFUSALS = {KeyState.revoked: "bad_key", KeyState.expired: "key_expired"}


@dataclass
class Route:
    service_id: int
    service_ref: str
    upstream: str
    provider_org_id: int
    operations: list[tuple[str, re.Pattern[str], str]]
    timeout_seconds: float | None = None     # None: the hub's setting
    max_body_mb: int | None = None
    matched: dict[tuple[str, str], str] = field(default_factory=dict)   # (method, path) → op


@dataclass
class Client:
    app_id: int
    consumer_org_id: int
    label: str             # "org/app-id", sent upstream as X-Hub-Client
    subscription_id: int
    rate: float
    quota: int


class Lookups:
    """Routes by (org, service), clients by (credential, service), read from the database
    (`state.engine`) on a miss and kept until the generation moves."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._routes: dict[tuple[str, str], tuple[float, Route]] = {}
        self._clients: dict[tuple[str, int], tuple[float, Client | None, str]] = {}
        self._generation: int | None = None
        self._bell = bell_for(state.engine)
        self._rung = b""                  # the bell as it was when the row was last read
        self._read_at = float("-inf")
        self._raw: Any = None
        self._cursor: Any = None

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    # --- staleness -----------------------------------------------------------------------

    def fresh(self) -> None:
        """Drop cached lookups when a key or subscription changed anywhere (GatewayState).
        With SQLite the row is read only when the bell (bell.py) rang, or a second passed;
        otherwise one primary-key read per call on a connection kept for it (through
        SQLAlchemy's pool the same read cost a fifth of the gateway's throughput)."""
        if self._bell is not None:
            rung, now = self._bell.read(), time.monotonic()
            if rung == self._rung and now - self._read_at < RECHECK_SECONDS:
                return
            self._rung, self._read_at = rung, now      # the bell first, then the row
        generation = self._read_generation()
        if generation != self._generation or len(self._clients) > CLIENTS_REMEMBERED:
            self._routes.clear()
            self._clients.clear()
            self._generation = generation

    @property
    def generation(self) -> int | None:
        """The state's generation as `fresh` last read it: it moves with every change of a
        key or subscription (the AI gateway drops its own key cache by it)."""
        return self._generation

    def _read_generation(self) -> int | None:
        for _ in range(2):
            try:
                if self._raw is None:
                    self._raw = self.state.engine.raw_connection()
                    driver = self._raw.driver_connection
                    if hasattr(driver, "autocommit"):      # psycopg: no open transaction
                        driver.autocommit = True
                    self._cursor = driver.cursor()         # the driver's own: no pool proxy
                self._cursor.execute(GENERATION_SQL)
                row = self._cursor.fetchone()
                return int(row[0]) if row else None
            except Exception:  # noqa: BLE001 — a dropped connection: open a new one once
                if self._raw is not None:
                    with contextlib.suppress(Exception):
                        self._raw.invalidate()      # not back into the pool: it is broken
                self._raw = None
        raise RuntimeError("the gateway cannot read its state from the database")

    # --- routes --------------------------------------------------------------------------

    def route(self, org: str, slug: str) -> Route | None:
        now = time.monotonic()
        cached = self._routes.get((org, slug))
        if cached is not None and now - cached[0] < ROUTE_SECONDS:
            return cached[1]
        with self.state.engine.connect() as connection:
            row = connection.execute(
                select(Service.id, Service.upstream_url, Service.org_id, Service.openapi,
                       Service.timeout_seconds, Service.max_body_mb)
                .join(Organization, Organization.id == Service.org_id)
                .where(Organization.slug == org, Service.slug == slug)).first()
        if row is None:
            return None
        route = Route(service_id=row.id, service_ref=f"{org}/{slug}",
                      upstream=row.upstream_url.rstrip("/"), provider_org_id=row.org_id,
                      operations=compile_operations(row.openapi),
                      timeout_seconds=row.timeout_seconds, max_body_mb=row.max_body_mb)
        self._routes[(org, slug)] = (now, route)
        return route

    # --- clients -------------------------------------------------------------------------

    def client(self, credential: str, route: Route) -> tuple[Client | None, str]:
        """(the client, "") or (None, the refusal's name in faults.FAULTS)."""
        cached = self._clients.get((credential, route.service_id))
        if cached is not None and time.time() < cached[0]:
            return cached[1], cached[2]
        valid_until, client, problem = self._lookup_client(credential, route)
        self._clients[(credential, route.service_id)] = (valid_until, client, problem)
        return client, problem

    def _lookup_client(self, credential: str,
                       route: Route) -> tuple[float, Client | None, str]:
        """(valid until — epoch seconds, the client or None, the refusal)."""
        now = datetime.now(UTC)
        forever = float("inf")
        limit = forever
        try:
            match = credentials.key_match(credential, self.state.signing_key)
        except credentials.TokenExpired:
            return forever, None, "key_expired"
        except credentials.TokenRefused:
            return forever, None, "bad_key"
        if match.token_expires is not None:
            limit = min(limit, match.token_expires)
        with self.state.engine.connect() as connection:
            key = connection.execute(
                select(AppKey.app_id, AppKey.expires_at, AppKey.revoked_at, App.org_id,
                       Organization.slug)
                .join(App, App.id == AppKey.app_id)
                .join(Organization, Organization.id == App.org_id)
                .where(*match.where)).first()
            if key is None:
                return forever, None, "bad_key"
            state = credentials.key_state(key.revoked_at, key.expires_at, now)
            if state is not KeyState.active:
                return forever, None, KEY_REFUSALS[state]
            if key.expires_at is not None:
                limit = min(limit, key.expires_at.timestamp())
            subs = connection.execute(
                select(Subscription.id, Subscription.expires_at, Subscription.rate_per_second,
                       Subscription.daily_quota, Subscription.plan)
                .where(Subscription.app_id == key.app_id,
                       Subscription.service_id == route.service_id,
                       Subscription.status == SubscriptionStatus.approved)).all()
        live = [s for s in subs if s.expires_at is None or s.expires_at > now]
        if not live:
            return limit, None, "sub_expired" if subs else "denied"
        chosen = max(live, key=lambda s: (s.plan == "production", s.daily_quota))
        if chosen.expires_at is not None:
            limit = min(limit, chosen.expires_at.timestamp())
        return limit, Client(app_id=key.app_id, consumer_org_id=key.org_id,
                             label=f"{key.slug}/{key.app_id}", subscription_id=chosen.id,
                             rate=chosen.rate_per_second, quota=chosen.daily_quota), ""


# --- operations ----------------------------------------------------------------------------


def compile_operations(document: dict[str, Any]) -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path pattern, operation id) of each operation in an OpenAPI document."""
    found = []
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "/?$")
        for method, op in item.items():
            if isinstance(op, dict) and method.upper() in {
                    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}:
                found.append((method.upper(), pattern,
                              op.get("operationId") or f"{method.upper()} {path}"))
    return found


def operation_of(route: Route, method: str, path: str) -> str:
    """The OpenAPI operation a call is for; remembered per path, since most calls of a
    service repeat a few paths."""
    found = route.matched.get((method, path))
    if found is not None:
        return found
    found = ""
    for op_method, pattern, name in route.operations:
        if op_method == method and pattern.match(path):
            found = name
            break
    if len(route.matched) < OPERATIONS_REMEMBERED:
        route.matched[(method, path)] = found
    return found
