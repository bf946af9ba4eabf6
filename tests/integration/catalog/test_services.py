"""Registering services from real portal specs (Swagger 2.0 with quirks) and reading them."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import SHARED_DATA, Hub, unavailable

SPEC = SHARED_DATA / "kr" / "openapi_specs" / "15081808_nts-businessman_v1_swagger2.json"


@pytest.fixture
def nts() -> dict:
    if not SPEC.exists():
        unavailable(f"the data.go.kr Swagger spec is not at {SPEC}")
    return json.loads(SPEC.read_text(encoding="utf-8"))


def _register(hub: Hub, auth: dict, document: dict, slug: str = "nts-businessman",
              url: str = "https://api.odcloud.kr/api/nts-businessman/v1"):  # type: ignore[no-untyped-def]
    return hub.client.post("/api/v1/orgs/nts/services", headers=auth, json={
        "slug": slug, "title_ko": "사업자등록정보 진위확인 및 상태조회", "upstream_url": url,
        "openapi": document})


def test_swagger2_portal_spec_is_converted_and_listed(hub: Hub, nts: dict) -> None:
    owner = hub.make_user()
    hub.make_org("nts", admin=owner)
    auth = hub.bearer(owner)
    created = _register(hub, auth, nts)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["operations"] == 2
    assert body["servers"][0] == "https://api.odcloud.kr/api/nts-businessman/v1"
    ops = hub.client.get("/api/v1/services/nts/nts-businessman/operations").json()
    assert {(o["method"], o["path"]) for o in ops} == {("POST", "/status"),
                                                       ("POST", "/validate")}
    status = next(o for o in ops if o["path"] == "/status")
    assert "-5" not in status["responses"] and "200" in status["responses"]
    assert status["request_body"]["application/json"]["$ref"] == \
        "#/components/schemas/StatusApiRequest"
    assert "사업자" in status["summary"]
    document = hub.client.get("/api/v1/services/nts/nts-businessman/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["query_key"] == {
        "type": "apiKey", "name": "serviceKey", "in": "query"}
    assert hub.client.get("/api/v1/services").json()[0]["slug"] == "nts-businessman"


def test_host_with_a_path_and_empty_base_path(hub: Hub, nts: dict) -> None:
    owner = hub.make_user()
    hub.make_org("nts", admin=owner)
    quirky = dict(copy.deepcopy(nts), host="apis.data.go.kr/1230000/BidPublicInfoService",
                  basePath="", schemes=["https"])
    created = _register(hub, hub.bearer(owner), quirky, slug="quirky")
    assert created.json()["servers"] == ["https://apis.data.go.kr/1230000/BidPublicInfoService"]


@pytest.mark.parametrize(("change", "field", "where"), [
    (lambda d: d["info"].pop("version"), "openapi", "$.info"),
    (lambda d: d.update(swagger="1.2"), "openapi", "$"),
])
def test_invalid_documents_name_the_path(hub: Hub, nts: dict, change, field, where) -> None:  # type: ignore[no-untyped-def]
    owner = hub.make_user()
    hub.make_org("nts", admin=owner)
    broken = copy.deepcopy(nts)
    change(broken)
    answer = _register(hub, hub.bearer(owner), broken)
    assert answer.status_code == 422 and answer.json()["field"] == field
    assert where in answer.json()["detail"]


def test_bad_url_duplicate_and_permissions(hub: Hub, nts: dict) -> None:
    owner = hub.make_user()
    hub.make_org("nts", admin=owner)
    auth = hub.bearer(owner)
    bad = _register(hub, auth, nts, url="ftp://files.example.kr/")
    assert bad.status_code == 422 and bad.json()["field"] == "upstream_url"
    assert _register(hub, auth, nts).status_code == 201
    again = _register(hub, auth, nts)
    assert again.status_code == 409 and again.json()["field"] == "slug"
    outsider = _register(hub, hub.bearer(hub.make_user()), nts, slug="other")
    assert outsider.status_code == 403
    assert hub.client.get("/api/v1/services/nts/missing").status_code == 404


def test_a_fault_deep_in_a_swagger2_document(hub: Hub, nts: dict) -> None:
    owner = hub.make_user()
    hub.make_org("nts", admin=owner)
    broken = copy.deepcopy(nts)
    del broken["paths"]["/status"]["post"]["responses"]
    answer = _register(hub, hub.bearer(owner), broken)
    assert answer.status_code == 422
    assert "$.paths['/status'].post" in answer.json()["detail"]


def test_service_pages(hub: Hub, nts: dict) -> None:
    owner = hub.make_user()
    hub.make_org("nts", admin=owner)
    _register(hub, hub.bearer(owner), nts)
    listing = hub.client.get("/services", headers={"accept": "text/html"})
    assert listing.status_code == 200 and "사업자등록정보" in listing.text
    page = hub.client.get("/services/nts/nts-businessman", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "POST /status" in page.text and "POST /validate" in page.text
    assert "https://api.odcloud.kr/api/nts-businessman/v1" in page.text
