"""The agile API's parts one by one: a project with its consortium and CI token, the backlog
and board, an iteration's velocity, releases, deployment events and incidents."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dpghub.agile.models import ProjectToken
from dpghub.core.audit import AuditEvent
from tests.conftest import Hub
from tests.support.agile import START, make_world


def test_a_project_its_backlog_board_and_iteration(hub: Hub) -> None:
    w = make_world(hub)
    project = w.project()
    assert [m["slug"] for m in project["members"]] == ["alpha", "beta"]
    assert project["service"] == "mois/minwon-guide"
    pid = project["id"]
    # consortium members read it; an outsider does not
    assert w.get(f"/api/v1/agile/projects/{pid}", w.beta_admin).status_code == 200
    assert w.get(f"/api/v1/agile/projects/{pid}", w.outsider).status_code == 403

    a = w.item(pid, "알림 받기", 5, acceptance=["상태가 바뀌면 알림"], labels=["알림"])
    b = w.item(pid, "진행 단계 보기", 3, priority=1)
    c = w.item(pid, "지도 안내", 8)
    planned = w.post(f"/api/v1/agile/projects/{pid}/iterations", w.lead_editor, {
        "name": "스프린트 1", "goal": "알림", "starts_on": "2026-05-04",
        "ends_on": "2026-05-15", "items": [a["id"], b["id"]]})
    assert planned.status_code == 201, planned.text
    assert (planned.json()["committed_points"], planned.json()["velocity"]) == (8.0, 0.0)

    for item, state in ((a, "in_progress"), (a, "done"), (b, "in_progress")):
        moved = w.patch(f"/api/v1/agile/projects/{pid}/items/{item['id']}", w.alpha_admin,
                        {"state": state})
        assert moved.status_code == 200, moved.text
    board = w.get(f"/api/v1/agile/projects/{pid}/board", w.beta_admin).json()
    assert {k: [i["id"] for i in v] for k, v in board.items()} == {
        "backlog": [c["id"]], "selected": [], "in_progress": [b["id"]], "done": [a["id"]]}
    # a is done within the iteration (the clock is 4 May): velocity 5 of 8 committed
    iterations = w.get(f"/api/v1/agile/projects/{pid}/iterations", w.lead_editor).json()
    assert (iterations[0]["done"], iterations[0]["velocity"]) == ([a["id"]], 5.0)

    with hub.session() as s:
        actions = set(s.scalars(select(AuditEvent.action)
                                .where(AuditEvent.action.like("agile.%"))))
    assert actions == {"agile.project.create", "agile.item.create", "agile.iteration.create",
                       "agile.item.move"}


def test_tokens_are_shown_once_and_kept_as_digests(hub: Hub) -> None:
    w = make_world(hub)
    pid = w.project()["id"]
    refused = w.post(f"/api/v1/agile/projects/{pid}/tokens", w.alpha_admin, {"name": "x"})
    assert refused.status_code == 403          # a member company: not the lead's editors
    token = w.ci_token(pid)
    assert token.startswith("dat_")
    listed = w.get(f"/api/v1/agile/projects/{pid}/tokens", w.lead_editor).json()
    assert "token" not in listed[0] and token.startswith(listed[0]["prefix"])
    with hub.session() as s:
        stored = s.scalars(select(ProjectToken)).one()
        assert token not in stored.digest and len(stored.digest) == 64
    sent = w.deploy(pid, token, "1.0.0", [START - timedelta(hours=5)], START)
    assert sent.status_code == 201, sent.text
    assert sent.json()["lead_time_hours"] == 5.0
    # the token as a bearer works too, on its own project's CI routes only
    bearer = {"Authorization": f"Bearer {token}"}
    assert hub.client.get(f"/api/v1/agile/projects/{pid}", headers=bearer).status_code == 403
    revoked = hub.client.delete(f"/api/v1/agile/projects/{pid}/tokens/{listed[0]['id']}",
                                headers=w.auth(w.lead_editor))
    assert revoked.status_code == 200
    again = w.deploy(pid, token, "1.0.1", [START], START + timedelta(hours=1))
    assert (again.status_code, again.json()["code"]) == (401, "project_token_revoked")


def test_incidents_by_the_team_and_by_ci(hub: Hub) -> None:
    w = make_world(hub)
    pid = w.project()["id"]
    token = w.ci_token(pid)
    opened = hub.client.post(f"/api/v1/agile/projects/{pid}/incidents",
                             headers={"X-Agile-Token": token},
                             json={"title": "오류율 상승", "opened_at": START.isoformat()})
    assert opened.status_code == 201, opened.text
    resolved = w.patch(f"/api/v1/agile/projects/{pid}/incidents/{opened.json()['id']}",
                       w.alpha_admin, {"resolved_at": (START + timedelta(hours=2)).isoformat()})
    assert resolved.status_code == 200, resolved.text
    anonymous = hub.client.post(f"/api/v1/agile/projects/{pid}/incidents",
                                json={"title": "x", "opened_at": START.isoformat()})
    assert anonymous.status_code == 401
