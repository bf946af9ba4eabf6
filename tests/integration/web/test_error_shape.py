"""One error shape per front, pinned: what a client of each relies on when a call fails.

The hub's API answers problem+json (RFC 9457) and its pages an HTML error page; the CKAN front
answers CKAN's `{success: false, error: {__type, message}}` envelope; the OAuth token endpoint
RFC 6749's `{error, error_description}`; the gateway problem+json, or data.go.kr's envelope
when the caller speaks data.go.kr; the lake's data.go.kr front the portal's envelope, with
HTTP 200 as the portal does. Every expected value is spelled out here, not read from the code,
so a change to any shape fails this file first.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dpghub.core import errors
from dpghub.core.errors import HubError
from tests.conftest import Hub
from tests.support.gateway import World, open_world
from tests.support.identity import csrf_of
from tests.support.lake import Lake
from tests.support.upstream import serve

PROBLEM = "application/problem+json"
HTML = "text/html; charset=utf-8"
RID = "errshape-0001"
EN = {"X-Request-Id": RID, "Accept-Language": "en"}
PAGE = {**EN, "accept": "text/html"}
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
}

# every error class of the kernel: status, code and English title a client sees
KERNEL = [
    (HubError, 400, "bad_request", "Bad request"),
    (errors.Invalid, 422, "invalid", "The input is not valid"),
    (errors.Unauthenticated, 401, "unauthenticated", "Sign-in or a valid token is required"),
    (errors.Forbidden, 403, "forbidden", "You are not allowed to do this"),
    (errors.NotFound, 404, "not_found", "Not found"),
    (errors.Conflict, 409, "conflict", "This conflicts with what is already stored"),
    (errors.TooLarge, 413, "too_large", "The request is too large"),
    (errors.TooManyRequests, 429, "too_many_requests", "Too many requests"),
    (errors.Unavailable, 503, "unavailable", "A service the hub needs is not available"),
]


def problem(status: int, code: str, title: str, detail: str, instance: str,
            **more: object) -> dict[str, object]:
    return {"type": f"urn:dpghub:problem:{code}", "title": title, "status": status,
            "detail": detail, "code": code, "instance": instance, **more, "request_id": RID}


def main_of(page: str) -> str:
    """The page's <main> element: what the error page says, without the site's frame."""
    found = re.search(r"<main id=\"main\">\n(.*?)\n</main>", page, re.S)
    assert found, page
    return found.group(1)


def error_page(status: int, detail: str, code: str, extra: str = "") -> str:
    return (f'<h1>{status}</h1>\n<p class="error" role="alert">{detail}</p>\n'
            f"<p><small>Error code: <code>{code}</code></small></p>\n{extra}"
            '<p><a href="/">Back to the home page</a></p>')


# --- the hub's own API and pages ------------------------------------------------------------


@pytest.fixture
def faulty(sqlite_hub: Hub) -> TestClient:
    """The hub with two routes that raise the named error (or, for `Unexpected`, a plain
    RuntimeError): one under /api/, one for pages. Its client answers a 500 rather than
    re-raising it, as a real server does."""

    def fault(name: str) -> None:
        if name == "Unexpected":
            raise RuntimeError("internal detail that must not leak")
        raise {cls.__name__: cls for cls, *_ in KERNEL}[name]()

    sqlite_hub.app.add_api_route("/api/v1/test-faults/{name}", fault)
    sqlite_hub.app.add_api_route("/test-faults/{name}", fault)
    return TestClient(sqlite_hub.app, raise_server_exceptions=False)


def test_every_error_class_of_the_kernel_is_pinned_here() -> None:
    declared = {value for value in vars(errors).values()
                if isinstance(value, type) and issubclass(value, HubError)}
    assert declared == {cls for cls, *_ in KERNEL}


@pytest.mark.parametrize(("cls", "status", "code", "title"), KERNEL,
                         ids=[cls.__name__ for cls, *_ in KERNEL])
def test_hub_errors_through_the_api_are_problem_json(faulty: TestClient, cls: type, status: int,
                                                     code: str, title: str) -> None:
    path = f"/api/v1/test-faults/{cls.__name__}"
    for headers in (EN, PAGE):           # under /api/ even a browser gets problem+json
        answer = faulty.get(path, headers=headers)
        assert answer.status_code == status
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers["x-request-id"] == RID
        assert answer.json() == problem(status, code, title, title, path)


@pytest.mark.parametrize(("cls", "status", "code", "title"), KERNEL,
                         ids=[cls.__name__ for cls, *_ in KERNEL])
def test_hub_errors_on_a_page_are_the_error_page(faulty: TestClient, cls: type, status: int,
                                                 code: str, title: str) -> None:
    path = f"/test-faults/{cls.__name__}"
    answer = faulty.get(path, headers=PAGE)
    assert answer.status_code == status
    assert answer.headers["content-type"] == HTML
    assert answer.headers["x-request-id"] == RID
    sign_in = f'<p><a href="/signin?next={path}">Sign in</a></p>' if status == 401 else ""
    assert main_of(answer.text) == error_page(status, title, code, sign_in)
    # the same route, asked by a client that does not ask for HTML, answers problem+json
    plain = faulty.get(path, headers=EN)
    assert plain.headers["content-type"] == PROBLEM
    assert plain.json() == problem(status, code, title, title, path)


def test_an_unexpected_error_is_a_500_with_the_request_id_and_no_internals(
        faulty: TestClient) -> None:
    detail = "Something went wrong on the hub; the error was logged with the request id"
    path = "/api/v1/test-faults/Unexpected"
    answer = faulty.get(path, headers=EN)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json() == problem(500, "internal_error", "Internal error", detail, path)
    assert answer.headers["x-request-id"] == RID
    assert {name: answer.headers.get(name) for name in SECURITY} == SECURITY
    page = faulty.get("/test-faults/Unexpected", headers=PAGE)
    assert page.status_code == 500
    assert page.headers["content-type"] == HTML
    assert page.headers["x-request-id"] == RID
    assert {name: page.headers.get(name) for name in SECURITY} == SECURITY
    assert main_of(page.text) == error_page(500, detail, "internal_error")
    assert "internal detail" not in answer.text + page.text


def test_real_routes_answer_the_same_shape(sqlite_hub: Hub) -> None:
    client = sqlite_hub.client
    me = client.get("/api/v1/me", headers=EN)
    assert (me.status_code, me.headers["content-type"]) == (401, PROBLEM)
    assert me.json() == problem(401, "unauthenticated", "Sign-in or a valid token is required",
                                "Sign-in or a valid token is required", "/api/v1/me")

    missing = client.get("/api/v1/datasets/nope/nope", headers=EN)
    assert missing.status_code == 404
    assert missing.json() == problem(404, "dataset_not_found", "Not found",
                                     "Dataset nope/nope does not exist",
                                     "/api/v1/datasets/nope/nope")
    page = client.get("/datasets/nope/nope", headers=PAGE)
    assert (page.status_code, page.headers["content-type"]) == (404, HTML)
    assert main_of(page.text) == error_page(404, "Dataset nope/nope does not exist",
                                            "dataset_not_found")

    no_route = client.get("/api/v1/nothing-here", headers=EN)
    assert no_route.status_code == 404
    assert no_route.json() == problem(404, "not_found", "Not found", "Not found",
                                      "/api/v1/nothing-here")
    wrong_method = client.delete("/api/v1/health", headers=EN)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, HEAD, OPTIONS"
    assert wrong_method.json() == problem(405, "method_not_allowed", "Method not allowed",
                                          "Method not allowed", "/api/v1/health")

    # input the schema refuses: the first field at fault, and every one in `errors`
    sort = client.get("/api/v1/search", params={"sort": "nope"}, headers=EN)
    message = "Input should be 'relevance', 'newest' or 'most_used'"
    assert sort.status_code == 422
    assert sort.json() == problem(422, "invalid", "The input is not valid",
                                  f"sort: {message}", "/api/v1/search", field="sort",
                                  errors=[{"field": "sort", "message": message}])

    # a service's own code and field, in the caller's language (this user's is Korean)
    owner = sqlite_hub.make_user(language="ko")
    sqlite_hub.make_org("mois", admin=owner)
    taken = client.post("/api/v1/orgs", headers={**EN, **sqlite_hub.bearer(owner)}, json={
        "slug": "mois", "name_ko": "행정안전부", "name_en": "MOIS", "kind": "public"})
    assert taken.status_code == 409
    assert taken.json() == problem(409, "slug_taken", "이미 저장된 내용과 충돌합니다",
                                   "식별자 mois은(는) 이미 사용 중입니다", "/api/v1/orgs",
                                   field="slug")


def test_a_form_shows_its_error_above_the_form_with_the_status(sqlite_hub: Hub) -> None:
    browser = sqlite_hub.browser()
    token = csrf_of(browser.get("/signup", headers=EN).text)
    answer = browser.post("/signup", headers=PAGE, data={
        "email": "a@example.com", "display_name": "A", "password": "correct-horse-battery",
        "password2": "another-horse-battery", "csrf_token": token})
    assert (answer.status_code, answer.headers["content-type"]) == (400, HTML)
    assert main_of(answer.text).startswith(
        '<p class="error" role="alert" id="form-error">The two passwords differ</p>'
        "<h1>Sign up</h1>")


# --- the CKAN front -------------------------------------------------------------------------


def ckan_failure(action: str, error: dict[str, object]) -> dict[str, object]:
    return {"help": f"http://testserver/api/3/action/help_show?name={action}",
            "success": False, "error": error}


@pytest.mark.parametrize(("action", "params", "headers", "status", "error"), [
    ("nope_show", {}, {}, 400,
     {"__type": "Bad request", "message": "Action name not known: nope_show"}),
    ("package_show", {"id": "mois__none"}, {}, 404,
     {"__type": "Not Found Error", "message": "Not found"}),
    ("package_list", {}, {"Authorization": "not-a-token"}, 403,
     {"__type": "Authorization Error", "message": "The token is not valid"}),
    ("package_search", {"rows": 5000}, {}, 409,
     {"__type": "Validation Error", "message": "Validation error",
      "rows": ["Must be less than or equal to 1000"]}),
    ("package_search", {"q": "x" * 501}, {}, 409,      # a hub error, in CKAN's words
     {"__type": "Validation Error", "q": ["The query is longer than 500 characters"]}),
], ids=["unknown-action", "not-found", "bad-token", "ckan-validation", "hub-validation"])
def test_the_ckan_front_answers_ckans_envelope(sqlite_hub: Hub, action: str, params: dict,
                                               headers: dict, status: int, error: dict) -> None:
    for path in (f"/api/3/action/{action}", f"/api/action/{action}"):
        answer = sqlite_hub.client.get(path, params=params, headers={**EN, **headers})
        assert answer.status_code == status
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == ckan_failure(action, error)


# --- the OAuth token endpoint ---------------------------------------------------------------


@pytest.mark.parametrize(("form", "headers", "status", "error", "description"), [
    ({"grant_type": "password"}, {}, 400, "unsupported_grant_type",
     "only client_credentials is supported"),
    ({"grant_type": "client_credentials", "client_id": "app-999", "client_secret": "x"}, {},
     401, "invalid_client", "client authentication failed"),
    ({"grant_type": "client_credentials"}, {"Authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()}, 401,
     "invalid_client", "malformed Basic header"),
    ({"grant_type": "client_credentials"},
     {"Authorization": "Basic " + base64.b64encode(b"app-999:x").decode()}, 401,
     "invalid_client", "client authentication failed"),
], ids=["grant-type", "unknown-client", "malformed-basic", "unknown-client-basic"])
def test_oauth_token_errors_are_rfc_6749(sqlite_hub: Hub, form: dict, headers: dict,
                                         status: int, error: str, description: str) -> None:
    answer = sqlite_hub.client.post("/oauth/token", data=form, headers={**EN, **headers})
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers.get("www-authenticate") == (
        'Basic realm="dpghub"' if status == 401 else None)
    assert answer.json() == {"error": error, "error_description": description}


# --- the gateway ----------------------------------------------------------------------------


def gateway_problem(status: int, code: str, message: str, datagokr: str,
                    instance: str) -> dict[str, object]:
    return {"type": f"urn:dpghub:problem:{code}", "status": status, "title": message,
            "detail": message, "code": code, "instance": instance, "request_id": RID,
            "datagokr_code": datagokr}


def datagokr_gateway_xml(code: str, name: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><OpenAPI_ServiceResponse><cmmMsgHeader>'
            f"<errMsg>SERVICE ERROR</errMsg><returnAuthMsg>{name}</returnAuthMsg>"
            f"<returnReasonCode>{code}</returnReasonCode></cmmMsgHeader>"
            "</OpenAPI_ServiceResponse>")


@pytest.fixture
def gateway(sqlite_hub: Hub) -> Iterator[World]:
    with serve() as (url, upstream):
        yield open_world(sqlite_hub, url, upstream)


def test_gateway_refusals_as_problem_json(gateway: World) -> None:
    path = "/gw/kasi/spcde/getRestDeInfo"
    no_key = gateway.hub.client.get(path, headers=EN)
    assert no_key.status_code == 401
    assert no_key.headers["content-type"] == PROBLEM
    assert no_key.headers["x-hub-request-id"] == no_key.headers["x-request-id"] == RID
    assert no_key.json() == gateway_problem(
        401, "key_missing", "Send an API key: the X-API-Key header or the serviceKey parameter",
        "30", path)

    unknown = gateway.call(key="not-a-key", headers=EN)
    assert (unknown.status_code, unknown.headers["content-type"]) == (401, PROBLEM)
    assert unknown.json() == gateway_problem(
        401, "key_not_registered", "This API key is not registered, or was revoked", "30", path)

    no_service = gateway.hub.client.get("/gw/kasi/nothing/x", headers={**EN, "X-API-Key": "k"})
    assert no_service.status_code == 404
    assert no_service.json() == gateway_problem(404, "service_not_found",
                                                "There is no such service", "12",
                                                "/gw/kasi/nothing/x")

    unsubscribed = gateway.call(headers=EN)
    assert unsubscribed.status_code == 403
    assert unsubscribed.json() == gateway_problem(
        403, "subscription_required", "This app has no approved subscription to this service",
        "20", path)
    assert gateway.upstream.seen == []


def test_gateway_refusals_in_data_go_kr_words(gateway: World) -> None:
    unknown = gateway.call("/getRestDeInfo?solYear=2021", key="not-a-key", style="servicekey",
                           headers=EN)
    assert unknown.status_code == 401
    assert unknown.headers["content-type"] == "application/xml;charset=UTF-8"
    assert unknown.headers["x-hub-request-id"] == RID
    assert unknown.text == datagokr_gateway_xml("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR")

    as_json = gateway.call("/getRestDeInfo?_type=json", key="not-a-key", style="servicekey",
                           headers=EN)
    assert as_json.status_code == 401
    assert as_json.headers["content-type"] == "application/json;charset=UTF-8"
    assert as_json.json() == {"response": {"header": {
        "resultCode": "30", "resultMsg": "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"}}}

    unsubscribed = gateway.call("/getRestDeInfo?solYear=2021", style="servicekey", headers=EN)
    assert unsubscribed.status_code == 403
    assert unsubscribed.text == datagokr_gateway_xml("20", "SERVICE_ACCESS_DENIED_ERROR")


def test_an_upstream_that_is_gone_is_a_502_in_either_rendering(sqlite_hub: Hub) -> None:
    with serve() as (url, upstream):
        world = open_world(sqlite_hub, url, upstream)
        world.subscribe()
    # the upstream has stopped: nothing listens at its address any more
    gone = world.call("/echo/x", method="POST", headers=EN)
    assert gone.status_code == 502
    assert gone.headers["content-type"] == PROBLEM
    assert gone.json() == gateway_problem(502, "upstream_unreachable",
                                          "The provider's system did not answer", "04",
                                          "/gw/kasi/spcde/echo/x")
    as_portal = world.call("/getRestDeInfo?solYear=2021", style="servicekey", headers=EN)
    assert as_portal.status_code == 502          # the breaker opens after five failures
    assert as_portal.headers["content-type"] == "application/xml;charset=UTF-8"
    assert as_portal.text == datagokr_gateway_xml("04", "HTTP_ERROR")


# --- the lake's data.go.kr front ------------------------------------------------------------


def datagokr_rows_xml(code: str, name: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><response><header>'
            f"<resultCode>{code}</resultCode><resultMsg>{name}</resultMsg></header></response>")


def test_the_lakes_data_go_kr_front_answers_200_with_the_portals_codes(sqlite_hub: Hub) -> None:
    lake = Lake(sqlite_hub)
    lake.create("closed", access="restricted")
    lake.create("empty")
    outsider = sqlite_hub.make_token(sqlite_hub.make_user())
    cases = [
        ("empty", {}, "30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"),
        ("empty", {"serviceKey": "not-a-token"}, "30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"),
        ("empty", {"serviceKey": outsider, "numOfRows": "5000"}, "10",
         "INVALID_REQUEST_PARAMETER_ERROR"),
        ("empty", {"serviceKey": outsider, "pageNo": "0"}, "10",
         "INVALID_REQUEST_PARAMETER_ERROR"),
        ("nothing", {"serviceKey": outsider}, "12", "NO_OPENAPI_SERVICE_ERROR"),
        ("closed", {"serviceKey": outsider}, "20", "SERVICE_ACCESS_DENIED_ERROR"),
        ("empty", {"serviceKey": outsider}, "03", "NODATA_ERROR"),
    ]
    for name, params, code, result in cases:
        xml = sqlite_hub.client.get(f"/openapi/molit/{name}", params=params, headers=EN)
        assert xml.status_code == 200, (name, params)
        assert xml.headers["content-type"] == "application/xml;charset=UTF-8"
        assert xml.text == datagokr_rows_xml(code, result), (name, params)
        as_json = sqlite_hub.client.get(f"/openapi/molit/{name}",
                                        params={**params, "_type": "json"}, headers=EN)
        assert as_json.status_code == 200
        assert as_json.headers["content-type"] == "application/json;charset=UTF-8"
        assert as_json.json() == {"response": {"header": {"resultCode": code,
                                                          "resultMsg": result}}}
