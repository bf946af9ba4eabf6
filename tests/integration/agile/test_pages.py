"""The agile pages as people use them without JavaScript: cards move on the board with plain
forms, citizens give and vote on feedback on the service's page, the metrics page shows the
numbers, charts and definitions. Its people read the portal in English."""

from __future__ import annotations

import html
import re

from tests.conftest import Hub
from tests.support.agile import make_world
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
