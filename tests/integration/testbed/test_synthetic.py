"""Synthetic copies as a developer reads them: of the real library data (CP949, from
../shared/data/kr), with their quality and privacy reports, through the rows API with a
sandbox key and in SQL as sandbox.<org>_<dataset>; and the refusals."""

from __future__ import annotations

import csv
import io

import pytest

from dpghub.core import jobs
from tests.conftest import Hub
from tests.support.identity import sign_in
from tests.support.lake import LIBRARY, Lake, kr  # noqa: F401 — the fixture
from tests.support.sandbox import (
    Sandbox,
    make_testbed,
    sqlite_only_hub,  # noqa: F401 — `hub` is SQLite here
)


@pytest.fixture
def world(hub: Hub) -> Sandbox:
    return make_testbed(hub)


def _finish(world: Sandbox, job_id: int) -> None:
    job = jobs.wait(world.hub.factory, job_id, timeout=300)
    assert job.state == "succeeded", job.error


def test_a_synthetic_copy_of_the_library_data_keeps_its_shape_not_its_rows(
        world: Sandbox, kr: object) -> None:  # noqa: F811 — kr: the shared data is here
    lake = Lake(world.hub)
    lake.create("libraries", title_ko="전국도서관표준데이터")
    lake.ingest_ok("libraries", LIBRARY)
    dataset = "molit/libraries"
    pid = world.project["id"]
    asked = world.api("POST", f"/projects/{pid}/synthetic", json={"dataset": dataset})
    assert asked.status_code == 202, asked.text
    _finish(world, asked.json()["job_id"])
    [copy] = world.api("GET", f"/projects/{pid}/synthetic").json()
    assert copy["state"] == "ready"
    real_rows = lake.dataset("libraries")["row_count"]
    assert copy["rows"] == real_rows
    assert copy["privacy"]["exact_copies"] == 0
    assert copy["privacy"]["dcr"] is not None
    assert 0.7 < copy["quality"]["overall"] <= 1
    assert 0 < copy["quality"]["column_shapes"] <= 1
    assert 0 < copy["quality"]["column_pair_trends"] <= 1
    # read with the sandbox key, as CSV
    answer = world.hub.client.get(f"/api/v1/testbed/projects/{pid}/synthetic/{copy['id']}/rows",
                                  params={"format": "csv", "limit": 50},
                                  headers={"X-API-Key": world.key})
    assert answer.status_code == 200, answer.text
    read = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(read) == 51
    real = lake.rows("libraries", format="csv", limit=50)
    assert read[0] == next(csv.reader(io.StringIO(real.content.decode("utf-8-sig"))))
    # and in SQL, as sandbox.<org>_<dataset>
    table = copy["table"]
    counted = world.hub.client.post(f"/api/v1/testbed/projects/{pid}/query",
                                    headers={"X-API-Key": world.key},
                                    json={"sql": f"SELECT count(*) AS n FROM {table}"})
    assert counted.status_code == 200, counted.text
    assert counted.json()["rows"] == [[real_rows]]
    # the real table is not reachable from the sandbox's SQL
    real_name = dataset.replace("/", ".").replace("-", "_")
    refused = world.hub.client.post(f"/api/v1/testbed/projects/{pid}/query",
                                    headers={"X-API-Key": world.key},
                                    json={"sql": f"SELECT count(*) FROM {real_name}"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "unknown_table"


def test_restricted_data_of_another_organization_cannot_be_copied(world: Sandbox) -> None:
    hub = world.hub
    owner = hub.make_user()
    hub.make_org("agency", admin=owner)
    made = hub.client.post("/api/v1/orgs/agency/datasets", headers=hub.bearer(owner), json={
        "slug": "people", "title_ko": "사람", "access": "restricted"})
    assert made.status_code == 201
    refused = world.api("POST", f"/projects/{world.project['id']}/synthetic",
                        json={"dataset": "agency/people"})
    assert refused.status_code == 403
    assert world.api("GET", f"/projects/{world.project['id']}/synthetic").json() == []


def test_a_sandbox_key_reads_only_its_own_project(world: Sandbox) -> None:
    other = world.hub.client.post("/api/v1/orgs/startup/testbed/projects",
                                  headers=world.developer, json={"name": "다른 프로젝트"})
    refused = world.hub.client.get(f"/api/v1/testbed/projects/{other.json()['id']}/synthetic",
                                   headers={"X-API-Key": world.key})
    assert refused.status_code == 403
    assert refused.json()["code"] == "sandbox_key_outside_sandbox"


def test_a_copy_has_a_page_with_its_reports_charts_and_first_rows(world: Sandbox,
                                                                  kr: object) -> None:  # noqa: F811
    lake = Lake(world.hub)
    lake.create("libraries", title_ko="전국도서관표준데이터")
    lake.ingest_ok("libraries", LIBRARY)
    pid = world.project["id"]
    asked = world.api("POST", f"/projects/{pid}/synthetic", json={"dataset": "molit/libraries"})
    _finish(world, asked.json()["job_id"])
    browser = world.hub.browser()
    sign_in(browser, "dev@startup.kr")
    page = browser.get(f"/testbed/projects/{pid}/synthetic/{asked.json()['id']}")
    assert page.status_code == 200, page.text
    assert "<svg" in page.text and "도서관명" in page.text      # a chart, the real columns
    assert "실제 행과 똑같은 행" in page.text                        # exact copies, in Korean
