"""Sandbox calls: `/sandbox/{org}/{service}/{path}` as a bare ASGI handler, like the gateway.

For each call: a sandbox key (X-API-Key, `serviceKey` or bearer; an app's production key is
refused by name) → its project, active and not expired → the project's rate limit and daily
quota (the gateway's GCRA, under a key of its own) → the service's contract → either the
mock (the request checked against the contract; an example or a generated answer) or, when
the project points the service at the developer's own server, the validation proxy (the
call forwarded, the request and the answer checked) → an inspector entry. A sandbox call
never reaches a production upstream.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import Receive, Scope, Send

from ..core.db import utcnow
from ..core.i18n import pick_language
from ..gateway.answers import GUARD_HEADERS, answer_headers, hub_headers, limit_headers, send_whole
from ..gateway.credentials import SANDBOX_KEY_PREFIX, is_app_credential, presented
from ..gateway.faults import style_of
from ..gateway.upstream import AddressRefused, UpstreamError
from ..web.datagokr import service_key
from .mock import MockSpec, Prefer, render_match, render_violations
from .refusals import FAULTS, render
from .service import calls, projects

PREFIX = "/sandbox/"
MAX_BODY = 1 << 20                 # a sandbox call's body, at most
KEY_TTL = 2.0                      # seconds a key's grant is trusted before it is read again
SPEC_TTL = 2.0
PROXY_TIMEOUT = 10.0
MAX_ANSWER = 4 << 20               # a developer server's answer is read whole to be checked
# never forwarded to a developer's server: the hub's cookies, hop-by-hop fields, the mock's
# own Prefer; the sandbox key too, wherever it came (see _forwarded)
DROP_UPSTREAM = {"cookie", "cookie2", "host", "content-length", "connection",
                 "transfer-encoding", "keep-alive", "te", "upgrade", "prefer"}


class Sandbox:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.inspector = calls.Inspector(state.session_factory)
        self._grants: dict[str, tuple[float, int, calls.KeyGrant | None]] = {}
        self._specs: dict[tuple[str, str], tuple[float, calls.Contract, MockSpec]] = {}
        self._loading: dict[tuple[Any, ...], asyncio.Future[Any]] = {}
        self._flush_pending = False
        self._prefix = secrets.token_hex(4)
        self._count = 0

    # --- lookups (cached, read in a thread) ------------------------------------------------

    async def grant(self, credential: str) -> calls.KeyGrant | None:
        now = time.monotonic()
        generation = projects.GENERATION[0]
        cached = self._grants.get(credential)
        if cached and now - cached[0] < KEY_TTL and cached[1] == generation:
            return cached[2]
        return await self._shared(("key", credential, generation), self._load_grant,
                                  credential, now, generation)

    async def _load_grant(self, credential: str, now: float, generation: int
                          ) -> calls.KeyGrant | None:
        found = await asyncio.to_thread(self._read, calls.grant_for, credential)
        if len(self._grants) > 10_000:
            self._grants.clear()
        self._grants[credential] = (now, generation, found)
        return found

    async def spec(self, org: str, slug: str) -> tuple[calls.Contract, MockSpec] | None:
        now = time.monotonic()
        cached = self._specs.get((org, slug))
        if cached and now - cached[0] < SPEC_TTL:
            return cached[1], cached[2]
        return await self._shared(("spec", org, slug), self._load_spec, org, slug, now)

    async def _load_spec(self, org: str, slug: str, now: float
                         ) -> tuple[calls.Contract, MockSpec] | None:
        cached = self._specs.get((org, slug))
        if cached:
            stamp = await asyncio.to_thread(self._read, calls.contract_stamp, org, slug)
            if stamp == cached[1].updated_at:
                self._specs[(org, slug)] = (now, *cached[1:])
                return cached[1], cached[2]
        contract = await asyncio.to_thread(self._read, calls.contract_of, org, slug)
        if contract is None:
            self._specs.pop((org, slug), None)
            return None
        # off the event loop: a large document takes seconds to compile, and every other
        # call of the hub would wait for it
        spec = await asyncio.to_thread(MockSpec.build, contract.document)
        self._specs[(org, slug)] = (now, contract, spec)    # the spec knows its own style
        return contract, spec

    async def _shared(self, key: tuple[Any, ...], load: Any, *args: Any) -> Any:
        """One read for all the calls that find the same entry stale at once. Without it,
        each call in flight when an entry expired read it again: at 32 connections ≈ 30
        reads of the key and of the service every 2 s (≈ 60 ms of CPU, 3 % of the hub's
        time at saturation), and ≈ 30 builds of the mock (6 ms each) at the start. A grant
        is shared only within one generation: a call after a change never takes a read
        made before it."""
        running = self._loading.get(key)
        if running is None:
            running = asyncio.ensure_future(load(*args))
            self._loading[key] = running
            running.add_done_callback(lambda done: self._loaded(key, done))
        return await asyncio.shield(running)

    def _loaded(self, key: tuple[Any, ...], done: asyncio.Future[Any]) -> None:
        if self._loading.get(key) is done:
            del self._loading[key]
        if not done.cancelled():
            done.exception()    # marked retrieved: its waiters raise it, if any is left

    def _read(self, fn: Any, *args: Any) -> Any:
        with self.state.session_factory() as session:
            return fn(session, *args)

    # --- the inspector ---------------------------------------------------------------------

    def _inspect(self, entry: dict[str, Any]) -> None:
        self.inspector.add(entry)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_later(0.2, self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_pending = False
        asyncio.get_running_loop().run_in_executor(None, self.inspector.flush)

    # --- the call --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        self._count += 1
        request_id = f"sb{self._prefix}{self._count:08x}"
        query = scope.get("query_string", b"").decode("latin-1")
        params = parse_qsl(query, keep_blank_values=True, encoding="latin-1") if query else []
        method = scope["method"]
        parts = scope["path"][len(PREFIX):].split("/", 2)
        lang = pick_language(explicit=None, user_setting=None,
                             accept_language=headers.get("accept-language"),
                             default=self.state.settings.default_language)
        style = style_of(params)

        async def refuse(name: str, extra: list[tuple[bytes, bytes]] | None = None,
                         **values: str) -> None:
            fault = FAULTS[name]
            body, media = render(fault, style, lang, request_id, scope["path"], values)
            await send_whole(send, fault.status, media, body, request_id,
                             (time.perf_counter() - started) * 1000, extra or [])

        if len(parts) < 2 or not parts[0] or not parts[1]:
            await refuse("no_service")
            return
        org, slug = parts[0], parts[1]
        rest = "/" + (parts[2] if len(parts) > 2 else "")
        credential = _sandbox_credential(headers, params)
        if credential is None:
            await refuse("no_key")
            return
        if not credential.startswith(SANDBOX_KEY_PREFIX):
            await refuse("production_key" if is_app_credential(credential) else "bad_key")
            return
        grant = await self.grant(credential)
        if grant is None:
            await refuse("bad_key")
            return
        if grant.revoked:
            await refuse("revoked")
            return
        clock: datetime = self.state.clock()
        if grant.expires_at <= clock:
            await refuse("expired")
            return
        verdict = self.state.limits.check(("sandbox", grant.project_id), grant.rate,
                                          grant.quota)
        if not verdict.allowed:
            retry = [(b"retry-after", str(max(1, round(verdict.retry_after))).encode())]
            await refuse({"rate": "rate", "quota": "quota"}.get(verdict.reason,
                                                                "limits_unavailable"),
                         limit_headers(verdict) + retry)
            return
        found = await self.spec(org, slug)
        if found is None:
            await refuse("no_service")
            return
        contract, spec = found
        body = await _read_body(receive, MAX_BODY)
        if body is None:
            await refuse("too_large")
            return
        match = spec.match(method, rest)
        style = spec.fault_style(params)
        entry: dict[str, Any] = {
            "project_id": grant.project_id, "at": utcnow(), "request_id": request_id,
            "service_ref": f"{org}/{slug}", "method": method,
            "path": rest + (f"?{_without_key(params)}" if params else ""),
            "operation": match.operation.label if match.operation is not None else "",
            "request_body": calls.excerpt(body)}
        if not match.found:
            status, media, answer, extra = render_match(match, style, lang)
            await send_whole(send, status, media, answer, request_id, _ms(started), extra)
            self._inspect(entry | {"mode": "mock", "status": status, "valid": False,
                                   "elapsed_ms": _ms(started), "answer_body":
                                   calls.excerpt(answer), "violations": [{
                                       "location": "path", "field": rest, "rule": match.kind,
                                       "message": match.reason or match.kind}]})
            return
        content_type = headers.get("content-type")
        violations = spec.validate_request(match, params, headers, body, content_type)
        upstream = grant.upstreams.get(contract.service_id)
        limits = limit_headers(verdict)
        if upstream is not None:
            await self._proxy(scope, send, entry, upstream, rest, params, headers, credential,
                              body,
                              spec, match, violations, request_id, started, refuse, limits)
            return
        if violations:
            status, media, answer = render_violations(violations, style, lang)
            extra = []
        else:
            prefer = Prefer.parse(headers.get("prefer", ""))
            seed = hashlib.sha256(b"\0".join([method.encode(), rest.encode(),
                                              _without_key(params).encode(), body])).digest()
            mocked = spec.respond(match, prefer, seed, accept=headers.get("accept"),
                                  style=style, lang=lang)
            status, media, answer, extra = (mocked.status, mocked.media_type, mocked.body,
                                            list(mocked.headers))
        await _send(send, status, media, answer, request_id, _ms(started),
                    extra + limits + [(b"x-sandbox-mode", b"mock")])
        self._inspect(entry | {"mode": "mock", "status": status, "valid": not violations,
                               "violations": [v.as_dict() for v in violations],
                               "answer_body": calls.excerpt(answer),
                               "elapsed_ms": _ms(started)})

    async def _proxy(self, scope: Scope, send: Send, entry: dict[str, Any], upstream: str,
                     rest: str, params: list[tuple[str, str]], headers: dict[str, str],
                     credential: str,
                     body: bytes, spec: MockSpec, match: Any, violations: list[Any],
                     request_id: str, started: float, refuse: Any,
                     limits: list[tuple[bytes, bytes]]) -> None:
        """Prism's proxy mode: the developer's server answers; the hub checks the request
        and the answer against the contract and logs every violation. The answer goes back
        as it came (guarded like the gateway's), the violations counted in a header."""
        query = _without_key(params)
        url = upstream + rest + (f"?{query}" if query else "")
        sent = _forwarded(headers, credential)
        pool = self.state.gateway.pool
        try:
            answer = await pool.request(
                scope["method"], url, sent, _once(body) if body else None,
                timeout=PROXY_TIMEOUT, content_length=len(body) if body else None)
            received, more = await answer.read()
            chunks = [received]
            size = len(received)
            while more:
                piece, more = await answer.read()
                size += len(piece)
                if size > MAX_ANSWER:
                    answer.close()
                    raise UpstreamError("the answer is larger than the sandbox reads")
                chunks.append(piece)
            data = b"".join(chunks)
        except AddressRefused:
            await refuse("address_refused")
            reason = "address refused"
            self._inspect(entry | _failed("upstream_address_refused", reason, 502, started))
            return
        except TimeoutError:
            await refuse("timeout")
            self._inspect(entry | _failed("dev_server_timeout", "no answer in time", 504,
                                          started))
            return
        except (UpstreamError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            await refuse("upstream", reason=reason)
            self._inspect(entry | _failed("dev_server_unreachable", reason, 502, started))
            return
        got = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in answer.headers}
        found = list(violations) + list(spec.validate_response(match, answer.status, got, data))
        sent_headers = [h for h in answer_headers(answer.status, answer.headers, True)
                        if h[0] != b"content-length"]
        sent_headers += [(b"content-length", str(len(data)).encode()),
                         *hub_headers(request_id, _ms(started)), *limits,
                         (b"x-sandbox-mode", b"proxy"),
                         (b"x-sandbox-violations", str(len(found)).encode())]
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": sent_headers})
        await send({"type": "http.response.body", "body": data})
        self._inspect(entry | {"mode": "proxy", "status": answer.status, "valid": not found,
                               "violations": [v.as_dict() for v in found],
                               "answer_body": calls.excerpt(data),
                               "elapsed_ms": _ms(started)})


def _sandbox_credential(headers: dict[str, str], params: list[tuple[str, str]]) -> str | None:
    """The sandbox key wherever the caller put it (X-API-Key, serviceKey or a bearer token),
    so the other places stay free for a developer's own server's credential; else whatever
    credential came, to be refused by name."""
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    found = [headers.get("x-api-key", "").strip(),
             *(service_key(v) for k, v in params if k.lower() == "servicekey" and v),
             bearer.strip() if scheme.lower() == "bearer" else ""]
    for candidate in found:
        if candidate.startswith(SANDBOX_KEY_PREFIX):
            return candidate
    return presented(headers, params)


def _forwarded(headers: dict[str, str], credential: str) -> list[tuple[str, str]]:
    """What a developer's server receives: the request's fields but the hub's cookies and
    hop-by-hop ones, and without the sandbox key — an X-API-Key or bearer token of the
    developer's own server (a different value) passes, as it would to that server."""
    kept = []
    for name, value in headers.items():
        if name in DROP_UPSTREAM or credential in value:
            continue
        kept.append((name, value))
    return kept


def _failed(code: str, reason: str, status: int, started: float) -> dict[str, Any]:
    return {"mode": "proxy", "status": status, "valid": False, "elapsed_ms": _ms(started),
            "violations": [{"location": "server", "rule": code, "message": reason}]}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _without_key(params: list[tuple[str, str]]) -> str:
    """The query without the credential: it never reaches a developer's server or the
    inspector."""
    if not params:
        return ""
    return urlencode([(k, v) for k, v in params if k.lower() != "servicekey"],
                     encoding="latin-1")


async def _send(send: Send, status: int, media: str, body: bytes, request_id: str,
                hub_ms: float, extra: list[tuple[bytes, bytes]]) -> None:
    """A whole answer; one the contract gives no body has no Content-Type either."""
    if media:
        await send_whole(send, status, media, body, request_id, hub_ms, extra)
        return
    headers = [(b"content-length", str(len(body)).encode()),
               *hub_headers(request_id, hub_ms), *extra, *GUARD_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _once(body: bytes) -> Any:
    yield body


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        piece = message.get("body", b"")
        size += len(piece)
        if size > limit:
            return None
        chunks.append(piece)
        more = message.get("more_body", False)
    return b"".join(chunks)
