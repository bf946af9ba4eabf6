"""Security probe: where a sandbox key reaches (nothing real, however it is presented), which
credentials the sandbox takes, and who is in a project — not accepted, removed, an
organization's member, an outsider, support staff."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from dpghub.core.db import utcnow
from dpghub.identity import schemas
from dpghub.identity import service as identity
from dpghub.identity.models import Role
from dpghub.identity.policy import CLI
from tests.conftest import Hub
from tests.support.identity import sign_in
from tests.support.probe import World, make_world


@pytest.fixture
def world(hub: Hub) -> World:
    return make_world(hub)


def _ways(key: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(headers, params): the key as X-API-Key, as a bearer token, as data.go.kr's serviceKey."""
    return [({"X-API-Key": key}, {}), ({"Authorization": f"Bearer {key}"}, {}),
            ({}, {"serviceKey": key})]


def test_a_sandbox_key_reads_no_real_dataset_however_it_is_presented(world: World) -> None:
    client, key = world.hub.client, world.sandbox.key
    for headers, params in _ways(key):
        for name in ("people", "secrets"):
            rows = client.get(f"/api/v1/datasets/agency/{name}/rows", headers=headers,
                              params=params)
            assert rows.status_code in (401, 403), (headers, params, rows.text)
            assert "전화번호" not in rows.text
        profile = client.get("/api/v1/datasets/agency/people/profile", headers=headers,
                             params=params)
        assert profile.status_code in (200, 401, 403)
        assert profile.status_code != 200 or profile.json()["values_hidden"] is True
        sql = client.post("/api/v1/query", headers=headers, params=params,
                          json={"sql": "SELECT * FROM agency.people LIMIT 5"})
        assert sql.status_code in (401, 403), sql.text
    # a header key is refused by name, even for open data: it is no reader of the lake
    census = world.key_get("/api/v1/datasets/agency/census/rows")
    assert census.status_code == 403
    assert census.json()["code"] == "sandbox_key_outside_sandbox"


def test_a_sandbox_key_is_no_key_of_the_datagokr_or_ckan_fronts(world: World) -> None:
    client, key = world.hub.client, world.sandbox.key
    for value in (key, quote(key, safe="")):
        front = client.get("/openapi/agency/people",
                           params={"serviceKey": value, "type": "json"})
        assert front.json()["response"]["header"]["resultCode"] != "00", front.text
        assert "전화번호" not in front.text
    for header in ("X-CKAN-API-Key", "Authorization"):
        ckan = client.get("/api/3/action/datastore_search", headers={header: key},
                          params={"resource_id": "agency__people"})
        assert ckan.json()["success"] is False, ckan.text
        assert "전화번호" not in ckan.text


def test_a_sandbox_key_never_passes_the_gateway(world: World) -> None:
    for headers, params in _ways(world.sandbox.key):
        through = world.hub.client.post("/gw/nts/nts-businessman/status", headers=headers,
                                        params=params, json={"b_no": ["1234567890"]})
        assert through.status_code == 403, (headers, params)
        if params:      # data.go.kr's callers get data.go.kr's refusal
            assert "SERVICE_ACCESS_DENIED_ERROR" in through.text
        else:
            assert through.json()["code"] == "sandbox_key_on_gateway"


def test_a_sandbox_key_manages_nothing_of_its_own_project(world: World) -> None:
    """It reads its project's synthetic data; keys, inspector, members, validations and
    tickets need a person."""
    client, pid = world.hub.client, world.pid
    for headers, _ in _ways(world.sandbox.key)[:2]:
        for method, path in (("GET", "keys"), ("POST", "keys"), ("GET", "requests"),
                             ("GET", "validations"), ("POST", "tickets"),
                             ("POST", "members"), ("DELETE", "keys/1")):
            answer = client.request(method, f"/api/v1/testbed/projects/{pid}/{path}",
                                    headers=headers, json={})
            assert answer.status_code == 401, (method, path, answer.text)
        assert client.get(f"/api/v1/testbed/projects/{pid}", headers=headers).status_code \
            in (401, 403)
        assert client.get("/api/v1/testbed/projects", headers=headers).status_code in (401, 403)
        assert client.get(f"/api/v1/testbed/projects/{pid}/synthetic",
                          headers=headers).status_code == 200
    # a path that only looks like its project's does not reach the lake behind it
    dotted = client.get(f"/api/v1/testbed/projects/{pid}/%2e%2e/%2e%2e/%2e%2e/datasets/agency/"
                        "people/rows", headers={"X-API-Key": world.sandbox.key})
    assert dotted.status_code in (403, 404)
    assert "전화번호" not in dotted.text


