"""The gateway's hot path: `/gw/{org}/{service}/{path}` as a bare ASGI handler.

Kept out of FastAPI's routing and response classes (measured: they cost most of the
throughput). For each call: credential (X-API-Key, data.go.kr's `serviceKey`, or a bearer
key) → approved subscription → rate limit and daily quota → stream to the upstream with
our pooled HTTP/1.1 client (upstream.py) and stream the answer back, its call record
journalled before the answer's last piece leaves (evidence.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import itertools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from ..catalog.models import Service
from ..core.i18n import pick_language
from ..identity.models import Organization
from . import credentials
from .bell import bell_for
from .breaker import Breakers
from .credentials import KeyState, presented
from .faults import FAULTS, render, style_of
from .limits import Verdict
from .models import App, AppKey, Subscription, SubscriptionStatus
from .upstream import AddressRefused, Answer, Pool, UpstreamError

log = logging.getLogger("dpghub.gateway")
PREFIX = "/gw/"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect"}
# as nginx does by default: the hub's server writes its own Date (one Date field only), and
# the provider's Server field (its software and version) stays behind the gateway
DROPPED_FROM_ANSWERS = {name.encode() for name in HOP_BY_HOP - {"content-length", "expect"}
                        } | {b"date", b"server"}
# Fields by which an upstream could act on the origin its answer is served from — the
# portal's, unless DPGHUB_GATEWAY_ORIGIN gives the gateway its own: cookies and site data,
# service-worker scope, HSTS and key pins, alternative services (where the browser sends the
# origin's next requests), reporting endpoints (which would receive the page's URL, key and
# all), client hints, sign-in state (FedCM), Flash/PDF cross-domain policy, an auth prompt (a
# password dialog in the hub's name; upstream credentials cannot pass the gateway anyway), a
# Refresh redirect, and CORS with credentials (the gateway never uses the caller's cookies).
# And the fields the gateway sets itself, so an upstream cannot loosen or report on them.
# Kept: CORS without credentials (browser apps call data.go.kr-style APIs with serviceKey),
# Link (pagination; what it could preload, the CSP below blocks), Location, caching fields.
# Fields starting `sec-` are the browsers' reserved names and go as well.
ORIGIN_ACTING = {
    b"set-cookie", b"set-cookie2", b"clear-site-data", b"service-worker-allowed",
    b"strict-transport-security", b"public-key-pins", b"public-key-pins-report-only",
    b"expect-ct", b"alt-svc", b"nel", b"report-to", b"reporting-endpoints", b"accept-ch",
    b"critical-ch", b"origin-agent-cluster", b"set-login", b"observe-browsing-topics",
    b"activate-storage-access", b"x-permitted-cross-domain-policies", b"www-authenticate",
    b"refresh", b"access-control-allow-credentials", b"speculation-rules",
    b"content-security-policy", b"content-security-policy-report-only",
    b"x-content-type-options", b"referrer-policy"}
# what the gateway does with an answer's field: 0 drop, 1 Content-Type, 2 Content-Disposition
_ANSWER_FIELDS = dict.fromkeys(DROPPED_FROM_ANSWERS | ORIGIN_ACTING, 0) | {
    b"content-type": 1, b"content-disposition": 2}
# On every answer of the gateway, the upstream's and its own: nothing in it runs as the origin
# it is served from (a sandbox: no script, no forms, an opaque origin; nothing loads), it
# cannot be framed, it is not sniffed into another type, and following a link from it sends
# no Referer (the URL may hold a serviceKey)
GUARD = "sandbox; default-src 'none'; frame-ancestors 'none'"
GUARD_HEADERS = [(b"content-security-policy", GUARD.encode()),
                 (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"no-referrer")]
UNSNIFFABLE = b"application/octet-stream"     # for an answer without a (valid) type
ATTACHMENT = b"attachment"
# Types browsers render as active documents: on the portal's origin they are downloaded, not
# shown (the sandbox would keep them inert anyway). XML stays inline: developers open
# data.go.kr answers in the browser, which shows them as a tree
DOCUMENT_TYPES = {b"text/html", b"application/xhtml+xml", b"application/vnd.wap.xhtml+xml",
                  b"image/svg+xml", b"application/mathml+xml", b"multipart/x-mixed-replace"}
# Types a page loads as script or style. On the portal's origin they are sent as text/plain:
# the portal's own policy allows script and style from 'self', which /gw/… is part of, so an
# upstream's script would otherwise be a ready gadget for any markup injected into a portal
# page (nosniff makes browsers refuse text/plain as script or style). With its own origin the
# gateway sends them as they are (JSONP callers need that)
ACTIVE_TYPES = {b"application/javascript", b"application/ecmascript", b"application/x-javascript",
                b"application/x-ecmascript", b"text/javascript", b"text/ecmascript",
                b"text/x-javascript", b"text/x-ecmascript", b"text/jscript", b"text/livescript",
                b"text/javascript1.0", b"text/javascript1.1", b"text/javascript1.2",
                b"text/javascript1.3", b"text/javascript1.4", b"text/javascript1.5",
                b"text/css"}
_MEDIA_TYPE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")
CREDENTIAL_HEADERS = {"x-api-key", "authorization", "cookie", "cookie2"}
CREDENTIAL_PARAMS = {"servicekey"}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
OPERATIONS_REMEMBERED = 4096   # (method, path) pairs per service
RECHECK_SECONDS = 1.0     # the state row is read at least this often, bell or not
ROUTE_SECONDS = 5.0      # a service's upstream address is re-read at least this often
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


class Gateway:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.breakers = Breakers()
        self.pool = Pool(state.networks)
        # with its own origin the gateway may show documents inline (still sandboxed); on the
        # portal's they are sent as downloads
        self._attach_documents = state.settings.gateway_origin is None
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

    async def _done(self, record: dict[str, Any]) -> None:
        """The call's record, journalled: written (or, with `gateway_journal_sync`, on the
        disk) when this returns. Callers answering the call send the last piece after it."""
        self.state.metrics.observe(record)
        durable = self.state.recorder.add(record)
        if durable is not None:
            await durable

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
        style = style_of(params)
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
            body, media = render(fault, style, lang, request_id, scope["path"])
            hub_ms = (time.perf_counter() - started) * 1000
            record.update(status=fault.status, fault=fault.code, hub_ms=hub_ms,
                          response_bytes=len(body))
            await self._done(record)
            await _send_all(send, fault.status, media, body, request_id, hub_ms, extra)

        if _head_too_large(scope["headers"], self.state.settings):
            await refuse("too_many_headers")      # nothing so large goes upstream, whatever
            return                                # server the hub runs under
        if len(parts) < 2 or not parts[0] or not parts[1]:
            await refuse("no_service")
            return
        credential = presented(headers, params)
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
                await self._done(record)              # upstream, not even an empty request
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
                response_headers = _answer_headers(answer.status, answer.headers,
                                                   self._attach_documents)
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
                    if not more:      # the record is journalled before the last piece leaves
                        record.update(
                            status=answer.status, outcome="ok" if answer.status < 500
                            else "upstream_error", request_bytes=sizes["request"],
                            response_bytes=size, upstream_ms=round(upstream_ms, 3),
                            hub_ms=round(hub_ms, 3),
                            request_sha256=request_hash.hexdigest(),
                            response_sha256=response_hash.hexdigest())
                        await self._done(record)
                    await send({"type": "http.response.body", "body": chunk,
                                "more_body": more})
                    if more and watch is None:     # a long answer: notice a client that left
                        watch = asyncio.ensure_future(_disconnected(receive))
                    if more and watch is not None and watch.done():
                        raise _ClientGone()
                return
            except _TooLarge:
                record["request_bytes"] = sizes["request"]
                await refuse("too_large")
                return
            except _ClientGone:
                record.update(status=499, fault="client_disconnected",
                              request_bytes=sizes["request"],
                              upstream_ms=(time.perf_counter() - sent_at) * 1000)
                await self._done(record)
                return
            except AddressRefused as exc:
                # no connection was opened, so nothing for the breaker to count; not retried
                log.warning("upstream %s refused: %s", url.split("?")[0], exc)
                await refuse("address_refused")
                return
            except (TimeoutError, UpstreamError) as exc:
                breaker.failure()
                timed_out = isinstance(exc, TimeoutError)
                record.update(outcome="timeout" if timed_out else "upstream_error",
                              upstream_ms=(time.perf_counter() - sent_at) * 1000)
                if answered:   # the answer had begun: it can only be cut short
                    record.update(status=499, fault="upstream_cut_short")
                    await self._done(record)
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


class _TooLarge(Exception):
    pass


def _head_too_large(fields: list[tuple[bytes, bytes]], settings: Any) -> bool:
    """Beyond the head limits `dpghub serve` enforces (core/serving.py): here for a hub run
    under another ASGI server. One sum for the usual head; fields one by one only past it."""
    if len(fields) > settings.http_max_headers:
        return True
    total = sum(len(name) + len(value) + 4 for name, value in fields)
    if total <= settings.http_max_header_bytes:
        return False
    return total > settings.http_max_head_bytes or any(
        len(name) + len(value) + 4 > settings.http_max_header_bytes for name, value in fields)


_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _request_id(given: str | None, ids: Iterator[str]) -> str:
    """The caller's id when it is a sane one, else the gateway's next own."""
    if given and _GIVEN_ID.fullmatch(given):
        return given
    return next(ids)


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


def _answer_headers(status: int, received: list[tuple[bytes, bytes]],
                    attach_documents: bool) -> list[tuple[bytes, bytes]]:
    """The upstream's fields as the caller gets them: hop-by-hop and origin-acting fields
    dropped, one Content-Type that cannot be sniffed into script, the guard fields added."""
    kept: list[tuple[bytes, bytes]] = []
    media: bytes | None = None
    types = 0
    disposition: bytes | None = None
    for name, value in received:
        name = name.lower()
        action = _ANSWER_FIELDS.get(name)
        if action is None:
            if not name.startswith(b"sec-"):
                kept.append((name, value))
        elif action == 1:
            media = value
            types += 1
        elif action == 2:
            disposition = value
    if types > 1:                  # browsers would join them and pick one their own way
        media = UNSNIFFABLE
    if media is not None or status not in (204, 304):   # a 304 must not restate the type
        media, attach = _media_type(media, attach_documents)
        kept.append((b"content-type", media))
        if attach and not (disposition or b"").lower().startswith(ATTACHMENT):
            disposition = ATTACHMENT
    if disposition is not None:
        kept.append((b"content-disposition", disposition))
    kept += GUARD_HEADERS
    return kept


@functools.lru_cache(maxsize=512)
def _media_type(value: bytes | None, attach_documents: bool) -> tuple[bytes, bool]:
    """(the Content-Type to send, whether to send it as a download). No type, or one a
    browser would not parse as one type (so would sniff), becomes application/octet-stream;
    on the portal's origin, script and style become text/plain."""
    if value is None or b"," in value:
        return UNSNIFFABLE, False
    essence, semicolon, parameters = value.partition(b";")
    essence = essence.strip()
    if not _MEDIA_TYPE.fullmatch(essence):
        return UNSNIFFABLE, False
    if not attach_documents:        # the gateway's own origin: as the upstream said
        return value, False
    essence = essence.lower()
    if essence in ACTIVE_TYPES:
        return b"text/plain" + semicolon + parameters, False
    return value, essence in DOCUMENT_TYPES


def _hub_headers(request_id: str, hub_ms: float) -> list[tuple[bytes, bytes]]:
    return [(b"x-hub-request-id", request_id.encode()),
            (b"x-request-id", request_id.encode()),
            (b"x-hub-latency", f"{hub_ms:.2f}".encode())]


def _limit_headers(verdict: Verdict) -> list[tuple[bytes, bytes]]:
    return [(b"ratelimit-limit", str(verdict.limit).encode()),
            (b"ratelimit-remaining", str(verdict.remaining).encode()),
            (b"ratelimit-reset", str(verdict.reset).encode())]


async def _send_all(send: Send, status: int, media: str, body: bytes, request_id: str,
                    hub_ms: float, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode()),
               *_hub_headers(request_id, hub_ms), *extra, *GUARD_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
