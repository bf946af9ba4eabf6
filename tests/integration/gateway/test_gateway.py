"""The gateway end to end with a real upstream on loopback: apps and keys, the approval
workflow, data.go.kr-style calls, limits, timeouts, the circuit breaker and the evidence."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

import pytest
from sqlalchemy import delete, select, update

from dpghub.core import audit
from dpghub.core.audit import AuditEvent
from dpghub.gateway import lookups
from dpghub.gateway.breaker import Breakers
from dpghub.gateway.limits import KST, MemoryLimits
from dpghub.gateway.models import CallRecord
from tests.conftest import Hub, build_hub
from tests.support.gateway import SPEC, World, make_world
from tests.support.upstream import kasi_file, serve

NOON_KST = datetime(2026, 3, 2, 12, 0, tzinfo=KST).timestamp()


class Clock:
    """Time that moves only when the test moves it (for the limits and the breaker)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def world(hub: Hub) -> Iterator[World]:
    with serve() as (url, upstream):
        yield make_world(hub, url, upstream)


def test_no_subscription_no_call_then_development_access(world: World) -> None:
    refused = world.call()
    assert refused.status_code == 403
    assert refused.json()["code"] == "subscription_required"
    assert refused.headers["x-hub-request-id"]
    as_datagokr = world.call("/getRestDeInfo?solYear=2021", style="servicekey")
    assert as_datagokr.status_code == 403
    assert "<returnReasonCode>20</returnReasonCode>" in as_datagokr.text
    assert "SERVICE_ACCESS_DENIED_ERROR" in as_datagokr.text
    assert world.upstream.seen == []

    sub = world.subscribe()
    assert sub["status"] == "approved" and sub["daily_quota"] == 1000
    answer = world.call("/getRestDeInfo?solYear=2021&numOfRows=20", style="servicekey")
    assert answer.status_code == 200
    assert answer.content == kasi_file().read_bytes()
    assert float(answer.headers["x-hub-latency"]) >= 0
    assert answer.headers["ratelimit-limit"] == "1000"
    assert answer.headers["ratelimit-remaining"] == "999"
    seen = world.upstream.seen[-1]
    assert seen["query"] == {"solYear": ["2021"], "numOfRows": ["20"]}   # key removed
    assert seen["headers"]["x-hub-client"] == f"hanbit/{world.app['id']}"
    assert seen["headers"]["x-hub-request-id"] == answer.headers["x-hub-request-id"]
    assert "x-api-key" not in seen["headers"]


def test_keys_in_every_form_and_a_revoked_key(world: World) -> None:
    world.subscribe()
    doubly = quote(quote(world.key, safe=""), safe="")
    assert world.hub.client.get(f"/gw/kasi/spcde/getRestDeInfo?serviceKey={doubly}"
                                ).status_code == 200
    assert world.call(headers={"Authorization": f"Bearer {world.key}"}, style="none"
                      ).status_code == 200
    missing = world.call(style="none", headers={})
    assert missing.status_code == 401 and missing.json()["code"] == "key_missing"
    # rotate: a second key, then revoke the first; the first fails on the very next call
    second = world.hub.client.post(f"/api/v1/apps/{world.app['id']}/keys",
                                   headers=world.consumer, json={"name": "secondary"})
    assert second.status_code == 201
    third = world.hub.client.post(f"/api/v1/apps/{world.app['id']}/keys",
                                  headers=world.consumer, json={"name": "third"})
    assert third.status_code == 409 and third.json()["code"] == "too_many_keys"
    first_id = world.app["keys"][0]["id"]
    revoked = world.hub.client.delete(f"/api/v1/apps/{world.app['id']}/keys/{first_id}",
                                      headers=world.consumer)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    gone = world.call(style="servicekey")
    assert gone.status_code == 401
    assert "<returnReasonCode>30</returnReasonCode>" in gone.text
    assert world.call(key=second.json()["key"]).status_code == 200


