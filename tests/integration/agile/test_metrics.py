"""Delivery metrics follow exactly from hand-made events over two weeks (Asia/Seoul weeks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import Hub
from tests.support.agile import make_world

KST = ZoneInfo("Asia/Seoul")


def kst(day: int, hour: int) -> datetime:
    return datetime(2026, 5, day, hour, tzinfo=KST)


def test_metrics_follow_from_the_events(hub: Hub) -> None:
    w = make_world(hub)
    pid = w.project()["id"]
    token = w.ci_token(pid)
    # deployments: (commits, deployed, status) — lead times of the successes: 24, 6, 12 h
    for version, commits, deployed, status in (
            ("1.0.0", [kst(4, 10), kst(5, 8)], kst(5, 10), "success"),
            ("1.0.1", [kst(6, 6)], kst(6, 10), "failure"),
            ("1.1.0", [kst(12, 4)], kst(12, 10), "success"),
            ("1.1.1", [kst(13, 9)], kst(13, 10), "rolled_back"),
            ("1.2.0", [kst(13, 22)], kst(14, 10), "success"),
            ("1.3.0", [kst(20, 1)], kst(20, 10), "success")):          # after the window
        assert w.deploy(pid, token, version, commits, deployed, status).status_code == 201
    # incidents: restored in 2 h and 4 h; one still open
    for opened, resolved in ((kst(6, 10), kst(6, 12)), (kst(13, 10), kst(13, 14)),
                             (kst(13, 11), None)):
        made = w.post(f"/api/v1/agile/projects/{pid}/incidents", w.alpha_admin, {
            "title": "장애", "opened_at": opened.isoformat(),
            "resolved_at": resolved.isoformat() if resolved else None})
        assert made.status_code == 201, made.text
    # feedback: answered after 24 h and 6 h; the first completed by a release 8 days later
    w.at(kst(4, 10))
    first = w.feedback(w.citizens[0]).json()
    second = w.feedback(w.citizens[1], kind="question").json()
    w.at(kst(4, 16))
    assert w.patch(f"/api/v1/feedback/{second['id']}", w.lead_editor,
                   {"status": "declined"}).status_code == 200
    w.at(kst(5, 10))
    assert w.patch(f"/api/v1/feedback/{first['id']}", w.lead_editor,
                   {"status": "planned"}).status_code == 200
    w.at(kst(12, 11))
    released = w.post(f"/api/v1/agile/projects/{pid}/releases", w.lead_editor, {
        "version": "1.1.0", "released_at": kst(12, 10).isoformat(),
        "feedback": [first["id"]]})
    assert released.status_code == 201, released.text

    answer = hub.client.get(f"/api/v1/agile/projects/{pid}/metrics", params={
        "from": "2026-05-04T00:00:00+09:00", "to": "2026-05-18T00:00:00+09:00"})
    assert answer.status_code == 200, answer.text
    m = answer.json()
    assert (m["deployments"], m["successful_deployments"]) == (5, 3)
    assert m["deployment_frequency"] == 1.5
    assert m["lead_time_median_hours"] == 12.0
    assert m["change_failure_rate"] == 0.4
    assert m["time_to_restore_median_hours"] == 3.0
    assert m["feedback_lead_time_median_hours"] == 192.0
    assert m["feedback_response_median_hours"] == 15.0
    weeks = [(x["week"], x["deployment_frequency"], x["lead_time_median_hours"],
              x["change_failure_rate"], x["time_to_restore_median_hours"],
              x["feedback_lead_time_median_hours"], x["feedback_response_median_hours"])
             for x in m["weeks"]]
    assert weeks == [("2026-05-04", 1.0, 24.0, 0.5, 2.0, None, 15.0),
                     ("2026-05-11", 2.0, 9.0, 0.333333, 4.0, 192.0, None)]

    bad = hub.client.get(f"/api/v1/agile/projects/{pid}/metrics", params={
        "from": "2026-05-18T00:00:00+09:00", "to": "2026-05-04T00:00:00+09:00"})
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_window")
    w.at(kst(18, 0) + timedelta(days=7 * 12))
    default = hub.client.get(f"/api/v1/agile/projects/{pid}/metrics").json()
    # the last 12 weeks: from Monday 18 May, holding 1.3.0 only
    assert (len(default["weeks"]), default["deployments"]) == (12, 1)
