"""The query API over real datasets, the sandbox's refusals, history and saved queries."""

from __future__ import annotations

import io
import os

import pyarrow.parquet as pq
import pytest

from tests.support.lake import EV, LIBRARY, POPULATION, Lake


@pytest.fixture
def fused(lake: Lake) -> Lake:
    for name, path in (("population", POPULATION), ("libraries", LIBRARY), ("ev", EV)):
        lake.create(name)
        lake.ingest_ok(name, path)
    return lake


def query(lake: Lake, sql: str, **extra):  # type: ignore[no-untyped-def]
    return lake.hub.client.post("/api/v1/query", headers=lake.auth, json={"sql": sql, **extra})


def test_group_by_with_versions_and_formats(fused: Lake) -> None:
    answer = query(fused, "SELECT 시도명, count(*) AS n FROM molit.libraries GROUP BY 1 "
                          "ORDER BY n DESC, 시도명 LIMIT 2")
    body = answer.json()
    assert answer.status_code == 200, body
    assert body["columns"] == [{"name": "시도명", "type": "text"}, {"name": "n", "type": "integer"}]
    assert body["rows"] == [["서울특별시", 546], ["경기도", 508]]
    assert body["datasets"] == [{"org": "molit", "name": "libraries", "version": 1}]
    assert body["truncated"] is False and body["elapsed_ms"] > 0
    fused.ingest_ok("libraries", LIBRARY)
    twice = query(fused, "SELECT (SELECT count(*) FROM molit.libraries) AS now, "
                         "(SELECT count(*) FROM molit.libraries@1) AS before").json()
    assert twice["rows"] == [[7034, 3517]]
    capped = query(fused, "SELECT 도서관명 FROM molit.libraries", limit=10).json()
    assert len(capped["rows"]) == 10 and capped["truncated"] is True
    csv = query(fused, "SELECT 도서관명, 열람좌석수 FROM molit.libraries@1", format="csv",
                limit=100_000)
    assert csv.content.decode("utf-8-sig").count("\n") == 3518
    parquet = query(fused, "SELECT * FROM molit.libraries@1", format="parquet", limit=5000)
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 3517
    params = query(fused, "SELECT count(*) FROM molit.libraries@1 WHERE 시도명 = ?",
                   params=["세종특별자치시"]).json()
    assert params["rows"][0][0] > 0


def test_region_functions_fuse_three_providers(fused: Lake) -> None:
    sql = """
    WITH pop AS (SELECT sigungu_code(행정구역) AS code, "2025년09월_총인구수" AS people
                 FROM molit.population WHERE sigungu_code(행정구역) IS NOT NULL),
         lib AS (SELECT sigungu_code(시도명, 시군구명) AS code, count(*) AS n
                 FROM molit.libraries GROUP BY 1),
         ev AS (SELECT sigungu_code(소재지지번주소) AS code, count(*) AS n
                FROM molit.ev GROUP BY 1)
    SELECT pop.code, region_name(pop.code) AS name, people,
           round(coalesce(lib.n, 0) * 100000.0 / people, 2) AS libraries_per_100k,
           round(coalesce(ev.n, 0) * 100000.0 / people, 2) AS chargers_per_100k
    FROM pop LEFT JOIN lib USING (code) LEFT JOIN ev USING (code) ORDER BY pop.code"""
    body = query(fused, sql, limit=1000).json()
    rows = {r[0]: r for r in body["rows"]}
    population_sigungu = 274  # rows of the file below 시도 level (incl. 9 출장소 pseudo-districts)
    assert len(rows) / population_sigungu >= 0.95
    assert rows["11110"][1] == "서울특별시 종로구" and rows["11110"][2] == 137_545
    assert rows["11110"][3] > 0 and rows["11110"][4] > 0
    assert rows["52110"][1] == "전북특별자치도 전주시"  # 2020 EV rows say 전라북도


