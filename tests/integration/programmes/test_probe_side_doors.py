"""Security probe of the programmes domain, as an attacker with an account would try it: a
reviewer reading drafts or another call's applications, applicants reading scores and
reviewers' comments, people of an applying organization who are not its editors writing for
it, the public dashboard naming who lost, and the page forms without their CSRF token.

Tests named `test_finding_…` prove a fault found by the probe (their docstrings start with
FINDING and its severity); they fail until it is mended. The others pin a side door that is
closed, so it stays closed."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from dpghub.identity import schemas as identity_schemas
from dpghub.identity import service as identity
from dpghub.identity.models import Role, User
from dpghub.identity.policy import CLI
from dpghub.programmes.models import Agreement, Application, Report, Score
from tests.conftest import Hub
from tests.support.identity import csrf_of
from tests.support.programmes import CLOSES, World, make_world
from tests.support.testbed_pages import visitor

SECRET_PLAN = "초안: 경쟁사 가격의 70%로 입찰"
COMMENTS = ("위원1: 재무 구조가 불안정", "위원2: 인력 계획이 비현실적")


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def member_of(w: World, org: str, email: str, role: Role) -> User:
    """Someone else at `org`, with `role`."""
    person = w.hub.make_user(email, name=f"{org} {role.value}")
    with w.hub.session() as s:
        identity.add_member(s, actor=CLI, org=identity.get_org_by_slug(s, org),
                            data=identity_schemas.MembershipCreate(email=email, role=role))
    return person


def counts(w: World) -> tuple[int, int, int, int]:
    with w.hub.factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                     for m in (Application, Score, Agreement, Report))


def as_json(w: World, method: str, path: str, user: User | None,
            body: dict[str, Any] | None = None) -> Any:
    headers = w.hub.bearer(user) if user is not None else {}
    return w.hub.client.request(method, path, json=body, headers=headers)


def scored_and_decided(w: World) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The consortium (mois with alpha, beta) and gamma apply; both reviewers score them with
    comments no applicant should read; the consortium is selected, gamma declined."""
    call = w.call()
    consortium = w.apply(w.agency_editor, call["id"], "mois", members=["alpha", "beta"])
    alone = w.apply(w.rival_editor, call["id"], "gamma")
    for reviewer, comment in zip(w.reviewers, COMMENTS, strict=True):
        w.assign(call["id"], reviewer)
        for application in (consortium, alone):
            scored = w.hub.client.post(
                f"/api/v1/programmes/applications/{application['id']}/scores",
                json={"feasibility": {"score": 7, "comment": comment},
                      "impact": {"score": 13, "comment": comment}},
                headers=w.hub.bearer(reviewer))
            assert scored.status_code == 200, scored.text
    w.at(CLOSES + timedelta(hours=1))
    decided = as_json(w, "POST", f"/api/v1/programmes/calls/{call['id']}/selection",
                      w.operator, {"selected": [{"application": consortium["id"],
                                                 "reason": "평가 1위"}],
                                   "declined": [{"application": alone["id"],
                                                 "reason": "보안 점검 미흡으로 탈락"}],
                                   "starts_on": "2026-05-01", "ends_on": "2026-12-31"})
    assert decided.status_code == 200, decided.text
    return call, consortium, alone


# --- reviewers ------------------------------------------------------------------------------


def test_finding_a_reviewer_reads_no_draft(hub: Hub) -> None:
    """FINDING (medium): a call's reviewers read and score its *submitted* applications, but
    `programmes.application.read` granted them every application of the call, drafts too — a
    reviewer followed an applicant's plan (and its consortium) as it was being written, before
    the applicant chose to submit it. Drafts are the applying organizations' (and operators')
    until submitted."""
    w = make_world(hub)
    call = w.call()
    w.assign(call["id"], w.reviewers[0])
    draft = w.apply(w.agency_editor, call["id"], "mois", members=["alpha"], submit=False,
                    answers={"plan": SECRET_PLAN})
    path = f"/api/v1/programmes/applications/{draft['id']}"

    peeked = as_json(w, "GET", path, w.reviewers[0])
    assert (peeked.status_code, peeked.json().get("code")) == (403, "forbidden"), peeked.text
    assert SECRET_PLAN not in peeked.text
    listed = as_json(w, "GET", f"/api/v1/programmes/calls/{call['id']}/applications",
                     w.reviewers[0]).json()
    assert listed == []
    # the applying organizations and operators read it; the reviewer once it is submitted
    for reader in (w.agency_editor, w.company_a_admin, w.conflicted, w.operator):
        assert as_json(w, "GET", path, reader).status_code == 200, reader.email
    assert as_json(w, "POST", f"{path}/submit", w.agency_editor).status_code == 200
    assert as_json(w, "GET", path, w.reviewers[0]).json()["answers"]["plan"] == SECRET_PLAN


