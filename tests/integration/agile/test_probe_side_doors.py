"""Security probe of the agile domain, as an attacker with an account would try it: another
organization's project for a service it does not own, CI tokens presented everywhere, a
read-only token that writes, text that breaks the Atom feed or the database, the team of one
project reaching into another, and the page forms without their CSRF token.

Tests named `test_finding_…` prove a fault found by the probe (their docstrings start with
FINDING and its severity); they fail until it is mended. The others pin a side door that is
closed, so it stays closed."""

from __future__ import annotations

import html
import re
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dpghub.agile.models import Comment, Deployment, Feedback, Incident
from tests.conftest import Hub
from tests.support.agile import DOCUMENT, START, World, make_world
from tests.support.identity import csrf_of
from tests.support.testbed_pages import visitor

ATOM = "{http://www.w3.org/2005/Atom}"
GUIDE = "/api/v1/services/mois/minwon-guide"


def count(w: World, model: Any) -> int:
    with w.hub.factory() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def gamma_service(w: World) -> None:
    """The outsider's company registers a service of its own, gamma/map."""
    made = w.post("/api/v1/orgs/gamma/services", w.outsider, {
        "slug": "map", "title_ko": "지도", "upstream_url": "https://x.test/map",
        "openapi": DOCUMENT})
    assert made.status_code == 201, made.text


def server_errors_answered(hub: Hub) -> TestClient:
    """A client that gets the hub's 500 answer instead of the server's exception."""
    return TestClient(hub.app, raise_server_exceptions=False)


# --- another organization's project for a service it does not own ----------------------------


def test_finding_another_org_cannot_take_over_a_services_feedback_and_changelog(
        hub: Hub) -> None:
    """FINDING (high): any organization's editor starts a project for ANY registered service
    (projects.create checks only that the service exists and has no project yet). Its team
    then triages the service owner's feedback, completes it with releases of its choosing
    (every citizen who gave or voted gets a portal notice naming the release), publishes them
    in the service's public changelog and Atom feed, and the owner can never start its own
    project for its own service (409 service_has_project)."""
    w = make_world(hub)
    asked = w.feedback(w.citizens[0], "글자가 작아요").json()
    assert w.post(f"/api/v1/feedback/{asked['id']}/votes", w.citizens[1]).status_code == 201

    # gamma's admin, who has nothing to do with 행정안전부, tries to claim its service
    claimed = w.post("/api/v1/agile/projects", w.outsider, {
        "org": "gamma", "name": "민원 안내 (감마)", "service": "mois/minwon-guide",
        "starts_on": "2026-05-01", "ends_on": "2026-12-31"})
    pid = claimed.json().get("id", 999_999)
    w.patch(f"/api/v1/feedback/{asked['id']}", w.outsider, {"status": "declined"})
    w.post(f"/api/v1/agile/projects/{pid}/releases", w.outsider, {
        "version": "9.9.9 — 보상금 신청: https://evil.example", "notes": "감마가 배포함",
        "released_at": START.isoformat(), "feedback": [asked["id"]]})

    own = w.post("/api/v1/agile/projects", w.lead_editor, {
        "org": "mois", "name": "민원 안내 서비스", "service": "mois/minwon-guide",
        "starts_on": "2026-05-01", "ends_on": "2026-12-31"})

    given = w.get(f"/api/v1/feedback/{asked['id']}").json()
    feed = ET.fromstring(hub.client.get(f"{GUIDE}/changelog.atom").content)
    seen = {
        "gamma's claim refused": claimed.status_code in (403, 422),
        "feedback untouched": (given["status"], given["release"]),
        "changelog": [e["version"] for e in w.get(f"{GUIDE}/changelog").json()],
        "atom entries": len(feed.findall(f"{ATOM}entry")),
        "notices to the citizens": [n["text"] for c in w.citizens[:2]
                                    for n in w.get("/api/v1/agile/notices", c).json()],
        "mois starts its own project": own.status_code}
    assert seen == {
        "gamma's claim refused": True, "feedback untouched": ("open", None), "changelog": [],
        "atom entries": 0, "notices to the citizens": [], "mois starts its own project": 201}