def test_a_key_revoked_in_another_process_is_refused_on_the_next_call(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI, or a second hub process, revokes: this process's cached answer must not
    outlive it (with SQLite the bell beside the database says so; otherwise the state row)."""
    monkeypatch.setattr(lookups, "RECHECK_SECONDS", 3600.0)   # only the bell may tell
    world.subscribe()
    assert world.call().status_code == 200           # the key's lookup is cached now
    url = world.hub.engine.url.render_as_string(hide_password=False)
    revoke = f"""
from dpghub.core.db import make_engine, make_session_factory, transaction
from dpghub.gateway import service
from dpghub.identity.policy import CLI
engine = make_engine({url!r})
with transaction(make_session_factory(engine)) as session:
    app = service.get_app(session, actor=CLI, app_id={world.app['id']})
    service.revoke_key(session, actor=CLI, app=app, key_id={world.app['keys'][0]['id']})
"""
    subprocess.run([sys.executable, "-c", revoke], check=True, capture_output=True)
    gone = world.call()
    assert gone.status_code == 401 and gone.json()["code"] == "key_not_registered"


def test_production_approval_workflow(world: World) -> None:
    sub = world.subscribe("production")
    assert sub["status"] == "pending"
    assert world.call().status_code == 403
    # the consumer cannot approve their own request
    self_approval = world.hub.client.post(f"/api/v1/subscriptions/{sub['id']}/approve",
                                          headers=world.consumer, json={})
    assert self_approval.status_code == 403
    no_reason = world.decide(sub, "reject")
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    approved = world.decide(sub, "approve", rate_per_second=100, daily_quota=5000)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["daily_quota"] == 5000
    assert world.call().headers["ratelimit-limit"] == "5000"
    again = world.decide(sub, "approve")
    assert again.status_code == 409 and again.json()["code"] == "subscription_state"
    provider_view = world.hub.client.get("/api/v1/orgs/kasi/subscriptions/received",
                                         headers=world.provider).json()
    assert [(s["app"], s["status"]) for s in provider_view] == [("공휴일 알리미", "approved")]
    revoked = world.decide(sub, "revoke", reason="약관 위반")
    assert revoked.json()["status"] == "revoked" and revoked.json()["reason"] == "약관 위반"
    assert world.call().status_code == 403
    with world.hub.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert {"gateway.app.create", "gateway.subscription.request",
            "gateway.subscription.approve", "gateway.subscription.revoke"} <= set(actions)


def test_rate_limit_and_daily_quota_in_datagokr_codes(world: World) -> None:
    clock = Clock(NOON_KST)
    world.hub.app.state.limits = MemoryLimits(clock=clock)
    sub = world.subscribe("production")
    world.decide(sub, "approve", rate_per_second=1, daily_quota=3)
    assert world.call().status_code == 200
    limited = world.call("/getRestDeInfo?_type=json")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["response"]["header"]["resultCode"] == "23"
    clock.advance(0.9)
    assert world.call().status_code == 429          # one call a second: not yet
    clock.advance(0.1)
    assert world.call().status_code == 200
    clock.advance(1)
    assert world.call().status_code == 200
    clock.advance(1)
    spent = world.call("/getRestDeInfo?type=json")
    assert spent.status_code == 429
    assert spent.json()["response"]["header"] == {
        "resultCode": "22", "resultMsg": "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"}
    clock.advance(12 * 3600)                        # past midnight in Seoul: a new day's quota
    assert world.call().status_code == 200


def test_bodies_stream_both_ways_and_operations_are_named(world: World) -> None:
    world.subscribe()
    payload = "가나다" * 20_000
    answer = world.call("/echo/x", method="POST", content=payload.encode(),
                        headers={"Content-Type": "text/plain; charset=utf-8"})
    assert answer.status_code == 200 and answer.json()["body"] == payload
    world.hub.app.state.recorder.flush()
    with world.hub.session() as s:
        record = s.scalars(select(CallRecord).order_by(CallRecord.id.desc())).first()
    assert record.operation == "echo" and record.request_bytes == len(payload.encode())
    assert record.request_sha256 == hashlib.sha256(payload.encode()).hexdigest()
    assert record.response_sha256 == hashlib.sha256(answer.content).hexdigest()


def test_the_path_reaches_the_upstream_as_the_client_encoded_it(world: World) -> None:
    # "서울/강남" as one segment: its encoded slash must not become a path separator
    world.subscribe()
    answer = world.call("/echo/%EC%84%9C%EC%9A%B8%2F%EA%B0%95%EB%82%A8?q=%EA%B0%80+%EB%82%98")
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["raw_path"].endswith("/echo/%EC%84%9C%EC%9A%B8%2F%EA%B0%95%EB%82%A8")
    assert seen["query"] == {"q": ["가 나"]}


def test_a_query_in_euc_kr_reaches_the_upstream_byte_for_byte(world: World) -> None:
    # older Korean clients percent-encode EUC-KR; the hub must not re-encode those bytes
    world.subscribe()
    answer = world.call("/echo/x?q=%C7%D1%B1%DB&n=1", style="servicekey")
    assert answer.status_code == 200, answer.text
    assert world.upstream.seen[-1]["query_string"] == "q=%C7%D1%B1%DB&n=1"  # key removed


def call_as_server(world: World, method: str, path: str, *, query: bytes = b"",
                   headers: list[tuple[bytes, bytes]] | None = None,
                   messages: list[dict] | None = None) -> list[dict]:
    """The ASGI app called as a server would: it hands over `messages`, then says the client
    left. What the app sent back."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query, "root_path": "", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"hub"), (b"x-api-key", world.key.encode()),
                         *(headers or [])]}
    pending = list(messages or [])
    sent: list[dict] = []

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(world.hub.app(scope, receive, send))
    return sent


