"""Feedback: anonymous only where the service allows it, within its abuse limit; votes once per
person; merging combines votes; a status change tells everyone who gave or voted."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

from tests.conftest import Hub
from tests.support.agile import START, make_world

ATOM = "{http://www.w3.org/2005/Atom}"


def test_anonymous_feedback_where_allowed_and_limited(hub: Hub) -> None:
    w = make_world(hub)
    assert w.feedback(None).status_code == 401
    settings = hub.client.put("/api/v1/services/mois/minwon-guide/feedback-settings",
                              json={"anonymous_feedback": True}, headers=w.auth(w.alpha_admin))
    assert settings.status_code == 403        # not the service's organization
    settings = hub.client.put("/api/v1/services/mois/minwon-guide/feedback-settings",
                              json={"anonymous_feedback": True}, headers=w.auth(w.lead_editor))
    assert settings.status_code == 200, settings.text
    # five at once, then one every six minutes (ten an hour)
    for _ in range(5):
        made = w.feedback(None, kind="bug", rating=2)
        assert made.status_code == 201, made.text
        assert made.json()["author"] is None
    limited = w.feedback(None)
    assert (limited.status_code, limited.json()["code"]) == (429, "feedback_rate_limited")
    assert limited.headers["retry-after"] == "360"
    w.at(START + timedelta(minutes=6))
    assert w.feedback(None).status_code == 201
    assert w.feedback(None).status_code == 429
    # a signed-in citizen has a limit of their own
    assert w.feedback(w.citizens[0]).status_code == 201


def test_merging_combines_votes_and_everyone_is_told(hub: Hub) -> None:
    w = make_world(hub)
    pid = w.project()["id"]
    first = w.feedback(w.citizens[0], "알림이 필요해요").json()
    second = w.feedback(w.citizens[1], "처리 상황 알림 주세요").json()
    for voter, target in ((w.citizens[1], first), (w.citizens[2], second),
                          (w.outsider, second), (w.citizens[2], first)):
        assert w.post(f"/api/v1/feedback/{target['id']}/votes", voter).status_code == 201
    merged = w.patch(f"/api/v1/feedback/{second['id']}", w.lead_editor,
                     {"merge_into": first["id"]})
    assert merged.status_code == 200, merged.text
    assert (merged.json()["status"], merged.json()["merged_into"]) == ("duplicate", first["id"])
    # first had citizens 1 and 2; second brings the outsider (citizen 2 voted on both)
    assert w.get(f"/api/v1/feedback/{first['id']}").json()["votes"] == 3
    item = w.item(pid, "처리 상황 알림", 5, feedback=[first["id"]])
    assert item["feedback"] == [first["id"]]
    assert w.get(f"/api/v1/feedback/{first['id']}").json()["status"] == "planned"
    comment = w.post(f"/api/v1/feedback/{first['id']}/comments", w.alpha_admin,
                     {"text": "다음 릴리스에 반영합니다"})
    assert comment.status_code == 201
    # everyone who gave or voted on the first — and the second's author — hears of "planned"
    for user in (w.citizens[0], w.citizens[1], w.citizens[2], w.outsider):
        lines = [n["text"] for n in w.get("/api/v1/agile/notices", user).json()]
        assert f"Your feedback #{first['id']} on 민원 안내 is planned" in lines, user.email
    assert w.get("/api/v1/agile/notices", w.alpha_admin).json() == []


def test_the_changelog_and_its_atom_feed(hub: Hub) -> None:
    w = make_world(hub)
    pid = w.project()["id"]
    asked = w.feedback(w.citizens[0], "글자가 작아요").json()
    item = w.item(pid, "글자 크기 조절", 2)
    for version, status, day in (("1.0.0", "succeeded", 1), ("1.0.1", "rolled_back", 2),
                                 ("1.1.0", "succeeded", 3)):
        made = w.post(f"/api/v1/agile/projects/{pid}/releases", w.lead_editor, {
            "version": version, "released_at": (START + timedelta(days=day)).isoformat(),
            "status": status, "notes": f"{version} 배포",
            "items": [item["id"]] if version == "1.1.0" else [],
            "feedback": [asked["id"]] if version == "1.1.0" else []})
        assert made.status_code == 201, made.text
    done = w.get(f"/api/v1/feedback/{asked['id']}").json()
    assert done["status"] == "completed" and done["release"] is not None
    changelog = w.get("/api/v1/services/mois/minwon-guide/changelog").json()
    assert [e["version"] for e in changelog] == ["1.1.0", "1.0.0"]
    assert changelog[0]["items"] == ["글자 크기 조절"]
    assert [f["id"] for f in changelog[0]["feedback"]] == [asked["id"]]

    feed = hub.client.get("/api/v1/services/mois/minwon-guide/changelog.atom")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}id") is not None and root.find(f"{ATOM}updated") is not None
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["1.1.0", "1.0.0"]
    assert "글자가 작아요" in (entries[0].findtext(f"{ATOM}content") or "")
    assert hub.client.get("/api/v1/services/mois/nope/changelog.atom").status_code == 404
