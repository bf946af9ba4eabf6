"""Bad input gets a clear 4xx naming the fault, and changes nothing: a deploy time before a
commit time, an unknown project token, feedback on a missing service, a second vote, merging
feedback into itself, a release naming another project's items."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import Hub
from tests.support.agile import START, World, make_world
from tests.support.refusals import refused

WATCHED = ("agile_project", "agile_token", "agile_item", "agile_iteration", "agile_release",
           "agile_deployment", "agile_incident", "agile_feedback", "agile_vote",
           "agile_comment", "notice", "audit_event")


def snapshot(w: World) -> dict[str, list[tuple[Any, ...]]]:
    with w.hub.factory() as s:
        return {t: sorted(tuple(repr(v) for v in row)
                          for row in s.execute(text(f"SELECT * FROM {t}")).all())
                for t in WATCHED}


def test_the_refusals_name_the_fault_and_change_nothing(hub: Hub) -> None:
    w = make_world(hub)
    pid = w.project()["id"]
    other = w.project(name="다른 사업", service=None, members=["alpha"])["id"]
    token = w.ci_token(pid)
    foreign = w.item(other, "다른 사업의 일")
    given = w.feedback(w.citizens[0]).json()
    assert w.post(f"/api/v1/feedback/{given['id']}/votes", w.citizens[1]).status_code == 201
    for user in (w.lead_editor, w.citizens[0], w.citizens[1], w.outsider):
        w.auth(user)
    before = snapshot(w)

    late = w.deploy(pid, token, "1.0.0", [START, START + timedelta(hours=3)],
                    START + timedelta(hours=1))
    refused(late, 422, "deployed_before_commit", "0000002abc", field="commits.1.committed_at")
    unknown = w.deploy(pid, "dat_not-a-token", "1.0.0", [START], START)
    refused(unknown, 401, "project_token_not_registered")
    missing = w.post("/api/v1/services/mois/no-such/feedback", w.citizens[0],
                     {"text": "?", "kind": "bug"})
    refused(missing, 404, "service_not_found", "mois/no-such")
    twice = w.post(f"/api/v1/feedback/{given['id']}/votes", w.citizens[1])
    refused(twice, 409, "already_voted", str(given["id"]))
    itself = w.patch(f"/api/v1/feedback/{given['id']}", w.lead_editor,
                     {"merge_into": given["id"]})
    refused(itself, 422, "merge_into_self", str(given["id"]), field="merge_into")
    release = w.post(f"/api/v1/agile/projects/{pid}/releases", w.lead_editor, {
        "version": "1.0.0", "released_at": START.isoformat(), "items": [foreign["id"]]})
    refused(release, 422, "foreign_item", str(foreign["id"]), field="items.0")
    anonymous = w.feedback(None)
    refused(anonymous, 401, "anonymous_feedback_off", "mois/minwon-guide")
    outsider = w.patch(f"/api/v1/feedback/{given['id']}", w.outsider, {"status": "planned"})
    assert outsider.status_code == 403

    assert snapshot(w) == before