def last_record(world: World) -> CallRecord:
    world.hub.app.state.recorder.flush()
    with world.hub.session() as s:
        return s.scalars(select(CallRecord).order_by(CallRecord.id.desc())).first()


def test_a_client_gone_mid_upload_is_recorded_and_not_answered(world: World) -> None:
    # the client leaves after the first piece of a chunked upload
    world.subscribe()
    sent = call_as_server(world, "POST", "/gw/kasi/spcde/echo/x",
                          headers=[(b"transfer-encoding", b"chunked")],
                          messages=[{"type": "http.request", "body": "첫 조각".encode(),
                                     "more_body": True}])
    assert sent == []                                   # nobody left to answer
    record = last_record(world)
    assert (record.status, record.fault) == (499, "client_disconnected")
    assert record.request_bytes == len("첫 조각".encode())


def test_a_client_gone_before_its_body_never_reaches_the_upstream(world: World) -> None:
    # a declared body, but the server's first message is the client leaving
    world.subscribe()
    seen_before = len(world.upstream.seen)
    sent = call_as_server(world, "POST", "/gw/kasi/spcde/echo/x",
                          headers=[(b"content-length", b"100")])
    assert sent == []
    assert len(world.upstream.seen) == seen_before       # not an empty POST upstream
    record = last_record(world)
    assert (record.status, record.fault) == (499, "client_disconnected")


def test_a_client_gone_mid_answer_stops_the_download_and_is_recorded(world: World) -> None:
    # a long answer streams in pieces; the server says the client left after the first
    world.subscribe()
    sent = call_as_server(world, "GET", "/gw/kasi/spcde/drip", query=b"pieces=300")
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    pieces = [m for m in sent if m["type"] == "http.response.body"]
    assert pieces and all(m["more_body"] for m in pieces)    # never told it was complete
    assert sum(len(m["body"]) for m in pieces) < 300 * 1000   # and not sent the whole
    record = last_record(world)
    assert (record.status, record.fault) == (499, "client_disconnected")


def test_evidence_joins_the_audit_chain_and_tampering_is_caught(world: World) -> None:
    world.subscribe()
    answer = world.call()
    world.call(key="dpk_not-a-key")
    world.hub.app.state.recorder.flush()   # the writer may have taken some already
    with world.hub.session() as s:
        records = list(s.scalars(select(CallRecord).order_by(CallRecord.id)))
        assert [(r.status, r.outcome) for r in records] == [(200, "ok"), (401, "refused")]
        ok = records[0]
        assert ok.response_sha256 == hashlib.sha256(kasi_file().read_bytes()).hexdigest()
        assert ok.request_id == answer.headers["x-hub-request-id"]
        assert ok.operation == "getRestDeInfo" and ok.upstream_ms > 0
        assert audit.verify(s).ok
        batch = s.scalar(select(AuditEvent).where(AuditEvent.seq == ok.audit_seq))
        assert batch.action == "gateway.calls" and batch.details["count"] >= 1
        # someone edits a monitoring record afterwards: verify names the record and the batch
        s.execute(update(CallRecord).where(CallRecord.id == ok.id).values(status=404))
    with world.hub.session() as s:
        result = audit.verify(s)
        assert not result.ok and result.broken_seq == ok.audit_seq
        assert f"call record {ok.id}" in (result.reason or "")
        s.execute(update(CallRecord).where(CallRecord.id == ok.id).values(status=200))
    with world.hub.session() as s:
        assert audit.verify(s).ok
        s.execute(delete(CallRecord).where(CallRecord.id == records[1].id))
    with world.hub.session() as s:
        gone = audit.verify(s)
        assert not gone.ok and "missing" in (gone.reason or "")