# --- scopes, text the hub cannot store or serve ---------------------------------------------


def test_finding_a_read_only_token_gives_no_feedback(hub: Hub) -> None:
    """FINDING (medium): `agile.feedback.give` is an `anyone` action, and authorize returns
    for `anyone` before it checks the token's scope — a personal token made with the `read`
    scope only (for a dashboard, a script that should never write) writes feedback in its
    owner's name. Votes and comments (an `authenticated` action) are refused as they should."""
    w = make_world(hub)
    pid = w.project()["id"]
    given = w.feedback(w.citizens[1]).json()
    read_only = hub.bearer(w.citizens[0], scopes=("read",))
    before = (count(w, Feedback), count(w, Comment))

    wrote = hub.client.post(f"{GUIDE}/feedback", headers=read_only,
                            json={"text": "읽기 전용 토큰으로 씀", "kind": "bug"})
    voted = hub.client.post(f"/api/v1/feedback/{given['id']}/votes", headers=read_only)
    said = hub.client.post(f"/api/v1/feedback/{given['id']}/comments", headers=read_only,
                           json={"text": "읽기 전용"})
    triaged = hub.client.patch(f"/api/v1/feedback/{given['id']}", headers=read_only,
                               json={"status": "planned"})
    added = hub.client.post(f"/api/v1/agile/projects/{pid}/items", headers=read_only,
                            json={"title": "읽기 전용"})

    for answer in (voted, said, triaged, added):          # closed today
        assert (answer.status_code, answer.json()["code"]) == (403, "insufficient_scope")
    assert (wrote.status_code, wrote.json().get("code")) == (403, "insufficient_scope"), \
        wrote.text
    assert (count(w, Feedback), count(w, Comment)) == before


def test_finding_control_characters_in_feedback_are_refused_before_storing(hub: Hub) -> None:
    """FINDING (medium): feedback and comments took any character. A NUL (U+0000), which
    anyone may send (anonymously where allowed), is a 500 on PostgreSQL ("text fields cannot
    contain NUL"); other C0 control characters were stored and broke the Atom feed once the
    feedback was completed in a release. They are refused now with 422 naming the position;
    tabs and line breaks stay allowed."""
    w = make_world(hub)
    client = server_errors_answered(hub)
    given = w.feedback(w.citizens[1]).json()
    before = (count(w, Feedback), count(w, Comment))

    for text, position in (("널\x00바이트", 2), ("색 \x1b[31m 바꾸기", 3), ("벨\x07", 2)):
        sent = client.post(f"{GUIDE}/feedback", headers=w.auth(w.citizens[0]),
                           json={"text": text, "kind": "bug"})
        assert sent.status_code == 422, (repr(text), sent.text)
        assert (sent.json()["code"], sent.json()["field"]) == ("control_character", "text")
        assert f"U+{ord(text[position - 1]):04X}" in sent.json()["detail"]
        said = client.post(f"/api/v1/feedback/{given['id']}/comments",
                           headers=w.auth(w.citizens[0]), json={"text": text})
        assert said.status_code == 422, (repr(text), said.text)
        assert (said.json()["code"], said.json()["field"]) == ("control_character", "text")
    assert (count(w, Feedback), count(w, Comment)) == before

    fine = w.feedback(w.citizens[0], "첫 줄\n둘째 줄\t탭")
    assert fine.status_code == 201, fine.text
    assert fine.json()["text"] == "첫 줄\n둘째 줄\t탭"


