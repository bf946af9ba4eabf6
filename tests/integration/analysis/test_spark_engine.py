"""The same query on Spark (local mode, Java 17) gives DuckDB's answer, with the same rules."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import unavailable
from tests.support.lake import LIBRARY, POPULATION, Lake

SQL = """
WITH lib AS (SELECT sigungu_code(시도명, 시군구명) AS code, count(*) AS n
             FROM molit.libraries GROUP BY 1),
     pop AS (SELECT sigungu_code(행정구역) AS code, "2025년09월_총인구수" AS people
             FROM molit.population WHERE sigungu_code(행정구역) IS NOT NULL)
SELECT pop.code, region_name(pop.code) AS name, people, coalesce(lib.n, 0) AS libraries
FROM pop LEFT JOIN lib ON lib.code = pop.code
ORDER BY pop.code
"""


@pytest.fixture
def spark_ready() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("pyspark is not installed (the test extra installs it)")
    if shutil.which("java") is None:
        unavailable("Java is not installed (Spark needs Java 17)")


def test_spark_matches_duckdb(lake: Lake, spark_ready: None) -> None:
    for name, path in (("libraries", LIBRARY), ("population", POPULATION)):
        lake.create(name)
        lake.ingest_ok(name, path)
    client, auth = lake.hub.client, lake.auth
    duck = client.post("/api/v1/query", headers=auth, json={"sql": SQL, "limit": 1000}).json()
    spark = client.post("/api/v1/query", headers=auth,
                        json={"sql": SQL, "limit": 1000, "engine": "spark",
                              "timeout_ms": 120_000})
    assert spark.status_code == 200, spark.text
    body = spark.json()
    assert body["rows"] == duck["rows"] and len(body["rows"]) > 250
    assert [c["name"] for c in body["columns"]] == [c["name"] for c in duck["columns"]]
    assert body["datasets"] == duck["datasets"]
    refused = client.post("/api/v1/query", headers=auth, json={
        "sql": "SELECT * FROM read_csv('/etc/passwd')", "engine": "spark"})
    assert refused.status_code == 403  # the same guard, before any engine
