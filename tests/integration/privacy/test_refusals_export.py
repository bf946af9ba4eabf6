"""Refusals on the way out of a safe zone: export requests without a purpose or of another
zone's query, reviews by the wrong people or without a reason, downloads too early, by someone
else or twice. None of them changes a request, a review or the audit log."""

from __future__ import annotations

from typing import Any

from tests.conftest import Hub
from tests.support.privacy import World
from tests.support.refusals import changed, refused, state, zone_world

SQL = "SELECT 진단코드, count(*) AS n, avg(진료비) AS 평균 FROM hospital.patients GROUP BY 1"


def answered(hub: Hub) -> tuple[World, int, int]:
    w, zone = zone_world(hub)
    answer = w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={"sql": SQL})
    return w, zone, answer["query_id"]


def ask(w: World, zone: int, user: Any = None, **fields: Any) -> Any:
    return w.call(user or w.researcher, "POST", f"/privacy/zones/{zone}/exports",
                  json={"purpose": "보고서 표 1", "contents": "진단별 인원", **fields})


def test_an_export_request_needs_a_purpose_and_a_query_of_its_zone(hub: Hub) -> None:
    w, zone, query_id = answered(hub)
    other = w.ok(w.researcher, "POST", "/privacy/zones", 201,
                 json={"org": "institute", "name": "다른 구역"})["id"]
    raw = w.call(w.researcher, "POST", f"/privacy/zones/{zone}/query",
                 json={"sql": "SELECT * FROM hospital.patients"})
    assert raw.status_code == 422
    raw_id = w.ok(w.researcher, "GET", f"/privacy/zones/{zone}/queries")[0]["id"]
    before = state(w)

    empty = ask(w, zone, purpose="", query_id=query_id)
    assert empty.status_code == 422 and empty.json()["field"] == "purpose", empty.text
    refused(ask(w, zone, purpose="   \n", query_id=query_id), 422, "purpose_required",
            field="purpose")
    refused(ask(w, other, query_id=query_id), 422, "query_not_in_zone", str(query_id),
            field="query_id")
    refused(ask(w, zone, query_id=raw_id), 422, "query_not_in_zone", str(raw_id),
            field="query_id")
    refused(ask(w, zone), 422, "export_contents", field="query_id")
    refused(ask(w, zone, w.hospital_admin, query_id=query_id), 403, "not_zone_analyst")
    files = w.call(w.researcher, "POST", f"/privacy/zones/{zone}/exports/file",
                   data={"purpose": "  "}, files={"file": ("표.csv", b"a,b\n1,2\n")})
    refused(files, 422, "purpose_required", field="purpose")
    refused(ask(w, zone, query_id=query_id, quasi=["나이대"]), 422, "unknown_column", "나이대",
            field="quasi")
    garbage = w.call(w.researcher, "POST", f"/privacy/zones/{zone}/exports/file",
                     data={"purpose": "표", "quasi": "a"},
                     files={"file": ("표.csv", b"\xff\xfe\x00a\n\"")})
    refused(garbage, 422, "bad_csv", "표.csv", field="file")

    assert changed(before, state(w)) == []
    assert w.ok(w.reviewers[0], "GET", "/privacy/exports") == []


def test_reviews_from_the_wrong_people_or_without_a_reason_are_refused(hub: Hub) -> None:
    w, zone, query_id = answered(hub)
    export = ask(w, zone, query_id=query_id).json()
    path = f"/privacy/exports/{export['id']}/reviews"
    colleague = hub.make_user("reviewer@institute.re.kr")
    w.ok(w.researcher, "POST", "/orgs/institute/members", 201,
         json={"email": colleague.email, "role": "member"})
    operator = hub.make_user(operator=True)
    w.ok(operator, "POST", f"/users/{colleague.id}/roles/reviewer")
    w.ok(w.reviewers[0], "POST", path, json={"verdict": "approve"})
    before = state(w, colleague)

    refused(w.call(colleague, "POST", path, json={"verdict": "approve"}), 403,
            "reviewer_conflict")
    refused(w.call(w.reviewers[0], "POST", path, json={"verdict": "approve"}), 409,
            "already_reviewed")
    refused(w.call(w.reviewers[0], "POST", path, json={"verdict": "reject",
                                                        "comment": "재검토"}),
            409, "already_reviewed")
    assert w.call(w.hospital_admin, "POST", path,
                  json={"verdict": "approve"}).status_code == 403
    assert w.call(w.researcher, "POST", path, json={"verdict": "approve"}).status_code == 403
    for comment in ("", "  "):
        refused(w.call(w.reviewers[1], "POST", path,
                       json={"verdict": "reject", "comment": comment}),
                422, "comment_required", field="comment")
    bad = w.call(w.reviewers[1], "POST", path, json={"verdict": "maybe"})
    assert bad.status_code == 422 and bad.json()["field"] == "verdict", bad.text

    assert changed(before, state(w, colleague)) == []
    found = w.ok(w.researcher, "GET", f"/privacy/exports/{export['id']}")
    assert found["state"] == "pending" and found["approvals"] == 1


def test_a_download_before_approval_by_another_or_twice_is_refused(hub: Hub) -> None:
    w, zone, query_id = answered(hub)
    export = ask(w, zone, query_id=query_id).json()
    file = f"/privacy/exports/{export['id']}/file"
    colleague = hub.make_user("second@institute.re.kr")
    w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/analysts", 201,
         json={"email": colleague.email})
    before = state(w, colleague)
    refused(w.call(w.researcher, "GET", file), 409, "export_not_approved", "pending")
    refused(w.call(colleague, "GET", file), 403, "not_export_requester")
    assert changed(before, state(w, colleague)) == []

    for reviewer in w.reviewers:
        w.ok(reviewer, "POST", f"/privacy/exports/{export['id']}/reviews",
             json={"verdict": "approve"})
    before = state(w, colleague)
    refused(w.call(colleague, "GET", file), 403, "not_export_requester")
    refused(w.call(w.reviewers[0], "GET", file), 403, "not_export_requester")
    refused(w.call(w.reviewers[0], "POST", f"/privacy/exports/{export['id']}/reviews",
                   json={"verdict": "reject", "comment": "늦은 반대"}), 409, "export_decided")
    assert changed(before, state(w, colleague)) == []

    first = w.call(w.researcher, "GET", file)
    assert first.status_code == 200 and first.content.startswith("진단코드,n,평균".encode())
    before = state(w, colleague)
    refused(w.call(w.researcher, "GET", file), 409, "export_already_downloaded")
    refused(w.call(colleague, "GET", file), 403, "not_export_requester")
    assert changed(before, state(w, colleague)) == []
    operator = hub.make_user(operator=True)
    downloads = w.ok(operator, "GET", "/audit", params={"action": "privacy.export.download"})
    assert len(downloads) == 1