def test_finding_the_atom_feed_stays_well_formed_whatever_the_text(hub: Hub) -> None:
    """FINDING (medium): the Atom feed was built with ElementTree, which escapes markup but
    writes control characters as they are — not well-formed XML, so every feed reader of the
    service failed. Release notes and item titles (the team's text) still take them; the feed
    leaves out what XML 1.0 cannot carry. Markup in a citizen's feedback stays text."""
    w = make_world(hub)
    pid = w.project()["id"]
    script = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    asked = w.feedback(w.citizens[0], script).json()
    item = w.item(pid, "글자\x01 크기\x1b 조절")
    released = w.post(f"/api/v1/agile/projects/{pid}/releases", w.lead_editor, {
        "version": "1.0.0", "released_at": START.isoformat(),
        "notes": "알림\x0c 개선\x08 — ]]> <b>굵게</b>", "items": [item["id"]],
        "feedback": [asked["id"]]})
    assert released.status_code == 201, released.text

    feed = hub.client.get(f"{GUIDE}/changelog.atom")
    assert feed.status_code == 200
    root = ET.fromstring(feed.content)                 # raises when not well-formed
    content = root.find(f"{ATOM}entry/{ATOM}content")
    assert content is not None and content.get("type") == "text"
    assert content.text is not None
    assert "알림 개선 — ]]> <b>굵게</b>" in content.text
    assert "• 글자 크기 조절" in content.text
    assert f"✓ #{asked['id']} {script}" in content.text
    assert b"<script>" not in feed.content and b"<b>" not in feed.content
    # the JSON changelog keeps the text as it was given
    entry = w.get(f"{GUIDE}/changelog").json()[0]
    assert entry["items"] == ["글자\x01 크기\x1b 조절"]


def test_feedback_and_release_text_is_escaped_on_the_service_page(sqlite_hub: Hub) -> None:
    """Markup in feedback and release notes is shown as text on the service's page."""
    w = make_world(sqlite_hub, language="en")
    pid = w.project()["id"]
    script = "<script>alert('fb')</script><img src=x onerror=alert(2)>"
    asked = w.feedback(w.citizens[0], script).json()
    assert w.post(f"/api/v1/agile/projects/{pid}/releases", w.lead_editor, {
        "version": "1.0.0", "released_at": START.isoformat(),
        "notes": "<a href=\"javascript:alert(3)\">notes</a>",
        "feedback": [asked["id"]]}).status_code == 201
    page = visitor(sqlite_hub).get("/services/mois/minwon-guide").text
    assert "<script>alert('fb')" not in page and "<img src=x" not in page
    assert "javascript:alert(3)\">" not in page
    assert script in html.unescape(page)               # shown, as text


# --- CI tokens ------------------------------------------------------------------------------


