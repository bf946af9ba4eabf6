"""An attacker's world for the testbed's security probes: the startup's sandbox (make_testbed)
beside a public agency that holds restricted and open data of people (made with Faker ko_KR),
and helpers to make datasets, synthetic copies and hostile servers."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from typing import Any

from faker import Faker

from dpghub.core import jobs
from tests.conftest import Hub
from tests.support.sandbox import Sandbox, make_testbed


def people_csv(rows: int = 120, seed: int = 7, phones: bool = True) -> bytes:
    """Residents as an agency holds them: names, phones, ages, regions (all made up).
    Without `phones` the file holds no direct identifier, so it may stay open (the privacy
    scan closes open data with phone numbers of people)."""
    fake = Faker("ko_KR")
    fake.seed_instance(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["성명", *(["전화번호"] if phones else []), "나이", "시도", "소득"])
    for _ in range(rows):
        phone = [fake.phone_number()] if phones else []
        writer.writerow([fake.name(), *phone, fake.random_int(19, 90),
                         fake.province(), fake.random_int(1_000, 90_000) * 1000])
    return buffer.getvalue().encode("utf-8")


def wait_job(hub: Hub, auth: dict[str, str], job_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = hub.client.get(f"/api/v1/jobs/{job_id}", headers=auth).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def make_dataset(hub: Hub, auth: dict[str, str], org: str, slug: str, access: str,
                 content: bytes | None = None) -> dict[str, Any]:
    made = hub.client.post(f"/api/v1/orgs/{org}/datasets", headers=auth, json={
        "slug": slug, "title_ko": slug, "access": access})
    assert made.status_code == 201, made.text
    if content is not None:
        answer = hub.client.post(f"/api/v1/datasets/{org}/{slug}/ingest", headers=auth,
                                 files=[("files", (f"{slug}.csv", content))])
        assert answer.status_code == 202, answer.text
        job = wait_job(hub, auth, answer.json()["id"])
        assert job["state"] == "succeeded", job["error"]
    return made.json()


@dataclass
class World:
    """The startup's sandbox, and 행정기관 (org `agency`) with people data: `people`
    restricted, `census` open, `secrets` sensitive."""

    sandbox: Sandbox
    agency_user: Any
    agency: dict[str, str]

    @property
    def hub(self) -> Hub:
        return self.sandbox.hub

    @property
    def pid(self) -> int:
        return int(self.sandbox.project["id"])

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.sandbox.api(method, path, **kwargs)

    def key_get(self, path: str, key: str | None = None, **kwargs: Any) -> Any:
        headers = {"X-API-Key": key or self.sandbox.key, **kwargs.pop("headers", {})}
        return self.hub.client.get(path, headers=headers, **kwargs)

    def synthesize(self, dataset: str, who: dict[str, str] | None = None,
                   project: int | None = None) -> dict[str, Any]:
        """A ready synthetic copy of `dataset` in the project (the startup's by default)."""
        asked = self.api("POST", f"/projects/{project or self.pid}/synthetic",
                         json={"dataset": dataset, "rows": 60}, who=who)
        assert asked.status_code == 202, asked.text
        job = jobs.wait(self.hub.factory, asked.json()["job_id"], timeout=300)
        assert job.state == "succeeded", job.error
        return asked.json()


def make_world(hub: Hub) -> World:
    sandbox = make_testbed(hub)
    owner = hub.make_user("official@agency.go.kr", name="박공무")
    hub.make_org("agency", admin=owner)
    auth = hub.bearer(owner)
    data = people_csv()
    make_dataset(hub, auth, "agency", "people", "restricted", data)
    make_dataset(hub, auth, "agency", "census", "open", people_csv(phones=False))
    make_dataset(hub, auth, "agency", "secrets", "sensitive", data)
    return World(sandbox, owner, auth)
