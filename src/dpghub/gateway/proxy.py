"""The gateway's hot path: `/gw/{org}/{service}/{path}` as a bare ASGI handler.

Kept out of FastAPI's routing and response classes (measured: they cost most of the
throughput). For each call: credential (X-API-Key, data.go.kr's `serviceKey`, or a bearer
key) → approved subscription → rate limit and daily quota → stream to the upstream with
our pooled HTTP/1.1 client (upstream.py) and stream the answer back → a call record queued
for the evidence writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import jwt
from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from ..catalog.models import Service
from ..core.i18n import pick_language, translate
from ..identity.models import Organization
from .bell import bell_for
from .breaker import Breakers
from .limits import Verdict
from .models import App, AppKey, Subscription, SubscriptionStatus
from .upstream import Answer, Pool, UpstreamError

log = logging.getLogger("dpghub.gateway")
PREFIX = "/gw/"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect"}
# as nginx does by default: the hub's server writes its own Date (one Date field only), and
# the provider's Server field (its software and version) stays behind the gateway
DROPPED_FROM_ANSWERS = {name.encode() for name in HOP_BY_HOP - {"content-length", "expect"}
                        } | {b"date", b"server"}
CREDENTIAL_HEADERS = {"x-api-key", "authorization", "cookie"}
CREDENTIAL_PARAMS = {"servicekey"}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
OPERATIONS_REMEMBERED = 4096   # (method, path) pairs per service
RECHECK_SECONDS = 1.0     # the state row is read at least this often, bell or not
ROUTE_SECONDS = 5.0      # a service's upstream address is re-read at least this often
GENERATION_SQL = "SELECT generation FROM gateway_state WHERE id = 1"


@dataclass(frozen=True)
class Fault:
    status: int
    code: str              # our stable code
    datagokr: tuple[str, str]
    message: str


FAULTS = {
    "no_key": Fault(401, "key_missing", ("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"),
                    "Send an API key: the X-API-Key header or the serviceKey parameter"),
    "bad_key": Fault(401, "key_not_registered", ("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"),
                     "This API key is not registered, or was revoked"),
    "key_expired": Fault(401, "key_expired", ("31", "DEADLINE_HAS_EXPIRED_ERROR"),
                         "This API key or token has expired"),
    "no_service": Fault(404, "service_not_found", ("12", "NO_OPENAPI_SERVICE_ERROR"),
                        "There is no such service"),
    "denied": Fault(403, "subscription_required", ("20", "SERVICE_ACCESS_DENIED_ERROR"),
                    "This app has no approved subscription to this service"),
    "sub_expired": Fault(403, "subscription_expired", ("31", "DEADLINE_HAS_EXPIRED_ERROR"),
                         "This app's subscription to this service has expired"),
    "quota": Fault(429, "daily_quota_exceeded",
                   ("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"),
                   "The daily quota of this subscription is used up"),
    "rate": Fault(429, "rate_limited",
                  ("23", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_PER_SECOND_EXCEEDS_ERROR"),
                  "Too many requests per second for this subscription"),
    "limits_unavailable": Fault(503, "limits_unavailable", ("04", "HTTP_ERROR"),
                                "Rate limits cannot be checked right now; try again"),
    "too_large": Fault(413, "request_too_large", ("04", "HTTP_ERROR"),
                       "The request body is larger than this gateway accepts"),
    "upstream": Fault(502, "upstream_unreachable", ("04", "HTTP_ERROR"),
                      "The provider's system did not answer"),
    "circuit_open": Fault(503, "upstream_circuit_open", ("04", "HTTP_ERROR"),
                          "The provider's system is failing; calls pause briefly"),
    "timeout": Fault(504, "upstream_timeout", ("05", "SERVICETIMEOUT_ERROR"),
                     "The provider's system did not answer in time"),
}


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


class Gateway:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.breakers = Breakers()
        self.pool = Pool()
        self._routes: dict[tuple[str, str], tuple[float, Route]] = {}
        self._clients: dict[tuple[str, int], tuple[float, Client | None, str]] = {}
        self._generation: int | None = None
        self._bell = bell_for(state.engine)
        self._rung = b""                  # the bell as it was when the row was last read
        self._read_at = float("-inf")
        self._raw: Any = None
        self._cursor: Any = None
        # request ids: a random prefix per gateway (so per process) and a counter — unique
        # without a system call for randomness on every request
        prefix = secrets.token_hex(4)
        self._ids = (f"{prefix}{n:08x}" for n in itertools.count(1))

    # --- lifecycle -------------------------------------------------------------------------

    def _done(self, record: dict[str, Any]) -> None:
        self.state.recorder.add(record)
        self.state.metrics.observe(record)

    async def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        await self.pool.close()

    # --- the call --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        request_id = _request_id(headers.get("x-request-id"), self._ids)
        # latin-1 both ways: the query's bytes reach the upstream as they came, whatever
        # their encoding (older Korean clients send EUC-KR)
        params = parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                           keep_blank_values=True, encoding="latin-1")
        style = _style(params)
        method = scope["method"]
        parts = scope["path"][len(PREFIX):].split("/", 2)
        record: dict[str, Any] = {
            "at": time.time(), "request_id": request_id, "method": method,
            "path": scope["path"], "client": "anonymous", "service_ref": "/".join(parts[:2]),
            "outcome": "refused"}

        async def refuse(name: str, verdict: Verdict | None = None) -> None:
            fault = FAULTS[name]
            extra = _limit_headers(verdict) if verdict else []
            if verdict is not None and not verdict.allowed:
                extra.append((b"retry-after", str(max(1, round(verdict.retry_after))).encode()))
            lang = pick_language(explicit=None, user_setting=None,
                                 accept_language=headers.get("accept-language"),
                                 default=self.state.settings.default_language)
            body, media = _error_body(fault, style, lang, request_id, scope["path"])
            hub_ms = (time.perf_counter() - started) * 1000
            await _send_all(send, fault.status, media, body, request_id, hub_ms, extra)
            record.update(status=fault.status, fault=fault.code, hub_ms=hub_ms,
                          response_bytes=len(body))
            self._done(record)

        if len(parts) < 2 or not parts[0] or not parts[1]:
            await refuse("no_service")
            return
        credential = _credential(headers, params)
        if credential is None:
            await refuse("no_key")
            return
        self._fresh()
        route = self._route(parts[0], parts[1])
        if route is None:
            await refuse("no_service")
            return
        record.update(service_id=route.service_id, provider_org_id=route.provider_org_id,
                      service_ref=route.service_ref)
        client, problem = self._client(credential, route)
        if client is None:
            await refuse(problem)
            return
        record.update(app_id=client.app_id, consumer_org_id=client.consumer_org_id,
                      subscription_id=client.subscription_id, client=f"app:{client.label}")
        verdict = self.state.limits.check(client.subscription_id, client.rate, client.quota)
        if not verdict.allowed:
            await refuse({"rate": "rate", "quota": "quota"}.get(verdict.reason,
                                                               "limits_unavailable"), verdict)
            return
        rest = "/" + parts[2] if len(parts) > 2 else ""
        record["operation"] = _operation(route, method, rest or "/")
        breaker = self.breakers.get(route.upstream)
        if not breaker.allow():
            await refuse("circuit_open", verdict)
            return
        query = urlencode([(k, v) for k, v in params if k.lower() not in CREDENTIAL_PARAMS],
                          encoding="latin-1")
        url = route.upstream + _raw_rest(scope, rest) + ("?" + query if query else "")
        outgoing = [(k, v) for k, v in headers.items()
                    if k not in HOP_BY_HOP and k not in CREDENTIAL_HEADERS]
        outgoing += [("x-hub-client", client.label), ("x-hub-request-id", request_id)]
        await self._forward(scope, receive, send, method, url, headers, outgoing, started,
                            record, verdict, breaker, refuse, route)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, method: str, url: str,
                       headers: dict[str, str], outgoing: list[tuple[str, str]],
                       started: float, record: dict[str, Any],
                       verdict: Verdict, breaker: Any, refuse: Any, route: Route) -> None:
        settings = self.state.settings
        request_hash = hashlib.sha256()
        sizes = {"request": 0}
        limit = (route.max_body_mb or settings.gateway_max_body_mb) << 20
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:     # refused before any byte is sent
            await refuse("too_large")
            return
        # HTTP/1.1: a request has a body only with a Content-Length or a Transfer-Encoding;
        # without them there is nothing to receive (and no call to the server for it)
        has_body = False
        first: Any = None
        if declared not in ("", "0") or "transfer-encoding" in headers:
            first = await receive()
            if first["type"] == "http.disconnect":   # gone before its body: nothing goes
                record.update(status=499, fault="client_disconnected", request_bytes=0)
                self._done(record)                    # upstream, not even an empty request
                return
            has_body = bool(first.get("body", b"")) or first.get("more_body", False)

        async def body() -> AsyncIterator[bytes]:
            message = first
            while True:
                if message["type"] == "http.disconnect":   # not the end of the body: the
                    raise _ClientGone()                    # upstream must not get it whole
                chunk = message.get("body", b"")
                if chunk:
                    sizes["request"] += len(chunk)
                    if sizes["request"] > limit:
                        raise _TooLarge()
                    request_hash.update(chunk)
                    yield chunk
                if not message.get("more_body"):
                    return
                message = await receive()

        timeout = route.timeout_seconds or settings.gateway_timeout_seconds
        answered = False
        attempts = 2 if method in IDEMPOTENT and not has_body else 1
        length = int(declared) if declared.isdigit() else None
        sent_at = time.perf_counter()
        upstream_ms = 0.0
        watch: asyncio.Future[None] | None = None
        for attempt in range(attempts):
            answer: Answer | None = None
            try:
                sent_at = time.perf_counter()
                answer = await self.pool.request(
                    method, url, outgoing, body() if has_body else None, timeout=timeout,
                    content_length=length)
                arrived = time.perf_counter()
                upstream_ms = (arrived - sent_at) * 1000
                hub_ms = (sent_at - started) * 1000
                if answer.status >= 500:
                    breaker.failure()
                else:
                    breaker.success()
                response_headers = [(k.lower(), v) for k, v in answer.headers
                                    if k.lower() not in DROPPED_FROM_ANSWERS]
                response_headers += _hub_headers(record["request_id"], hub_ms)
                response_headers += _limit_headers(verdict)
                await send({"type": "http.response.start", "status": answer.status,
                            "headers": response_headers})
                answered = True
                response_hash = hashlib.sha256()
                size = 0
                more = True
                while more:
                    # the last piece says so itself: one message fewer for the usual small
                    # answer that arrives whole
                    chunk, more = await answer.read()
                    response_hash.update(chunk)
                    size += len(chunk)
                    await send({"type": "http.response.body", "body": chunk,
                                "more_body": more})
                    if more and watch is None:     # a long answer: notice a client that left
                        watch = asyncio.ensure_future(_disconnected(receive))
                    if watch is not None and watch.done():
                        raise _ClientGone()
                record.update(
                    status=answer.status, outcome="ok" if answer.status < 500
                    else "upstream_error", request_bytes=sizes["request"],
                    response_bytes=size, upstream_ms=round(upstream_ms, 3),
                    hub_ms=round(hub_ms, 3),
                    request_sha256=request_hash.hexdigest(),
                    response_sha256=response_hash.hexdigest())
                self._done(record)
                return
            except _TooLarge:
                record["request_bytes"] = sizes["request"]
                await refuse("too_large")
                return
            except _ClientGone:
                record.update(status=499, fault="client_disconnected",
                              request_bytes=sizes["request"],
                              upstream_ms=(time.perf_counter() - sent_at) * 1000)
                self._done(record)
                return
            except (TimeoutError, UpstreamError) as exc:
                breaker.failure()
                timed_out = isinstance(exc, TimeoutError)
                record.update(outcome="timeout" if timed_out else "upstream_error",
                              upstream_ms=(time.perf_counter() - sent_at) * 1000)
                if answered:   # the answer had begun: it can only be cut short
                    record.update(status=499, fault="upstream_cut_short")
                    self._done(record)
                    return
                if timed_out:
                    await refuse("timeout")
                    return
                if attempt + 1 < attempts:
                    continue
                log.warning("upstream %s unreachable: %s", url.split("?")[0], exc)
                await refuse("upstream")
                return
            finally:
                if answer is not None:
                    answer.close()      # read to its end it is back in the pool already
                if watch is not None:
                    watch.cancel()

    # --- lookups ---------------------------------------------------------------------------

    def _fresh(self) -> None:
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
        if generation != self._generation or len(self._clients) > 100_000:
            self._routes.clear()
            self._clients.clear()
            self._generation = generation

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

    def _route(self, org: str, slug: str) -> Route | None:
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
                      operations=_compile(row.openapi), timeout_seconds=row.timeout_seconds,
                      max_body_mb=row.max_body_mb)
        self._routes[(org, slug)] = (now, route)
        return route

    def _client(self, credential: str, route: Route) -> tuple[Client | None, str]:
        cached = self._clients.get((credential, route.service_id))
        if cached is not None and time.time() < cached[0]:
            return cached[1], cached[2]
        valid_until, client, problem = self._lookup_client(credential, route)
        self._clients[(credential, route.service_id)] = (valid_until, client, problem)
        return client, problem

    def _lookup_client(self, credential: str,
                       route: Route) -> tuple[float, Client | None, str]:
        """(valid until — epoch seconds, the client or None, the refusal)."""
        from . import oauth
        from .service import key_digest

        now = datetime.now(UTC)
        forever = float("inf")
        limit = forever
        with self.state.engine.connect() as connection:
            if oauth.looks_like_jwt(credential):
                try:
                    claims = oauth.verify(credential, self.state.signing_key)
                except jwt.ExpiredSignatureError:
                    return forever, None, "key_expired"
                except jwt.InvalidTokenError:
                    return forever, None, "bad_key"
                limit = min(limit, float(claims.expires))
                key = connection.execute(    # the key the token was issued for
                    select(AppKey.app_id, AppKey.expires_at, AppKey.revoked_at, App.org_id,
                           Organization.slug)
                    .join(App, App.id == AppKey.app_id)
                    .join(Organization, Organization.id == App.org_id)
                    .where(AppKey.id == claims.key_id, App.id == claims.app_id)).first()
            else:
                key = connection.execute(
                    select(AppKey.app_id, AppKey.expires_at, AppKey.revoked_at, App.org_id,
                           Organization.slug)
                    .join(App, App.id == AppKey.app_id)
                    .join(Organization, Organization.id == App.org_id)
                    .where(AppKey.digest == key_digest(credential))).first()
            if key is None or key.revoked_at is not None:
                return forever, None, "bad_key"
            if key.expires_at is not None and key.expires_at <= now:
                return forever, None, "key_expired"
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


class _TooLarge(Exception):
    pass


_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _request_id(given: str | None, ids: Iterator[str]) -> str:
    """The caller's id when it is a sane one, else the gateway's next own."""
    if given and _GIVEN_ID.fullmatch(given):
        return given
    return next(ids)


def _style(params: list[tuple[str, str]]) -> str:
    """How errors are written: data.go.kr's envelope (XML unless JSON is asked for) when the
    caller speaks data.go.kr (serviceKey, type or _type), else problem+json."""
    names = {k.lower(): v.lower() for k, v in params}
    asked = names.get("type") or names.get("_type")
    if asked == "json":
        return "datagokr-json"
    if asked == "xml" or "servicekey" in names:
        return "datagokr-xml"
    return "problem"


def credential_of(headers: Any, params: list[tuple[str, str]]) -> str | None:
    """The caller's credential, wherever data.go.kr, API-manager or OAuth clients put it."""
    return _credential({k.lower(): v for k, v in headers.items()}, params)


