"""Every refusal of the programmes domain: a clear 4xx naming the fault, and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from dpghub.programmes.models import Agreement, Application, Score
from tests.conftest import Hub
from tests.support.programmes import CLOSES, OPENS, World, make_world


def counts(hub: Hub) -> tuple[int, int, int, list[str]]:
    with hub.session() as s:
        return (s.scalar(select(func.count()).select_from(Application)) or 0,
                s.scalar(select(func.count()).select_from(Score)) or 0,
                s.scalar(select(func.count()).select_from(Agreement)) or 0,
                sorted(s.scalars(select(Application.state))))


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    return response.json()  # type: ignore[no-any-return]


def reviewed(w: World) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A call with the consortium's and the startup's applications submitted, reviewer 1
    assigned, and the conflicted reviewer assigned too."""
    call = w.call()
    consortium = w.apply(w.agency_editor, call["id"], "mois", members=["alpha", "beta"])
    alone = w.apply(w.rival_editor, call["id"], "gamma")
    w.assign(call["id"], w.reviewers[0])
    w.assign(call["id"], w.conflicted)
    return call, consortium, alone


def test_submitting_before_the_call_opens_or_after_it_closes_is_refused(hub: Hub) -> None:
    w = make_world(hub, language="en")
    w.at(OPENS - timedelta(days=3))            # announced: a draft may be written already
    call = w.call()
    assert call["state"] == "upcoming"
    draft = w.apply(w.agency_editor, call["id"], "mois", submit=False)
    submit = f"/api/v1/programmes/applications/{draft['id']}/submit"
    body = refused(hub.client.post(submit, headers=hub.bearer(w.agency_editor)), 409,
                   "call_closed")
    assert "opens" in body["detail"]
    w.at(CLOSES)                                # the deadline itself is too late
    refused(hub.client.post(submit, headers=hub.bearer(w.agency_editor)), 409, "call_closed")
    refused(hub.client.post(f"/api/v1/programmes/calls/{call['id']}/applications",
                            json={"org": "gamma", "title": "늦은 신청"},
                            headers=hub.bearer(w.rival_editor)), 409, "call_closed")
    refused(hub.client.patch(f"/api/v1/programmes/applications/{draft['id']}",
                             json={"title": "고침"}, headers=hub.bearer(w.agency_editor)),
            409, "call_closed")
    assert counts(hub) == (1, 0, 0, ["draft"])


def test_a_decided_call_takes_no_more_applications(hub: Hub) -> None:
    w = make_world(hub, language="en")
    call, consortium, _ = reviewed(w)
    w.at(CLOSES + timedelta(days=1))
    made = hub.client.post(f"/api/v1/programmes/calls/{call['id']}/selection", json={
        "selected": [{"application": consortium["id"], "reason": "1위"}],
        "declined_reason": "순위 밖", "starts_on": "2026-05-01", "ends_on": "2026-12-31"},
        headers=hub.bearer(w.operator))
    assert made.status_code == 200, made.text
    refused(hub.client.post(f"/api/v1/programmes/calls/{call['id']}/applications",
                            json={"org": "beta", "title": "또 신청"},
                            headers=hub.bearer(w.company_b_admin)), 409, "call_closed")
    refused(hub.client.post(f"/api/v1/programmes/calls/{call['id']}/selection", json={
        "selected": [], "declined_reason": "다시", "starts_on": "2026-05-01",
        "ends_on": "2026-12-31"}, headers=hub.bearer(w.operator)), 409, "already_decided")
    refused(w.score(w.reviewers[0], consortium["id"], 5, 5), 409, "call_decided")


def test_required_answers_and_unknown_questions(hub: Hub) -> None:
    w = make_world(hub, language="en")
    call = w.call()
    draft = w.apply(w.agency_editor, call["id"], "mois", answers={"team": "5명"}, submit=False)
    body = refused(hub.client.post(f"/api/v1/programmes/applications/{draft['id']}/submit",
                                   headers=hub.bearer(w.agency_editor)), 422, "answer_required")
    assert "추진 계획" in body["detail"] and body["field"] == "answers.plan"
    refused(hub.client.patch(f"/api/v1/programmes/applications/{draft['id']}",
                             json={"answers": {"budget": "많이"}},
                             headers=hub.bearer(w.agency_editor)), 422, "unknown_question")
    refused(hub.client.post(f"/api/v1/programmes/calls/{call['id']}/applications",
                            json={"org": "gamma", "title": "t", "members": ["nowhere"]},
                            headers=hub.bearer(w.rival_editor)), 422, "unknown_org")
    refused(hub.client.post(f"/api/v1/programmes/calls/{call['id']}/applications",
                            json={"org": "mois", "title": "또"},
                            headers=hub.bearer(w.agency_editor)), 409, "already_applied")
    # another organization's editor cannot apply in its name
    refused(hub.client.post(f"/api/v1/programmes/calls/{call['id']}/applications",
                            json={"org": "mois", "title": "남의 이름"},
                            headers=hub.bearer(w.rival_editor)), 403, "forbidden")
    assert counts(hub) == (1, 0, 0, ["draft"])


