"""The agile pages as people use them without JavaScript: cards move on the board with plain
forms, citizens give and vote on feedback on the service's page, the metrics page shows the
numbers, charts and definitions. Its people read the portal in English."""

from __future__ import annotations

import html
import re

from tests.conftest import Hub
from tests.support.agile import make_world
from tests.support.identity import csrf_of
from tests.support.testbed_pages import visitor


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_board_moves_cards_with_plain_forms(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub, language="en")
    pid = w.project()["id"]
    team = visitor(sqlite_hub, w.alpha_admin)
    page = f"/agile/projects/{pid}"
    added = team.submit(page, f"{page}/items", {
        "title": "Progress alerts", "story": "As a citizen I want alerts", "priority": "2",
        "estimate": "3", "acceptance": "alert within a minute", "labels": "alerts, mobile"})
    assert added.status_code == 200, added.text
    item = w.get(f"/api/v1/agile/projects/{pid}/items", w.alpha_admin).json()[0]
    assert (item["labels"], item["acceptance"]) == (["alerts", "mobile"],
                                                    ["alert within a minute"])
    moved = team.submit(page, f"{page}/items/{item['id']}/move", {"state": "in_progress"})
    assert moved.status_code == 200, moved.text
    assert "The card moved." in words(moved.text)
    column = re.search(r'id="col-in_progress".*?</section>', moved.text, re.S)
    assert column is not None and "Progress alerts" in column.group(0)
    wrong = team.submit(page, f"{page}/items/{item['id']}/move", {"state": "shipped"})
    assert wrong.status_code == 422
    outsider = visitor(sqlite_hub, w.outsider)
    assert outsider.get(page).status_code == 403


def test_feedback_on_the_service_page_and_the_metrics_page(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub, language="en")
    pid = w.project()["id"]
    citizen = visitor(sqlite_hub, w.citizens[0])
    sent = citizen.submit("/services/mois/minwon-guide", "/services/mois/minwon-guide/feedback",
                          {"kind": "bug", "text": "The map does not load", "rating": "2"})
    assert sent.status_code == 200, sent.text
    assert "Thank you for your feedback." in words(sent.text)
    assert "The map does not load" in words(sent.text)
    given = w.get("/api/v1/services/mois/minwon-guide/feedback").json()[0]
    other = visitor(sqlite_hub, w.citizens[1])
    voted = other.submit("/services/mois/minwon-guide", f"/feedback/{given['id']}/vote")
    assert "Your vote was counted." in words(voted.text)
    again = other.submit("/services/mois/minwon-guide", f"/feedback/{given['id']}/vote")
    assert f"You already voted for feedback {given['id']}" in words(again.text)
    anonymous = visitor(sqlite_hub, **{"accept-language": "en"})
    shown = anonymous.get("/services/mois/minwon-guide").text
    assert "Sign in to give feedback" in words(shown)

    metrics = anonymous.get(f"/agile/projects/{pid}/metrics")
    assert metrics.status_code == 200
    assert "Change failure rate" in words(metrics.text) and "<svg" in metrics.text
    assert "divided by the window's length in weeks" in words(metrics.text)


def test_a_project_is_started_an_iteration_planned_and_feedback_answered_with_forms(
        sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub, language="en")
    lead = visitor(sqlite_hub, w.lead_editor)
    form = lead.get("/agile/new")
    assert form.status_code == 200 and 'name="members"' in form.text
    refused = lead.submit("/agile/new", "/agile/projects", {
        "org": "mois", "name": "Civil guide", "members": "alpha, nobody",
        "starts_on": "2026-05-01", "ends_on": "2026-12-31"})
    assert refused.status_code == 422
    assert "Organization nobody does not exist" in words(refused.text)
    assert 'value="Civil guide"' in refused.text                 # what was typed stays
    made = lead.submit("/agile/new", "/agile/projects", {
        "org": "mois", "name": "Civil guide", "goal": "Half the waiting",
        "members": "alpha, beta", "service": "mois/minwon-guide", "datasets": "",
        "starts_on": "2026-05-01", "ends_on": "2026-12-31"})
    assert made.status_code == 200, made.text
    assert "The project was created." in words(made.text)
    [project] = w.get("/api/v1/agile/projects", w.lead_editor).json()
    assert ([m["slug"] for m in project["members"]], project["service"]) == (
        ["alpha", "beta"], "mois/minwon-guide")
    assert project["created_at"].startswith("2026-05-04")        # the hub's clock
    # a company's admin leads for the company only; a citizen of no organization for none
    offered = visitor(sqlite_hub, w.alpha_admin).get("/agile/new").text
    assert 'value="alpha"' in offered and 'value="mois"' not in offered
    citizen = visitor(sqlite_hub, w.citizens[0])
    assert "Only the editors of an organization" in words(citizen.get("/agile/new").text)

    pid = project["id"]
    page = f"/agile/projects/{pid}"
    a, b = w.item(pid, "Alerts", 5), w.item(pid, "Search", 3)
    planned = lead.submit(page, f"{page}/iterations", {
        "name": "Sprint 1", "goal": "alerts", "starts_on": "2026-05-04",
        "ends_on": "2026-05-15", "items": [str(a["id"]), str(b["id"])]})
    assert planned.status_code == 200, planned.text
    assert "The iteration was planned." in words(planned.text)
    [sprint] = w.get(f"{'/api'}/v1/agile/projects/{pid}/iterations", w.lead_editor).json()
    assert (sprint["committed"], sprint["committed_points"]) == ([a["id"], b["id"]], 8.0)
    backwards = lead.submit(page, f"{page}/iterations", {
        "name": "Sprint 2", "starts_on": "2026-05-20", "ends_on": "2026-05-18"})
    assert backwards.status_code == 422 and "ends after it starts" in words(backwards.text)

    first = w.feedback(w.citizens[0], "Tell me where my request is").json()
    second = w.feedback(w.citizens[1], "Where is my request?").json()
    team = visitor(sqlite_hub, w.alpha_admin)
    shown = team.get(page).text
    assert "Tell me where my request is" in words(shown)
    triaged = team.submit(page, f"{page}/feedback/{first['id']}",
                          {"status": "", "item": str(a["id"]), "merge_into": ""})
    assert "The feedback was answered." in words(triaged.text)
    answered = w.get(f"/api/v1/feedback/{first['id']}").json()
    assert (answered["status"], answered["item"]) == ("planned", a["id"])
    merged = team.submit(page, f"{page}/feedback/{second['id']}",
                         {"status": "", "item": "", "merge_into": str(first["id"])})
    assert merged.status_code == 200, merged.text
    assert w.get(f"/api/v1/feedback/{second['id']}").json()["merged_into"] == first["id"]
    itself = team.submit(page, f"{page}/feedback/{first['id']}", {"merge_into": str(first["id"])})
    assert itself.status_code == 422
    outsider = visitor(sqlite_hub, w.outsider)      # no form for them; a forged post: 403
    token = csrf_of(outsider.get("/services/mois/minwon-guide").text)
    forged = outsider.client.post(f"{page}/feedback/{first['id']}",
                                  data={"csrf_token": token, "status": "declined"})
    assert forged.status_code == 403
    assert w.get(f"/api/v1/feedback/{first['id']}").json()["status"] == "planned"
