"""Security probe: the support desk and validation reports — tickets on projects one is not in,
another project's inspector entry, staff-only actions, publishing without consent, what a
removed collaborator still reads; another organization's reports, and the dev credentials
a validation was given."""

from __future__ import annotations

from typing import Any

import pytest

from dpghub.core import jobs
from dpghub.identity import service as identity
from dpghub.identity.policy import CLI
from tests.conftest import Hub
from tests.support.hostile import Recorder
from tests.support.loopback import serve_asgi
from tests.support.probe import World, make_world

SECRET = "dev-credential-9f2c41"


@pytest.fixture
def world(hub: Hub) -> World:
    return make_world(hub)


def _staff(world: World) -> dict[str, str]:
    helper = world.hub.make_user("help@nia.or.kr")
    with world.hub.session() as s:
        identity.set_platform_role(s, actor=CLI, user=identity.get_user(s, helper.id),
                                   role="supporter")
    return world.hub.bearer(helper)


def _ask(world: World, pid: int, who: dict[str, str] | None = None, **fields: Any) -> Any:
    return world.api("POST", f"/projects/{pid}/tickets", who=who, json={
        "title": "목업 질문", "question": "왜 400인가요?", "category": "api", **fields})


def test_no_ticket_on_a_project_one_is_not_in(world: World) -> None:
    outsider = world.hub.bearer(world.hub.make_user())
    for who in (outsider, world.agency):
        assert _ask(world, world.pid, who=who).status_code == 403
    invited = world.hub.make_user("partner@other.kr")
    world.api("POST", f"/projects/{world.pid}/members", json={"email": invited.email})
    assert _ask(world, world.pid, who=world.hub.bearer(invited)).status_code == 403


def test_a_ticket_cannot_carry_another_projects_inspector_entry(world: World) -> None:
    hub = world.hub
    other = hub.client.post("/api/v1/orgs/agency/testbed/projects", headers=world.agency,
                            json={"name": "기관 것", "services": ["nts/nts-businessman"]}).json()
    key = world.api("POST", f"/projects/{other['id']}/keys", who=world.agency).json()["key"]
    world.sandbox.mock("/status", key=key, json={"b_no": ["1234567890"]})
    entry = world.api("GET", f"/projects/{other['id']}/requests",
                      who=world.agency).json()["items"][0]
    refused = _ask(world, world.pid, request=entry["id"])
    assert refused.status_code == 404
    assert refused.json()["code"] == "request_not_found"


def test_staff_actions_are_staff_only_and_publishing_needs_consent(world: World) -> None:
    staff = _staff(world)
    ticket = _ask(world, world.pid).json()         # no consent to publish
    tid = ticket["id"]
    for action in ({"action": "publish"}, {"action": "assign", "assignee": "dev@startup.kr"}):
        refused = world.api("POST", f"/tickets/{tid}/actions", json=action)
        assert refused.status_code == 403, action
    world.api("POST", f"/tickets/{tid}/answers", who=staff, json={"body": "b_no는 배열입니다"})
    refused = world.api("POST", f"/tickets/{tid}/actions", who=staff,
                        json={"action": "publish"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_consent"
    assert world.hub.client.get("/api/v1/testbed/faq").json() == []
    # the queue is staff's; others see only their own questions
    outsider = world.hub.bearer(world.hub.make_user())
    assert world.api("GET", "/tickets", who=outsider).json() == []
    assert world.api("GET", f"/tickets/{tid}", who=outsider).status_code == 403


def test_a_removed_collaborator_reads_the_projects_tickets_no_more(world: World) -> None:
    partner_user = world.hub.make_user("partner@other.kr")
    partner = world.hub.bearer(partner_user)
    world.api("POST", f"/projects/{world.pid}/members", json={"email": partner_user.email})
    world.api("POST", f"/projects/{world.pid}/accept", who=partner)
    tid = _ask(world, world.pid, who=partner).json()["id"]
    staff = _staff(world)
    world.api("POST", f"/tickets/{tid}/answers", who=staff,
              json={"body": "프로젝트 내부 사정: 키 dsk_… 는 이렇게"})
    world.api("DELETE", f"/projects/{world.pid}/members/{partner_user.id}")
    assert world.api("GET", f"/tickets/{tid}", who=partner).status_code == 403
    listed = world.api("GET", "/tickets", who=partner)
    assert listed.status_code == 200
    assert listed.json() == [], "the list shows what the ticket itself refuses"


def _validation(world: World, url: str, headers: dict[str, str]) -> dict[str, Any]:
    started = world.api("POST", f"/projects/{world.pid}/validations", json={
        "service": "nts/nts-businessman", "url": url, "max_cases": 1, "headers": headers})
    assert started.status_code == 202, started.text
    job = jobs.wait(world.hub.factory, started.json()["job_id"], timeout=300)
    assert job.state == "succeeded", job.error
    return started.json()


def test_reports_are_the_projects_and_dev_credentials_are_not_kept(world: World) -> None:
    with serve_asgi(Recorder()) as url:
        started = _validation(world, url, {"X-API-Key": SECRET})
    vid, job_id = started["id"], started["job_id"]
    own = world.api("GET", f"/validations/{vid}")
    assert own.status_code == 200
    assert SECRET not in own.text
    assert SECRET not in world.api("GET", f"/validations/{vid}", params={"format": "signed"}).text
    outsider = world.hub.bearer(world.hub.make_user())
    for who in (outsider, world.agency):
        for fmt in ("json", "junit", "signed"):
            refused = world.api("GET", f"/validations/{vid}", who=who, params={"format": fmt})
            assert refused.status_code == 403, (fmt, refused.text)
        assert world.hub.client.get(f"/api/v1/jobs/{job_id}", headers=who).status_code == 403
    job = world.hub.client.get(f"/api/v1/jobs/{job_id}", headers=world.sandbox.developer)
    assert SECRET not in job.text
    # the job's stored parameters keep no secret once it ran (keys are kept as hashes only)
    with world.hub.factory() as s:
        stored = s.get(jobs.Job, job_id)
        assert stored is not None
        assert SECRET not in str(stored.params)
