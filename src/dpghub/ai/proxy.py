"""The AI gateway's hot path: `/ai/v1/…` as a bare ASGI handler, OpenAI's wire format both ways.

For each call: the app's key (`Authorization: Bearer`, as the `openai` SDK sends it, or
`X-API-Key`) → the organization's credit for the month → the alias's candidates in order
(fallbacks), each behind the gateway's circuit breaker, retried with back-off on connection
errors, 429 and 5xx → the provider's answer relayed (server-sent events passed on event by
event, the usage chunk read as it passes) → one ledger row, queued for the batch writer.

Errors are OpenAI's shape with OpenAI's statuses, so the SDK raises what its users expect.
The provider's secret is sent to the provider only; the caller's key never leaves the hub.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.types import Receive, Scope, Send

from ..core import months as months_of
from ..core.errors import Unauthenticated
from ..gateway import service as gateway
from ..gateway.breaker import Breakers
from ..gateway.connection import UpstreamError
from ..gateway.credentials import presented
from ..gateway.upstream import Answer, Pool
from ..privacy import service as privacy
from . import wire
from .limits import TokenRate
from .service import budgets, ledger, providers, settings
from .service.providers import Candidate
from .wire import Refusal

log = logging.getLogger("dpghub.ai")
PREFIX = "/ai/v1/"
MAX_BODY = 8 << 20                 # bytes of a request (long prompts, many embeddings)
RETRIES = 2                        # more tries of one candidate after the first
BACKOFF = (0.05, 0.2)              # seconds before the second and third try
ROUTES_SECONDS = 5.0               # how long the providers' routes are kept in memory
CREDIT_SECONDS = 2.0               # how long a budget and the ledger's sum are kept
RETRIED = {429, 500, 502, 503, 504}


class _ClientGone(Exception):
    pass


class AiGateway:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.pool = Pool(state.networks)
        self.breakers = Breakers()
        self._routes: dict[str, list[Candidate]] | None = None
        self._routes_at = 0.0
        self.tokens = TokenRate(state.settings.ai_tokens_per_minute)
        self.queue: list[dict[str, Any]] = []
        self.pending: dict[tuple[int, str], int] = {}     # queued, not yet written; in flight
        self._lock = threading.Lock()                     # pending: the loop and the flusher
        self._flushing = threading.Lock()                 # one flush at a time
        # caches, so that a call costs no database trip when nothing changed: keys until the
        # gateway's generation moves (a key revoked anywhere), credit for CREDIT_SECONDS
        self._keys: dict[str, tuple[int, int]] = {}
        self._keys_generation: int | None = None
        self._looked = False        # the gateway's state was read once (its generation may be
                                    # None for ever: no key or subscription changed yet)
        self._month: tuple[float, float, str] = (0.0, 0.0, "")   # [from, to) epoch, month
        # (org, month) → (read at, granted, written, masks prompts)
        self._credit: dict[tuple[int, str], tuple[float, int, int, bool]] = {}
        prefix = secrets.token_hex(4)
        self._ids = (f"ai{prefix}{n:08x}" for n in itertools.count(1))

    # --- the ledger's queue and the routes ---------------------------------------------------

    def flush(self) -> int:
        """Write the queued ledger rows (the app's loop calls this off the hot path). When it
        returns, every row queued before the call is written: a flush already under way
        (the app's, in its thread) is waited for, not passed by."""
        with self._flushing:
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            taken, self.queue = self.queue, []
        if not taken:
            return 0
        try:
            with self.state.session_factory() as session, session.begin():
                ledger.write(session, taken)
        except Exception:
            with self._lock:
                self.queue = taken + self.queue      # kept for the next round
            raise
        with self._lock:
            for record in taken:
                tokens = record["input_tokens"] + record["output_tokens"]
                key = (record.get("org_id") or 0, record["month"])
                left = self.pending.get(key, 0) - tokens
                if left > 0:
                    self.pending[key] = left
                else:
                    self.pending.pop(key, None)
                cached = self._credit.get(key)
                if cached is not None and tokens:   # now written: counted in the cache's sum
                    self._credit[key] = (cached[0], cached[1], cached[2] + tokens, cached[3])
        return len(taken)

    def forget_credit(self, org_id: int) -> None:
        """A budget or a setting changed in this process: read them again at the next call
        (other processes read them within CREDIT_SECONDS)."""
        with self._lock:
            for key in [k for k in self._credit if k[0] == org_id]:
                del self._credit[key]

    def forget_routes(self) -> None:
        self._routes = None

    def _load_routes(self) -> dict[str, list[Candidate]]:
        now = time.monotonic()
        if self._routes is None or now - self._routes_at > ROUTES_SECONDS:
            with self.state.session_factory() as session:
                self._routes = providers.routes(session, self.state.settings.secret)
            self._routes_at = now
        return self._routes

    async def routes(self) -> dict[str, list[Candidate]]:
        """The routes, read again in a thread only when they are due (else from memory)."""
        if self._routes is not None and time.monotonic() - self._routes_at <= ROUTES_SECONDS:
            return self._routes
        return await asyncio.to_thread(self._load_routes)

    async def close(self) -> None:
        await self.pool.close()

    # --- the hub's own calls (its AI features) ------------------------------------------------

    async def complete(self, messages: list[dict[str, Any]], *, purpose: str,
                       user_id: int | None = None, org_id: int | None = None,
                       max_tokens: int = 1024, temperature: float = 0.0) -> str:
        """A chat answer for one of the hub's own features, through the same routes,
        retries, fallbacks and circuit breakers as any caller's, with a ledger row
        (`fault` names the purpose; no app). Raises `Refusal` when no model is configured or
        the providers fail."""
        alias = self.state.settings.ai_assist_model
        candidates = (await self.routes()).get(alias or "", [])
        if not alias or not candidates or candidates[0].kind != "chat":
            raise Refusal(503, "The hub's AI features are off: no chat model is configured "
                          "(DPGHUB_AI_ASSIST_MODEL)", "ai_features_off")
        started = time.perf_counter()
        record = self._record(fault=f"hub:{purpose}", alias=alias, org_id=org_id)
        captured: list[bytes] = []

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                captured.append(message.get("body", b""))

        body = {"model": alias, "messages": messages, "max_tokens": max_tokens,
                "temperature": temperature}
        try:
            await self._forward(keep, _never, "chat/completions", body, candidates, record,
                                started, wire.estimate_tokens(body))
        except Refusal as refusal:
            record.update(status=refusal.status, outcome="refused", fault=refusal.code)
            raise
        finally:
            record["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self._keep(record)
        answer = json.loads(b"".join(captured))
        try:
            return str(answer["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise Refusal(502, "The model's answer has no message", "provider_bad_answer"
                          ) from None

    # --- the call ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        record = self._record()
        request_id = record["request_id"]
        try:
            await self._serve(scope, receive, send, headers, record, started)
        except Refusal as refusal:
            record.update(status=refusal.status, outcome="refused", fault=refusal.code)
            await _send_error(send, refusal, request_id)
        finally:
            record["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self._keep(record)

    def _record(self, **given: Any) -> dict[str, Any]:
        """A new ledger record at the hub's clock: a call that has not happened yet."""
        now = self.state.clock().timestamp()
        return {"at": now, "month": self._month_at(now),
                "request_id": next(self._ids), "input_tokens": 0, "output_tokens": 0,
                "cost_krw": 0.0, "stream": False, "kind": "chat", "status": 200,
                "outcome": "ok", "fault": "", **given}

    def _month_at(self, moment: float) -> str:
        """The Seoul month of an epoch second, worked out once per month, not per call."""
        start, end, month = self._month
        if not start <= moment < end:
            start, end = months_of.month_span(moment)
            month = months_of.month_of(datetime.fromtimestamp(moment, UTC))
            self._month = (start, end, month)
        return month

    def _keep(self, record: dict[str, Any]) -> None:
        if record.pop("unrecorded", False):
            return                       # a listing of models is no call of a model
        tokens = record["input_tokens"] + record["output_tokens"]
        with self._lock:
            self.queue.append(record)
            if tokens and record.get("org_id"):
                key = (record["org_id"], record["month"])
                self.pending[key] = self.pending.get(key, 0) + tokens

    async def _serve(self, scope: Scope, receive: Receive, send: Send,
                     headers: dict[str, str], record: dict[str, Any], started: float) -> None:
        credential = presented(headers, [])
        if credential is None:
            raise Refusal(401, "No API key: send an app's key as `Authorization: Bearer …` "
                          "(as the openai SDK does) or `X-API-Key`", "missing_api_key")
        app_id, org_id = await self._client(credential)
        record.update(app_id=app_id, org_id=org_id)
        per_minute = self.state.settings.ai_requests_per_minute
        if per_minute:
            verdict = self.state.limits.check(f"ai-app:{app_id}", per_minute / 60.0, 10**12)
            if not verdict.allowed:
                raise Refusal(429, f"Rate limit reached: this app may make {per_minute} calls "
                              f"a minute; try again in {max(1, round(verdict.retry_after))} s",
                              "rate_limit_exceeded", type_="requests",
                              retry_after=verdict.retry_after)
        path, method = scope["path"][len(PREFIX):].rstrip("/"), scope["method"]
        if path == "models" and method == "GET":
            await self._models(send, org_id, record)
            return
        kind = {"chat/completions": "chat", "embeddings": "embedding"}.get(path)
        if kind is None or method != "POST":
            raise Refusal(404, f"Unknown route: {method} /ai/v1/{path}", "unknown_url")
        body = await _read_json(receive, headers)
        if (await self._organization(org_id, record["month"]))[3]:
            record["masked"] = _mask(body)
        alias = body.get("model")
        if not isinstance(alias, str) or not alias:
            raise Refusal(400, "Say which model: `model` is required", "missing_model",
                          param="model")
        candidates = (await self.routes()).get(alias, [])
        # a served alias is clean (registered under a pattern); another is kept as the
        # ledger's column can hold it: printable, 100 characters at most (a NUL byte or a
        # longer name would fail the whole batch on PostgreSQL, and every later one)
        record.update(alias=alias if candidates else
                      "".join(c for c in alias if c.isprintable())[:100],
                      kind=kind, stream=bool(body.get("stream")))
        if not candidates:
            raise Refusal(404, f"The model `{alias}` does not exist or is not served here; "
                          "GET /ai/v1/models lists those you may use", "model_not_found",
                          param="model")
        if candidates[0].kind != kind:
            raise Refusal(400, f"The model `{alias}` is a {candidates[0].kind} model, not for "
                          f"/ai/v1/{path}", "wrong_model_kind", param="model")
        if body.get("stream_options") is not None and not isinstance(body["stream_options"],
                                                                        dict):
            raise Refusal(400, "`stream_options` must be an object", "invalid_value",
                          param="stream_options")
        prompt = wire.estimate_tokens(body)
        answer_max = _answer_max(body)
        if prompt + answer_max > candidates[0].context:
            raise Refusal(400, f"This model's maximum context length is "
                          f"{candidates[0].context} tokens; the request needs about "
                          f"{prompt + answer_max} ({prompt} in the prompt, {answer_max} for "
                          "the answer)", "context_length_exceeded", param="messages")
        await self._check_credit(org_id, record["month"], prompt + answer_max)
        estimate = prompt + answer_max
        wait = self.tokens.take(org_id, estimate)
        if wait > 0:
            raise Refusal(429, f"Rate limit reached: your organization may use "
                          f"{self.tokens.per_minute} tokens a minute; try "
                          f"again in {max(1, round(wait))} s", "rate_limit_exceeded",
                          type_="tokens", retry_after=wait)
        # the estimate is held against the credit while the call runs, so calls in flight
        # see each other; the provider's count replaces it when the call is kept
        held = (org_id, record["month"])
        self._hold(held, estimate)
        try:
            await self._forward(send, receive, path, body, candidates, record, started, prompt)
        finally:
            self._hold(held, -estimate)
            self.tokens.settle(org_id, record["input_tokens"] + record["output_tokens"]
                               - estimate)

    def _hold(self, key: tuple[int, str], tokens: int) -> None:
        with self._lock:
            left = self.pending.get(key, 0) + tokens
            if left > 0:
                self.pending[key] = left
            else:
                self.pending.pop(key, None)

    # --- what needs the database (run in a thread) -------------------------------------------

    def _app_for(self, credential: str) -> tuple[int, int]:
        """The app and its organization."""
        with self.state.session_factory() as session:
            try:
                app = gateway.app_for_credential(session, credential,
                                                 self.state.signing_key)
            except Unauthenticated as refused:
                raise Refusal(401, "Incorrect API key: it is no app's key, or it was revoked "
                              "or has expired", "invalid_api_key") from refused
            return app.id, app.org_id

    async def _client(self, credential: str) -> tuple[int, int]:
        """The key's app and organization: from memory until the gateway's generation moves
        (every key revoked or expired anywhere moves it)."""
        lookups = self.state.gateway.lookups
        if not self._looked:                      # the first read may open a connection
            await asyncio.to_thread(lookups.fresh)
            self._looked = True
        else:                                     # the gateway's own check: one primary-key
            lookups.fresh()                       # read, or none while SQLite's bell is still
        if lookups.generation != self._keys_generation or len(self._keys) > 100_000:
            self._keys.clear()
            self._keys_generation = lookups.generation
        found = self._keys.get(credential)
        if found is None:
            found = await asyncio.to_thread(self._app_for, credential)
            self._keys[credential] = found
        return found

    def _read_organization(self, org_id: int, month: str) -> tuple[float, int, int, bool]:
        with self.state.session_factory() as session:
            return (time.monotonic(), budgets.granted(session, org_id, month),
                    budgets.used(session, org_id, month),
                    settings.masks_prompts(session, org_id))

    async def _organization(self, org_id: int, month: str) -> tuple[float, int, int, bool]:
        """(read at, granted, the ledger's sum, masks prompts), read at most every
        CREDIT_SECONDS; rows this process writes meanwhile are added as they are written."""
        key = (org_id, month)
        cached = self._credit.get(key)
        if cached is None or time.monotonic() - cached[0] > CREDIT_SECONDS:
            cached = await asyncio.to_thread(self._read_organization, org_id, month)
            with self._lock:
                self._credit[key] = cached
        return cached

    async def _check_credit(self, org_id: int, month: str, needed: int) -> None:
        """Granted − used must cover the estimate; what this process queued counts at once,
        other processes' calls within CREDIT_SECONDS."""
        _, granted, written, _ = await self._organization(org_id, month)
        used = written + self.pending.get((org_id, month), 0)
        if granted <= 0:
            raise Refusal(429, f"Your organization has no AI credit for {month}; the AI-support "
                          "programme or an operator grants it", "insufficient_quota")
        if used + needed > granted:
            raise Refusal(429, f"This call would go over your organization's AI credit: "
                          f"{max(0, granted - used)} of {granted} tokens left for {month}, "
                          f"about {needed} needed", "insufficient_quota")

    async def _models(self, send: Send, org_id: int, record: dict[str, Any]) -> None:
        """Every alias, when the organization has credit this month (else none)."""
        granted = (await self._organization(org_id, record["month"]))[1]
        routes = await self.routes() if granted > 0 else {}
        data = [{"id": alias, "object": "model", "created": 0, "owned_by": found[0].provider}
                for alias, found in sorted(routes.items())]
        record["unrecorded"] = True
        await _send_json(send, 200, {"object": "list", "data": data}, record["request_id"])

    # --- to the provider and back ------------------------------------------------------------

    async def _forward(self, send: Send, receive: Receive, path: str, body: dict[str, Any],
                       candidates: list[Candidate], record: dict[str, Any], started: float,
                       prompt: int) -> None:
        stream = bool(body.get("stream"))
        wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        last: Refusal | None = None
        for candidate in candidates:
            breaker = self.breakers.get(candidate.base_url)
            if not breaker.allow():
                last = Refusal(503, f"The provider of `{candidate.alias}` is failing; calls "
                               "pause for a moment", "provider_circuit_open")
                continue
            payload = {**body, "model": candidate.model}
            if stream:       # the hub counts every streamed call, whether the caller asks
                payload["stream_options"] = {**(body.get("stream_options") or {}),
                                             "include_usage": True}
            data = json.dumps(payload, ensure_ascii=False).encode()
            outgoing = [("content-type", "application/json"),
                        ("accept", "text/event-stream" if stream else "application/json"),
                        ("x-request-id", record["request_id"])]
            if candidate.secret:
                outgoing.append(("authorization", f"Bearer {candidate.secret}"))
            for attempt in range(RETRIES + 1):
                if attempt:
                    await asyncio.sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
                try:
                    answer = await self.pool.request(
                        "POST", f"{candidate.base_url}/{path}", outgoing, data,
                        timeout=self.state.settings.ai_timeout_seconds)
                except TimeoutError:
                    breaker.failure()      # a slow provider is not asked again: the next one
                    last = Refusal(504, f"The provider of `{candidate.alias}` did not answer "
                                   f"within {self.state.settings.ai_timeout_seconds:g} s",
                                   "provider_timeout")
                    break
                except (UpstreamError, OSError) as failed:
                    breaker.failure()
                    last = Refusal(502, f"The provider of `{candidate.alias}` could not be "
                                   f"reached ({type(failed).__name__})", "provider_unreachable")
                    continue
                if answer.status in RETRIED:
                    text = await _drain(answer)
                    if answer.status >= 500:
                        breaker.failure()
                    last = _provider_refusal(answer.status, text, candidate)
                    continue
                breaker.success()
                record.update(provider_id=candidate.provider_id, model=candidate.model)
                if answer.status >= 400:          # the provider's own refusal, as it said it
                    text = await _drain(answer)
                    raise _provider_refusal(answer.status, text, candidate)
                if stream:
                    await self._relay_stream(send, receive, answer, candidate, record,
                                             started, prompt, wants_usage)
                else:
                    await self._relay_whole(send, answer, candidate, record, started)
                return
        assert last is not None
        raise last

    async def _relay_whole(self, send: Send, answer: Answer, candidate: Candidate,
                           record: dict[str, Any], started: float) -> None:
        try:
            text = await _drain(answer)
        except (UpstreamError, TimeoutError) as failed:
            raise Refusal(502, f"The provider of `{candidate.alias}` broke off its answer "
                          f"({type(failed).__name__})", "provider_broken_answer") from None
        try:
            parsed = json.loads(text)
            if not isinstance(parsed, dict):
                raise ValueError
        except ValueError:
            raise Refusal(502, f"The provider of `{candidate.alias}` answered with something "
                          "that is not JSON", "provider_bad_answer") from None
        usage = parsed.get("usage") if isinstance(parsed.get("usage"), dict) else {}
        _count(record, candidate, usage)
        record["ttft_ms"] = round((time.perf_counter() - started) * 1000, 3)
        await _send_bytes(send, 200, b"application/json", text, record["request_id"])

    async def _relay_stream(self, send: Send, receive: Receive, answer: Answer,
                            candidate: Candidate, record: dict[str, Any], started: float,
                            prompt: int, wants_usage: bool) -> None:
        events = wire.Events()
        usage: dict[str, Any] | None = None
        pieces = 0
        gone: list[bool] = []

        def leave() -> None:            # the client went away: so does the provider's stream
            gone.append(True)
            answer.close()              # (the read waiting on it fails at once)

        watcher = asyncio.ensure_future(_watch_disconnect(receive, leave))
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"), (b"x-request-id", record["request_id"].encode()),
            (b"x-accel-buffering", b"no")]})
        try:
            more = True
            while more:
                # one plain wait per piece (a task and asyncio.wait per piece, racing the
                # client's disconnect, cost more CPU than relaying the piece)
                try:
                    chunk, more = await answer.read()
                except (UpstreamError, TimeoutError):
                    if gone:
                        raise _ClientGone() from None
                    raise
                if gone:
                    raise _ClientGone()
                out = []
                for payload in events.feed(chunk):
                    found = wire.usage_of(payload)
                    if found is not None and wire.is_usage_only(payload):
                        usage = found
                        if not wants_usage:
                            continue           # the hub asked for it; the caller did not
                    elif payload != b"[DONE]" and wire.has_text(payload):
                        if pieces == 0:
                            record["ttft_ms"] = round((time.perf_counter() - started) * 1000,
                                                      3)
                        pieces += 1
                    out.append(b"data: " + payload + b"\n\n")
                if out:
                    await send({"type": "http.response.body", "body": b"".join(out),
                                "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except _ClientGone:
            answer.close()                     # the provider's connection goes too
            record.update(status=499, outcome="client_gone", fault="client_disconnected")
        except (UpstreamError, TimeoutError) as failed:
            answer.close()
            record.update(status=502, outcome="provider_error", fault="provider_broken_stream")
            error = json.loads(wire.error_body(502, f"The provider of `{candidate.alias}` "
                                               f"broke off the stream "
                                               f"({type(failed).__name__})",
                                               "provider_broken_stream"))
            try:
                await send({"type": "http.response.body", "more_body": False,
                            "body": b"data: " + json.dumps(error).encode() + b"\n\n"})
            except OSError:
                pass
        finally:
            watcher.cancel()
            # what was used: the provider's own count, or (cut short) the prompt's estimate
            # and one token per piece sent
            _count(record, candidate, usage if usage is not None else
                   {"prompt_tokens": prompt, "completion_tokens": pieces})


# --- small parts ---------------------------------------------------------------------------


# full-width ASCII (U+FF01–FF5E) and the ideographic space, as their ASCII forms: "９００１０１－
# １２３４５６７" is a 주민등록번호 all the same, and a Korean keyboard's full-width mode types it
FULL_WIDTH = {**{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}


def _mask(body: dict[str, Any]) -> int:
    """Mask personal data in every text of the request, in place; how many were masked.

    Full-width characters are read as their ASCII forms first (and sent so). A message's
    text parts that follow one another are masked as one text (an identifier cut across two
    parts is still found) and sent as one part."""
    masked = 0

    def clean(text: str) -> str:
        nonlocal masked
        cleaned, counts = privacy.text.mask_text(text.translate(FULL_WIDTH))
        masked += sum(counts.values())
        return cleaned

    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = clean(content)
        elif isinstance(content, list):
            message["content"] = _mask_parts(content, clean)
    given = body.get("input")
    if isinstance(given, str):
        body["input"] = clean(given)
    elif isinstance(given, list):
        body["input"] = [clean(i) if isinstance(i, str) else i for i in given]
    return masked


def _mask_parts(parts: list[Any], clean: Callable[[str], str]) -> list[Any]:
    """Runs of text parts joined and masked as one; other parts (images, audio) kept."""
    out: list[Any] = []
    run: list[dict[str, Any]] = []

    def close_run() -> None:
        if run:
            out.append({**run[0], "text": clean("".join(part["text"] for part in run))})
            run.clear()

    for part in parts:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            run.append(part)
        else:
            close_run()
            out.append(part)
    close_run()
    return out


def _answer_max(body: dict[str, Any]) -> int:
    """The answer's most tokens the caller asks for (0: not said). Anything but a whole
    number is refused: a float or a string the provider might read as a number would
    otherwise escape the context and credit checks."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise Refusal(400, f"`{name}` must be an integer", "invalid_value", param=name)
        if value > 0:
            return value
    return 0


def _count(record: dict[str, Any], candidate: Candidate, usage: dict[str, Any]) -> None:
    given_in, given_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
    tokens_in = given_in if isinstance(given_in, int) and given_in >= 0 else 0
    tokens_out = given_out if isinstance(given_out, int) and given_out >= 0 else 0
    record.update(input_tokens=tokens_in, output_tokens=tokens_out,
                  cost_krw=candidate.cost(tokens_in, tokens_out))


def _provider_refusal(status: int, text: bytes, candidate: Candidate) -> Refusal:
    """The provider's error, in OpenAI's shape (its own message when it gave one)."""
    message, code = f"The provider of `{candidate.alias}` answered {status}", "provider_error"
    try:
        error = json.loads(text).get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or message)[:2000]
            code = str(error.get("code") or code)[:100]
    except (ValueError, AttributeError):
        pass
    if status == 429:
        return Refusal(429, message, code, type_="rate_limit_error")
    return Refusal(status if 400 <= status < 500 else 502, message, code)


async def _never() -> dict[str, Any]:
    """The hub's own calls have no client to go away."""
    await asyncio.Event().wait()
    return {"type": "http.disconnect"}


async def _drain(answer: Answer) -> bytes:
    parts, more = [], True
    while more:
        chunk, more = await answer.read()
        parts.append(chunk)
    return b"".join(parts)


async def _read_json(receive: Receive, headers: dict[str, str]) -> dict[str, Any]:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Refusal(413, f"The request is over {MAX_BODY >> 20} MiB", "request_too_large")
    parts, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(499, "The client went away", "client_disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise Refusal(413, f"The request is over {MAX_BODY >> 20} MiB",
                          "request_too_large")
        parts.append(chunk)
        more = message.get("more_body", False)
    try:
        body = json.loads(b"".join(parts))
    except (ValueError, RecursionError):         # RecursionError: nested too deep
        raise Refusal(400, "The request body is not JSON", "invalid_json") from None
    if not isinstance(body, dict):
        raise Refusal(400, "The request body must be a JSON object", "invalid_json")
    return body


async def _watch_disconnect(receive: Receive, leave: Callable[[], None]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            leave()
            return


async def _send_error(send: Send, refusal: Refusal, request_id: str) -> None:
    body = wire.error_body(refusal.status, refusal.message, refusal.code, refusal.param,
                           refusal.type_)
    extra = ([(b"retry-after", str(max(1, round(refusal.retry_after))).encode())]
             if refusal.retry_after is not None else [])
    try:
        await _send_bytes(send, refusal.status, b"application/json", body, request_id, extra)
    except OSError:
        pass                                  # the client is gone: nothing to tell


async def _send_json(send: Send, status: int, value: Any, request_id: str) -> None:
    await _send_bytes(send, status, b"application/json",
                      json.dumps(value, ensure_ascii=False).encode(), request_id)


async def _send_bytes(send: Send, status: int, media: bytes, body: bytes, request_id: str,
                      extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", media), (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
