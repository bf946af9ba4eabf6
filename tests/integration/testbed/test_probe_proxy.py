"""Security probe: the validation proxy between a developer's client and their own server —
what of the caller reaches the server (no key, no hub cookie), what of a hostile server's
answer reaches the portal's origin, huge and stalled answers; and what the inspector keeps
of the calls, for whom."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dpghub.testbed import sandbox
from tests.conftest import Hub
from tests.support.hostile import Hostile, Recorder
from tests.support.loopback import serve_asgi
from tests.support.sandbox import (
    Sandbox,
    make_testbed,
    sqlite_only_hub,  # noqa: F401 — `hub` is SQLite here
)


@pytest.fixture
def world(hub: Hub) -> Sandbox:
    return make_testbed(hub)


@pytest.fixture
def recorder(world: Sandbox) -> Iterator[Recorder]:
    server = Recorder()
    with serve_asgi(server) as url:
        _point(world, url)
        yield server


def _point(world: Sandbox, url: str) -> None:
    pointed = world.api("PUT", f"/projects/{world.project['id']}/services/nts/nts-businessman",
                        json={"upstream_url": url})
    assert pointed.status_code == 200, pointed.text


def _call(world: Sandbox, headers: dict[str, str], params: dict[str, str]) -> Any:
    return world.hub.client.post("/sandbox/nts/nts-businessman/status", headers=headers,
                                 params=params, json={"b_no": ["1234567890"]})


def test_the_developers_server_gets_no_key_and_no_hub_cookie(world: Sandbox,
                                                             recorder: Recorder) -> None:
    key = world.key
    cookie = {"Cookie": "dpghub_session=the-developers-portal-session; other=1"}
    for headers, params in (({"X-API-Key": key}, {}), ({"Authorization": f"Bearer {key}"}, {}),
                            ({}, {"serviceKey": key}), ({}, {"ServiceKey": key}),
                            ({}, {"SERVICEKEY": key})):
        answer = _call(world, {**headers, **cookie}, params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-sandbox-mode"] == "proxy"
    assert len(recorder.seen) == 5
    for _method, path, query, headers in recorder.seen:
        everything = f"{path}?{query} {headers}"
        assert key not in everything and key[4:] not in everything
        assert "cookie" not in headers and "authorization" not in headers
        assert "the-developers-portal-session" not in everything


def test_a_hostile_servers_answer_cannot_act_on_the_portals_origin(world: Sandbox) -> None:
    with serve_asgi(Hostile("cookies")) as url:
        _point(world, url)
        answer = world.mock("/status", json={"b_no": ["1234567890"]})
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers and not answer.cookies
    for name in ("clear-site-data", "www-authenticate", "refresh",
                 "access-control-allow-credentials"):
        assert name not in answer.headers, name
    # the page is a download in an opaque sandbox: its script never runs as the portal
    assert answer.headers["content-disposition"].startswith("attachment")
    assert answer.headers["content-security-policy"].startswith("sandbox;")
    assert "script-src *" not in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_huge_answer_is_cut_off_and_said_so(world: Sandbox) -> None:
    with serve_asgi(Hostile("huge", size=8 << 20)) as url:
        _point(world, url)
        answer = world.mock("/status", json={"b_no": ["1234567890"]},
                            headers={"Accept": "application/problem+json"})
    assert answer.status_code == 502
    assert len(answer.content) < 4096


def test_a_stalled_answer_ends_at_the_proxys_deadline(world: Sandbox,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "PROXY_TIMEOUT", 0.3)
    server = Hostile("stall")
    with serve_asgi(server) as url:
        _point(world, url)
        answer = world.mock("/status", json={"b_no": ["1234567890"]})
        server.let_go()
    assert answer.status_code == 504


def test_the_inspector_keeps_no_credential_and_shows_only_to_the_projects_people(
        world: Sandbox) -> None:
    key, pid = world.key, world.project["id"]
    world.hub.client.post("/sandbox/nts/nts-businessman/status",
                          params={"serviceKey": key, "page": "1"},
                          json={"b_no": ["1234567890"]})
    world.hub.client.post("/sandbox/nts/nts-businessman/status",
                          headers={"Authorization": f"Bearer {key}"},
                          json={"b_no": ["1234567890"]})
    page = world.api("GET", f"/projects/{pid}/requests")
    assert len(page.json()["items"]) == 2
    assert key not in page.text and key[4:] not in page.text
    assert "page=1" in page.text
    hub = world.hub
    outsider = hub.bearer(hub.make_user())
    for who in (outsider, {"X-API-Key": key}):
        assert world.api("GET", f"/projects/{pid}/requests", who=who).status_code in (401, 403)
    portal = hub.browser()
    assert key not in portal.get(f"/testbed/projects/{pid}").text