def test_a_project_token_reaches_its_own_ci_routes_only(hub: Hub) -> None:
    """A project's token sends its own project's deployments and incidents, and nothing else:
    not another project's (however it is sent), not any other route, not in a query string,
    not after it is revoked; and only the lead's editors revoke it."""
    w = make_world(hub)
    pid = w.project()["id"]
    other = w.project(name="다른 사업", service=None, members=["alpha"])["id"]
    token = w.ci_token(pid)
    deployment = {"version": "1.0.0", "deployed_at": START.isoformat(), "status": "success",
                  "commits": [{"sha": "abcdef1", "committed_at": START.isoformat()}]}
    incident = {"title": "장애", "opened_at": START.isoformat()}
    client = hub.client

    def code(answer: Any) -> tuple[int, str | None]:
        return answer.status_code, answer.json().get("code")

    # another project's routes, with the token in each place it is read
    sent_as = {"X-Agile-Token": {"X-Agile-Token": token},
               "Bearer": {"Authorization": f"Bearer {token}"}, "X-API-Key": {"X-API-Key": token}}
    expected = {"X-Agile-Token": "project_token_other_project",
                "Bearer": "project_token_outside_ci", "X-API-Key": "project_token_outside_ci"}
    for name, headers in sent_as.items():
        base = f"/api/v1/agile/projects/{other}"
        assert code(client.post(f"{base}/deployments", headers=headers, json=deployment)) == (
            403, expected[name]), name
        assert code(client.post(f"{base}/incidents", headers=headers, json=incident)) == (
            403, expected[name]), name
    # any other route of its own project or of the hub
    bearer = sent_as["Bearer"]
    for path in (f"/api/v1/agile/projects/{pid}", f"/api/v1/agile/projects/{pid}/items",
                 f"/api/v1/agile/projects/{pid}/tokens", f"/api/v1/agile/projects/{pid}/metrics",
                 "/api/v1/agile/notices", f"{GUIDE}/feedback", "/api/v1/me"):
        for name in ("Bearer", "X-API-Key"):
            assert code(client.get(path, headers=sent_as[name])) == (
                403, "project_token_outside_ci"), (name, path)
    assert code(client.post(f"/api/v1/agile/projects/{pid}/releases", headers=bearer, json={
        "version": "1.0.0", "released_at": START.isoformat()})) == (
        403, "project_token_outside_ci")
    assert code(client.post(f"{GUIDE}/feedback", headers=bearer,
                            json={"text": "CI가 씀", "kind": "bug"})) == (
        403, "project_token_outside_ci")
    # the lists of its own deployments and incidents are the team's, not the token's
    for path in ("deployments", "incidents"):
        assert client.get(f"/api/v1/agile/projects/{pid}/{path}",
                          headers=bearer).status_code == 401
    # in the query string it is no credential at all
    for params in ({"serviceKey": token}, {"token": token}, {"X-Agile-Token": token}):
        assert code(client.post(f"/api/v1/agile/projects/{pid}/deployments", params=params,
                                json=deployment)) == (401, "project_token_required"), params
    front = client.get("/openapi/mois/anything", params={"serviceKey": token, "type": "json"})
    assert front.status_code != 200 or front.json()["response"]["header"]["resultCode"] != "00"
    assert client.get("/gw/mois/minwon-guide/guide", headers={"X-API-Key": token}
                      ).status_code == 401
    assert count(w, Deployment) == 0 and count(w, Incident) == 0

    # revoking: not by a member company's admin, not through another project's address
    listed = w.get(f"/api/v1/agile/projects/{pid}/tokens", w.alpha_admin).json()
    assert [t["prefix"] for t in listed] == [token[:10]]
    assert "token" not in listed[0]
    token_id = listed[0]["id"]
    assert hub.client.delete(f"/api/v1/agile/projects/{pid}/tokens/{token_id}",
                             headers=w.auth(w.alpha_admin)).status_code == 403
    assert code(hub.client.delete(f"/api/v1/agile/projects/{other}/tokens/{token_id}",
                                  headers=w.auth(w.lead_editor))) == (404, "token_not_found")
    assert w.deploy(pid, token, "1.0.0", [START], START).status_code == 201   # still alive
    assert hub.client.delete(f"/api/v1/agile/projects/{pid}/tokens/{token_id}",
                             headers=w.auth(w.lead_editor)).status_code == 200
    assert code(w.deploy(pid, token, "1.0.1", [START], START)) == (
        401, "project_token_revoked")
    for headers in (sent_as["X-Agile-Token"], bearer):
        assert code(client.post(f"/api/v1/agile/projects/{pid}/incidents", headers=headers,
                                json=incident)) == (401, "project_token_revoked")
    assert count(w, Deployment) == 1 and count(w, Incident) == 0


# --- the team of one project in another -----------------------------------------------------


