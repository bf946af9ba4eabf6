"""The support desk: questions from a project's people, answered by support staff, timed,
and — with the asker's consent — published as a FAQ the catalogue's search finds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dpghub.core.db import utcnow
from dpghub.identity import service as identity
from dpghub.identity.policy import CLI
from tests.conftest import Hub
from tests.support.sandbox import Sandbox, make_testbed


@pytest.fixture
def world(hub: Hub) -> Sandbox:
    return make_testbed(hub)


def _supporter(world: Sandbox) -> dict[str, str]:
    hub = world.hub
    helper = hub.make_user()
    with hub.session() as s:
        identity.set_platform_role(s, actor=CLI, user=identity.get_user(s, helper.id),
                                   role="supporter")
    return hub.bearer(helper)


def _ask(world: Sandbox, **fields: object) -> dict:
    answer = world.api("POST", f"/projects/{world.project['id']}/tickets", json={
        "title": "사업자 상태 목업의 응답 형식", "question": "data 배열이 비어 있을 수 있나요?",
        "category": "api", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_question_is_answered_timed_and_closed(world: Sandbox) -> None:
    staff = _supporter(world)
    start = utcnow()
    world.hub.app.state.clock = lambda: start
    ticket = _ask(world)
    assert ticket["state"] == "open"
    assert [t["id"] for t in world.api("GET", "/tickets", who=staff).json()] == [ticket["id"]]
    world.hub.app.state.clock = lambda: start + timedelta(minutes=42)
    answered = world.api("POST", f"/tickets/{ticket['id']}/answers", who=staff,
                         json={"body": "네, 조회된 사업자가 없으면 비어 있습니다."})
    assert answered.status_code == 201
    assert answered.json()["state"] == "answered"
    assert answered.json()["first_answer_minutes"] == 42.0
    world.hub.app.state.clock = lambda: start + timedelta(minutes=60)
    closed = world.api("POST", f"/tickets/{ticket['id']}/actions", json={"action": "close"})
    assert closed.json()["state"] == "closed" and closed.json()["resolution_minutes"] == 60.0
    refused = world.api("POST", f"/tickets/{ticket['id']}/answers", who=staff,
                        json={"body": "추가"})
    assert refused.status_code == 409
    reopened = world.api("POST", f"/tickets/{ticket['id']}/actions", json={"action": "reopen"})
    assert reopened.json()["state"] == "open"
    stats = world.api("GET", "/support/stats", who=staff).json()
    assert stats["tickets"] == 1 and stats["median_first_answer_minutes"] == 42.0


def test_the_asker_is_told_in_the_portal(world: Sandbox) -> None:
    staff = _supporter(world)
    ticket = _ask(world)
    world.api("POST", f"/tickets/{ticket['id']}/answers", who=staff, json={"body": "답변"})
    with world.hub.factory() as s:
        actor = world.hub.actor(world.developer_user)
        texts = [n.text for n in identity.of_user(s, actor=actor, domain="testbed",
                                                  unread_only=True)]
    assert "Your question was answered: {title}" in texts


def test_only_the_projects_people_ask_and_read(world: Sandbox) -> None:
    stranger = world.hub.bearer(world.hub.make_user())
    pid = world.project["id"]
    refused = world.api("POST", f"/projects/{pid}/tickets", who=stranger,
                        json={"title": "t", "question": "q"})
    assert refused.status_code == 403
    ticket = _ask(world)
    assert world.api("GET", f"/tickets/{ticket['id']}", who=stranger).status_code == 403
    assert world.api("GET", "/tickets", who=stranger).json() == []
    not_staff = world.api("POST", f"/tickets/{ticket['id']}/actions", who=stranger,
                          json={"action": "publish"})
    assert not_staff.status_code == 403


def test_an_inspector_entry_of_another_project_cannot_be_attached(world: Sandbox) -> None:
    other = world.hub.client.post("/api/v1/orgs/startup/testbed/projects",
                                  headers=world.developer, json={"name": "둘째"}).json()
    key = world.api("POST", f"/projects/{other['id']}/keys").json()["key"]
    world.mock("/status", key=key, json={"b_no": ["1234567890"]})
    entry = world.api("GET", f"/projects/{other['id']}/requests").json()["items"][0]
    refused = world.api("POST", f"/projects/{world.project['id']}/tickets", json={
        "title": "t", "question": "q", "request": entry["id"]})
    assert refused.status_code == 404
    assert refused.json()["code"] == "request_not_found"


def test_published_answers_become_a_faq_the_search_finds(world: Sandbox) -> None:
    staff = _supporter(world)
    private = _ask(world, title="비공개 질문 휴업자", consent_to_publish=False)
    world.api("POST", f"/tickets/{private['id']}/answers", who=staff, json={"body": "답"})
    refused = world.api("POST", f"/tickets/{private['id']}/actions", who=staff,
                        json={"action": "publish"})
    assert refused.status_code == 403 and refused.json()["code"] == "no_consent"
    public = _ask(world, title="폐업자 상태 코드는 무엇인가요", consent_to_publish=True)
    unanswered = world.api("POST", f"/tickets/{public['id']}/actions", who=staff,
                           json={"action": "publish"})
    assert unanswered.status_code == 409
    world.api("POST", f"/tickets/{public['id']}/answers", who=staff,
              json={"body": "b_stt_cd 03이 폐업자입니다."})
    assert world.api("POST", f"/tickets/{public['id']}/actions", who=staff,
                     json={"action": "publish"}).json()["published"] is True
    faq = world.hub.client.get("/api/v1/testbed/faq", params={"q": "폐업자"}).json()
    assert [e["title"] for e in faq] == ["폐업자 상태 코드는 무엇인가요"]
    assert "b_stt_cd 03" in faq[0]["answer"]
    found = world.hub.client.get("/api/v1/search", params={"q": "폐업자 상태 코드"}).json()
    hits = [h for h in found["items"] if h["kind"] == "faq"]
    assert [h["title_ko"] for h in hits] == ["폐업자 상태 코드는 무엇인가요"]
    assert hits[0]["url"] == f"/testbed/faq#q{public['id']}"
    assert "비공개" not in str(found)