@pytest.fixture
def slow_world(tmp_path, sqlite_url) -> Iterator[World]:  # type: ignore[no-untyped-def]
    for hub in build_hub(tmp_path, sqlite_url, gateway_timeout_seconds=1):
        with serve() as (url, upstream):
            yield make_world(hub, url, upstream)


def test_a_slow_upstream_is_code_05_within_the_timeout(slow_world: World) -> None:
    slow_world.subscribe()
    started = time.monotonic()
    answer = slow_world.call("/slow?seconds=3&_type=json")
    assert time.monotonic() - started < 2.5
    assert answer.status_code == 504
    assert answer.json()["response"]["header"]["resultCode"] == "05"


def test_the_circuit_breaker_opens_and_closes(world: World) -> None:
    sub = world.subscribe("production")   # high limits: the breaker acts, not the rate
    world.decide(sub, "approve", rate_per_second=1000, daily_quota=10_000)
    clock = Clock(1_000.0)
    world.hub.app.state.gateway.breakers = Breakers(threshold=5, cooldown=10, clock=clock)
    world.upstream.failing = True
    statuses = [world.call().status_code for _ in range(7)]
    assert statuses[:5] == [500] * 5 and statuses[5:] == [503, 503]
    assert world.call().json()["code"] == "upstream_circuit_open"
    calls_while_open = len(world.upstream.seen)
    clock.advance(9.9)
    assert world.call().status_code == 503          # still open: the upstream is spared
    clock.advance(0.1)
    assert world.call().status_code == 500          # the one probe fails: open again
    assert world.call().status_code == 503
    assert len(world.upstream.seen) == calls_while_open + 1
    world.upstream.failing = False
    clock.advance(10)
    assert world.call().status_code == 200          # the probe succeeds, the circuit closes
    assert world.call().status_code == 200
    assert len(world.upstream.seen) == calls_while_open + 3


def test_unknown_service_and_expired_key(world: World) -> None:
    missing = world.hub.client.get("/gw/kasi/nothing/x?serviceKey=abc")
    assert missing.status_code == 404 and "<returnReasonCode>12</returnReasonCode>" in missing.text
    expiring = world.hub.client.post(f"/api/v1/apps/{world.app['id']}/keys",
                                     headers=world.consumer,
                                     json={"name": "short", "expires_at": "2000-01-01T00:00:00Z"})
    assert expiring.status_code == 422 and expiring.json()["field"] == "expires_at"


