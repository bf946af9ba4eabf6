"""The gateway's hot path: `/gw/{org}/{service}/{path}` as a bare ASGI handler.

Kept out of FastAPI's routing and response classes (measured: they cost most of the
throughput). For each call: credential (X-API-Key, data.go.kr's `serviceKey`, or a bearer
key) → approved subscription → rate limit and daily quota → stream to the upstream with
our pooled HTTP/1.1 client (upstream.py) and stream the answer back, its call record
journalled before the answer's last piece leaves (evidence.py).

Here is the call itself. What it looks up, cached, is lookups.py; what it answers with,
answers.py (the upstream's answer) and faults.py (a refusal); credentials.py reads the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import Receive, Scope, Send

from ..core.i18n import pick_language
from ..core.security import TOKEN_PREFIX
from .answers import HOP_BY_HOP, answer_headers, hub_headers, limit_headers, send_whole
from .breaker import Breakers
from .credentials import SANDBOX_KEY_PREFIX, presented
from .faults import FAULTS, render, style_of
from .limits import Verdict
from .lookups import Lookups, Route, operation_of
from .upstream import AddressRefused, Answer, Pool, UpstreamError

log = logging.getLogger("dpghub.gateway")
PREFIX = "/gw/"
CREDENTIAL_HEADERS = {"x-api-key", "authorization", "cookie", "cookie2"}
CREDENTIAL_PARAMS = {"servicekey"}
IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


class Gateway:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.breakers = Breakers()
        self.pool = Pool(state.networks)
        # with its own origin the gateway may show documents inline (still sandboxed); on the
        # portal's they are sent as downloads
        self._attach_documents = state.settings.gateway_origin is None
        self.lookups = Lookups(state)
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
        self.lookups.close()
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
            extra = limit_headers(verdict) if verdict else []
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
            await send_whole(send, fault.status, media, body, request_id, hub_ms, extra)

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
        if credential.startswith(SANDBOX_KEY_PREFIX):
            await refuse("sandbox_key")       # the testbed's keys never reach an upstream
            return
        if credential.startswith(TOKEN_PREFIX):
            await refuse("personal_token")    # a person's token names no app to account to
            return
        lookups = self.lookups
        lookups.fresh()
        route = lookups.route(parts[0], parts[1])
        if route is None:
            await refuse("no_service")
            return
        record.update(service_id=route.service_id, provider_org_id=route.provider_org_id,
                      service_ref=route.service_ref)
        client, problem = lookups.client(credential, route)
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
        record["operation"] = operation_of(route, method, rest or "/")
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
                response_headers = answer_headers(answer.status, answer.headers,
                                                  self._attach_documents)
                response_headers += hub_headers(record["request_id"], hub_ms)
                response_headers += limit_headers(verdict)
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