def test_the_team_of_one_project_reaches_nothing_of_another(hub: Hub) -> None:
    """gamma's team (its own project on its own service) and a member company of the mois
    project reach nothing of a project they are not in: not its backlog, board, iterations,
    releases, deployments, incidents or tokens; not its service's feedback; and a team's
    release, iteration, item or triage names only its own items and its own service's
    feedback. The delivery metrics are public."""
    w = make_world(hub)
    mine = w.project(members=["alpha"])["id"]
    gamma_service(w)
    made = w.post("/api/v1/agile/projects", w.outsider, {
        "org": "gamma", "name": "지도 서비스", "service": "gamma/map",
        "starts_on": "2026-05-01", "ends_on": "2026-12-31"})
    assert made.status_code == 201, made.text
    theirs = made.json()["id"]
    ours = w.feedback(w.citizens[0], "민원 알림").json()
    their_fb = w.post("/api/v1/services/gamma/map/feedback", w.citizens[1],
                      {"text": "지도가 느려요", "kind": "bug"}).json()
    our_item = w.item(mine, "민원 알림 보내기")
    their_item = w.post(f"/api/v1/agile/projects/{theirs}/items", w.outsider,
                        {"title": "지도 빠르게"}).json()

    def status(answer: Any) -> tuple[int, str | None]:
        return answer.status_code, answer.json().get("code")

    for path in ("", "/items", "/board", "/iterations", "/releases", "/deployments",
                 "/incidents", "/tokens"):
        assert w.get(f"/api/v1/agile/projects/{mine}{path}", w.outsider).status_code == 403, path
        # a member company of one project is no member of another
        assert w.get(f"/api/v1/agile/projects/{theirs}{path}", w.alpha_admin
                     ).status_code == 403, path
        assert w.get(f"/api/v1/agile/projects/{theirs}{path}", w.beta_admin
                     ).status_code == 403, path
    assert hub.client.get(f"/api/v1/agile/projects/{mine}/metrics").status_code == 200
    assert w.post(f"/api/v1/agile/projects/{mine}/incidents", w.outsider,
                  {"title": "가짜 장애", "opened_at": START.isoformat()}).status_code == 403
    assert w.patch(f"/api/v1/agile/projects/{mine}/items/{our_item['id']}", w.outsider,
                   {"state": "done"}).status_code == 403

    # the other team triages no feedback of our service, not even into its own
    assert w.patch(f"/api/v1/feedback/{ours['id']}", w.outsider,
                   {"status": "declined"}).status_code == 403
    assert w.patch(f"/api/v1/feedback/{ours['id']}", w.outsider,
                   {"merge_into": their_fb["id"]}).status_code == 403
    assert w.patch(f"/api/v1/feedback/{ours['id']}", w.outsider,
                   {"item": their_item["id"]}).status_code == 403
    # and names none of our items or feedback in its own work
    assert status(w.post(f"/api/v1/agile/projects/{theirs}/releases", w.outsider, {
        "version": "1.0.0", "released_at": START.isoformat(), "items": [our_item["id"]]})) == (
        422, "foreign_item")
    assert status(w.post(f"/api/v1/agile/projects/{theirs}/releases", w.outsider, {
        "version": "1.0.0", "released_at": START.isoformat(), "feedback": [ours["id"]]})) == (
        422, "foreign_feedback")
    assert status(w.post(f"/api/v1/agile/projects/{theirs}/items", w.outsider, {
        "title": "남의 피드백", "feedback": [ours["id"]]})) == (422, "foreign_feedback")
    assert status(w.post(f"/api/v1/agile/projects/{theirs}/iterations", w.outsider, {
        "name": "스프린트", "starts_on": "2026-05-04", "ends_on": "2026-05-15",
        "items": [our_item["id"]]})) == (422, "foreign_item")
    # our team, for its part, merges nothing across services and triages into no other item
    assert status(w.patch(f"/api/v1/feedback/{ours['id']}", w.lead_editor,
                          {"merge_into": their_fb["id"]})) == (422, "merge_other_service")
    assert status(w.patch(f"/api/v1/feedback/{ours['id']}", w.lead_editor,
                          {"item": their_item["id"]})) == (422, "foreign_item")

    ours_now = w.get(f"/api/v1/feedback/{ours['id']}").json()
    assert (ours_now["status"], ours_now["item"], ours_now["merged_into"]) == ("open", None,
                                                                               None)
    assert w.get(f"/api/v1/agile/projects/{mine}/items", w.alpha_admin).json()[0]["state"] == (
        "backlog")
    assert w.get(f"/api/v1/agile/projects/{theirs}/releases", w.outsider).json() == []
    assert count(w, Incident) == 0


