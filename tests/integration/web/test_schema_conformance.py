"""The API answers as its schema says: OPTIONS and Allow name every method of a path, numbers
are refused where a date or a boolean is expected, errors are documented problem+json."""

from __future__ import annotations

import base64

import httpx
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


# The error answers in a standard's own shape: OAuth's token endpoint answers RFC 6749's
# `{"error": …}` (and, like every JSON route, a problem for a bearer credential that is not
# valid); the readiness probe's 503 carries its checks
OWN_SHAPES = {("post", "/oauth/token", "400"): ["application/json"],
              ("post", "/oauth/token", "401"): ["application/json", "application/problem+json"],
              ("get", "/api/v1/ready", "503"): ["application/json"]}


def test_error_answers_are_documented_as_problem_json(sqlite_hub: Hub) -> None:
    schema = sqlite_hub.client.get("/api/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status[0] in "45":
                    assert list(answer["content"]) == OWN_SHAPES.get(
                        (method, path, status), ["application/problem+json"]), \
                        (method, path, status)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in operation["responses"], (method, path)



def assert_documented(schema: dict, path: str, answer: httpx.Response) -> None:
    """The answer's status is documented for its operation, with its media type."""
    method = answer.request.method.lower()
    documented = schema["paths"][path][method]["responses"].get(str(answer.status_code))
    assert documented is not None, (method, path, answer.status_code)
    media = answer.headers["content-type"].split(";")[0]
    assert media in documented["content"], (method, path, answer.status_code, media)


def test_oauth_token_errors_are_documented_with_rfc_6749_body(sqlite_hub: Hub) -> None:
    client = sqlite_hub.client
    schema = client.get("/api/openapi.json").json()
    basic = {"Authorization": "Basic " + base64.b64encode(b"app-999:x").decode()}
    for form, headers, status, media in [
        ({"grant_type": "password"}, {}, 400, "application/json"),
        ({"grant_type": "client_credentials"}, basic, 401, "application/json"),
        # a bearer credential that is not valid is refused before the route, as on every
        # JSON route
        ({"grant_type": "client_credentials"}, {"Authorization": "Bearer dpg_not-a-token"},
         401, "application/problem+json"),
    ]:
        answer = client.post("/oauth/token", data=form, headers=headers)
        assert (answer.status_code, answer.headers["content-type"]) == (status, media)
        assert_documented(schema, "/oauth/token", answer)
    for status in ("400", "401"):
        own = schema["paths"]["/oauth/token"]["post"]["responses"][status]["content"]
        assert own["application/json"]["schema"] == {"$ref": "#/components/schemas/TokenError"}
    assert schema["components"]["schemas"]["TokenError"]["required"] == [
        "error", "error_description"]
    # the readiness probe's 503 (tests/integration/app/test_server.py makes one) is
    # documented with the body it answers
    assert schema["paths"]["/api/v1/ready"]["get"]["responses"]["503"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Ready"}}}


def test_text_and_rdf_answers_are_documented_as_answered(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    operator = hub.make_user(operator=True)
    hub.make_org("org1", admin=operator)
    schema = hub.client.get("/api/openapi.json").json()
    metrics = hub.client.get("/metrics", headers=hub.bearer(operator))
    assert metrics.status_code == 200
    assert_documented(schema, "/metrics", metrics)
    assert list(schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == [
        "text/plain"]
    for request, path, status in [
        ("/catalog.ttl", "/catalog.{fmt}", 200),
        ("/catalog.csv", "/catalog.{fmt}", 404),                     # no such format
        ("/dataset/org1/none.ttl", "/dataset/{org}/{name}.{fmt}", 404),  # no such dataset
        ("/dataset/org1/none.csv", "/dataset/{org}/{name}.{fmt}", 404),
    ]:
        answer = hub.client.get(request)
        assert answer.status_code == status, request
        assert_documented(schema, path, answer)
        assert "application/json" not in (
            schema["paths"][path]["get"]["responses"]["200"]["content"]), path