def test_oauth_client_credentials_tokens(world: World) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from jwt import PyJWK

    from dpghub.core.security import load_signing_key

    world.subscribe()
    client_id = f"app-{world.app['id']}"
    client = world.hub.client
    wrong_grant = client.post("/oauth/token", data={"grant_type": "password",
                                                    "client_id": client_id,
                                                    "client_secret": world.key})
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    wrong_secret = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                     "client_id": client_id,
                                                     "client_secret": "dpk_wrong"})
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    issued = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, world.key))
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert issued.headers["cache-control"] == "no-store"
    token = body["access_token"]
    key = PyJWK(client.get("/.well-known/jwks.json").json()["keys"][0])
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], audience="dpghub-gateway")
    assert claims["app"] == world.app["id"] and claims["org"] == "hanbit"
    through = world.call(style="none", headers={"Authorization": f"Bearer {token}"})
    assert through.status_code == 200
    # an expired token (signed by the hub itself) is refused with data.go.kr's code 31
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5},
                         load_signing_key(world.hub.settings.home), algorithm="EdDSA")
    refused = world.call("/getRestDeInfo?_type=json", style="none",
                         headers={"Authorization": f"Bearer {expired}"})
    assert refused.status_code == 401
    assert refused.json()["response"]["header"]["resultCode"] == "31"
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA")
    assert world.call(style="none", headers={"Authorization": f"Bearer {forged}"}
                      ).status_code == 401
    # a token names its key: revoking the key ends the token at once, everywhere
    assert claims["key"] == world.app["keys"][0]["id"]
    client.delete(f"/api/v1/apps/{world.app['id']}/keys/{world.app['keys'][0]['id']}",
                  headers=world.consumer)
    after = world.call(style="none", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    rows = client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"})
    assert rows.status_code == 401
    # and gets no new token
    assert client.post("/oauth/token", data={"grant_type": "client_credentials",
                                             "client_id": client_id,
                                             "client_secret": world.key}).status_code == 401


def test_discovery_lists_what_exists_and_what_the_key_may_call(world: World) -> None:
    client = world.hub.client
    listed = client.get("/api/v1/discovery/services").json()
    assert [(s["org"], s["slug"]) for s in listed] == [("kasi", "spcde")]
    assert listed[0]["gateway_url"].endswith("/gw/kasi/spcde")
    assert client.get("/api/v1/discovery/allowed", headers={"X-API-Key": world.key}).json() == []
    world.subscribe()
    allowed = client.get(f"/api/v1/discovery/allowed?serviceKey={quote(world.key, safe='')}")
    assert [(a["slug"], a["plan"], a["daily_quota"]) for a in allowed.json()] == [
        ("spcde", "development", 1000)]
    unknown = client.get("/api/v1/discovery/allowed", headers={"X-API-Key": "dpk_nobody"})
    assert unknown.status_code == 401 and unknown.json()["code"] == "key_not_registered"
    document = client.get(listed[0]["openapi_url"]).json()
    assert document["servers"][0]["url"] == listed[0]["gateway_url"]
    assert document["components"]["securitySchemes"]["serviceKey"]["in"] == "query"
    assert "/getRestDeInfo" in document["paths"]


def test_usage_and_prometheus_metrics(world: World) -> None:
    world.subscribe()
    for _ in range(3):
        assert world.call().status_code == 200
    world.call(key="dpk_nobody")
    world.hub.app.state.recorder.flush()
    client = world.hub.client
    by_service = client.get("/api/v1/gateway/usage", params={"service": "kasi/spcde"},
                            headers=world.provider).json()
    assert by_service["calls"] == 4 and by_service["errors"] == 1
    assert by_service["p50_ms"] is not None and by_service["days"][0]["calls"] == 4
    by_app = client.get("/api/v1/gateway/usage", params={"app": world.app["id"]},
                        headers=world.consumer).json()
    assert by_app["calls"] == 3 and by_app["errors"] == 0
    # the consumer may not read the provider's figures, nor the provider the consumer's app
    assert client.get("/api/v1/gateway/usage", params={"service": "kasi/spcde"},
                      headers=world.consumer).status_code == 403
    assert client.get("/api/v1/gateway/usage", params={"app": world.app["id"]},
                      headers=world.provider).status_code == 403
    assert client.get("/metrics", headers=world.provider).status_code == 403
    operator = world.hub.make_user(operator=True)
    text = client.get("/metrics", headers=world.hub.bearer(operator)).text
    assert f'dpghub_gateway_calls_total{{app="{world.app["id"]}",outcome="ok",' \
           f'service="kasi/spcde",status="200"}} 3.0' in text
    assert "dpghub_gateway_hub_latency_ms_bucket" in text


def test_dataset_subscriptions_open_restricted_rows_to_the_app(world: World) -> None:
    from tests.support.lake import Lake

    hub = world.hub
    agency = Lake(hub)                     # org "molit", its admin, a restricted dataset
    agency.create("people", title_ko="주민 명부 (제한)", access="restricted")
    agency.ingest_ok("people", ("p.csv", "이름,동\n김,종로\n이,중구\n".encode("cp949")))
    agency.create("health", title_ko="진료 기록", access="sensitive")
    rows = "/api/v1/datasets/molit/people/rows"
    assert hub.client.get(rows, headers={"X-API-Key": world.key}).status_code == 403
    front = f"/openapi/molit/people?serviceKey={quote(world.key, safe='')}&type=json"
    assert hub.client.get(front).json()["response"]["header"]["resultCode"] == "20"
    asked = hub.client.post(f"/api/v1/apps/{world.app['id']}/subscriptions",
                            headers=world.consumer, json={
                                "dataset": "molit/people", "plan": "production",
                                "purpose": "전입 안내"})
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    assert hub.client.get(rows, headers={"X-API-Key": world.key}).status_code == 403
    approved = hub.client.post(f"/api/v1/subscriptions/{asked.json()['id']}/approve",
                               headers=agency.auth, json={})
    assert approved.status_code == 200, approved.text
    got = hub.client.get(rows, headers={"X-API-Key": world.key})
    assert got.status_code == 200 and [r["이름"] for r in got.json()["rows"]] == ["김", "이"]
    assert hub.client.get(front).json()["response"]["header"]["resultCode"] == "00"
    # the key is not a user: nothing that needs a signed-in person
    assert hub.client.get("/api/v1/me", headers={"X-API-Key": world.key}).status_code == 401
    sensitive = hub.client.post(f"/api/v1/apps/{world.app['id']}/subscriptions",
                                headers=world.consumer, json={
                                    "dataset": "molit/health", "plan": "production",
                                    "purpose": "x"})
    assert sensitive.status_code == 403 and sensitive.json()["code"] == "sensitive_dataset"


def test_per_service_timeout_and_body_limit(world: World) -> None:
    hub = world.hub
    upstream = hub.client.get("/api/v1/services/kasi/spcde").json()["upstream_url"]
    strict = hub.client.post("/api/v1/orgs/kasi/services", headers=world.provider, json={
        "slug": "strict", "title_ko": "엄격한 특일 정보", "upstream_url": upstream,
        "openapi": SPEC, "timeout_seconds": 1, "max_body_mb": 1})
    assert strict.status_code == 201 and strict.json()["timeout_seconds"] == 1
    assert hub.client.post(f"/api/v1/apps/{world.app['id']}/subscriptions",
                           headers=world.consumer, json={"service": "kasi/strict",
                                                         "purpose": "t"}).status_code == 201
    headers = {"X-API-Key": world.key}
    started = time.monotonic()
    slow = hub.client.get("/gw/kasi/strict/slow?seconds=3", headers=headers)
    assert slow.status_code == 504 and time.monotonic() - started < 2.5
    big = hub.client.post("/gw/kasi/strict/echo/x", headers=headers,
                          content=b"x" * (2 << 20))
    assert big.status_code == 413 and big.json()["code"] == "request_too_large"
    streamed = hub.client.post("/gw/kasi/strict/echo/x", headers=headers,   # chunked, no length
                               content=iter([b"x" * (1 << 20), b"x" * (1 << 20), b"x"]))
    assert streamed.status_code == 413
    small = hub.client.post("/gw/kasi/strict/echo/x", headers=headers, content=b"x" * 1000)
    assert small.status_code == 200


def test_headers_beyond_the_limits_are_refused_with_431_and_never_forwarded(
        world: World) -> None:
    """Under any ASGI server (the app called as a server calls it): 2,000 header fields, or
    one of 100 KB, get the gateway's own 431 and nothing reaches the upstream."""
    world.subscribe()
    before = len(world.upstream.seen)
    many = [(b"x-field-%d" % n, b"v") for n in range(2000)]
    large = [(b"x-large", b"a" * 100_000)]
    for extra, query in ((many, b""), (large, b""), (many, b"_type=json")):
        sent = call_as_server(world, "GET", "/gw/kasi/spcde/getRestDeInfo", query=query,
                              headers=extra)
        start, body = sent[0], json.loads(sent[1]["body"])
        assert start["status"] == 431
        if query:
            assert body["response"]["header"]["resultCode"] == "04"
        else:
            assert body["code"] == "request_headers_too_large"
    assert len(world.upstream.seen) == before
    record = last_record(world)
    assert (record.status, record.fault) == (431, "request_headers_too_large")
    # a hundred ordinary fields still go through
    ordinary = [(b"x-field-%d" % n, b"v" * 50) for n in range(90)]
    sent = call_as_server(world, "GET", "/gw/kasi/spcde/getRestDeInfo", headers=ordinary)
    assert sent[0]["status"] == 200
    assert world.upstream.seen[-1]["headers"]["x-field-89"] == "v" * 50


def test_a_persons_token_is_told_apart_from_an_unknown_key(world: World) -> None:
    """A person's access token names no app to account the call to: the gateway and the
    discovery API say which credential they need instead of calling it unregistered."""
    client = world.hub.client
    world.subscribe()
    token = world.consumer["Authorization"].split(" ", 1)[1]
    assert token.startswith("dpg_")
    for headers, params in (({"Authorization": f"Bearer {token}"}, {}),
                            ({"X-API-Key": token}, {})):
        refused = client.get("/gw/kasi/spcde/getRestDeInfo", headers=headers, params=params)
        assert refused.status_code == 401
        assert refused.json()["code"] == "personal_token_on_gateway"
        assert "앱의 API 키" in refused.text          # Korean first, as every refusal
    datagokr = client.get("/gw/kasi/spcde/getRestDeInfo", params={"serviceKey": token})
    assert datagokr.status_code == 401
    assert "<returnReasonCode>30</returnReasonCode>" in datagokr.text
    assert world.upstream.seen == []          # none of them reached the upstream
    allowed = client.get("/api/v1/discovery/allowed", headers=world.consumer)
    assert allowed.status_code == 401
    assert allowed.json()["code"] == "personal_token_on_gateway"
    # an app's key still passes
    assert client.get("/gw/kasi/spcde/getRestDeInfo",
                      headers={"X-API-Key": world.key}).status_code == 200
