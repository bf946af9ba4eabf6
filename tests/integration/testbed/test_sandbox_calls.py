"""The mock of 국세청's business-status API through /sandbox/…, as a developer calls it with
a sandbox key: valid answers, a precise 400, the keys' walls, limits, the inspector."""

from __future__ import annotations

from datetime import timedelta

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from dpghub.catalog.openapi import normalize
from dpghub.core.db import utcnow
from tests.conftest import Hub
from tests.support.sandbox import Sandbox, make_testbed, nts_spec


@pytest.fixture
def world(hub: Hub) -> Sandbox:
    return make_testbed(hub)


def _judge(path: str, body: bytes, status: int, media: str) -> None:
    """openapi-core, independent of the mock, says the answer keeps the contract."""
    spec = OpenAPI.from_dict(normalize(nts_spec()))
    request = MockRequest("https://api.odcloud.kr", "post", f"/api/nts-businessman/v1{path}",
                          data=b'{"b_no": ["1234567890"]}', content_type="application/json")
    spec.validate_response(request, MockResponse(body, status_code=status, content_type=media))


def test_the_mock_answers_valid_business_statuses(world: Sandbox) -> None:
    answer = world.mock("/status", json={"b_no": ["1234567890", "2208162517"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-sandbox-mode"] == "mock"
    data = answer.json()
    assert data["status_code"] == "OK"
    assert isinstance(data["data"], list)
    _judge("/status", answer.content, 200, answer.headers["content-type"].split(";")[0])
    again = world.mock("/status", json={"b_no": ["1234567890", "2208162517"]})
    assert again.content == answer.content          # the same request, the same answer


def test_a_request_that_breaks_the_contract_gets_a_400_naming_the_field(world: Sandbox) -> None:
    answer = world.mock("/status", json={"numbers": ["1234567890"]})
    assert answer.status_code == 400
    body = answer.json()
    text = answer.text
    assert "b_no" in text and "required" in text
    assert body.get("code") == "request_invalid" or "response" in body


def test_prefer_asks_for_a_declared_status(world: Sandbox) -> None:
    answer = world.mock("/status", json={"b_no": ["1234567890"]}, headers={"Prefer": "code=404"})
    assert answer.status_code == 404


def test_an_unknown_path_and_method_are_told_apart(world: Sandbox) -> None:
    assert world.mock("/nothing", json={}).status_code == 404
    wrong = world.mock("/status", method="GET")
    assert wrong.status_code == 405
    assert "POST" in wrong.headers["allow"]


def test_keys_keep_to_their_side(world: Sandbox) -> None:
    hub = world.hub
    # an app's production key on the sandbox
    created = hub.client.post("/api/v1/orgs/startup/apps", headers=world.developer,
                              json={"name": "앱"})
    app_key = created.json()["key"]
    refused = world.mock("/status", key=app_key, json={"b_no": ["1"]})
    assert refused.status_code == 403
    assert refused.json()["code"] == "production_key_on_sandbox"
    # the sandbox key on the gateway
    through = hub.client.post("/gw/nts/nts-businessman/status",
                              headers={"X-API-Key": world.key}, json={"b_no": ["1"]})
    assert through.status_code == 403
    assert through.json()["code"] == "sandbox_key_on_gateway"
    # and on the JSON API outside its project's synthetic data
    rows = hub.client.get("/api/v1/datasets", headers={"X-API-Key": world.key})
    assert rows.status_code == 403
    assert rows.json()["code"] == "sandbox_key_outside_sandbox"
    assert world.mock("/status", key="dsk_nope", json={"b_no": ["1"]}).json()["code"] == \
        "sandbox_key_not_registered"
    assert world.mock("/status", key="", json={"b_no": ["1"]}).status_code == 401


def test_an_expired_project_stops_its_keys_and_keeps_its_data(world: Sandbox) -> None:
    world.hub.app.state.clock = lambda: utcnow() + timedelta(days=91)
    refused = world.mock("/status", json={"b_no": ["1234567890"]})
    assert refused.status_code == 401
    assert refused.json()["code"] == "project_expired"
    pid = world.project["id"]
    assert world.api("GET", f"/projects/{pid}").status_code == 200     # still there
    world.api("PATCH", f"/projects/{pid}", json={"extend_days": 30})
    assert world.mock("/status", json={"b_no": ["1234567890"]}).status_code == 200


def test_a_revoked_key_stops_at_once(world: Sandbox) -> None:
    pid = world.project["id"]
    keys = world.api("GET", f"/projects/{pid}/keys").json()
    assert world.mock("/status", json={"b_no": ["1"]}).status_code == 200
    world.api("DELETE", f"/projects/{pid}/keys/{keys[0]['id']}")
    refused = world.mock("/status", json={"b_no": ["1"]})
    assert refused.status_code == 401
    assert refused.json()["code"] == "sandbox_key_revoked"


def test_the_project_rate_limit_and_quota_apply(world: Sandbox) -> None:
    pid = world.project["id"]
    world.api("PATCH", f"/projects/{pid}", json={"daily_quota": 2})
    assert world.mock("/status", json={"b_no": ["1"]}).status_code == 200
    assert world.mock("/status", json={"b_no": ["1"]}).status_code == 200
    third = world.mock("/status", json={"b_no": ["1"]})
    assert third.status_code == 429
    assert third.json()["code"] == "daily_quota_exceeded"


def test_the_inspector_lists_calls_newest_first_with_their_verdict(world: Sandbox) -> None:
    world.mock("/status", json={"b_no": ["1234567890"]})
    world.mock("/status", json={"wrong": True})
    pid = world.project["id"]
    page = world.api("GET", f"/projects/{pid}/requests").json()
    items = page["items"]
    assert [i["status"] for i in items] == [400, 200]
    assert items[0]["valid"] is False and items[1]["valid"] is True
    assert any(v["field"].endswith("b_no") for v in items[0]["violations"])
    assert items[0]["operation"] == "POST /status"
    assert "serviceKey" not in items[0]["path"]
    only_bad = world.api("GET", f"/projects/{pid}/requests", params={"valid": "false"}).json()
    assert [i["status"] for i in only_bad["items"]] == [400]
    stranger = world.hub.bearer(world.hub.make_user())
    assert world.api("GET", f"/projects/{pid}/requests", who=stranger).status_code == 403


def test_an_answer_the_contract_gives_no_body_has_no_content_type(world: Sandbox) -> None:
    registered = world.hub.client.post("/api/v1/orgs/startup/services", headers=world.developer,
                                       json={"slug": "hello", "title_ko": "인사",
                                             "upstream_url": "http://127.0.0.1:9",
                                             "openapi": {"openapi": "3.0.3", "info": {
                                                 "title": "Hello", "version": "1"},
                                                 "paths": {"/hello.json": {"get": {
                                                     "responses": {"200": {
                                                         "description": "a greeting"}}}}}}})
    assert registered.status_code == 201
    answer = world.hub.client.get("/sandbox/startup/hello/hello.json",
                                  headers={"X-API-Key": world.key})
    assert answer.status_code == 200 and answer.content == b""
    assert "content-type" not in answer.headers
