"""The app factory: `create_app(settings)` wires routers, error handlers, templates, static files.

Nothing connects at import time; every app built gets its own engine, so tests build many.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from . import __version__
from .agile import api as agile_api
from .agile import pages as agile_pages
from .agile import service as agile_service
from .ai import api as ai_api
from .ai import api_support as ai_support_api
from .ai import pages as ai_pages
from .ai import pages_support as ai_support_pages
from .ai import pages_usage as ai_usage_pages
from .ai import service as ai_service
from .ai.proxy import PREFIX as AI_PREFIX
from .ai.proxy import AiGateway
from .analysis import api as analysis_api
from .analysis import pages as analysis_pages
from .analysis import service as analysis_service
from .analysis.workers import QueryPool
from .catalog import api as catalog_api
from .catalog import ckan, dcat_api
from .catalog import pages as catalog_pages
from .catalog import records as catalog_records
from .catalog.search import SEARCH_INFO, SearchIndex
from .config import Settings
from .core.audit import SIGNING_KEY_INFO
from .core.db import is_migrated, make_engine, make_session_factory, utcnow
from .core.jobs import JobRunner
from .core.netcheck import NetworkPolicy, Resolver, system_resolver
from .core.security import load_signing_key
from .core.usage import USAGE_INFO, UsageCounter
from .gateway import api as gateway_api
from .gateway import chain as gateway_chain
from .gateway import credentials as gateway_credentials
from .gateway import pages as gateway_pages
from .gateway import service as gateway_service
from .gateway.answers import GUARD_HEADERS
from .gateway.evidence import Recorder, WriterProcess
from .gateway.journal import root_of as journal_root
from .gateway.limits import MemoryLimits, RedisLimits
from .gateway.metrics import Metrics
from .gateway.proxy import PREFIX as GATEWAY_PREFIX
from .gateway.proxy import Gateway
from .identity import api as identity_api
from .identity import dependencies, policy
from .identity import pages as identity_pages
from .identity.dependencies import SignInFirst, checked_credentials
from .job_kinds import register_jobs
from .lake import api as lake_api
from .lake import datagokr, vocabulary
from .lake import pages as lake_pages
from .lake.storage import LakeStorage
from .privacy import api as privacy_api
from .privacy import pages as privacy_pages
from .privacy import service as privacy_service
from .programmes import api as programmes_api
from .programmes import pages as programmes_pages
from .programmes import service as programmes_service
from .testbed import api as testbed_api
from .testbed import api_work as testbed_work
from .testbed import pages as testbed_pages
from .testbed import service as testbed_service
from .testbed.sandbox import PREFIX as SANDBOX_PREFIX
from .testbed.sandbox import Sandbox
from .web import docs, errors, health, openapi
from .web.allow import Methods
from .web.headers import SecurityHeaders
from .web.problems import responses
from .web.templating import make_environment, redirect

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"

DESCRIPTION = """
DPG Hub (디지털플랫폼정부 허브) API.