@pytest.mark.parametrize(("sql", "status", "code"), [
    ("SELECT * FROM read_csv('/etc/passwd')", 403, "function_not_allowed"),
    ("SELECT count(*) FROM read_parquet('LAKE')", 403, "function_not_allowed"),
    ("COPY (SELECT 1) TO '/tmp/dpghub-escape.csv'", 403, "select_only"),
    ("ATTACH '/tmp/dpghub-escape.db'", 403, "select_only"),
    ("INSTALL httpfs", 403, "select_only"),
    ("LOAD httpfs", 403, "select_only"),
    ("SET memory_limit='64GB'", 403, "select_only"),
    ("PRAGMA version", 403, "select_only"),
    ("SELECT 1; SELECT 2", 403, "one_statement_only"),
    ("SELECT getenv('HOME')", 403, "function_not_allowed"),
    ("SELECT * FROM molit.libraries WHERE", 422, "syntax_error"),
    ("SELECT * FROM molit.nothing", 422, "unknown_table"),
])
def test_sandbox_refusals_leave_no_file(lake: Lake, sql: str, status: int, code: str) -> None:
    lake.create("libraries")
    lake_dir = str(lake.hub.settings.home / "lake")
    answer = query(lake, sql.replace("LAKE", lake_dir + "/tables/d1/x.parquet"))
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert not os.path.exists("/tmp/dpghub-escape.csv")
    assert not os.path.exists("/tmp/dpghub-escape.db")


def test_tables_are_found_by_their_sql_name_and_version(lake: Lake) -> None:
    """The one statement that finds a query's table: dashes written as underscores in any
    case, the version asked for or the current one, and a clear answer for each miss."""
    lake.create("seoul-libraries")
    empty = query(lake, "SELECT count(*) FROM molit.seoul_libraries")
    assert (empty.status_code, empty.json()["code"]) == (404, "no_data")
    lake.ingest_ok("seoul-libraries", LIBRARY)
    lake.ingest_ok("seoul-libraries", LIBRARY)
    answer = query(lake, "SELECT (SELECT count(*) FROM MOLIT.Seoul_Libraries) AS now, "
                         "(SELECT count(*) FROM molit.seoul_libraries@1) AS first")
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"] == [[7034, 3517]]
    assert answer.json()["datasets"] == [{"org": "molit", "name": "seoul-libraries",
                                          "version": 2},
                                         {"org": "molit", "name": "seoul-libraries",
                                          "version": 1}]
    missing = query(lake, "SELECT count(*) FROM molit.seoul_libraries@9")
    assert (missing.status_code, missing.json()["code"]) == (404, "version_not_found")


def test_restricted_and_sensitive_datasets(fused: Lake) -> None:
    hub = fused.hub
    hub.client.patch("/api/v1/datasets/molit/population", headers=fused.auth,
                     json={"access": "restricted"})
    outsider = hub.bearer(hub.make_user())
    refused = hub.client.post("/api/v1/query", headers=outsider,
                              json={"sql": "SELECT count(*) FROM molit.population"})
    assert refused.status_code == 403 and refused.json()["code"] == "access_denied"
    assert query(fused, "SELECT count(*) FROM molit.population").status_code == 200
    hub.client.patch("/api/v1/datasets/molit/population", headers=fused.auth,
                     json={"access": "sensitive"})
    sensitive = query(fused, "SELECT count(*) FROM molit.population")
    assert sensitive.status_code == 403 and sensitive.json()["code"] == "sensitive_dataset"


def test_time_limit_stops_a_cross_join(fused: Lake) -> None:
    import time

    assert query(fused, "SELECT 1").status_code == 200   # a worker has started
    started = time.perf_counter()
    answer = query(fused, "SELECT count(*) FROM molit.ev a, molit.ev b, molit.ev c",
                   timeout_ms=500)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 408 and answer.json()["code"] == "query_timeout"
    assert elapsed < 0.5 + 1.0


def test_a_result_larger_than_the_memory_limit(tmp_path, sqlite_url, kr) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import build_hub

    for hub in build_hub(tmp_path, sqlite_url, query_memory_mb=64):
        lake = Lake(hub)
        lake.create("ev")
        lake.ingest_ok("ev", EV)
        answer = query(lake, "SELECT a.*, b.충전소명 AS other FROM molit.ev a, molit.ev b "
                             "ORDER BY other, a.충전소명", timeout_ms=60_000)
        assert answer.status_code == 422 and answer.json()["code"] == "query_memory"