def _credential(headers: dict[str, str], params: list[tuple[str, str]]) -> str | None:
    if headers.get("x-api-key"):
        return headers["x-api-key"].strip()
    for name, value in params:
        if name.lower() == "servicekey" and value:
            key = value.strip()
            # a doubly encoded key (as many data.go.kr clients send it) is still recognised
            for _ in range(2):
                if "%" in key:
                    key = unquote(key)
            return key
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class _ClientGone(Exception):
    """The caller disconnected: mid-upload, or while a long answer streamed to it."""


async def _disconnected(receive: Receive) -> None:
    """Returns when the ASGI server says the client is gone."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _raw_rest(scope: Scope, rest: str) -> str:
    """The path after /gw/{org}/{service} as the client sent it (still %-encoded): an encoded
    "/" or "?" inside a segment must reach the upstream encoded."""
    raw = scope.get("raw_path")
    if not raw:
        return rest
    pieces = raw.decode("latin-1")[len(PREFIX):].split("/", 2)
    return "/" + pieces[2] if len(pieces) > 2 else ""


def _compile(document: dict[str, Any]) -> list[tuple[str, re.Pattern[str], str]]:
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


def _operation(route: Route, method: str, path: str) -> str:
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


def _hub_headers(request_id: str, hub_ms: float) -> list[tuple[bytes, bytes]]:
    return [(b"x-hub-request-id", request_id.encode()),
            (b"x-request-id", request_id.encode()),
            (b"x-hub-latency", f"{hub_ms:.2f}".encode())]


def _limit_headers(verdict: Verdict) -> list[tuple[bytes, bytes]]:
    return [(b"ratelimit-limit", str(verdict.limit).encode()),
            (b"ratelimit-remaining", str(verdict.remaining).encode()),
            (b"ratelimit-reset", str(verdict.reset).encode())]


def _error_body(fault: Fault, style: str, lang: str, request_id: str,
                path: str) -> tuple[bytes, str]:
    code, name = fault.datagokr
    if style == "datagokr-json":
        return (json.dumps({"response": {"header": {"resultCode": code, "resultMsg": name}}})
                .encode(), "application/json;charset=UTF-8")
    if style == "datagokr-xml":
        return ('<?xml version="1.0" encoding="UTF-8"?><OpenAPI_ServiceResponse><cmmMsgHeader>'
                f"<errMsg>SERVICE ERROR</errMsg><returnAuthMsg>{name}</returnAuthMsg>"
                f"<returnReasonCode>{code}</returnReasonCode></cmmMsgHeader>"
                "</OpenAPI_ServiceResponse>").encode(), "application/xml;charset=UTF-8"
    problem = {"type": f"urn:dpghub:problem:{fault.code}", "status": fault.status,
               "title": translate(fault.message, lang), "detail": translate(fault.message, lang),
               "code": fault.code, "instance": path, "request_id": request_id,
               "datagokr_code": code}
    return (json.dumps(problem, ensure_ascii=False).encode(), "application/problem+json")


async def _send_all(send: Send, status: int, media: str, body: bytes, request_id: str,
                    hub_ms: float, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode()),
               *_hub_headers(request_id, hub_ms), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
