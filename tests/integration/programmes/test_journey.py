"""The programme journey through the API, as the issue tells it: an operator opens an agile
call; a consortium of an agency and two companies applies, and a startup alone; two reviewers
score; the ranking follows from the scores exactly; the consortium is selected, the startup
told why; the consortium's agreement; a progress report; the dashboard's figures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dpghub.core.audit import AuditEvent
from dpghub.identity.models import Notice
from dpghub.programmes.service import selections
from tests.conftest import Hub
from tests.support.programmes import CLOSES, make_world


def test_a_consortium_is_selected_and_reports_progress(hub: Hub) -> None:
    w = make_world(hub)
    call = w.call()
    assert call["state"] == "open"
    listed = hub.client.get("/api/v1/programmes/calls").json()
    assert [c["id"] for c in listed] == [call["id"]]            # public, no sign-in

    consortium = w.apply(w.agency_editor, call["id"], "mois", members=["alpha", "beta"])
    assert [m["slug"] for m in consortium["members"]] == ["alpha", "beta"]
    assert consortium["state"] == "submitted"
    alone = w.apply(w.rival_editor, call["id"], "gamma")
    # a member company's admin reads the consortium's application
    seen = hub.client.get(f"/api/v1/programmes/applications/{consortium['id']}",
                          headers=hub.bearer(w.company_b_admin))
    assert seen.status_code == 200 and seen.json()["lead"]["slug"] == "mois"

    for reviewer in w.reviewers:
        assert w.assign(call["id"], reviewer)["conflicts"] == []
    assert w.assign(call["id"], w.conflicted)["conflicts"] == [consortium["id"]]
    # reviewer 1: consortium 8/10, 18/20 → 0.4·0.8 + 0.6·0.9 = 86; startup 5/10, 10/20 → 50
    # reviewer 2: consortium 6/10, 14/20 → 24 + 42 = 66;          startup 9/10, 12/20 → 72
    for reviewer, marks in zip(w.reviewers, [((8, 18), (5, 10)), ((6, 14), (9, 12))],
                               strict=True):
        for application, (f, i) in zip((consortium, alone), marks, strict=True):
            scored = w.score(reviewer, application["id"], f, i)
            assert scored.status_code == 200, scored.text
    # re-scoring replaces one's own scores: reviewer 2 thinks again about the startup
    again = w.score(w.reviewers[1], alone["id"], 7, 12)          # 28 + 36 = 64
    assert again.json()["total"] == 64.0

    w.at(CLOSES + timedelta(hours=1))
    ranking = hub.client.get(f"/api/v1/programmes/calls/{call['id']}/ranking",
                             headers=hub.bearer(w.operator)).json()
    assert [(r["application"], r["score"], r["reviews"]) for r in ranking["rows"]] == [
        (consortium["id"], 76.0, 2), (alone["id"], 57.0, 2)]
    assert ranking["rows"][0]["criteria"] == {"feasibility": 7.0, "impact": 16.0}

    decided = hub.client.post(f"/api/v1/programmes/calls/{call['id']}/selection", json={
        "selected": [{"application": consortium["id"], "reason": "평가 1위"}],
        "declined": [{"application": alone["id"], "reason": "공공 효과 점수 미달"}],
        "starts_on": "2026-05-01", "ends_on": "2026-12-31",
        "deliverables": ["서비스 1차 배포", "사용자 피드백 보고서"]},
        headers=hub.bearer(w.operator))
    assert decided.status_code == 200, decided.text
    assert decided.json()["selected"] == [consortium["id"]]
    agreement_id = decided.json()["agreements"][0]

    told = hub.client.get(f"/api/v1/programmes/applications/{alone['id']}",
                          headers=hub.bearer(w.rival_editor)).json()
    assert (told["state"], told["reason"]) == ("declined", "공공 효과 점수 미달")
    with hub.session() as s:
        lines = {(n.user_id, n.params["reason"])
                 for n in s.scalars(select(Notice).where(Notice.domain == "programmes"))}
    assert (w.rival_editor.id, "공공 효과 점수 미달") in lines
    for user in (w.agency_editor, w.company_a_admin, w.company_b_admin, w.conflicted):
        assert (user.id, "평가 1위") in lines                  # every consortium member's user

    agreement = hub.client.get(f"/api/v1/programmes/agreements/{agreement_id}",
                               headers=hub.bearer(w.company_a_admin)).json()
    assert (agreement["budget_krw"], agreement["ends_on"]) == (400_000_000, "2026-12-31")
    reported = hub.client.post(f"/api/v1/programmes/agreements/{agreement_id}/reports",
                               json={"text": "1차 배포 완료", "figures": {"users": 320}},
                               headers=hub.bearer(w.agency_editor))
    assert reported.status_code == 201, reported.text
    shown = hub.client.get(f"/api/v1/programmes/agreements/{agreement_id}",
                           headers=hub.bearer(w.operator)).json()
    assert [(r["text"], r["figures"]) for r in shown["reports"]] == [
        ("1차 배포 완료", {"users": 320.0})]

    with hub.session() as s:
        found = selections.of_org(s, w.company_b.id, "agile")
        assert [(f.call, f.agreement, f.lead) for f in found] == [
            (call["id"], agreement_id, False)]
        assert selections.of_org(s, w.rival.id) == []
        actions = set(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("programmes.%"))))
    assert actions == {"programmes.call.create", "programmes.application.create",
                       "programmes.application.submit", "programmes.review.assign",
                       "programmes.review.score", "programmes.selection.decide",
                       "programmes.agreement.create", "programmes.report.submit"}

    public = hub.client.get("/api/v1/programmes/dashboard").json()
    agile = next(p for p in public["programmes"] if p["programme"] == "agile")
    assert (agile["calls"], agile["applicants"], agile["selected"],
            agile["budget_granted_krw"]) == (1, 2, 1, 400_000_000)
    assert agile["call_figures"][0]["ranking"] is None           # names and scores: operators
    assert [o["slug"] for o in agile["call_figures"][0]["selected"]] == ["mois"]
    operators = hub.client.get("/api/v1/programmes/dashboard",
                               headers=hub.bearer(w.operator)).json()
    rows = next(p for p in operators["programmes"] if p["programme"] == "agile")
    assert [r["score"] for r in rows["call_figures"][0]["ranking"]] == [76.0, 57.0]