def test_scoring_refusals(hub: Hub) -> None:
    w = make_world(hub, language="en")
    call, consortium, alone = reviewed(w)
    # the reviewer who works at alpha may not score the consortium alpha is in
    body = refused(w.score(w.conflicted, consortium["id"], 5, 5), 403, "reviewer_conflict")
    assert "own organization" in body["detail"]
    body = refused(w.score(w.reviewers[0], consortium["id"], 11, 5), 422,
                   "score_out_of_range")
    assert body["field"] == "feasibility.score" and "feasibility" in body["detail"]
    refused(w.score(w.reviewers[0], consortium["id"], -1, 5), 422, "score_out_of_range")
    unknown = hub.client.post(f"/api/v1/programmes/applications/{consortium['id']}/scores",
                              json={"feasibility": {"score": 5}, "impact": {"score": 5},
                                    "beauty": {"score": 5}},
                              headers=hub.bearer(w.reviewers[0]))
    assert refused(unknown, 422, "unknown_criterion")["field"] == "beauty"
    partial = hub.client.post(f"/api/v1/programmes/applications/{consortium['id']}/scores",
                              json={"feasibility": {"score": 5}},
                              headers=hub.bearer(w.reviewers[0]))
    refused(partial, 422, "criterion_missing")
    # someone not assigned, and an operator by office, score nothing
    refused(w.score(w.reviewers[1], alone["id"], 5, 5), 403, "forbidden")
    refused(w.score(w.operator, alone["id"], 5, 5), 403, "forbidden")
    assert counts(hub)[1] == 0


def test_selection_refusals(hub: Hub) -> None:
    w = make_world(hub, language="en")
    call, consortium, alone = reviewed(w)
    late = w.apply(w.company_b_admin, call["id"], "beta", submit=False)   # never submitted
    url = f"/api/v1/programmes/calls/{call['id']}/selection"
    terms = {"starts_on": "2026-05-01", "ends_on": "2026-12-31", "declined_reason": "순위 밖"}
    two = {"selected": [{"application": consortium["id"], "reason": "1위"},
                        {"application": alone["id"], "reason": "2위"}], **terms}
    refused(hub.client.post(url, json=two, headers=hub.bearer(w.operator)), 409,
            "call_still_open")
    w.at(CLOSES + timedelta(days=1))
    body = refused(hub.client.post(url, json=two, headers=hub.bearer(w.operator)), 422,
                   "too_many_selected")
    assert body["field"] == "selected"
    refused(hub.client.post(url, json={"selected": [{"application": late["id"],
                                                     "reason": "r"}], **terms},
                            headers=hub.bearer(w.operator)), 422, "not_submitted")
    refused(hub.client.post(url, json={"selected": [{"application": 999999, "reason": "r"}],
                                       **terms}, headers=hub.bearer(w.operator)),
            422, "not_in_call")
    no_reason = {**terms, "declined_reason": None,
                 "selected": [{"application": consortium["id"], "reason": "1위"}]}
    refused(hub.client.post(url, json=no_reason, headers=hub.bearer(w.operator)), 422,
            "reason_required")
    refused(hub.client.post(url, json={"selected": [], **terms},
                            headers=hub.bearer(w.agency_editor)), 403, "forbidden")
    assert counts(hub) == (3, 0, 0, ["draft", "submitted", "submitted"])


def test_outsiders_see_no_application_and_no_ranking(hub: Hub) -> None:
    w = make_world(hub, language="en")
    call, consortium, _ = reviewed(w)
    refused(hub.client.get(f"/api/v1/programmes/applications/{consortium['id']}",
                           headers=hub.bearer(w.rival_editor)), 403, "forbidden")
    refused(hub.client.get(f"/api/v1/programmes/calls/{call['id']}/ranking",
                           headers=hub.bearer(w.reviewers[0])), 403, "forbidden")
    refused(hub.client.post("/api/v1/programmes/calls", json={},
                            headers=hub.bearer(w.agency_editor)), 422, "invalid")
    made = hub.client.post("/api/v1/programmes/calls", json={
        "programme": "agile", "title": "t", "opens_at": "2026-03-02T09:00:00",
        "closes_at": "2026-03-31T18:00:00", "criteria": [
            {"id": "a", "name": "A", "weight": 1, "max_score": 10}],
        "select_count": 1, "budget_krw": 1}, headers=hub.bearer(w.agency_editor))
    refused(made, 403, "forbidden")
