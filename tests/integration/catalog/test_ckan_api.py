"""The CKAN Action API, read by the real `ckanapi` client over HTTP on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator

import ckanapi
import pytest

from tests.support.cli import init_hub
from tests.support.lake import EV, LIBRARY
from tests.support.server import start


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    if not LIBRARY.exists():
        from tests.conftest import unavailable

        unavailable(f"the Korean sample data is not at {LIBRARY}")
    home = tmp_path_factory.mktemp("ckan") / "home"
    env = {**os.environ, "DPGHUB_HOME": str(home)}
    env.pop("DPGHUB_DATABASE_URL", None)
    *_, token = init_hub(  # in one process: each `dpghub` process imports the whole hub first
        env,
        *(("org", "create", org, "--name-ko", name_ko, "--name-en", org, "--kind", "public")
          for org, name_ko in (("mcst", "문화체육관광부"), ("me", "환경부"))),
        ("ingest", str(LIBRARY), "--org", "mcst", "--dataset", "libraries",
         "--title", "전국도서관표준데이터"),
        ("ingest", str(EV), "--org", "me", "--dataset", "ev-chargers",
         "--title", "전국전기차충전소표준데이터", "--access", "restricted"),
        ("token", "create", "admin@dpghub.kr", "--name", "ckan"))
    token = token.strip()
    for base in start(home):
        yield base, token


def test_search_show_organizations_and_datastore(portal: tuple[str, str]) -> None:
    base, _ = portal
    ckan = ckanapi.RemoteCKAN(base)
    assert ckan.action.status_show()["site_title"] == "DPG Hub"
    assert ckan.action.package_list() == ["mcst__libraries"]  # the restricted one is private
    found = ckan.action.package_search(q="도서관", facet_field=["organization", "res_format"],
                                       rows=5)
    assert found["count"] == 1 and found["results"][0]["title"] == "전국도서관표준데이터"
    assert found["facets"]["organization"] == {"mcst": 1}
    assert ckan.action.package_search(q="충전소")["count"] == 0
    package = ckan.action.package_show(id="mcst__libraries")
    assert package["organization"]["name"] == "mcst" and package["resources"][0]["datastore_active"]
    assert [o["name"] for o in ckan.action.organization_list(all_fields=True)] == ["mcst", "me"]
    assert ckan.action.organization_show(id="mcst")["package_count"] == 1
    page = ckan.action.datastore_search(resource_id="mcst__libraries", limit=5, offset=5,
                                        filters={"시도명": "서울특별시"}, sort="열람좌석수 desc")
    assert page["total"] == 546 and len(page["records"]) == 5
    seats = [r["열람좌석수"] for r in page["records"]]
    assert seats == sorted(seats, reverse=True)
    lists = ckan.action.datastore_search(resource_id="mcst__libraries", limit=2,
                                         fields=["도서관명", "시도명"], records_format="lists")
    assert len(lists["records"][0]) == 2
    assert ckan.action.resource_show(id="mcst__libraries__csv")["format"] == "CSV"
    sql = ckan.action.datastore_search_sql(
        sql='SELECT 시도명, count(*) AS n FROM "mcst__libraries" GROUP BY 1 ORDER BY 2 DESC LIMIT 1')
    assert sql["records"] == [{"시도명": "서울특별시", "n": 546}]


def test_errors_in_ckans_own_shape(portal: tuple[str, str]) -> None:
    base, token = portal
    ckan = ckanapi.RemoteCKAN(base)
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="mcst__nothing")
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.package_show(id="me__ev-chargers")
    with pytest.raises(ckanapi.ValidationError) as rows:
        ckan.action.package_search(rows=1001)
    assert "rows" in rows.value.error_dict
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(fq="organization:(mcst OR me")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(facet_field=["color"])
    private = ckanapi.RemoteCKAN(base, apikey=token)  # an operator reads private metadata
    found = private.action.package_search(include_private=True, fq="organization:me")
    assert found["count"] == 0  # ...but rows of a restricted dataset stay with its members
