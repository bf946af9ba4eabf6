"""Sandbox projects as a developer uses them: start one, add people, keys shown once, expiry,
the stage's rules — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dpghub.core.db import utcnow
from tests.conftest import Hub
from tests.support.sandbox import Sandbox, make_testbed


@pytest.fixture
def world(hub: Hub) -> Sandbox:
    return make_testbed(hub)


def test_a_project_starts_in_development_with_its_creator_and_services(world: Sandbox) -> None:
    project = world.project
    assert project["stage"] == "development"
    assert project["org"] == "startup"
    assert [m["email"] for m in project["members"]] == ["dev@startup.kr"]
    assert project["resources"] == [{"kind": "service", "ref": "nts/nts-businessman",
                                     "upstream_url": None,
                                     "mock": "/sandbox/nts/nts-businessman/"}]
    expires = project["expires_at"]
    assert expires[:10] == (utcnow() + timedelta(days=90)).date().isoformat()
    listed = world.api("GET", "/projects").json()
    assert [p["id"] for p in listed] == [project["id"]]


def test_a_project_on_an_unknown_service_is_refused_and_nothing_is_made(world: Sandbox) -> None:
    answer = world.hub.client.post("/api/v1/orgs/startup/testbed/projects",
                                   headers=world.developer,
                                   json={"name": "다른 것", "services": ["nts/nope"]})
    assert answer.status_code == 404
    assert answer.json()["code"] == "service_not_found"
    assert len(world.api("GET", "/projects").json()) == 1


def test_outsiders_neither_see_nor_work_in_a_project(world: Sandbox) -> None:
    stranger = world.hub.bearer(world.hub.make_user())
    pid = world.project["id"]
    assert world.api("GET", f"/projects/{pid}", who=stranger).status_code == 403
    refused = world.api("POST", f"/projects/{pid}/keys", who=stranger)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert world.api("GET", "/projects", who=stranger).json() == []


def test_a_collaborator_from_elsewhere_joins_by_accepting(world: Sandbox) -> None:
    hub = world.hub
    outside = hub.make_user("partner@agency.go.kr")
    partner = hub.bearer(outside)
    pid = world.project["id"]
    added = world.api("POST", f"/projects/{pid}/members", json={"email": outside.email})
    assert added.status_code == 201, added.text
    member = [m for m in added.json()["members"] if m["email"] == outside.email][0]
    assert (member["role"], member["accepted"]) == ("collaborator", False)
    # invited, not yet in
    assert world.api("GET", f"/projects/{pid}", who=partner).status_code == 403
    assert world.api("POST", f"/projects/{pid}/accept", who=partner).status_code == 200
    assert world.api("GET", f"/projects/{pid}", who=partner).status_code == 200
    # a collaborator works in it but does not manage it
    assert world.api("POST", f"/projects/{pid}/keys", who=partner).status_code == 201
    assert world.api("POST", f"/projects/{pid}/members", who=partner,
                     json={"email": "x@example.com"}).status_code == 403
    again = world.api("POST", f"/projects/{pid}/members", json={"email": outside.email})
    assert again.status_code == 409


def test_a_sandbox_key_is_shown_once_and_listed_by_prefix(world: Sandbox) -> None:
    pid = world.project["id"]
    keys = world.api("GET", f"/projects/{pid}/keys").json()
    assert len(keys) == 1
    assert "key" not in keys[0]
    assert world.key.startswith("dsk_") and world.key.startswith(keys[0]["prefix"])


def test_extending_a_project_moves_its_expiry_and_is_audited(world: Sandbox) -> None:
    pid = world.project["id"]
    before = world.project["expires_at"]
    changed = world.api("PATCH", f"/projects/{pid}", json={"extend_days": 30})
    assert changed.status_code == 200
    assert changed.json()["expires_at"] > before
    with world.hub.factory() as s:
        from dpghub.core.audit import AuditEvent
        actions = [e.action for e in s.query(AuditEvent).filter(
            AuditEvent.target_type == "project").order_by(AuditEvent.seq)]
    assert actions == ["testbed.project.create", "testbed.key.create",
                       "testbed.project.update"]


def test_validated_needs_a_passing_report(world: Sandbox) -> None:
    pid = world.project["id"]
    assert world.api("POST", f"/projects/{pid}/stage",
                     json={"stage": "testing"}).json()["stage"] == "testing"
    missing = world.api("POST", f"/projects/{pid}/stage", json={"stage": "validated"})
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_required"
    unknown = world.api("POST", f"/projects/{pid}/stage",
                        json={"stage": "validated", "validation": 999})
    assert unknown.status_code == 404
    assert world.api("GET", f"/projects/{pid}").json()["stage"] == "testing"


def test_an_expired_project_makes_no_new_keys_until_extended(world: Sandbox) -> None:
    pid = world.project["id"]
    world.hub.app.state.clock = lambda: utcnow() + timedelta(days=91)
    refused = world.api("POST", f"/projects/{pid}/keys")
    assert refused.status_code == 403
    assert refused.json()["code"] == "project_expired"
    assert world.api("GET", f"/projects/{pid}").json()["expired"] is True
    assert world.api("PATCH", f"/projects/{pid}", json={"extend_days": 30}).status_code == 200
    assert world.api("POST", f"/projects/{pid}/keys").status_code == 201