def test_notices_are_read_by_their_owner_only(hub: Hub) -> None:
    """A status change tells the feedback's author and voters; nobody else reads it, on the
    API or on the /agile page."""
    w = make_world(hub)
    w.project()
    asked = w.feedback(w.citizens[0], "알림 주세요").json()
    assert w.patch(f"/api/v1/feedback/{asked['id']}", w.lead_editor,
                   {"status": "planned"}).status_code == 200
    told = w.get("/api/v1/agile/notices", w.citizens[0]).json()
    assert [n["link"] for n in told] == [f"/services/mois/minwon-guide#feedback-{asked['id']}"]
    for other in (w.citizens[1], w.outsider, w.lead_editor):
        assert w.get("/api/v1/agile/notices", other).json() == [], other.email
    assert hub.client.get("/api/v1/agile/notices").status_code == 401
    page = visitor(hub, w.citizens[1]).get("/agile").text
    assert f"#{asked['id']}" not in page


def test_finding_an_outsider_cannot_tell_which_items_a_project_has(hub: Hub) -> None:
    """FINDING (low): moving a card loads the item before the permission check, so an
    outsider tells an item of the project (403) from none (404) — and as item ids are
    counted hub-wide, how many items each project holds. Both should be the same refusal."""
    w = make_world(hub)
    pid = w.project()["id"]
    item = w.item(pid, "비공개 항목")
    real = w.patch(f"/api/v1/agile/projects/{pid}/items/{item['id']}", w.outsider,
                   {"state": "done"})
    none = w.patch(f"/api/v1/agile/projects/{pid}/items/{item['id'] + 1000}", w.outsider,
                   {"state": "done"})
    assert real.status_code == 403
    assert (none.status_code, none.json()["code"]) == (403, real.json()["code"]), none.text


def test_finding_clearing_an_item_field_is_a_422_not_a_500(hub: Hub) -> None:
    """FINDING (low): PATCH of an item takes `null` for every field (the update schema's
    fields are optional, and a given null is applied): the title, priority or state set to
    null is a 500 (NOT NULL constraint), and nothing tells the team why."""
    w = make_world(hub)
    pid = w.project()["id"]
    item = w.item(pid, "글자 크기 조절", 3)
    client = server_errors_answered(hub)
    for field in ("title", "priority", "state", "story", "labels", "acceptance"):
        answer = client.patch(f"/api/v1/agile/projects/{pid}/items/{item['id']}",
                              headers=w.auth(w.alpha_admin), json={field: None})
        assert answer.status_code == 422, (field, answer.status_code, answer.text)
    shown = w.get(f"/api/v1/agile/projects/{pid}/items", w.alpha_admin).json()
    assert [(i["title"], i["priority"], i["state"]) for i in shown] == [
        ("글자 크기 조절", 3, "backlog")]


def test_finding_comments_have_an_abuse_limit(hub: Hub) -> None:
    """FINDING (low): feedback is limited to 10 an hour (5 at once) per person, but comments
    on feedback — public text on the same page — have no limit at all: one account posts
    them as fast as it can."""
    w = make_world(hub)
    given = w.feedback(w.citizens[1]).json()
    answers = [w.post(f"/api/v1/feedback/{given['id']}/comments", w.citizens[0],
                      {"text": f"광고 {i}"}).status_code for i in range(12)]
    assert 429 in answers, answers


# --- feedback on any service, and the page forms ----------------------------------------------