def test_a_reviewer_of_one_call_reads_nothing_of_another(hub: Hub) -> None:
    """Reviewers are assigned per call: a reviewer of another call reads none of this call's
    applications, its ranking or its reviewers, and scores none of them."""
    w = make_world(hub)
    call = w.call()
    other = w.call(title="2026 AI 지원 공모", programme="ai_support")
    w.assign(call["id"], w.reviewers[0])
    w.assign(other["id"], w.reviewers[1])
    alone = w.apply(w.rival_editor, call["id"], "gamma")

    outsider = w.reviewers[1]
    assert as_json(w, "GET", f"/api/v1/programmes/applications/{alone['id']}",
                   outsider).status_code == 403
    assert as_json(w, "GET", f"/api/v1/programmes/calls/{call['id']}/applications",
                   outsider).json() == []
    assert as_json(w, "GET", "/api/v1/programmes/applications", outsider).json() == []
    for path in ("ranking", "reviewers"):
        assert as_json(w, "GET", f"/api/v1/programmes/calls/{call['id']}/{path}",
                       outsider).status_code == 403, path
    assert w.score(outsider, alone["id"], 5, 10).status_code == 403
    assert counts(w)[1] == 0


def test_applicants_read_no_scores_and_no_reviewers_comments(sqlite_hub: Hub) -> None:
    """The applicants (the lead, a consortium member, the declined rival) read their outcome
    and its reason, never the scores or the reviewers' comments, on the API or the pages; a
    reviewer's page shows their own comments only."""
    w = make_world(sqlite_hub, language="en")
    call, consortium, alone = scored_and_decided(w)

    for reader, application in ((w.agency_editor, consortium), (w.company_b_admin, consortium),
                                (w.rival_editor, alone)):
        answer = as_json(w, "GET", f"/api/v1/programmes/applications/{application['id']}",
                         reader)
        assert answer.status_code == 200, answer.text
        assert "scores" not in answer.json() and "score" not in answer.json()
        page = visitor(sqlite_hub, reader).get(f"/programmes/applications/{application['id']}")
        assert page.status_code == 200, page.text
        for text in (answer.text, words(page.text)):
            for comment in COMMENTS:
                assert comment not in text, (reader.email, comment)
        assert "Your scores" not in words(page.text)
    declined = as_json(w, "GET", f"/api/v1/programmes/applications/{alone['id']}",
                       w.rival_editor).json()
    assert (declined["state"], declined["reason"]) == ("declined", "보안 점검 미흡으로 탈락")
    # the ranking (scores, means per criterion) is the operators'
    for reader in (w.agency_editor, w.rival_editor, *w.reviewers):
        assert as_json(w, "GET", f"/api/v1/programmes/calls/{call['id']}/ranking",
                       reader).status_code == 403
        assert visitor(sqlite_hub, reader).get(
            f"/programmes/calls/{call['id']}/ranking").status_code == 403


def test_finding_a_reviewer_opens_a_selected_application_page(sqlite_hub: Hub) -> None:
    """FINDING (low): once an application is selected, its page loads the agreement with the
    reviewer's permission — which reviewers do not have (agreements are the applying
    organizations' and operators') — so the whole page is a 403 for the call's reviewers,
    who read the same application on the API. The page should leave the agreement out."""
    w = make_world(sqlite_hub, language="en")
    _, consortium, _ = scored_and_decided(w)
    reviewer = w.reviewers[0]
    assert as_json(w, "GET", f"/api/v1/programmes/applications/{consortium['id']}",
                   reviewer).status_code == 200
    agreement = as_json(w, "GET", f"/api/v1/programmes/applications/{consortium['id']}",
                        reviewer).json()["agreement"]
    assert as_json(w, "GET", f"/api/v1/programmes/agreements/{agreement}",
                   reviewer).status_code == 403          # right: not the reviewer's
    page = visitor(sqlite_hub, reviewer).get(f"/programmes/applications/{consortium['id']}")
    assert page.status_code == 200, page.status_code
    assert "Budget" not in words(page.text)


