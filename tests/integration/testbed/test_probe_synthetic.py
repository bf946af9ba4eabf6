"""Security probe: synthetic copies as a side door to another organization's data — restricted
and sensitive data asked for directly, by a collaborator, through a derived dataset, and
data whose access became stricter after a copy of it was made."""

from __future__ import annotations

import pytest

from dpghub.testbed.service import projects, synthetic
from tests.conftest import Hub
from tests.support.probe import World, make_world, wait_job


@pytest.fixture
def world(hub: Hub) -> World:
    return make_world(hub)


def _rows(world: World, copy_id: int, project: int | None = None) -> object:
    return world.key_get(f"/api/v1/testbed/projects/{project or world.pid}/synthetic/"
                         f"{copy_id}/rows")


def test_restricted_and_sensitive_data_of_another_organization_are_not_copied(
        world: World) -> None:
    for name, code in (("people", "not_the_owner"), ("secrets", "sensitive_dataset")):
        refused = world.api("POST", f"/projects/{world.pid}/synthetic",
                            json={"dataset": f"agency/{name}"})
        assert refused.status_code == 403
        assert refused.json()["code"] == code
    assert world.api("GET", f"/projects/{world.pid}/synthetic").json() == []


def test_the_owners_own_sensitive_data_is_not_copied_either(world: World) -> None:
    own = world.hub.client.post("/api/v1/orgs/agency/testbed/projects", headers=world.agency,
                                json={"name": "내부"})
    refused = world.api("POST", f"/projects/{own.json()['id']}/synthetic", who=world.agency,
                        json={"dataset": "agency/secrets"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "sensitive_dataset"


def test_a_collaborator_from_elsewhere_cannot_copy_the_owners_restricted_data(
        world: World) -> None:
    """The agency's own project, the startup's developer invited into it: the copy of its
    restricted data is the agency's to ask for, not the guest's."""
    own = world.hub.client.post("/api/v1/orgs/agency/testbed/projects", headers=world.agency,
                                json={"name": "협업"}).json()
    world.api("POST", f"/projects/{own['id']}/members", who=world.agency,
              json={"email": "dev@startup.kr"})
    assert world.api("POST", f"/projects/{own['id']}/accept").status_code == 200
    refused = world.api("POST", f"/projects/{own['id']}/synthetic",
                        json={"dataset": "agency/people"})
    assert refused.status_code == 403


def test_a_derived_dataset_of_restricted_inputs_is_no_way_around(world: World) -> None:
    hub = world.hub
    derived = hub.client.post("/api/v1/orgs/agency/derived", headers=world.agency, json={
        "slug": "people-by-region", "title_ko": "시도별 인원",
        "sql": "SELECT 시도, count(*) AS n FROM agency.people GROUP BY 시도"})
    assert derived.status_code == 202, derived.text
    assert derived.json()["dataset"]["access"] == "restricted"
    job = wait_job(hub, world.agency, derived.json()["job"]["id"])
    assert job["state"] == "succeeded", job["error"]
    refused = world.api("POST", f"/projects/{world.pid}/synthetic",
                        json={"dataset": "agency/people-by-region"})
    assert refused.status_code == 403
    # nor can the startup derive anything of the agency's restricted rows itself
    own = hub.client.post("/api/v1/orgs/startup/derived", headers=world.sandbox.developer,
                          json={"slug": "mine", "title_ko": "내 것",
                                "sql": "SELECT * FROM agency.people"})
    assert own.status_code == 403


def test_a_copy_of_open_data_is_withheld_once_the_data_becomes_restricted(world: World) -> None:
    """The startup copied the agency's open census; the agency then restricts it. The copy
    (and its quality report, which charts the real columns) is a likeness of data the
    startup may no longer read: it is withheld, not served, until the data opens again."""
    hub, pid = world.hub, world.pid
    copy = world.synthesize("agency/census")
    assert _rows(world, copy["id"]).status_code == 200
    restricted = hub.client.patch("/api/v1/datasets/agency/census", headers=world.agency,
                                  json={"access": "restricted"})
    assert restricted.status_code == 200, restricted.text
    rows = _rows(world, copy["id"])
    assert rows.status_code == 403, rows.text[:200]
    assert rows.json()["code"] == "not_the_owner"
    for who in ({"X-API-Key": world.sandbox.key}, world.sandbox.developer):
        sql = hub.client.post(f"/api/v1/testbed/projects/{pid}/query", headers=who,
                              json={"sql": "SELECT * FROM sandbox.agency_census"})
        assert sql.status_code == 403, sql.text[:200]
    [listed] = world.api("GET", f"/projects/{pid}/synthetic").json()
    assert listed["state"] == "withheld"
    assert listed["quality"] == {} and listed["privacy"] == {}
    page = hub.client.get(f"/api/v1/testbed/projects/{pid}/synthetic",
                          headers={"X-API-Key": world.sandbox.key}).json()
    assert page[0]["quality"] == {}
    with hub.session() as session:    # the copy's page shows no first rows either
        made = synthetic.get(session, projects.load(session, pid), copy["id"])
        assert synthetic.preview(session, hub.app.state.storage, made) is None
    # opened again, the copy is the startup's again
    hub.client.patch("/api/v1/datasets/agency/census", headers=world.agency,
                     json={"access": "open"})
    assert _rows(world, copy["id"]).status_code == 200


def test_the_owners_copy_is_withheld_once_its_data_becomes_sensitive(world: World) -> None:
    hub = world.hub
    own = hub.client.post("/api/v1/orgs/agency/testbed/projects", headers=world.agency,
                          json={"name": "내부"}).json()
    key = world.api("POST", f"/projects/{own['id']}/keys", who=world.agency).json()["key"]
    copy = world.synthesize("agency/people", who=world.agency, project=own["id"])
    path = f"/api/v1/testbed/projects/{own['id']}/synthetic/{copy['id']}/rows"
    assert world.key_get(path, key=key).status_code == 200
    hub.client.patch("/api/v1/datasets/agency/people", headers=world.agency,
                     json={"access": "sensitive"})
    refused = world.key_get(path, key=key)
    assert refused.status_code == 403
    assert refused.json()["code"] == "sensitive_dataset"
