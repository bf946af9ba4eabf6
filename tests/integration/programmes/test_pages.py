"""The programme pages as people use them without JavaScript: the journey of test_journey.py
walked through the forms, and refusals re-rendered with their reasons. Its people read the
portal in English so the tests name what they see by message ids; one test reads it in
Korean."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.conftest import Hub
from tests.support.programmes import CLOSES, make_world
from tests.support.testbed_pages import visitor


def words(page: str) -> str:
    """The page's words, tags and entities gone, spaces collapsed: what a reader sees."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_journey_through_the_forms(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub, language="en")
    operator = visitor(sqlite_hub, w.operator)
    opened = operator.submit("/programmes", "/programmes/calls", {
        "programme": "agile", "title": "Agile call 2026", "description": "Build fast",
        "opens_at": "2026-03-02T09:00", "closes_at": "2026-03-31T18:00",
        "questions": "plan | Delivery plan\nteam | Team | optional",
        "criteria": "feasibility | Feasibility | 40 | 10\nimpact | Impact | 60 | 20",
        "select_count": "1", "budget_krw": "400000000"})
    assert opened.status_code == 200, opened.text
    call_url = str(opened.url.path)
    # 18:00 in Seoul is 09:00 UTC, and the page shows Seoul time again
    assert "2026-03-31 18:00" in words(opened.text)

    agency = visitor(sqlite_hub, w.agency_editor)
    draft = agency.submit(call_url, f"{call_url}/applications", {
        "org": "mois", "title": "Civil chatbot", "members": "alpha, beta",
        "answer:team": "5 people"})
    assert draft.status_code == 200, draft.text
    app_url = str(draft.url.path)
    missing = agency.submit(app_url, f"{app_url}/submit")
    assert missing.status_code == 422 and "Delivery plan" in words(missing.text)
    agency.submit(app_url, app_url, {"title": "Civil chatbot", "members": "alpha, beta",
                                     "answer:plan": "Two-week iterations"})
    sent = agency.submit(app_url, f"{app_url}/submit")
    assert sent.status_code == 200 and "submitted" in words(sent.text)
    assert "Org alpha" in words(sent.text) and "Org beta" in words(sent.text)
    rival = visitor(sqlite_hub, w.rival_editor)
    rival_app = rival.submit(call_url, f"{call_url}/applications", {
        "org": "gamma", "title": "Solo", "answer:plan": "Alone"})
    rival_url = str(rival_app.url.path)
    rival.submit(rival_url, f"{rival_url}/submit")

    for person in (*w.reviewers, w.conflicted):
        operator.submit(call_url, f"{call_url}/reviewers", {"email": person.email})
    shown = words(operator.get(call_url).text)
    assert "conflict" in shown and "reviewer@alpha.co.kr" in shown

    conflicted = visitor(sqlite_hub, w.conflicted)
    assert conflicted.get(app_url).status_code == 200     # alpha's member reads it …
    blocked = conflicted.client.post(f"{app_url}/scores", data={
        "csrf_token": re.search(r'name="csrf_token" value="([0-9a-f]+)"',
                                conflicted.get(app_url).text).group(1),
        "score:feasibility": "5", "score:impact": "5"})
    assert blocked.status_code == 403                     # … and may not score it
    assert "own organization" in words(blocked.text)

    reviewer = visitor(sqlite_hub, w.reviewers[0])
    bad = reviewer.submit(app_url, f"{app_url}/scores", {
        "score:feasibility": "12", "comment:feasibility": "", "score:impact": "18"})
    assert bad.status_code == 422 and "feasibility" in words(bad.text)
    scored = reviewer.submit(app_url, f"{app_url}/scores", {
        "score:feasibility": "8", "comment:feasibility": "Clear", "score:impact": "18",
        "comment:impact": "Big"})
    assert "Your total: 86.0 / 100" in words(scored.text)
    reviewer.submit(rival_url, f"{rival_url}/scores", {"score:feasibility": "5",
                                                       "score:impact": "10"})

    w.at(CLOSES + timedelta(hours=2))
    app_id, rival_id = int(app_url.rsplit("/", 1)[1]), int(rival_url.rsplit("/", 1)[1])
    ranking = f"{call_url}/ranking"
    too_many = operator.submit(ranking, f"{call_url}/selection", {
        f"select:{app_id}": "on", f"reason:{app_id}": "First",
        f"select:{rival_id}": "on", f"reason:{rival_id}": "Second",
        "starts_on": "2026-05-01", "ends_on": "2026-12-31"})
    assert too_many.status_code == 422 and "at most 1" in words(too_many.text)
    decided = operator.submit(ranking, f"{call_url}/selection", {
        f"select:{app_id}": "on", f"reason:{app_id}": "Ranked first",
        f"reason:{rival_id}": "Impact too low", "starts_on": "2026-05-01",
        "ends_on": "2026-12-31", "deliverables": "First release\nFeedback report"})
    assert decided.status_code == 200, decided.text
    assert "86.0" in words(decided.text) and "50.0" in words(decided.text)

    told = words(rival.get("/programmes").text)
    assert "Your application Solo to Agile call 2026 was not selected: Impact too low" in told
    member = visitor(sqlite_hub, w.company_b_admin)
    assert "was selected: Ranked first" in words(member.get("/programmes").text)

    reported = agency.submit(app_url, f"{app_url}/reports", {
        "text": "First release shipped", "figures": "users = 320"})
    assert reported.status_code == 200, reported.text
    assert "First release shipped" in words(reported.text) and "users = 320.0" in words(
        reported.text)

    public = words(visitor(sqlite_hub).get("/programmes/dashboard").text)
    assert "400,000,000" in public and "기관 mois" in public     # Korean for a visitor
    assert "Applicants and scores" not in public
    assert "Applicants and scores" in words(operator.get("/programmes/dashboard").text)


def test_the_programmes_page_is_korean_first(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub)
    w.call()
    page = visitor(sqlite_hub, w.agency_editor).get("/programmes")
    assert page.status_code == 200
    assert "공모" in words(page.text) and "내 신청서" in words(page.text)