def test_a_sandbox_key_of_one_project_reads_nothing_of_another(world: World) -> None:
    other = world.hub.client.post("/api/v1/orgs/startup/testbed/projects",
                                  headers=world.sandbox.developer, json={"name": "다른 것"})
    oid = other.json()["id"]
    for path in ("synthetic", "synthetic/1/rows"):
        refused = world.key_get(f"/api/v1/testbed/projects/{oid}/{path}")
        assert refused.status_code == 403, path
    query = world.hub.client.post(f"/api/v1/testbed/projects/{oid}/query",
                                  headers={"X-API-Key": world.sandbox.key},
                                  json={"sql": "SELECT 1"})
    assert query.status_code == 403


def test_the_sandbox_takes_only_sandbox_keys(world: World) -> None:
    hub, sandbox = world.hub, world.sandbox
    app = hub.client.post("/api/v1/orgs/startup/apps", headers=sandbox.developer,
                          json={"name": "앱"}).json()
    token = hub.make_token(sandbox.developer_user)
    for credential, status, code, datagokr in (
            (app["key"], 403, "production_key_on_sandbox", "SERVICE_ACCESS_DENIED_ERROR"),
            (token, 401, "sandbox_key_not_registered", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR")):
        for headers, params in _ways(credential):
            refused = hub.client.post("/sandbox/nts/nts-businessman/status", headers=headers,
                                      params=params, json={"b_no": ["1234567890"]})
            assert refused.status_code == status
            assert datagokr in refused.text if params else refused.json()["code"] == code
    # a signed-in browser's cookie is no key either
    browser = hub.browser()
    assert sign_in(browser, "dev@startup.kr").status_code == 303
    cookie_only = browser.post("/sandbox/nts/nts-businessman/status",
                               json={"b_no": ["1234567890"]})
    assert cookie_only.status_code == 401
    assert cookie_only.json()["code"] == "sandbox_key_missing"


def test_an_expired_or_revoked_key_reads_no_synthetic_data(world: World) -> None:
    pid, key = world.pid, world.sandbox.key
    world.hub.app.state.clock = lambda: utcnow() + timedelta(days=91)
    expired = world.key_get(f"/api/v1/testbed/projects/{pid}/synthetic")
    assert expired.status_code == 403
    assert expired.json()["code"] == "project_expired"
    query = world.hub.client.post(f"/api/v1/testbed/projects/{pid}/query",
                                  headers={"X-API-Key": key}, json={"sql": "SELECT 1"})
    assert query.status_code == 403
    world.hub.app.state.clock = utcnow
    [listed] = world.api("GET", f"/projects/{pid}/keys").json()
    world.api("DELETE", f"/projects/{pid}/keys/{listed['id']}")
    revoked = world.key_get(f"/api/v1/testbed/projects/{pid}/synthetic")
    assert revoked.status_code == 401
    assert revoked.json()["code"] == "sandbox_key_revoked"


def _invite(world: World, email: str) -> tuple[dict[str, str], int]:
    user = world.hub.make_user(email)
    added = world.api("POST", f"/projects/{world.pid}/members", json={"email": email})
    assert added.status_code == 201
    return world.hub.bearer(user), user.id


def test_an_invited_collaborator_who_has_not_accepted_does_nothing(world: World) -> None:
    partner, _ = _invite(world, "partner@other.kr")
    pid = world.pid
    for method, path, body in (("GET", "", None), ("POST", "/keys", None),
                               ("GET", "/requests", None), ("GET", "/synthetic", None),
                               ("POST", "/synthetic", {"dataset": "agency/census"}),
                               ("POST", "/validations", {"service": "nts/nts-businessman",
                                                         "url": "http://127.0.0.1:9"}),
                               ("POST", "/tickets", {"title": "t", "question": "q",
                                                     "category": "api"}),
                               ("PUT", "/services/nts/nts-businessman",
                                {"upstream_url": "http://127.0.0.1:9"})):
        answer = world.api(method, f"/projects/{pid}{path}", who=partner, json=body)
        assert answer.status_code == 403, (method, path, answer.text)


def test_a_removed_collaborator_keeps_no_key_of_the_project(world: World) -> None:
    partner, partner_id = _invite(world, "partner@other.kr")
    pid = world.pid
    assert world.api("POST", f"/projects/{pid}/accept", who=partner).status_code == 200
    theirs = world.api("POST", f"/projects/{pid}/keys", who=partner).json()["key"]
    assert world.sandbox.mock("/status", key=theirs,
                              json={"b_no": ["1234567890"]}).status_code == 200
    removed = world.api("DELETE", f"/projects/{pid}/members/{partner_id}")
    assert removed.status_code == 204
    assert world.api("GET", f"/projects/{pid}", who=partner).status_code == 403
    # the key they made (and saw) goes with them; the project's other keys keep working
    after = world.sandbox.mock("/status", key=theirs, json={"b_no": ["1234567890"]})
    assert after.status_code == 401, after.text
    assert after.json()["code"] == "sandbox_key_revoked"
    assert world.key_get(f"/api/v1/testbed/projects/{pid}/synthetic",
                         key=theirs).status_code == 401
    assert world.sandbox.mock("/status", json={"b_no": ["1234567890"]}).status_code == 200


def test_members_of_the_organization_see_its_projects_outsiders_do_not(world: World) -> None:
    hub, pid = world.hub, world.pid
    colleague = hub.make_user("colleague@startup.kr")
    with hub.session() as s:
        identity.add_member(s, actor=CLI, org=identity.get_org_by_slug(s, "startup"),
                            data=schemas.MembershipCreate(email=colleague.email,
                                                          role=Role.member))
    assert world.api("GET", f"/projects/{pid}", who=hub.bearer(colleague)).status_code == 200
    # the agency's admin is no one in the startup's project
    assert world.api("GET", f"/projects/{pid}", who=world.agency).status_code == 403
    assert world.api("GET", f"/projects/{pid}/requests", who=world.agency).status_code == 403


def test_support_staff_see_tickets_not_the_project_behind_them(world: World) -> None:
    hub, pid = world.hub, world.pid
    helper = hub.make_user("help@nia.or.kr")
    with hub.session() as s:
        identity.set_platform_role(s, actor=CLI, user=identity.get_user(s, helper.id),
                                   role="supporter")
    staff = hub.bearer(helper)
    world.sandbox.mock("/status", json={"b_no": ["1234567890"]})
    entry = world.api("GET", f"/projects/{pid}/requests").json()["items"][0]
    asked = world.api("POST", f"/projects/{pid}/tickets", json={
        "title": "400", "question": "왜?", "category": "api", "request": entry["id"]})
    assert asked.status_code == 201
    assert world.api("GET", f"/tickets/{asked.json()['id']}", who=staff).status_code == 200
    for path in ("", "/requests", "/keys", "/validations", "/synthetic"):
        answer = world.api("GET", f"/projects/{pid}{path}", who=staff)
        assert answer.status_code == 403, (path, answer.text)
    assert staff_query_refused(world, staff)


def staff_query_refused(world: World, staff: dict[str, str]) -> bool:
    answer = world.hub.client.post(f"/api/v1/testbed/projects/{world.pid}/query",
                                   headers=staff, json={"sql": "SELECT 1"})
    return answer.status_code == 403