def test_feedback_is_public_on_every_registered_service_and_nothing_on_others(
        hub: Hub) -> None:
    """A service whose calls need approval is no less public in the registry: its feedback
    and changelog read like any other's. A service that does not exist answers 404 on every
    route, and nothing is stored."""
    w = make_world(hub)
    made = w.post("/api/v1/orgs/mois/services", w.lead_editor, {
        "slug": "closed-api", "title_ko": "승인 필요 API", "upstream_url": "https://x.test/c",
        "access": "approval", "openapi": DOCUMENT})
    assert made.status_code == 201, made.text
    given = w.post("/api/v1/services/mois/closed-api/feedback", w.citizens[0],
                   {"text": "문서가 부족해요", "kind": "idea"})
    assert given.status_code == 201, given.text
    listed = hub.client.get("/api/v1/services/mois/closed-api/feedback").json()
    assert [f["text"] for f in listed] == ["문서가 부족해요"]
    assert hub.client.get("/api/v1/services/mois/closed-api/changelog").json() == []

    before = count(w, Feedback)
    for method, path, body in (
            ("GET", "/api/v1/services/mois/nope/feedback", None),
            ("POST", "/api/v1/services/mois/nope/feedback", {"text": "?", "kind": "bug"}),
            ("GET", "/api/v1/services/mois/nope/changelog", None),
            ("GET", "/api/v1/services/mois/nope/changelog.atom", None),
            ("PUT", "/api/v1/services/mois/nope/feedback-settings",
             {"anonymous_feedback": True}),
            ("GET", "/api/v1/services/nobody/minwon-guide/changelog", None)):
        answer = hub.client.request(method, path, json=body, headers=w.auth(w.lead_editor))
        assert (answer.status_code, answer.json()["code"]) == (404, "service_not_found"), path
    assert count(w, Feedback) == before


def test_the_agile_forms_need_their_csrf_token_and_a_signed_in_person(sqlite_hub: Hub) -> None:
    """Every agile form refuses a post without the page's CSRF token (or with another
    browser's), and the forms for signed-in people send the signed-out to sign in."""
    w = make_world(sqlite_hub, language="en")
    pid = w.project()["id"]
    given = w.feedback(w.citizens[1]).json()
    item = w.item(pid, "글자 크기 조절")
    forms = {f"/agile/projects/{pid}/items": {"title": "CSRF로 넣은 항목"},
             f"/agile/projects/{pid}/items/{item['id']}/move": {"state": "done"},
             "/services/mois/minwon-guide/feedback": {"kind": "bug", "text": "CSRF"},
             f"/feedback/{given['id']}/vote": {},
             "/agile/notices/read": {}}
    team = visitor(sqlite_hub, w.alpha_admin)
    someone = visitor(sqlite_hub, w.citizens[0])
    stolen = csrf_of(someone.get("/services/mois/minwon-guide").text)
    before = (count(w, Feedback), count(w, Comment))

    for action, data in forms.items():
        bare = team.client.post(action, data=data, follow_redirects=False)
        assert bare.status_code == 403, (action, bare.text)
        assert "csrf_failed" in bare.text or "did not come from this site" in bare.text
        crossed = team.client.post(action, data={"csrf_token": stolen, **data},
                                   follow_redirects=False)
        assert crossed.status_code == 403, action

    anonymous = visitor(sqlite_hub, **{"accept-language": "en"})
    token = csrf_of(anonymous.get("/services/mois/minwon-guide").text)
    for action in (f"/agile/projects/{pid}/items", f"/agile/projects/{pid}/items/"
                   f"{item['id']}/move", f"/feedback/{given['id']}/vote"):
        sent = anonymous.client.post(action, data={"csrf_token": token, **forms[action]},
                                     follow_redirects=False)
        assert sent.status_code == 303, (action, sent.text)
        assert sent.headers["location"].startswith("/signin"), action
    # anonymous feedback is off on this service: the form says so and stores nothing
    sent = anonymous.client.post("/services/mois/minwon-guide/feedback", data={
        "csrf_token": token, "kind": "bug", "text": "익명"}, follow_redirects=True)
    assert "it takes no anonymous feedback" in html.unescape(re.sub(r"<[^>]+>", " ", sent.text))

    assert (count(w, Feedback), count(w, Comment)) == before
    shown = w.get(f"/api/v1/agile/projects/{pid}/items", w.alpha_admin).json()
    assert [(i["title"], i["state"]) for i in shown] == [("글자 크기 조절", "backlog")]
    assert w.get(f"/api/v1/feedback/{given['id']}").json()["votes"] == 0
