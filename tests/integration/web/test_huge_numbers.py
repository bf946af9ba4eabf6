"""Numbers beyond 64 bits in paths and queries are refused with 422 naming the parameter; a
probe found 500s for ids above 2⁶³ (the database drivers refused them)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Hub
from tests.support.identity import sign_in

HUGE = [2**63, 2**64 + 7, 10**30]


def integer_parameters(hub: Hub) -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) of every integer path or query parameter in the schema."""
    schema = hub.client.get("/api/openapi.json").json()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                kinds = [parameter.get("schema", {})] + parameter.get("schema", {}).get(
                    "anyOf", [])
                if any(k.get("type") == "integer" for k in kinds):
                    found.append((method.upper(), path, parameter["in"], parameter["name"]))
    return found


def fill(path: str, name: str, value: int) -> str:
    def one(match: re.Match[str]) -> str:
        return str(value) if match.group(1) == name else {"org": "org1", "name": "data",
                                                          "slug": "org1", "fmt": "ttl"}.get(
            match.group(1), "1")
    return re.sub(r"\{(\w+)\}", one, path)


@pytest.mark.parametrize("value", HUGE)
def test_every_integer_parameter_refuses_numbers_beyond_64_bits(hub: Hub, value: int) -> None:
    user = hub.make_user(operator=True)      # may reach every route, so the number is checked
    hub.make_org("org1", admin=user)
    auth = hub.bearer(user)
    hub.client.post("/api/v1/orgs/org1/datasets", headers=auth,
                    json={"slug": "data", "title_ko": "자료"})
    parameters = integer_parameters(hub)
    assert any(name == "app_id" for _, _, _, name in parameters)
    assert any(name == "version" and where == "query" for _, _, where, name in parameters)
    wrong = []
    for method, path, where, name in parameters:
        if where == "path":
            url, params = fill(path, name, value), {}
        else:
            url, params = fill(path, "", 1), {name: str(value)}
        answer = hub.client.request(method, url, params=params, headers=auth, json={})
        if answer.status_code != 422 or answer.json().get("field") != name:
            wrong.append((method, url, params, answer.status_code, answer.text[:200]))
    assert wrong == []



def test_pages_refuse_them_too(sqlite_hub: Hub) -> None:
    """Signed in, so that pages which need a user reach their parameters (a visitor who is
    not signed in is sent to sign in first, whatever the number)."""
    user = sqlite_hub.make_user()
    browser = sqlite_hub.browser()
    sign_in(browser, user.email)
    for path in (f"/apps/{2**63}", f"/jobs/{2**64}", f"/datasets/org1/data?version={2**63}"):
        answer = browser.get(path, follow_redirects=False)
        assert answer.status_code in (404, 422), (path, answer.status_code)
    visitor = sqlite_hub.browser().get(f"/apps/{2**63}", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/signin")
