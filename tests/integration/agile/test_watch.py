"""The error watch: the gateway's call records of a project's service open an incident when
more than the project's threshold of at least its minimum calls failed over five minutes, and
resolve it when the service is healthy again; the hub's own refusals are no failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from dpghub.agile.models import AgileProject, Incident
from dpghub.agile.service import watch
from dpghub.app import watch_once
from dpghub.core.audit import AuditEvent
from dpghub.gateway.models import CallRecord
from tests.conftest import Hub
from tests.support.agile import START, World, make_world


def calls(hub: Hub, service_id: int, at: datetime, ok: int = 0, failed: int = 0,
          refused: int = 0, server_errors: int = 0) -> None:
    """Call records as the gateway's evidence writer stores them, a second apart before `at`."""
    kinds = ([("ok", 200)] * ok + [("upstream_error", 502)] * failed
             + [("refused", 429)] * refused + [("ok", 503)] * server_errors)
    with hub.session() as s, s.begin():
        for i, (outcome, status) in enumerate(kinds):
            s.add(CallRecord(at=at - timedelta(seconds=i + 1), request_id=f"r{at:%H%M}-{i}",
                             service_id=service_id, method="GET", path="/gw/mois/minwon-guide",
                             status=status, outcome=outcome))


def look(hub: Hub, w: World, when: datetime) -> list[watch.Change]:
    w.at(when)
    return watch_once(hub.app)     # what the hub's loop runs every minute, at its clock


def incidents(hub: Hub) -> list[Incident]:
    with hub.session() as s:
        return list(s.scalars(select(Incident).order_by(Incident.id)))


def service_of(hub: Hub, project_id: int) -> int:
    with hub.session() as s:
        return int(s.get(AgileProject, project_id).service_id)  # type: ignore[union-attr]


def test_an_error_rate_over_the_threshold_opens_an_incident_and_health_resolves_it(
        hub: Hub) -> None:
    w = make_world(hub)
    project = w.project()
    assert project["alert"] == {"error_rate": 0.05, "min_calls": 20}
    sid = service_of(hub, project["id"])
    # 30 calls, 3 failed = 10 % > 5 %; 100 refusals by the hub's own limits do not count
    calls(hub, sid, START, ok=27, failed=3, refused=100)
    changes = look(hub, w, START)
    assert [(c.project, c.opened) for c in changes] == [(project["id"], True)]
    [opened] = incidents(hub)
    assert (opened.source, opened.opened_at, opened.resolved_at) == ("gateway", START, None)
    assert "10%" in opened.title and "3 of 30 calls" in opened.title

    # a minute later the same window still fails: no second incident
    assert look(hub, w, START + timedelta(minutes=1)) == []
    # six minutes later 25 healthy calls in the new window: resolved at that look
    later = START + timedelta(minutes=6)
    calls(hub, sid, later, ok=25)
    assert [c.opened for c in look(hub, w, later)] == [False]
    [resolved] = incidents(hub)
    assert resolved.resolved_at == later

    listed = w.get(f"/api/v1/agile/projects/{project['id']}/incidents", w.alpha_admin).json()
    assert [(i["source"], i["resolved_at"] is not None) for i in listed] == [("gateway", True)]
    metrics = w.get(f"/api/v1/agile/projects/{project['id']}/metrics"
                    f"?from=2026-05-01&to=2026-05-31", w.alpha_admin).json()
    assert metrics["time_to_restore_median_hours"] == 0.1
    with hub.session() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ("agile.incident.open", "agile.incident.resolve"))).order_by(AuditEvent.seq)))
    assert [(e.action, e.details["source"], e.details["failed"]) for e in events] == [
        ("agile.incident.open", "gateway", 3), ("agile.incident.resolve", "gateway", 0)]


def test_5xx_answers_count_as_failures_and_too_few_calls_open_nothing(hub: Hub) -> None:
    w = make_world(hub)
    project = w.project()
    sid = service_of(hub, project["id"])
    calls(hub, sid, START, failed=5)                 # every call failed, but only 5 of 20
    assert look(hub, w, START) == [] and incidents(hub) == []
    calls(hub, sid, START + timedelta(minutes=10), ok=18, server_errors=2)  # 10 %
    assert [c.opened for c in look(hub, w, START + timedelta(minutes=10))] == [True]


def test_an_incident_stays_open_while_nothing_shows_the_service_healthy(hub: Hub) -> None:
    w = make_world(hub)
    project = w.project()
    sid = service_of(hub, project["id"])
    calls(hub, sid, START, ok=10, failed=10)
    look(hub, w, START)
    # no calls at all for half an hour: a service nobody can reach is not restored
    assert look(hub, w, START + timedelta(minutes=30)) == []
    assert incidents(hub)[0].resolved_at is None
    # a few calls, none failed: restored
    calls(hub, sid, START + timedelta(minutes=31), ok=3)
    assert [c.opened for c in look(hub, w, START + timedelta(minutes=31))] == [False]


def test_one_open_gateway_incident_per_project_whatever_runs_at_once(hub: Hub) -> None:
    w = make_world(hub)
    project = w.project()
    sid = service_of(hub, project["id"])
    calls(hub, sid, START, ok=10, failed=15)
    with hub.session() as s, s.begin():      # another hub process opened it a moment ago
        s.add(Incident(project_id=project["id"], title="x", source="gateway",
                       opened_at=START))
    with hub.session() as s, s.begin():
        found = s.get(AgileProject, project["id"])
        assert watch._open(s, found, 25, 15, START) is None      # the index refuses a second
    assert len(incidents(hub)) == 1


def test_the_lead_sets_the_threshold_or_turns_the_watch_off(hub: Hub) -> None:
    w = make_world(hub)
    pid = w.project()["id"]
    path = f"/api/v1/agile/projects/{pid}/alert"
    member = hub.client.put(path, json={"error_rate": 0.5}, headers=w.auth(w.alpha_admin))
    assert member.status_code == 403                    # a consortium company: not the lead
    for bad in ({"error_rate": 0}, {"error_rate": 1.5}, {"error_rate": 0.1, "min_calls": 0}):
        refused = hub.client.put(path, json=bad, headers=w.auth(w.lead_editor))
        assert refused.status_code == 422, bad
    raised = hub.client.put(path, json={"error_rate": 0.5, "min_calls": 4},
                            headers=w.auth(w.lead_editor))
    assert raised.json()["alert"] == {"error_rate": 0.5, "min_calls": 4}
    sid = service_of(hub, pid)
    calls(hub, sid, START, ok=3, failed=2)            # 40 % is under 50 %
    assert look(hub, w, START) == []
    off = hub.client.put(path, json={"error_rate": None}, headers=w.auth(w.lead_editor))
    assert off.json()["alert"]["error_rate"] is None
    calls(hub, sid, START + timedelta(minutes=10), failed=20)
    assert look(hub, w, START + timedelta(minutes=10)) == [] and incidents(hub) == []
