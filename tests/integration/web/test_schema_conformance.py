"""The API answers as its schema says: OPTIONS and Allow name every method of a path, numbers
are refused where a date or a boolean is expected, errors are documented problem+json."""

from __future__ import annotations

import pytest

from tests.conftest import Hub


@pytest.mark.parametrize(("path", "methods"), [
    ("/api/v1/orgs", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/api/v1/datasets/org1/data", {"GET", "HEAD", "PATCH", "OPTIONS"}),
    ("/api/v1/health", {"GET", "HEAD", "OPTIONS"}),
    ("/datasets", {"GET", "HEAD", "OPTIONS"}),
])
def test_options_and_allow_name_every_method_of_a_path(sqlite_hub: Hub, path: str,
                                                      methods: set[str]) -> None:
    options = sqlite_hub.client.options(path)
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == methods
    refused = sqlite_hub.client.put(path, json={})
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == methods
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert sqlite_hub.client.options("/api/v1/no-such-thing").status_code == 404
    head = sqlite_hub.client.head(path)
    got = sqlite_hub.client.get(path)
    assert head.status_code == got.status_code and head.content == b""


def test_numbers_are_no_dates_or_booleans(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    operator = hub.make_user(operator=True)
    hub.make_org("org1", admin=operator)
    auth = hub.bearer(operator)
    made = hub.client.post("/api/v1/orgs/org1/datasets", headers=auth,
                           json={"slug": "data", "title_ko": "자료", "temporal_start": 0})
    assert made.status_code == 422 and made.json()["field"] == "temporal_start"
    assert "2026-01-31" in made.json()["detail"]
    made = hub.client.post("/api/v1/orgs/org1/datasets", headers=auth,
                           json={"slug": "data", "title_ko": "자료",
                                 "temporal_start": "2020-01-01"})
    assert made.status_code == 201 and made.json()["temporal_start"] == "2020-01-01"
    patched = hub.client.patch("/api/v1/datasets/org1/data", headers=auth,
                               json={"temporal_end": 1700000000})
    assert patched.status_code == 422 and patched.json()["field"] == "temporal_end"
    verified = hub.client.post("/api/v1/orgs/org1/verify", headers=auth, json={"verified": 0})
    assert verified.status_code == 422 and verified.json()["field"] == "verified"
    assert hub.client.post("/api/v1/orgs/org1/verify", headers=auth,
                           json={"verified": True}).json()["verified"] is True
    app = hub.client.post("/api/v1/orgs/org1/apps", headers=auth, json={"name": "앱"}).json()
    key = hub.client.post(f"/api/v1/apps/{app['id']}/keys", headers=auth,
                          json={"name": "second", "expires_at": 4102444800})
    assert key.status_code == 422 and key.json()["field"] == "expires_at"


def test_error_answers_are_documented_as_problem_json(sqlite_hub: Hub) -> None:
    schema = sqlite_hub.client.get("/api/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status[0] in "45":
                    assert list(answer["content"]) == ["application/problem+json"], \
                        (method, path, status)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in operation["responses"], (method, path)
