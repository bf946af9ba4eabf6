"""Who may read rows: open to anyone, restricted and sensitive to the owner's members."""

from __future__ import annotations

import pytest

from tests.support.lake import Lake

CSV = b"a,b\n1,2\n"


@pytest.mark.parametrize("access", ["restricted", "sensitive"])
def test_rows_of_closed_datasets_are_for_members_only(lake: Lake, access: str) -> None:
    hub = lake.hub
    lake.create("closed", access=access)
    lake.ingest_ok("closed", ("a.csv", CSV))
    assert lake.rows("closed").status_code == 200  # a member
    anonymous = hub.client.get("/api/v1/datasets/molit/closed/rows")
    assert anonymous.status_code == 401
    outsider = hub.client.get("/api/v1/datasets/molit/closed/rows",
                              headers=hub.bearer(hub.make_user()))
    assert outsider.status_code == 403 and outsider.json()["code"] == "access_denied"
    operator = hub.client.get("/api/v1/datasets/molit/closed/rows",
                              headers=hub.bearer(hub.make_user(operator=True)))
    assert operator.status_code == 403  # operators run the platform, not the data
    assert hub.client.get("/api/v1/datasets/molit/closed").status_code == 200  # metadata


def test_open_rows_need_no_account(lake: Lake) -> None:
    lake.create("public-data")
    lake.ingest_ok("public-data", ("a.csv", CSV))
    assert lake.hub.client.get("/api/v1/datasets/molit/public-data/rows").json()["total"] == 1


def test_only_editors_of_the_owner_create_and_ingest(lake: Lake) -> None:
    from dpghub.identity.models import Role

    hub = lake.hub
    member = hub.make_user()
    with hub.session() as s:
        from dpghub.identity import schemas, service
        from dpghub.identity.policy import CLI

        org = service.get_org_by_slug(s, "molit")
        service.add_member(s, actor=CLI, org=org, data=schemas.MembershipCreate(
            email=member.email, role=Role.member))
    refused = hub.client.post("/api/v1/orgs/molit/datasets", headers=hub.bearer(member),
                              json={"slug": "x1", "title_ko": "x"})
    assert refused.status_code == 403
    lake.create("target")
    upload = hub.client.post("/api/v1/datasets/molit/target/ingest", headers=hub.bearer(member),
                             files=[("files", ("a.csv", CSV))])
    assert upload.status_code == 403
    duplicate = hub.client.post("/api/v1/orgs/molit/datasets", headers=lake.auth,
                                json={"slug": "target", "title_ko": "x"})
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "slug"


def test_profile_values_of_closed_datasets_are_hidden_from_outsiders(lake: Lake) -> None:
    lake.create("closed-profile", access="restricted")
    lake.ingest_ok("closed-profile", ("a.csv", "이름,값\n비밀,1\n".encode()))
    outsider = lake.hub.client.get("/api/v1/datasets/molit/closed-profile/profile").json()
    assert outsider["values_hidden"] is True
    assert all(set(c) <= {"name", "type", "nulls", "distinct"} for c in outsider["columns"])
    member = lake.hub.client.get("/api/v1/datasets/molit/closed-profile/profile",
                                 headers=lake.auth).json()
    assert member["values_hidden"] is False
    assert member["columns"][0]["top"] == [{"value": "비밀", "count": 1}]