# --- who writes for an organization ---------------------------------------------------------


def test_only_the_leads_editors_write_submit_and_report(hub: Hub) -> None:
    """A plain member of the lead organization, the admin of a consortium member and the
    call's reviewers write nothing of the application: not a draft, not an edit, not the
    submission, not a progress report; the lead's editor edits nothing once submitted."""
    w = make_world(hub)
    clerk = member_of(w, "mois", "clerk@mois.go.kr", Role.member)
    call = w.call()
    w.assign(call["id"], w.reviewers[0])
    draft_url = "/api/v1/programmes/applications/{id}"

    def code(answer: Any) -> tuple[int, str | None]:
        return answer.status_code, answer.json().get("code")

    assert code(as_json(w, "POST", f"/api/v1/programmes/calls/{call['id']}/applications",
                        clerk, {"org": "mois", "title": "직원이 낸 신청"})) == (403, "forbidden")
    draft = w.apply(w.agency_editor, call["id"], "mois", members=["alpha"], submit=False)
    url = draft_url.format(id=draft["id"])
    for person in (clerk, w.company_a_admin, w.conflicted):
        assert code(as_json(w, "PATCH", url, person, {"title": "고침"})) == (403, "forbidden")
        assert code(as_json(w, "PATCH", url, person, {"members": ["alpha", "gamma"]})) == (
            403, "forbidden")
        assert code(as_json(w, "POST", f"{url}/submit", person)) == (403, "forbidden")
    assert as_json(w, "POST", f"{url}/submit", w.agency_editor).status_code == 200
    assert code(as_json(w, "PATCH", url, w.agency_editor, {"members": ["alpha", "gamma"]})) == (
        409, "application_submitted")
    assert code(as_json(w, "POST", f"{url}/submit", w.agency_editor)) == (
        409, "application_submitted")

    w.at(CLOSES + timedelta(hours=1))
    decided = as_json(w, "POST", f"/api/v1/programmes/calls/{call['id']}/selection",
                      w.operator, {"selected": [{"application": draft["id"], "reason": "1위"}],
                                   "starts_on": "2026-05-01", "ends_on": "2026-12-31"})
    assert decided.status_code == 200, decided.text
    agreement = decided.json()["agreements"][0]
    report = {"text": "1차 배포 완료", "figures": {"users": 320}}
    for person in (clerk, w.company_a_admin, w.reviewers[0], w.rival_editor):
        answer = as_json(w, "POST", f"/api/v1/programmes/agreements/{agreement}/reports",
                         person, report)
        assert answer.status_code == 403, person.email
    assert counts(w)[3] == 0
    shown = as_json(w, "GET", url, w.agency_editor).json()
    assert ([m["slug"] for m in shown["members"]], shown["title"]) == (
        ["alpha"], "mois의 서비스")


def test_a_selection_counts_each_application_once(hub: Hub) -> None:
    """The same application named twice does not fill two places, nor is it both selected
    and declined."""
    w = make_world(hub)
    call = w.call(select_count=2)
    one = w.apply(w.agency_editor, call["id"], "mois")
    two = w.apply(w.rival_editor, call["id"], "gamma")
    w.at(CLOSES + timedelta(hours=1))
    url = f"/api/v1/programmes/calls/{call['id']}/selection"
    terms = {"starts_on": "2026-05-01", "ends_on": "2026-12-31", "declined_reason": "순위 밖"}
    for body in ({"selected": [{"application": one["id"], "reason": "1위"},
                               {"application": one["id"], "reason": "또 1위"}]},
                 {"selected": [{"application": one["id"], "reason": "1위"}],
                  "declined": [{"application": one["id"], "reason": "탈락"}]}):
        answer = as_json(w, "POST", url, w.operator, {**body, **terms})
        assert (answer.status_code, answer.json()["code"]) == (422, "decided_twice"), body
    assert counts(w)[2] == 0
    assert {a["state"] for a in (as_json(w, "GET", f"/api/v1/programmes/applications/{x['id']}",
                                         w.operator).json() for x in (one, two))} == {
        "submitted"}


# --- the public dashboard -------------------------------------------------------------------