Authenticate with a personal API token: `Authorization: Bearer dpg_…` (create one on the
portal's account page or with `dpghub token create`). Errors are `application/problem+json`
with a stable `code` and, for bad input, the `field` at fault. Messages follow
`Accept-Language` (Korean by default, English on request).
"""

log = logging.getLogger("dpghub")


class HubApp(FastAPI):
    """FastAPI, with the gateway's calls (/gw/…) taken before any framework layer: measured,
    the middleware stack alone cost a fifth of the gateway's throughput.

    With a gateway origin (`DPGHUB_GATEWAY_ORIGIN`) the two are kept apart by the Host a
    request names: /gw/… is answered only there, and nothing of the portal is (the request is
    sent to the same path on the portal); /gw/… asked of the portal is sent to the gateway's
    origin."""

    gateway_hosts: frozenset[bytes] | None = None   # Host values of the gateway's origin
    gateway_origin = ""
    portal = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            # the sandbox (/sandbox/…) answers like the gateway, on the gateway's side
            # and so does the AI gateway (/ai/v1/…): apps call it with their keys
            handler = (self.state.gateway if path.startswith(GATEWAY_PREFIX) else
                       self.state.sandbox if path.startswith(SANDBOX_PREFIX) else
                       self.state.ai if path.startswith(AI_PREFIX) else None)
            if self.gateway_hosts is None:
                if handler is not None:
                    await handler(scope, receive, send)
                    return
            elif _host(scope) in self.gateway_hosts:
                if handler is not None:
                    await handler(scope, receive, send)
                else:
                    await _elsewhere(scope, send, self.portal)
                return
            elif handler is not None:
                await _elsewhere(scope, send, self.gateway_origin)
                return
        await super().__call__(scope, receive, send)


def _host(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"host":
            return value.lower()
    return b""


def _hosts_of(origin: str) -> frozenset[bytes]:
    """The Host values naming an origin: with and without its scheme's default port."""
    parts = urlsplit(origin)
    default = 443 if parts.scheme == "https" else 80
    host = parts.netloc.rsplit("@", 1)[-1].lower()
    bare = host if parts.port is None else host.rpartition(":")[0]
    if not bare.isascii():
        bare = bare.encode("idna").decode("ascii")
    port = parts.port or default
    found = {f"{bare}:{port}"}
    if port == default:
        found.add(bare)
    return frozenset(item.encode("ascii") for item in found)


async def _elsewhere(scope: Scope, send: Send, origin: str) -> None:
    """A request on the wrong side of the gateway/portal split goes to the same path on the
    right origin (308: the method and body are kept, so API clients simply follow it)."""
    raw = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    target = origin.encode() + raw + (b"?" + query if query else b"")
    await send({"type": "http.response.start", "status": 308, "headers": [
        (b"location", target), (b"content-length", b"0"), *GUARD_HEADERS]})
    await send({"type": "http.response.body", "body": b""})


def register_hooks() -> None:
    """Where a lower domain must follow a rule of a higher one, the higher one says so here
    (once per process; registering again changes nothing)."""
    analysis_service.register_hooks()      # derived datasets follow their inputs' access
    # an app's key or OAuth token is the gateway's; identity's dependencies ask it
    dependencies.register_scheme(gateway_credentials.is_app_credential, _app_actor)
    gateway_chain.register_checks()        # audit verify checks the call records' events
    # a sandbox key on the JSON API reads its project's synthetic data, and nothing else
    dependencies.register_scheme(testbed_service.calls.is_sandbox_key, _sandbox_actor)
    catalog_records.add_source(testbed_service.support.FAQ_SOURCE)  # the FAQ is searchable
    privacy_service.register_hooks()       # personal data: scanned, never published open
    # an agile project's CI token sends its project's deployments and incidents, nothing else
    dependencies.register_scheme(agile_service.tokens.is_project_token, _ci_actor)
    catalog_pages.add_service_panel(agile_pages.feedback_panel)  # feedback on service pages
    # the programme dashboard counts sandbox projects, validations, agile's releases and
    # answered feedback per month
    programmes_service.dashboard.add_provider(testbed_service.figures.monthly_figures)
    programmes_service.dashboard.add_provider(agile_service.figures.monthly_figures)
    programmes_service.dashboard.add_provider(ai_service.ledger.monthly_figures)  # AI tokens


def _app_actor(session: Any, credential: str, request: Any) -> Any:
    """An app's key or token as an actor outside the gateway (the rows API, data.go.kr)."""
    return gateway_service.actor_for_credential(session, credential,
                                                request.app.state.signing_key)


def _ci_actor(session: Any, credential: str, request: Any) -> Any:
    return agile_service.tokens.actor_for(session, credential, request.url.path)


def _sandbox_actor(session: Any, credential: str, request: Any) -> Any:
    return testbed_service.calls.actor_for_key(session, credential, request.url.path,
                                               request.app.state.clock())


def create_app(settings: Settings | None = None, *,
               resolver: Resolver | None = None) -> FastAPI:
    """`resolver`: how upstream host names are looked up (the machine's DNS when absent;
    tests give their own)."""
    settings = (settings or Settings()).prepare()
    register_hooks()
    register_jobs()   # the hub's own job threads run every kind
    engine = make_engine(settings.database_url or "")
    signing_key = load_signing_key(settings.home)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not is_migrated(engine):
            raise RuntimeError("The database is not initialised: run `dpghub init` first")
        runner = None
        if settings.job_workers:
            runner = JobRunner(app.state.session_factory, workers=settings.job_workers,
                               extras={"settings": settings, "storage": app.state.storage},
                               stale_after=timedelta(seconds=settings.job_stale_seconds))
            runner.start()
        app.state.job_runner = runner
        flusher = asyncio.create_task(_flush_usage(app))
        watcher = (asyncio.create_task(_watch_errors(app, settings.agile_watch_seconds))
                   if settings.agile_watch_seconds else None)
        ledger = asyncio.create_task(_flush_ai_ledger(app))
        app.state.recorder.start()
        app.state.queries.start()
        yield
        app.state.queries.stop()
        app.state.sandbox.inspector.flush()
        flusher.cancel()
        if watcher is not None:
            watcher.cancel()
        ledger.cancel()
        await app.state.ai.close()
        await app.state.gateway.close()
        app.state.recorder.stop()
        if runner is not None:
            runner.stop()
        app.state.usage.flush(app.state.session_factory)
        app.state.ai.flush()
        engine.dispose()

    app = HubApp(
        title="DPG Hub",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = utcnow          # the time rules that wait see (tests set their own)
    app.state.agile_feedback_limiter = agile_service.limits.feedback_limiter(
        lambda: app.state.clock())
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.usage = UsageCounter()
    app.state.search = SearchIndex(semantic=settings.search_semantic)
    app.state.session_factory.configure(info={SIGNING_KEY_INFO: signing_key,
                                              USAGE_INFO: app.state.usage,
                                              SEARCH_INFO: app.state.search})
    app.state.signing_key = signing_key
    app.state.templates = make_environment(can=policy.can, anonymous=policy.ANONYMOUS,
                                           vocabulary=vocabulary)
    app.state.redis = _redis(settings.redis_url)
    app.state.storage = LakeStorage.from_settings(settings)
    app.state.limits = (RedisLimits(app.state.redis, fail_open=settings.gateway_fail_open)
                        if app.state.redis is not None else MemoryLimits())
    app.state.recorder = Recorder(
        app.state.session_factory, root=journal_root(settings.home),
        sync=settings.gateway_journal_sync, process=WriterProcess(
            settings.database_url or "", settings.home) if settings.gateway_evidence_process
        else None)
    app.state.metrics = Metrics()
    app.state.networks = NetworkPolicy(settings.gateway_allowed_networks,
                                       resolver or system_resolver)
    app.state.gateway = Gateway(app.state)
    app.state.sandbox = Sandbox(app.state)
    app.state.ai = AiGateway(app.state)
    app.state.ai_assist_limits = ai_service.assist.limits(lambda: app.state.clock())
    app.state.queries = QueryPool(settings)   # SQL runs in its worker processes
    if settings.gateway_origin is not None:
        app.gateway_hosts = _hosts_of(settings.gateway_origin)
        app.gateway_origin = settings.gateway_origin
        app.portal = settings.base_url.rstrip("/")
    app.state.templates.globals["gateway_origin"] = settings.gateway_origin
    app.state.job_runner = None

    errors.install(app)
    app.add_exception_handler(SignInFirst, _sign_in_first)
    openapi.install(app)
    # FastAPI tries routers in order at ≈ 8 µs a route: the JSON API first, the busiest of it
    # leading (a query waited ≈ 0.8 ms behind the page routers), pages after
    # the JSON routers refuse a credential that is sent but not valid; the compatibility
    # fronts (data.go.kr, CKAN) check theirs and answer in their own shapes
    checked = [Depends(checked_credentials)]
    for router, guards in (
            (health.router, checked), (analysis_api.router, checked),
            (lake_api.router, checked), (catalog_api.router, checked),
            (gateway_api.router, checked), (testbed_api.router, checked),
            (testbed_work.router, checked), (privacy_api.router, checked),
            (programmes_api.router, checked), (agile_api.router, checked),
            (ai_api.router, checked), (ai_support_api.router, checked),
            (identity_api.router, checked),
            (datagokr.router, []), (gateway_api.public, checked), (ckan.router, []),
            (dcat_api.router, checked), (identity_pages.router, []), (lake_pages.router, []),
            (gateway_pages.router, []), (catalog_pages.router, []),
            (analysis_pages.router, []), (testbed_pages.router, []),
            (privacy_pages.router, []), (programmes_pages.router, []),
            (agile_pages.router, []), (ai_pages.router, []),
            (ai_support_pages.router, []), (ai_usage_pages.router, [])):
        app.include_router(router, dependencies=guards,
                           responses=responses(401) if guards else None)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.mount("/api/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    app.add_middleware(Methods, routed=app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestIdMiddleware)
    return app


def _sign_in_first(request: Any, exc: Exception) -> Any:
    """A page for signed-in people, asked by someone who is not: sign in, then come back."""
    assert isinstance(exc, SignInFirst)
    return redirect(request, "/signin?next=" + quote(exc.target, safe="/"))


def serve_app(settings: Settings | None = None) -> FastAPI:
    """The app as `dpghub serve` runs it: built, then the garbage collector told to leave
    the startup heap alone. Everything loaded at startup (libraries, the search model, the
    routes) lives as long as the process; without this, each full collection walked it
    again — measured, a sixth of the gateway's time per call."""
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)   # fewer young collections of short-lived call objects
    return app


async def _flush_usage(app: FastAPI, every: float = 10.0) -> None:
    """Adds this process's counted uses to the database every few seconds."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(app.state.usage.flush, app.state.session_factory)
        except Exception:  # noqa: BLE001 — the database may be busy; the counts are kept
            continue


async def _flush_ai_ledger(app: FastAPI, every: float = 0.5) -> None:
    """Writes the AI gateway's ledger rows in batches, off the calls' path."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(app.state.ai.flush)
        except Exception:  # noqa: BLE001 — a busy database: the rows wait for the next round
            log.warning("the AI ledger could not be written; it tries again", exc_info=True)


async def _watch_errors(app: FastAPI, every: float) -> None:
    """Opens and resolves agile incidents from the gateway's error rate (agile's watch)."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(watch_once, app)
        except Exception:  # noqa: BLE001 — a busy database: the next look sees the same calls
            log.warning("the agile error watch failed; it looks again", exc_info=True)


def watch_once(app: FastAPI) -> list[Any]:
    """One look of the error watch, in its own transaction, at the app's clock."""
    with app.state.session_factory() as session, session.begin():
        return agile_service.watch.check(session, now=app.state.clock())


def _redis(url: str | None):  # type: ignore[no-untyped-def]
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class RequestIdMiddleware:
    """Gives every request an id (`X-Request-Id`, kept when the caller sent a sane one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() and \
            incoming.replace("-", "").isalnum() else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"server-timing",
                                f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