def test_history_and_saved_queries(fused: Lake) -> None:
    client, auth = fused.hub.client, fused.auth
    query(fused, "SELECT 1 AS one")
    query(fused, "SELECT * FROM nowhere")
    history = client.get("/api/v1/query/history", headers=auth).json()
    assert history[0]["error"] and history[1]["sql"] == "SELECT 1 AS one"
    saved = client.post("/api/v1/queries", headers=auth,
                        json={"name": "도서관 수", "sql": "SELECT count(*) FROM molit.libraries"})
    assert saved.status_code == 201
    refused = client.post("/api/v1/queries", headers=auth, json={"name": "x", "sql": "DROP x"})
    assert refused.status_code == 403
    assert [q["name"] for q in client.get("/api/v1/queries", headers=auth).json()] == ["도서관 수"]
    assert client.delete(f"/api/v1/queries/{saved.json()['id']}", headers=auth).status_code == 204


def test_json_answer_names_every_type_as_dataset_schemas_do(lake: Lake) -> None:
    answer = query(lake, "SELECT 1 AS i, 2::HUGEINT AS big, 1.5 AS d, 2.5::DOUBLE AS f, "
                         "'가' AS t, DATE '2020-07-01' AS day, TIMESTAMP '2020-07-01 09:00' AS ts, "
                         "true AS b, TIME '09:00' AS clock")
    body = answer.json()
    assert answer.status_code == 200, body
    assert [(c["name"], c["type"]) for c in body["columns"]] == [
        ("i", "integer"), ("big", "integer"), ("d", "decimal"), ("f", "decimal"),
        ("t", "text"), ("day", "date"), ("ts", "timestamp"), ("b", "boolean"),
        ("clock", "time")]
    assert body["rows"] == [[1, 2, 1.5, 2.5, "가", "2020-07-01", "2020-07-01T09:00:00", True,
                             "09:00:00"]]


def test_json_answer_has_null_where_json_has_no_number(lake: Lake) -> None:
    """The worker writes the rows' JSON and the hub places it in its answer unparsed: a
    float that is not a number or is infinite must still be valid JSON (null), also inside
    lists and structs, and the other values must be as they were."""
    answer = query(lake, "SELECT 'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS up, "
                         "'-inf'::DOUBLE AS down, 0.25::DOUBLE AS quarter, "
                         "[1.0, 'nan'::DOUBLE] AS list, {'x': 'inf'::DOUBLE, 'd': DATE '2024-02-29'} "
                         "AS struct, [DATE '2024-01-01'] AS days, '\"따옴표\"\n줄' AS text "
                         "FROM (VALUES (1), (2), (3)) AS t(n)", limit=2)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["rows"] == [[None, None, None, 0.25, [1.0, None], {"x": None, "d": "2024-02-29"},
                             ["2024-01-01"], '"따옴표"\n줄']] * 2
    assert body["truncated"] is True
    assert [c["name"] for c in body["columns"]] == ["nan", "up", "down", "quarter", "list",
                                                    "struct", "days", "text"]
    empty = query(lake, "SELECT 1 AS one WHERE false").json()
    assert empty["rows"] == [] and empty["truncated"] is False


def test_values_json_has_no_name_for_are_written_beside_a_nan(lake: Lake) -> None:
    """The encoder asks for dates, decimals and bytes itself; a NaN in the same rows sends
    them down the second path, which must write them the same way."""
    plain = "DATE '2020-07-01' AS day, 1.50::DECIMAL(4, 2) AS dec, TIME '09:30' AS at, " \
            "'\\xEB\\xB0\\x94'::BLOB AS raw"
    for extra, tail in (("", []), (", 'nan'::DOUBLE AS nan", [None])):
        answer = query(lake, f"SELECT {plain}{extra}")
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == [["2020-07-01", 1.5, "09:30:00", "바", *tail]]


def test_history_counts_the_rows_sent(fused: Lake) -> None:
    query(fused, "SELECT 도서관명 FROM molit.libraries", limit=7)
    query(fused, "SELECT 1 AS one WHERE false")
    history = fused.hub.client.get("/api/v1/query/history", headers=fused.auth).json()
    assert [h["rows"] for h in history[:2]] == [0, 7]