def test_the_public_dashboard_names_the_selected_only(sqlite_hub: Hub) -> None:
    """Anyone (and any applicant) reads how many applied and who was selected; the names,
    titles, scores and reasons of the others are the operators' alone."""
    w = make_world(sqlite_hub, language="en")
    call, _, alone = scored_and_decided(w)
    hidden = ("gamma", "감마", alone["title"], "보안 점검 미흡", "평가 1위")

    for person in (None, w.agency_editor, w.reviewers[0]):
        answer = as_json(w, "GET", "/api/v1/programmes/dashboard", person)
        figures = next(p for p in answer.json()["programmes"] if p["programme"] == "agile")
        row = figures["call_figures"][0]
        assert (row["applicants"], [o["slug"] for o in row["selected"]], row["ranking"]) == (
            2, ["mois"], None)
        page = (visitor(sqlite_hub, person) if person else visitor(sqlite_hub)).get(
            "/programmes/dashboard")
        assert page.status_code == 200
        shown = words(page.text)
        for text in hidden:
            assert text not in answer.text and text not in shown, (person, text)
        assert "Applicants and scores" not in shown
    operators = as_json(w, "GET", "/api/v1/programmes/dashboard", w.operator).json()
    rows = next(p for p in operators["programmes"] if p["programme"] == "agile")
    assert [r["lead"]["slug"] for r in rows["call_figures"][0]["ranking"]] == ["mois", "gamma"]
    # the call's page is public, and names no applicant either
    page = words(visitor(sqlite_hub).get(f"/programmes/calls/{call['id']}").text)
    assert "gamma" not in page and alone["title"] not in page


# --- the page forms -------------------------------------------------------------------------


def test_the_programme_forms_need_their_csrf_token_and_a_signed_in_person(
        sqlite_hub: Hub) -> None:
    """Every programme form refuses a post without the page's CSRF token (or with another
    browser's), and sends the signed-out to sign in; nothing changes."""
    w = make_world(sqlite_hub, language="en")
    call = w.call()
    draft = w.apply(w.agency_editor, call["id"], "mois", submit=False)
    app_url = f"/programmes/applications/{draft['id']}"
    forms = {
        "/programmes/calls": {"programme": "agile", "title": "가짜 공모",
                              "opens_at": "2026-03-02T09:00", "closes_at": "2026-03-31T18:00",
                              "criteria": "a | A | 1 | 10", "select_count": "1",
                              "budget_krw": "1"},
        f"/programmes/calls/{call['id']}/applications": {"org": "mois", "title": "또"},
        f"/programmes/calls/{call['id']}/reviewers": {"email": w.reviewers[0].email},
        app_url: {"title": "바꿈", "answer:plan": "바꿈"},
        f"{app_url}/submit": {},
        f"{app_url}/scores": {"score:feasibility": "10", "score:impact": "20"},
        f"{app_url}/reports": {"text": "보고"},
        f"/programmes/calls/{call['id']}/selection": {"declined_reason": "x",
                                                     "starts_on": "2026-05-01",
                                                     "ends_on": "2026-12-31"},
        "/programmes/notices/read": {}}
    operator = visitor(sqlite_hub, w.operator)
    editor = visitor(sqlite_hub, w.agency_editor)
    stolen = csrf_of(visitor(sqlite_hub, w.rival_editor).get("/programmes").text)
    before = counts(w)

    for browser in (operator, editor):
        for action, data in forms.items():
            bare = browser.client.post(action, data=data, follow_redirects=False)
            assert bare.status_code == 403, (action, bare.text)
            crossed = browser.client.post(action, data={"csrf_token": stolen, **data},
                                          follow_redirects=False)
            assert crossed.status_code == 403, action
    anonymous = visitor(sqlite_hub)
    token = csrf_of(anonymous.get("/programmes").text)
    for action, data in forms.items():
        sent = anonymous.client.post(action, data={"csrf_token": token, **data},
                                     follow_redirects=False)
        assert sent.status_code == 303, (action, sent.status_code)
        assert sent.headers["location"].startswith("/signin"), action

    assert counts(w) == before
    shown = as_json(w, "GET", f"/api/v1/programmes/applications/{draft['id']}",
                    w.agency_editor).json()
    assert (shown["state"], shown["title"]) == ("draft", "mois의 서비스")
    assert as_json(w, "GET", f"/api/v1/programmes/calls/{call['id']}/reviewers",
                   w.operator).json() == []
