"""Bad input the testbed must answer clearly, changing nothing: an OpenAPI document the mock
cannot fully serve, a dev server that is down, synthetic copies of an empty, a one-row and a
1,000-column dataset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from dpghub.core import jobs
from dpghub.core.db import utcnow
from dpghub.core.jobs import Job, JobState, recover
from tests.conftest import Hub
from tests.support.lake import Lake
from tests.support.loopback import free_port
from tests.support.sandbox import (
    Sandbox,
    make_testbed,
    sqlite_only_hub,  # noqa: F401 — `hub` is SQLite here
)

LOOPING = {
    "openapi": "3.0.3", "info": {"title": "순환 명세", "version": "1"},
    "components": {"schemas": {"Node": {"type": "object", "required": ["next"], "properties": {
        "next": {"$ref": "#/components/schemas/Node"}}}}},
    "paths": {
        "/loop": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}},
        "/ok": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"type": "object", "required": ["name"],
                                            "properties": {"name": {"type": "string"}}}}}}}}}}}


@pytest.fixture
def world(hub: Hub) -> Sandbox:
    return make_testbed(hub)


def _register(world: Sandbox, slug: str, document: dict, upstream: str = "http://127.0.0.1:9"):
    return world.hub.client.post("/api/v1/orgs/startup/services", headers=world.developer,
                                 json={"slug": slug, "title_ko": slug, "upstream_url": upstream,
                                       "openapi": document})


def test_an_operation_the_mock_cannot_build_is_named_and_the_rest_still_serve(
        world: Sandbox) -> None:
    assert _register(world, "looping", LOOPING).status_code == 201
    key = {"X-API-Key": world.key}
    broken = world.hub.client.get("/sandbox/startup/looping/loop", headers=key)
    assert broken.status_code == 501
    assert "GET /loop" in broken.text and "Node" in broken.text   # which, and why
    served = world.hub.client.get("/sandbox/startup/looping/ok", headers=key)
    assert served.status_code == 200 and isinstance(served.json()["name"], str)


def test_a_reference_to_nothing_is_refused_at_registration(world: Sandbox) -> None:
    dangling = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
        "/a": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}}}}}}
    refused = _register(world, "dangling", dangling)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_openapi"
    assert "Nope" in refused.json()["detail"]


def test_a_dev_server_that_is_down_is_reported_and_the_job_finishes(world: Sandbox) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    assert _register(world, "mine", LOOPING, upstream=down).status_code == 201
    started = world.api("POST", f"/projects/{world.project['id']}/validations",
                        json={"service": "startup/mine", "url": down, "max_cases": 3})
    assert started.status_code == 202, started.text
    job = jobs.wait(world.hub.factory, started.json()["job_id"], timeout=120)
    assert job.state == "succeeded", job.error
    report = world.api("GET", f"/validations/{started.json()['id']}").json()
    assert report["state"] == "done" and report["passed"] is False
    assert report["errors"] and all("refused" in e["message"].lower() or
                                    e["kind"] in ("connection_refused", "connection")
                                    for e in report["errors"])


def _copy(world: Sandbox, dataset: str) -> dict:
    asked = world.api("POST", f"/projects/{world.project['id']}/synthetic",
                      json={"dataset": dataset})
    assert asked.status_code == 202, asked.text
    jobs.wait(world.hub.factory, asked.json()["job_id"], timeout=300)
    copies = world.api("GET", f"/projects/{world.project['id']}/synthetic").json()
    return next(c for c in copies if c["id"] == asked.json()["id"])


def test_synthetic_copies_of_awkward_tables(world: Sandbox) -> None:
    lake = Lake(world.hub)
    lake.create("empty")           # no version yet: nothing to learn from, nothing made
    refused = world.api("POST", f"/projects/{world.project['id']}/synthetic",
                        json={"dataset": "molit/empty"})
    assert 400 <= refused.status_code < 500, refused.text
    assert "empty" in refused.json()["detail"]
    assert world.api("GET", f"/projects/{world.project['id']}/synthetic").json() == []

    lake.create("one")
    lake.ingest_ok("one", ("one.csv", "이름,나이\n홍길동,42\n".encode()))
    one = _copy(world, "molit/one")
    assert one["state"] in ("ready", "failed")
    if one["state"] == "ready":
        assert one["rows"] == 1 and one["privacy"]["exact_copies"] == 0
    else:
        assert one["error"]

    header = ",".join(f"c{i}" for i in range(1000))
    rows = "\n".join(",".join(str((r * 7 + i) % 13) for i in range(1000)) for r in range(20))
    lake.create("wide")
    lake.ingest_ok("wide", ("wide.csv", f"{header}\n{rows}\n".encode()))
    wide = _copy(world, "molit/wide")
    assert wide["state"] == "ready", wide["error"]
    assert wide["rows"] == 20
    read = world.hub.client.get(
        f"/api/v1/testbed/projects/{world.project['id']}/synthetic/{wide['id']}/rows",
        params={"limit": 1}, headers={"X-API-Key": world.key}).json()
    # the same schema as the real rows: 1,000 columns and the hub's provenance column
    assert read["columns"] == [f"c{i}" for i in range(1000)] + ["_source_file"]


def test_work_whose_job_died_with_the_hub_reads_as_failed_after_a_restart(
        world: Sandbox) -> None:
    """A hub stopped mid-job: recovery fails the job (one attempt), and the copy and the
    validation it was making say so instead of staying queued for ever."""
    lake = Lake(world.hub)
    lake.create("one")
    lake.ingest_ok("one", ("one.csv", "이름,나이\n홍길동,42\n김철수,37\n".encode()))
    pid = world.project["id"]
    world.hub.app.state.job_runner.stop()             # the hub's job threads are gone
    copy = world.api("POST", f"/projects/{pid}/synthetic", json={"dataset": "molit/one"}).json()
    validation = world.api("POST", f"/projects/{pid}/validations", json={
        "service": "nts/nts-businessman", "url": "http://127.0.0.1:9"}).json()
    long_ago = utcnow() - timedelta(hours=1)
    with world.hub.session() as s:                      # as a process that died mid-run left them
        s.execute(update(Job).where(Job.id.in_([copy["job_id"], validation["job_id"]]))
                  .values(state=JobState.running, attempts=1, heartbeat_at=long_ago))
    assert world.api("GET", f"/validations/{validation['id']}").json()["state"] == "running"
    assert recover(world.hub.factory) == 2              # the restart's recovery
    [read] = [c for c in world.api("GET", f"/projects/{pid}/synthetic").json()
              if c["id"] == copy["id"]]
    assert read["state"] == "failed" and "process stopped" in read["error"]
    report = world.api("GET", f"/validations/{validation['id']}").json()
    assert report["state"] == "failed" and "process stopped" in report["error"]
