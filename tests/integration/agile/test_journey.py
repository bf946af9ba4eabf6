"""The whole journey of issue 17 through the JSON API, as new users would try it: an operator
opens an agile call; a consortium (an agency leading two companies) applies; two reviewers
score; the consortium is selected and its lead starts the agile project from the agreement;
the team plans an iteration, triages a citizen's feedback, ships through its CI; the release
completes the feedback and tells the citizen and the voter; the changelog, the delivery
metrics and the programme dashboard show exactly what follows from the events."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dpghub.identity.models import Organization, User
from tests.conftest import Hub
from tests.support import agile, programmes

KST = ZoneInfo("Asia/Seoul")
ATOM = "{http://www.w3.org/2005/Atom}"


def kst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=KST)


@pytest.fixture
def worlds(hub: Hub) -> tuple[agile.World, programmes.World]:
    """The agile world's people and organizations, seen also as the programmes world's (one
    clock for both): the consortium's users are the same, gamma is the rival, and two
    reviewers from a university come in."""
    team = agile.make_world(hub)
    reviewers = [hub.make_user(f"reviewer{i}@univ.ac.kr", name=f"평가위원 {i}")
                 for i in (1, 2)]
    conflicted = hub.make_user("reviewer@nowhere.ac.kr", name="미배정 위원")
    with hub.session() as s:
        gamma = s.scalars(select(Organization).where(Organization.slug == "gamma")).one()
    calls = programmes.World(hub, team.operator, team.lead_editor, team.alpha_admin,
                             team.beta_admin, team.outsider, reviewers, conflicted,
                             team.agency, team.alpha, team.beta, gamma, now=team.now)
    return team, calls


def test_from_the_call_to_the_metrics_and_the_dashboard(
        hub: Hub, worlds: tuple[agile.World, programmes.World]) -> None:
    w, p = worlds
    # --- the call, the applications, the review, the selection --------------------------
    p.at(programmes.OPENS + timedelta(days=1))
    call = p.call()
    consortium = p.apply(w.lead_editor, call["id"], "mois", members=["alpha", "beta"])
    alone = p.apply(w.outsider, call["id"], "gamma")
    for reviewer in p.reviewers:
        assert p.assign(call["id"], reviewer)["conflicts"] == []
    # reviewer 1: 8/10, 18/20 → 0.4·80 + 0.6·90 = 86; reviewer 2: 6/10, 14/20 → 24 + 42 = 66
    for reviewer, (f, i) in zip(p.reviewers, ((8, 18), (6, 14)), strict=True):
        assert p.score(reviewer, consortium["id"], f, i).status_code == 200
        assert p.score(reviewer, alone["id"], 5, 10).status_code == 200      # 50 each
    p.at(programmes.CLOSES + timedelta(hours=1))
    decided = w.post(f"/api/v1/programmes/calls/{call['id']}/selection", w.operator, {
        "selected": [{"application": consortium["id"], "reason": "평가 1위"}],
        "declined": [{"application": alone["id"], "reason": "공공 효과 점수 미달"}],
        "starts_on": "2026-05-01", "ends_on": "2026-12-31",
        "deliverables": ["서비스 1차 배포"]})
    assert decided.status_code == 200, decided.text
    agreement_id = decided.json()["agreements"][0]

    # --- the project from the agreement: members and period come from it ------------------
    w.at(agile.START)
    made = w.post("/api/v1/agile/projects", w.lead_editor, {
        "org": "mois", "name": "민원 안내 서비스", "goal": "민원 처리 시간을 절반으로",
        "service": "mois/minwon-guide", "agreement": agreement_id})
    assert made.status_code == 201, made.text
    project = made.json()
    pid = project["id"]
    assert project["agreement"] == agreement_id
    assert [m["slug"] for m in project["members"]] == ["alpha", "beta"]
    assert (project["starts_on"], project["ends_on"]) == ("2026-05-01", "2026-12-31")
    again = w.post("/api/v1/agile/projects", w.lead_editor, {
        "org": "mois", "name": "또 하나", "agreement": agreement_id})
    assert (again.status_code, again.json()["code"]) == (409, "agreement_has_project")

    # --- the backlog ----------------------------------------------------------------------
    font = w.item(pid, "글자 크기 조절", 3)
    search = w.item(pid, "민원 검색", 8, priority=2)

    # --- feedback, a vote, the triage (4 h after the feedback) ----------------------------
    w.at(kst(4, 10))
    asked = w.feedback(w.citizens[0], "처리 상황을 알림으로 받고 싶어요")
    assert asked.status_code == 201, asked.text
    fid = asked.json()["id"]
    assert w.post(f"/api/v1/feedback/{fid}/votes", w.citizens[1]).status_code == 201
    w.at(kst(4, 14))
    notify = w.item(pid, "처리 상황 알림", 5, feedback=[fid])
    assert notify["feedback"] == [fid]
    assert w.get(f"/api/v1/feedback/{fid}").json()["status"] == "planned"

    # --- an iteration planned from the backlog: 5 + 3 points committed -------------------
    planned = w.post(f"/api/v1/agile/projects/{pid}/iterations", w.lead_editor, {
        "name": "스프린트 1", "goal": "처리 상황 알림", "starts_on": "2026-05-04",
        "ends_on": "2026-05-15", "items": [notify["id"], font["id"]]})
    assert planned.status_code == 201, planned.text
    iteration = planned.json()
    assert (iteration["committed"], iteration["committed_points"]) == (
        [notify["id"], font["id"]], 8.0)
    board = w.get(f"/api/v1/agile/projects/{pid}/board", w.alpha_admin).json()
    assert {c["id"] for c in board["selected"]} == {notify["id"], font["id"]}
    assert [c["id"] for c in board["backlog"]] == [search["id"]]
    moved = w.patch(f"/api/v1/agile/projects/{pid}/items/{notify['id']}", w.alpha_admin,
                    {"state": "in_progress"})
    assert moved.status_code == 200, moved.text

    # --- the CI's deployment events and an incident ---------------------------------------
    token = w.ci_token(pid)
    # lead times of the successes: 1.0.0 from 5th 10:00 → 6th 10:00 = 24 h; 1.1.1: 2 h
    for version, commits, deployed, status in (
            ("1.0.0", [kst(5, 10), kst(6, 8)], kst(6, 10), "success"),
            ("1.1.0", [kst(7, 9)], kst(7, 15), "failure"),
            ("1.1.1", [kst(7, 16)], kst(7, 18), "success")):
        sent = w.deploy(pid, token, version, commits, deployed, status)
        assert sent.status_code == 201, sent.text
    incident = w.post(f"/api/v1/agile/projects/{pid}/incidents", w.alpha_admin, {
        "title": "1.1.0 배포 후 오류", "opened_at": kst(7, 15).isoformat()})
    assert incident.status_code == 201, incident.text
    resolved = w.patch(f"/api/v1/agile/projects/{pid}/incidents/{incident.json()['id']}",
                       w.alpha_admin, {"resolved_at": kst(7, 17, 30).isoformat()})
    assert resolved.status_code == 200, resolved.text

    # --- the release completes the item and the feedback ----------------------------------
    w.at(kst(7, 18, 5))
    released = w.post(f"/api/v1/agile/projects/{pid}/releases", w.lead_editor, {
        "version": "1.1.1", "released_at": kst(7, 18).isoformat(), "notes": "처리 상황 알림",
        "items": [notify["id"]], "feedback": [fid]})
    assert released.status_code == 201, released.text
    items = {i["id"]: i["state"] for i in
             w.get(f"/api/v1/agile/projects/{pid}/items", w.alpha_admin).json()}
    assert (items[notify["id"]], items[font["id"]]) == ("done", "selected")
    sprint = w.get(f"/api/v1/agile/projects/{pid}/iterations", w.alpha_admin).json()
    assert [(x["id"], x["done"], x["velocity"]) for x in sprint] == [
        (iteration["id"], [notify["id"]], 5.0)]
    done = w.get(f"/api/v1/feedback/{fid}").json()
    assert (done["status"], done["release"]) == ("completed", released.json()["id"])
    for user in (w.citizens[0], w.citizens[1]):
        lines = [n["text"] for n in w.get("/api/v1/agile/notices", user).json()]
        assert f"Your feedback #{fid} on 민원 안내 was completed in release 1.1.1" in lines, user.email
    assert w.get("/api/v1/agile/notices", w.citizens[2]).json() == []

    # --- the changelog, JSON and Atom -----------------------------------------------------
    changelog = w.get("/api/v1/services/mois/minwon-guide/changelog").json()
    assert [e["version"] for e in changelog] == ["1.1.1"]
    assert changelog[0]["items"] == ["처리 상황 알림"]
    assert [f["id"] for f in changelog[0]["feedback"]] == [fid]
    feed = hub.client.get("/api/v1/services/mois/minwon-guide/changelog.atom")
    assert feed.status_code == 200
    entries = ET.fromstring(feed.content).findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["1.1.1"]
    assert "처리 상황을 알림으로 받고 싶어요" in (entries[0].findtext(f"{ATOM}content") or "")

    # --- the metrics over the two weeks from Monday 4 May ---------------------------------
    answer = hub.client.get(f"/api/v1/agile/projects/{pid}/metrics", params={
        "from": "2026-05-04T00:00:00+09:00", "to": "2026-05-18T00:00:00+09:00"})
    assert answer.status_code == 200, answer.text
    m = answer.json()
    assert (m["deployments"], m["successful_deployments"]) == (3, 2)
    assert m["deployment_frequency"] == 1.0                   # 2 successes ÷ 2 weeks
    assert m["lead_time_median_hours"] == 13.0                # median of 24 h and 2 h
    assert m["change_failure_rate"] == 0.333333               # 1 failure of 3, 6 decimals
    assert m["time_to_restore_median_hours"] == 2.5           # 15:00 → 17:30
    assert m["feedback_lead_time_median_hours"] == 80.0       # 4th 10:00 → 7th 18:00
    assert m["feedback_response_median_hours"] == 4.0         # 10:00 → triage at 14:00

    # --- the programme dashboard ----------------------------------------------------------
    public = hub.client.get("/api/v1/programmes/dashboard").json()
    figures = next(x for x in public["programmes"] if x["programme"] == "agile")
    assert (figures["calls"], figures["applicants"], figures["selected"],
            figures["budget_granted_krw"]) == (1, 2, 1, 400_000_000)
    shown = figures["call_figures"]
    assert [(c["id"], c["applicants"], [o["slug"] for o in c["selected"]],
             c["budget_granted_krw"], c["ranking"]) for c in shown] == [
        (call["id"], 2, ["mois"], 400_000_000, None)]       # names and scores: operators
    operators = w.get("/api/v1/programmes/dashboard", w.operator).json()
    rows = next(x for x in operators["programmes"] if x["programme"] == "agile")
    assert [(r["application"], r["score"]) for r in rows["call_figures"][0]["ranking"]] == [
        (consortium["id"], 76.0), (alone["id"], 50.0)]    # (86 + 66) ÷ 2; 50 from both
    # the hub's monthly figures: May (the clock's month) and the eleven before it by default
    hub_figures = public["hub"]
    assert hub_figures["months"][-1] == "2026-05" and len(hub_figures["months"]) == 12
    may = {s["key"]: s["values"][-1] for s in hub_figures["series"]}
    assert (may["agile_releases"], may["feedback_answered"]) == (1, 1)
    assert "sandbox_projects" not in may                 # operators' figures
    assert {s["key"] for s in operators["hub"]["series"]} >= {"sandbox_projects",
                                                             "validations_passed", "ai_tokens"}


def _selected_consortium(w: agile.World, p: programmes.World,
                         programme: str = "agile") -> int:
    """A call of `programme` won by the mois consortium (gamma declined): its agreement."""
    p.at(programmes.OPENS + timedelta(days=1))
    call = p.call(programme=programme)
    consortium = p.apply(w.lead_editor, call["id"], "mois", members=["alpha", "beta"])
    alone = p.apply(w.outsider, call["id"], "gamma")
    p.at(programmes.CLOSES + timedelta(hours=1))
    decided = w.post(f"/api/v1/programmes/calls/{call['id']}/selection", w.operator, {
        "selected": [{"application": consortium["id"], "reason": "평가 1위"}],
        "declined": [{"application": alone["id"], "reason": "미달"}],
        "starts_on": "2026-05-01", "ends_on": "2026-12-31", "deliverables": []})
    assert decided.status_code == 200, decided.text
    return int(decided.json()["agreements"][0])


def test_a_project_from_an_agreement_only_for_its_lead_once(
        hub: Hub, worlds: tuple[agile.World, programmes.World]) -> None:
    w, p = worlds
    agreement = _selected_consortium(w, p)
    other = _selected_consortium(w, p, programme="ai_support")
    w.at(agile.START)

    def start(user: User, **body: object) -> tuple[int, str | None]:
        sent = w.post("/api/v1/agile/projects", user, {"name": "민원 안내 서비스", **body})
        return sent.status_code, sent.json().get("code")

    # a member company is no lead; the declined rival has no selection; another programme's
    # agreement is no agile one; a member's admin cannot act for the lead; no such agreement
    assert start(w.alpha_admin, org="alpha", agreement=agreement) == (
        422, "not_an_agile_selection")
    assert start(w.outsider, org="gamma", agreement=agreement) == (
        422, "not_an_agile_selection")
    assert start(w.lead_editor, org="mois", agreement=other) == (
        422, "not_an_agile_selection")
    assert start(w.alpha_admin, org="mois", agreement=agreement)[0] == 403
    assert start(w.lead_editor, org="mois", agreement=agreement + other + 1) == (
        422, "not_an_agile_selection")
    # given members and period keep within the agreement: its consortium, its days
    assert start(w.lead_editor, org="mois", agreement=agreement, members=["alpha", "gamma"]) == (
        422, "not_in_agreement")
    assert start(w.lead_editor, org="mois", agreement=agreement, starts_on="2026-04-01") == (
        422, "outside_agreement")
    assert start(w.lead_editor, org="mois", agreement=agreement, ends_on="2027-01-31") == (
        422, "outside_agreement")
    assert w.get("/api/v1/agile/projects", w.operator).json() == []      # nothing made

    made = w.post("/api/v1/agile/projects", w.lead_editor, {
        "org": "mois", "name": "민원 안내 서비스", "agreement": agreement,
        "members": ["beta"], "ends_on": "2026-10-31"})
    assert made.status_code == 201, made.text
    assert (made.json()["starts_on"], made.json()["ends_on"]) == ("2026-05-01", "2026-10-31")
    assert [m["slug"] for m in made.json()["members"]] == ["beta"]   # a narrower consortium
    # a member company's people see the project they are part of
    seen = w.get("/api/v1/agile/projects", w.beta_admin).json()
    assert [x["id"] for x in seen] == [made.json()["id"]]
    assert w.get("/api/v1/agile/projects", w.alpha_admin).json() == []
