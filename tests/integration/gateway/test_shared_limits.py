"""Limits that hold across hub processes (Redis), the Redis-down behaviour, and the operator's
network allow-list for upstreams."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
from pathlib import Path

import httpx
import redis
from sqlalchemy import select

from dpghub.config import Settings
from dpghub.core import audit
from dpghub.core.db import make_engine, make_session_factory, transaction
from dpghub.core.errors import Invalid
from dpghub.core.netcheck import NetworkPolicy
from dpghub.gateway.limits import MemoryLimits, RedisLimits
from dpghub.gateway.models import CallRecord
from tests.conftest import REDIS_URL, Hub, build_hub, unavailable
from tests.support.gateway import SPEC
from tests.support.loopback import LOOPBACK, free_port
from tests.support.server import DPGHUB, start
from tests.support.upstream import serve


def _redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        unavailable(f"Redis is not reachable at {REDIS_URL}")
    return client


def _provision(home: Path, upstream: str, quota: int) -> str:
    """Orgs, a service, an app with a production subscription (quota `quota`); its key."""
    from dpghub.catalog import schemas as catalog_schemas
    from dpghub.catalog import service as catalog
    from dpghub.gateway import schemas as gw_schemas
    from dpghub.gateway import service as gateway
    from dpghub.identity import schemas, service
    from dpghub.identity.policy import CLI

    environment = {**os.environ, "DPGHUB_HOME": str(home)}
    subprocess.run([DPGHUB, "init", "--admin-password", "operator-pass-1"], env=environment,
                   check=True, capture_output=True)
    settings = Settings(home=home).prepare()
    factory = make_session_factory(make_engine(settings.database_url or ""))
    with transaction(factory) as session:
        kasi = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="kasi", name_ko="한국천문연구원", name_en="KASI", kind="research"))
        catalog.register(session, actor=CLI, org=kasi, networks=NetworkPolicy(LOOPBACK),
                         data=catalog_schemas.ServiceCreate(
            slug="spcde", title_ko="특일 정보", upstream_url=upstream, openapi=SPEC))
        hanbit = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="hanbit", name_ko="한빛", name_en="Hanbit", kind="company"))
        app, key = gateway.create_app(session, actor=CLI, org=hanbit,
                                      data=gw_schemas.AppCreate(name="알리미"))
        sub = gateway.request_subscription(session, actor=CLI, app=app, data=gw_schemas.
                                           SubscriptionCreate(service="kasi/spcde",
                                                              plan="production", purpose="t"))
        gateway.decide(session, actor=CLI, sub=sub, verdict="approve",
                       data=gw_schemas.Decision(rate_per_second=10_000, daily_quota=quota))
    return key


def test_two_processes_share_one_quota_exactly(tmp_path: Path) -> None:
    client = _redis()
    for stale in client.scan_iter("dpghub:gw:*"):
        client.delete(stale)
    quota, calls = 7, 24
    with serve() as (upstream, _):
        key = _provision(tmp_path, upstream, quota)
        env = {"DPGHUB_REDIS_URL": REDIS_URL}
        first, second = start(tmp_path, **env), start(tmp_path, **env)
        bases = [next(first), next(second)]
        try:
            def call(i: int) -> int:
                url = bases[i % 2] + "/gw/kasi/spcde/getRestDeInfo"
                return httpx.get(url, headers={"X-API-Key": key}, timeout=10).status_code

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(call, range(calls)))
        finally:
            for server in (first, second):
                server.close()
    assert statuses.count(200) == quota
    assert statuses.count(429) == calls - quota
    # each hub wrote its calls through its own evidence writer process, and stopping the hubs
    # stored whatever was still queued: every call is on record and the chain verifies
    factory = make_session_factory(make_engine(Settings(home=tmp_path).prepare().database_url
                                               or ""))
    with factory() as session:
        records = list(session.scalars(select(CallRecord)))
        assert sorted(r.status for r in records) == sorted(statuses)
        assert audit.verify(session).ok


def test_redis_down_fails_closed_or_open_as_configured() -> None:
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.2,
                                socket_connect_timeout=0.2)
    closed = RedisLimits(dead, fail_open=False).check("s1", 5, 100)
    assert not closed.allowed and closed.reason == "unavailable"
    assert RedisLimits(dead, fail_open=True).check("s1", 5, 100).allowed


def test_gcra_allows_a_burst_of_one_second_then_paces() -> None:
    limits = MemoryLimits()
    now = 1_000_000.0
    assert [limits.check("s", 3, 100, now).allowed for _ in range(4)] == [True] * 3 + [False]
    refused = limits.check("s", 3, 100, now)
    assert 0 < refused.retry_after <= 1 / 3 + 1e-6
    assert limits.check("s", 3, 100, now + 1 / 3).allowed
    daily = MemoryLimits()
    assert [daily.check("q", 1000, 2, now + i).allowed for i in range(3)] == [True, True, False]


def test_upstreams_outside_the_allowed_networks_are_refused(hub: Hub) -> None:
    owner = hub.make_user()
    hub.make_org("kasi", admin=owner)
    auth = hub.bearer(owner)
    for url in ("http://10.1.2.3/api", "http://169.254.169.254/latest", "http://192.168.0.7"):
        answer = hub.client.post("/api/v1/orgs/kasi/services", headers=auth, json={
            "slug": "inside", "title_ko": "내부", "upstream_url": url, "openapi": SPEC})
        assert answer.status_code == 422, url
        assert answer.json()["code"] == "upstream_not_allowed"
        assert answer.json()["field"] == "upstream_url"
    assert hub.client.post("/api/v1/orgs/kasi/services", headers=auth, json={
        "slug": "loop", "title_ko": "루프백", "upstream_url": "http://127.0.0.1:9/x",
        "openapi": SPEC}).status_code == 201


def test_an_operator_can_keep_loopback_out(tmp_path: Path, sqlite_url: str) -> None:
    for hub in build_hub(tmp_path, sqlite_url, gateway_allowed_networks="public"):
        owner = hub.make_user()
        hub.make_org("kasi", admin=owner)
        answer = hub.client.post("/api/v1/orgs/kasi/services", headers=hub.bearer(owner), json={
            "slug": "loop", "title_ko": "루프백", "upstream_url": "http://127.0.0.1:9/x",
            "openapi": SPEC})
        assert answer.status_code == 422 and answer.json()["code"] == "upstream_not_allowed"
    from dpghub.core.netcheck import check_upstream

    try:
        check_upstream("http://no-such-host.invalid/x", NetworkPolicy("10.0.0.0/8"))
    except Invalid as error:
        assert error.code == "upstream_not_allowed"
    else:
        raise AssertionError("an unresolvable host passed a list without `public`")
