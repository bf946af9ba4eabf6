"""Derived datasets keep the access level of what they are made from.

A probe found that `SELECT * FROM orga.secret`, saved as a derived dataset by an editor of
another organization who may read it, was published `open` to everyone.
"""

from __future__ import annotations

from typing import Any

import pytest

from dpghub.core import jobs
from dpghub.identity.models import Role
from tests.conftest import Hub

SECRET = "이름,동\n김,종로\n이,중구\n"


class World:
    """molit owns a restricted dataset; `analyst` is a member of molit and an editor of
    startup; `publisher` is an editor of both."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        owner = hub.make_user()
        analyst, publisher = hub.make_user(), hub.make_user()
        hub.make_org("molit", admin=owner,
                     members={analyst: Role.member, publisher: Role.editor})
        hub.make_org("startup", admin=hub.make_user(),
                     members={analyst: Role.editor, publisher: Role.editor})
        self.owner, self.analyst = hub.bearer(owner), hub.bearer(analyst)
        self.publisher = hub.bearer(publisher)
        self.dataset("secret", "restricted", SECRET)
        self.dataset("libraries", "open", "도서관,구\n정독,종로\n")

    def dataset(self, slug: str, access: str, body: str) -> None:
        client = self.hub.client
        made = client.post("/api/v1/orgs/molit/datasets", headers=self.owner,
                           json={"slug": slug, "title_ko": slug, "access": access})
        assert made.status_code == 201, made.text
        job = client.post(f"/api/v1/datasets/molit/{slug}/ingest", headers=self.owner,
                          files=[("files", ("a.csv", body.encode()))]).json()
        assert self.wait(job["id"], self.owner)["state"] == "succeeded"

    def wait(self, job_id: int, who: dict[str, str]) -> dict[str, Any]:
        jobs.wait(self.hub.factory, job_id, timeout=60)
        return self.hub.client.get(f"/api/v1/jobs/{job_id}", headers=who).json()

    def derive(self, who: dict[str, str], slug: str, sql: str, **extra: Any):  # type: ignore[no-untyped-def]
        answer = self.hub.client.post("/api/v1/orgs/startup/derived", headers=who, json={
            "slug": slug, "title_ko": slug, "sql": sql, **extra})
        if answer.status_code == 202:
            job = self.wait(answer.json()["job"]["id"], who)
            assert job["state"] == "succeeded", job
        return answer

    def access(self, org: str, slug: str) -> str:
        return self.hub.client.get(f"/api/v1/datasets/{org}/{slug}").json()["access"]


@pytest.fixture
def world(hub: Hub) -> World:
    return World(hub)


def test_a_derived_dataset_is_as_strict_as_its_strictest_input(world: World) -> None:
    made = world.derive(world.analyst, "copy", "SELECT * FROM molit.secret")
    assert made.status_code == 202, made.text
    assert world.access("startup", "copy") == "restricted"
    # and its rows are not for everyone
    assert world.hub.client.get("/api/v1/datasets/startup/copy/rows").status_code == 401
    mixed = world.derive(world.analyst, "mixed",
                         "SELECT s.이름, l.도서관 FROM molit.secret s, molit.libraries l")
    assert mixed.status_code == 202 and world.access("startup", "mixed") == "restricted"
    plain = world.derive(world.analyst, "plain", "SELECT * FROM molit.libraries")
    assert plain.status_code == 202 and world.access("startup", "plain") == "open"


def test_only_who_may_publish_every_input_opens_it(world: World) -> None:
    refused = world.derive(world.analyst, "copy", "SELECT * FROM molit.secret", access="open")
    assert refused.status_code == 403
    assert refused.json()["code"] == "access_below_inputs"
    assert world.hub.client.get("/api/v1/datasets/startup/copy").status_code == 404
    world.derive(world.analyst, "copy", "SELECT * FROM molit.secret")
    opened = world.hub.client.patch("/api/v1/datasets/startup/copy", headers=world.analyst,
                                    json={"access": "open"})
    assert opened.status_code == 403 and opened.json()["code"] == "access_below_inputs"
    assert world.access("startup", "copy") == "restricted"
    # an editor of the input's organization may publish what is made from it
    allowed = world.derive(world.publisher, "summary",
                           "SELECT count(*) AS n FROM molit.secret", access="open")
    assert allowed.status_code == 202 and world.access("startup", "summary") == "open"


def test_derived_datasets_follow_an_input_that_becomes_stricter(world: World) -> None:
    world.derive(world.analyst, "plain", "SELECT * FROM molit.libraries")
    world.derive(world.analyst, "plain2", "SELECT * FROM startup.plain")
    closed = world.hub.client.patch("/api/v1/datasets/molit/libraries", headers=world.owner,
                                    json={"access": "restricted"})
    assert closed.status_code == 200, closed.text
    assert world.access("startup", "plain") == "restricted"
    assert world.access("startup", "plain2") == "restricted"      # and what is made from it
    operator = world.hub.bearer(world.hub.make_user(operator=True))
    events = world.hub.client.get("/api/v1/audit", headers=operator, params={
        "action": "analysis.derived.access_follows_input"}).json()
    assert sorted((e["target_id"], e["details"]["to"]) for e in events) == [
        ("startup.plain", "restricted"), ("startup.plain2", "restricted")]


def test_a_refresh_closes_a_derived_dataset_made_before_the_rule(world: World) -> None:
    world.derive(world.analyst, "plain", "SELECT * FROM molit.libraries")
    from sqlalchemy import update

    from dpghub.analysis.models import Derivation
    from dpghub.lake.models import Dataset

    with world.hub.session() as s:   # as an older hub left it: input closed, no floor kept
        s.execute(update(Dataset).where(Dataset.slug == "libraries").values(access="restricted"))
        s.execute(update(Derivation).values(access_floor=None))
    assert world.access("startup", "plain") == "open"
    refreshed = world.hub.client.post("/api/v1/datasets/startup/plain/refresh",
                                      headers=world.analyst)
    assert refreshed.status_code == 202, refreshed.text
    assert world.wait(refreshed.json()["id"], world.analyst)["state"] == "succeeded"
    assert world.access("startup", "plain") == "restricted"
