"""Restricted data through apps: only the owner's approval opens it, whatever the plan.

A probe found that any signed-up user could create an organization and an app, ask for a
`development` subscription to another organization's restricted dataset, have it approved at
once, and read every row, the data.go.kr front and the received files with the app's key.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

import pytest

from dpghub.lake.service import SAMPLE_ROWS
from tests.conftest import Hub
from tests.support.lake import Lake

ROWS = SAMPLE_ROWS + 50


@pytest.fixture
def people(hub: Hub) -> Lake:
    agency = Lake(hub)                  # org "molit" and its admin
    agency.create("people", title_ko="주민 명부 (제한)", access="restricted")
    body = "순서,이름\n" + "".join(f"{i},사람{i}\n" for i in range(ROWS))
    agency.ingest_ok("people", ("people.csv", body.encode("cp949")))
    return agency


def stranger_app(hub: Hub) -> tuple[dict[str, str], dict[str, Any]]:
    """What anyone can do: sign up, found an organization, make an app."""
    someone = hub.make_user()
    hub.make_org("nosy", admin=someone, kind="company")
    auth = hub.bearer(someone)
    app = hub.client.post("/api/v1/orgs/nosy/apps", headers=auth, json={"name": "수집기"})
    assert app.status_code == 201, app.text
    return auth, app.json()


def ask(hub: Hub, auth: dict[str, str], app: dict[str, Any], plan: str) -> dict[str, Any]:
    answer = hub.client.post(f"/api/v1/apps/{app['id']}/subscriptions", headers=auth,
                             json={"dataset": "molit/people", "plan": plan, "purpose": "앱 개발"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def every_door(hub: Hub, key: str, sha256: str) -> dict[str, Any]:
    """What the key reads through each way into the dataset."""
    headers = {"X-API-Key": key}
    rows = hub.client.get("/api/v1/datasets/molit/people/rows", headers=headers,
                          params={"limit": 1000})
    as_csv = hub.client.get("/api/v1/datasets/molit/people/rows", headers=headers,
                            params={"format": "csv"})
    front = hub.client.get(f"/openapi/molit/people?serviceKey={quote(key, safe='')}"
                           "&type=json&numOfRows=1000").json()["response"]
    raw = hub.client.get(f"/api/v1/datasets/molit/people/raw/{sha256}", headers=headers)
    query = hub.client.post("/api/v1/query", headers=headers,
                            json={"sql": "SELECT count(*) AS n FROM molit.people"})
    return {"rows": rows, "csv": as_csv, "front": front, "raw": raw, "query": query}


def raw_sha(hub: Hub, people: Lake) -> str:
    versions = hub.client.get("/api/v1/datasets/molit/people/versions").json()
    return versions[0]["source_files"][0]["sha256"]


def test_a_development_plan_on_restricted_data_waits_for_the_owner(hub: Hub,
                                                                   people: Lake) -> None:
    auth, app = stranger_app(hub)
    sub = ask(hub, auth, app, "development")
    assert sub["status"] == "pending"
    doors = every_door(hub, app["key"], raw_sha(hub, people))
    assert doors["rows"].status_code == 403
    assert doors["rows"].json()["code"] == "subscription_required"
    assert doors["csv"].status_code == 403
    assert doors["front"]["header"]["resultCode"] == "20" and "body" not in doors["front"]
    assert doors["raw"].status_code == 403
    assert doors["query"].status_code == 403
    # the owner sees the request waiting for a decision
    waiting = hub.client.get("/api/v1/orgs/molit/subscriptions/received", headers=people.auth).json()
    assert [(s["id"], s["status"], s["plan"]) for s in waiting] == \
        [(sub["id"], "pending", "development")]


def test_an_approved_development_plan_reads_a_sample_only(hub: Hub, people: Lake) -> None:
    auth, app = stranger_app(hub)
    sub = ask(hub, auth, app, "development")
    approved = hub.client.post(f"/api/v1/subscriptions/{sub['id']}/approve",
                               headers=people.auth, json={})
    assert approved.status_code == 200, approved.text
    doors = every_door(hub, app["key"], raw_sha(hub, people))
    page = doors["rows"].json()
    assert doors["rows"].status_code == 200 and page["sample"] == SAMPLE_ROWS
    assert [r["순서"] for r in page["rows"]] == list(range(SAMPLE_ROWS))
    assert page["total"] == SAMPLE_ROWS
    written = list(csv.DictReader(io.StringIO(doors["csv"].text)))
    assert doors["csv"].headers["x-sample-rows"] == str(SAMPLE_ROWS)
    assert len(written) == SAMPLE_ROWS
    assert doors["front"]["header"]["resultCode"] == "00"
    assert doors["front"]["body"]["totalCount"] == SAMPLE_ROWS
    assert len(doors["front"]["body"]["items"]["item"]) == SAMPLE_ROWS
    # a filter or a sort cannot reach past the sample
    beyond = hub.client.get("/api/v1/datasets/molit/people/rows",
                            headers={"X-API-Key": app["key"]},
                            params={"순서__gte": SAMPLE_ROWS, "sort": "-순서"}).json()
    assert beyond["rows"] == []
    # SQL and the received files need more than a sample
    assert doors["query"].status_code == 403
    assert doors["raw"].status_code == 403
    assert doors["raw"].json()["code"] == "raw_files_members_only"


def test_production_access_reads_every_row_but_never_the_received_files(hub: Hub,
                                                                         people: Lake) -> None:
    auth, app = stranger_app(hub)
    sub = ask(hub, auth, app, "production")
    assert sub["status"] == "pending"
    hub.client.post(f"/api/v1/subscriptions/{sub['id']}/approve", headers=people.auth, json={})
    doors = every_door(hub, app["key"], raw_sha(hub, people))
    assert doors["rows"].json()["total"] == ROWS and doors["rows"].json()["sample"] is None
    assert len(list(csv.DictReader(io.StringIO(doors["csv"].text)))) == ROWS
    assert doors["raw"].status_code == 403
    # the owner's own members still download what they uploaded
    sha = raw_sha(hub, people)
    own = hub.client.get(f"/api/v1/datasets/molit/people/raw/{sha}", headers=people.auth)
    assert own.status_code == 200 and own.content.decode("cp949").startswith("순서,이름")


def test_a_sample_covers_the_current_version_only(hub: Hub, people: Lake) -> None:
    auth, app = stranger_app(hub)
    sub = ask(hub, auth, app, "development")
    hub.client.post(f"/api/v1/subscriptions/{sub['id']}/approve", headers=people.auth, json={})
    people.ingest_ok("people", ("more.csv", "순서,이름\n999,새사람\n".encode("cp949")),
                     mode="append")
    old = hub.client.get("/api/v1/datasets/molit/people/rows",
                         headers={"X-API-Key": app["key"]}, params={"version": 1})
    assert old.status_code == 403 and old.json()["code"] == "sample_current_version_only"
