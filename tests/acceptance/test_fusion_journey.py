"""Issue 5's journey: three providers' real data fused by district, saved as a derived
dataset with lineage, which goes stale when an input moves on and is then refreshed."""

from __future__ import annotations

import pytest

from tests.support.lake import EV, LIBRARY, POPULATION, Lake

FUSION = """
WITH pop AS (SELECT sigungu_code(행정구역) AS code, "2025년09월_총인구수" AS people
             FROM molit.population WHERE sigungu_code(행정구역) IS NOT NULL),
     lib AS (SELECT sigungu_code(시도명, 시군구명) AS code, count(*) AS n
             FROM molit.libraries GROUP BY 1),
     ev AS (SELECT sigungu_code(소재지지번주소) AS code, count(*) AS n FROM molit.ev GROUP BY 1)
SELECT pop.code AS 시군구코드, region_name(pop.code) AS 시군구, people AS 인구,
       coalesce(lib.n, 0) AS 도서관, coalesce(ev.n, 0) AS 충전소,
       round(coalesce(lib.n, 0) * 100000.0 / people, 2) AS 인구10만명당_도서관,
       round(coalesce(ev.n, 0) * 100000.0 / people, 2) AS 인구10만명당_충전소
FROM pop LEFT JOIN lib USING (code) LEFT JOIN ev USING (code)
"""


@pytest.mark.acceptance
def test_fuse_save_lineage_stale_refresh(lake: Lake) -> None:
    client, auth = lake.hub.client, lake.auth
    for name, path in (("population", POPULATION), ("libraries", LIBRARY), ("ev", EV)):
        lake.create(name)
        lake.ingest_ok(name, path)

    answer = client.post("/api/v1/query", headers=auth, json={"sql": FUSION, "limit": 1000})
    result = answer.json()
    assert answer.status_code == 200, result
    assert len(result["rows"]) >= 0.95 * 274  # 시군구 rows of the population file

    created = client.post("/api/v1/orgs/molit/derived", headers=auth, json={
        "slug": "facilities-per-100k", "title_ko": "시군구별 인구 10만 명당 도서관·충전소",
        "sql": FUSION})
    assert created.status_code == 202, created.text
    job = lake.wait(created.json()["job"]["id"])
    assert job["state"] == "succeeded", job["error"]
    assert job["result"]["row_count"] == len(result["rows"])
    derived = lake.dataset("facilities-per-100k")
    assert derived["current_version"] == 1
    assert {c["name"]: c["type"] for c in derived["schema"]}["인구"] == "integer"
    jongno = lake.rows("facilities-per-100k", 시군구코드="11110").json()["rows"][0]
    assert jongno["시군구"] == "서울특별시 종로구" and jongno["인구"] == 137_545

    lineage = client.get("/api/v1/datasets/molit/facilities-per-100k/lineage").json()
    assert lineage["derived"] and lineage["stale"] == []
    assert {(i["name"], i["version"]) for i in lineage["inputs"]} == {
        ("population", 1), ("libraries", 1), ("ev", 1)}
    graph = client.get("/api/v1/lineage").json()
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {
        ("molit/population", "molit/facilities-per-100k"),
        ("molit/libraries", "molit/facilities-per-100k"),
        ("molit/ev", "molit/facilities-per-100k")}

    lake.ingest_ok("population", POPULATION, mode="replace")  # a new version of an input
    stale = client.get("/api/v1/datasets/molit/facilities-per-100k/lineage").json()["stale"]
    assert [(s["name"], s["version"], s["current"]) for s in stale] == [("population", 1, 2)]
    assert any(n["stale"] for n in client.get("/api/v1/lineage").json()["nodes"])

    refreshed = client.post("/api/v1/datasets/molit/facilities-per-100k/refresh", headers=auth)
    assert refreshed.status_code == 202
    assert lake.wait(refreshed.json()["id"])["state"] == "succeeded"
    assert lake.dataset("facilities-per-100k")["current_version"] == 2
    after = client.get("/api/v1/datasets/molit/facilities-per-100k/lineage").json()
    assert after["stale"] == [] and ("population", 2) in {
        (i["name"], i["version"]) for i in after["inputs"]}
