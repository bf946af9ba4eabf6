"""A job whose process dies is run again once; the second death fails it with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dpghub.core import jobs
from dpghub.core.db import utcnow
from tests.conftest import PASSWORD, build_hub
from tests.support.identity import sign_in
from tests.support.lake import Lake


@pytest.fixture
def queue_only_lake(tmp_path: Path, db_url: str, kr: Path) -> Iterator[Lake]:
    """A hub that queues jobs but runs none itself: the test plays the workers."""
    for hub in build_hub(tmp_path, db_url, job_workers=0):
        yield Lake(hub)


def _dies(lake: Lake, worker: str) -> None:
    """A worker claims the job and dies: its heartbeat stops at the claim."""
    claimed = jobs.claim(lake.hub.factory, worker)
    assert claimed is not None


def test_a_job_that_kills_its_process_twice_fails_with_the_reason(queue_only_lake: Lake
                                                                 ) -> None:
    lake = queue_only_lake
    lake.create("deadly")
    answer = lake.hub.client.post("/api/v1/datasets/molit/deadly/ingest", headers=lake.auth,
                                  files=[("files", ("a.csv", b"a,b\n1,2\n"))])
    job_id = answer.json()["id"]
    factory, later = lake.hub.factory, utcnow()

    _dies(lake, "host-a:1")
    later += timedelta(minutes=5)   # the heartbeat is now five minutes old
    assert jobs.recover(factory, now=later) == 1
    job = lake.hub.client.get(f"/api/v1/jobs/{job_id}", headers=lake.auth).json()
    assert job["state"] == "queued" and job["attempts"] == 1   # one retry after a death

    _dies(lake, "host-b:2")
    later += timedelta(minutes=5)
    assert jobs.recover(factory, now=later) == 1
    job = lake.hub.client.get(f"/api/v1/jobs/{job_id}", headers=lake.auth).json()
    assert job["state"] == "failed" and job["attempts"] == 2
    assert job["error"]["code"] == "process_died"
    assert "stopped during each of its 2 attempts" in job["error"]["message"]
    assert "hostile" in job["message"]
    assert jobs.claim(factory, "host-c:3") is None   # nobody runs it a third time
    browser = lake.hub.browser()
    sign_in(browser, lake.owner.email, PASSWORD)
    page = browser.get(f"/jobs/{job_id}").text
    assert "stopped during each of its 2 attempts" in page and 'role="alert"' in page


def test_a_fresh_heartbeat_is_not_a_death(queue_only_lake: Lake) -> None:
    lake = queue_only_lake
    lake.create("alive")
    answer = lake.hub.client.post("/api/v1/datasets/molit/alive/ingest", headers=lake.auth,
                                  files=[("files", ("a.csv", b"a,b\n1,2\n"))])
    job_id = answer.json()["id"]
    _dies(lake, "host-a:1")
    assert jobs.recover(lake.hub.factory, now=utcnow() + timedelta(seconds=5)) == 0
    job = lake.hub.client.get(f"/api/v1/jobs/{job_id}", headers=lake.auth).json()
    assert job["state"] == "running"
