"""User SQL cannot take the hub down: it runs in worker processes with an operating-system
memory limit, a worker that passes its deadline is killed and replaced, and every fault of
the SQL text is a 4xx that names it."""

from __future__ import annotations

import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Hub, build_hub
from tests.support.lake import EV, LIBRARY, Lake

ENGLISH = {"Accept-Language": "en"}
BOMBS = [   # lists are built outside DuckDB's memory limit
    "SELECT len(range(1000000000)) AS n",                     # the probe's: 8 GB in one list
    "SELECT unnest(range(1000000000)) AS x",
    "SELECT list_transform(range(1000000000), x -> x) AS l",
    "SELECT len(range(100000000)) AS n",                      # 800 MB
    "SELECT sum(x) AS s FROM (SELECT unnest(range(100000000)) AS x)",
    "SELECT len(list_transform(range(100000000), lambda x: x + 1)) AS n",
    "SELECT array_agg(range(1000)) AS a FROM (SELECT unnest(range(10000000)))",  # step by step
]


@pytest.fixture
def make_hub(tmp_path: Path, sqlite_url: str) -> Iterator[Callable[..., Hub]]:
    """Hubs with settings of the test's choosing, emptied afterwards even when it fails."""
    made: list[Iterator[Hub]] = []

    def make(**overrides: Any) -> Hub:
        hub = build_hub(tmp_path, sqlite_url, **overrides)
        made.append(hub)
        return next(hub)

    yield make
    for hub in made:
        next(hub, None)


@pytest.fixture
def small(make_hub: Callable[..., Hub]) -> Hub:
    """A hub whose queries have 64 MiB, run by a single worker process."""
    return make_hub(query_memory_mb=64, query_workers=1)


def ask(hub: Hub, sql: str, **extra):  # type: ignore[no-untyped-def]
    return hub.client.post("/api/v1/query", json={"sql": sql, **extra}, headers=ENGLISH)


def peak_rss_mb() -> int:
    """The most memory this process (the hub under test) has held, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10


def cpu_seconds() -> float:
    """The processor time this process (the hub under test) has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_a_worker_starts_with_the_hub(tmp_path: Path, sqlite_url: str) -> None:
    """Before any query, so that the first need not wait for one (the other tests' hubs start
    theirs at their first query: tests/conftest.py)."""
    for hub in build_hub(tmp_path, sqlite_url, worker_at_start=True):
        pool = hub.app.state.queries
        with pool.changed:
            assert pool.changed.wait_for(lambda: pool.idle, timeout=60), pool.failure   # noqa: B023
        assert len(pool.pids()) == 1


@pytest.mark.parametrize("bomb", BOMBS)
def test_list_bombs_are_refused_and_the_hub_answers_the_next_query(small: Hub, bomb: str
                                                                   ) -> None:
    before = peak_rss_mb()
    answer = ask(small, bomb)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "query_memory" and "64 MiB" in body["detail"]
    assert peak_rss_mb() - before < 200   # the bomb's gigabytes were never the hub's own
    after = ask(small, "SELECT 42 AS answer")
    assert after.status_code == 200 and after.json()["rows"] == [[42]]


def test_a_query_past_its_deadline_has_its_worker_killed_and_replaced(small: Hub) -> None:
    pool = small.app.state.queries
    assert ask(small, "SELECT 1").status_code == 200
    [first] = pool.pids()
    answer = ask(small, "SELECT count(*) FROM (SELECT unnest(range(300000)) a), "
                        "(SELECT unnest(range(300000)) b)", timeout_ms=300)
    assert answer.status_code == 408, answer.text
    assert answer.json()["code"] == "query_timeout" and "0.3" in answer.json()["detail"]
    assert ask(small, "SELECT 2 AS two").json()["rows"] == [[2]]
    assert first not in pool.pids() and len(pool.pids()) == 1
    _wait_until_gone(first)


def test_a_worker_killed_mid_query_is_replaced(small: Hub) -> None:
    pool = small.app.state.queries
    assert ask(small, "SELECT 1").status_code == 200
    [worker] = pool.pids()
    answers = []
    slow = threading.Thread(target=lambda: answers.append(ask(
        small, "SELECT count(*) FROM (SELECT unnest(range(300000)) a), "
               "(SELECT unnest(range(300000)) b)", timeout_ms=120_000)))
    idle = _cpu_ticks(worker)
    slow.start()
    while _cpu_ticks(worker) < idle + 20:   # it is running the query (0.2 s of CPU)
        assert slow.is_alive()
        time.sleep(0.01)
    os.kill(worker, signal.SIGKILL)          # as the kernel's OOM killer would
    slow.join(60)
    assert answers[0].status_code == 422 and answers[0].json()["code"] == "query_memory"
    assert ask(small, "SELECT 3 AS three").json()["rows"] == [[3]]
    assert worker not in pool.pids() and len(pool.pids()) == 1
    _wait_until_gone(worker)


def test_a_stalled_download_is_stopped_at_its_deadline(small: Hub) -> None:
    from dpghub.analysis.guard import guard
    from dpghub.analysis.sandbox import QueryTimeout
    from dpghub.analysis.workers import Deadline

    pool = small.app.state.queries
    assert ask(small, "SELECT 1").status_code == 200
    [worker] = pool.pids()
    query = guard("SELECT a, b, repeat('가', 100) AS t FROM (SELECT unnest(range(3000)) AS a), "
                  "(SELECT unnest(range(3000)) AS b)")   # 9 million rows, 2.7 GB of text
    schema, batches = pool.batches(query, [], params=None, limit=10_000_000,
                                   deadline=Deadline(3.0))
    assert schema.names == ["a", "b", "t"]
    _wait_until_gone(worker)       # nobody reads, yet the worker is stopped at its deadline
    with pytest.raises(QueryTimeout):
        for _ in batches:
            pass
    assert ask(small, "SELECT 6 AS six").json()["rows"] == [[6]]


def test_a_json_answer_larger_than_the_cap_is_refused(make_hub: Callable[..., Hub]) -> None:
    hub = make_hub(query_result_max_mb=1, query_workers=1)
    answer = ask(hub, "SELECT repeat('x', 1000) AS t FROM (SELECT unnest(range(5000)))",
                 limit=5000)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "query_result_too_large" and "1 MiB" in answer.json()["detail"]
    streamed = hub.client.post("/api/v1/query", json={
        "sql": "SELECT repeat('x', 1000) AS t FROM (SELECT unnest(range(5000)))",
        "limit": 5000, "format": "csv"})
    assert streamed.status_code == 200 and streamed.text.count("\n") == 5001
    assert ask(hub, "SELECT 7 AS seven").json()["rows"] == [[7]]


def test_parsing_is_inside_the_time_limit_and_outside_the_hub(make_hub: Callable[..., Hub]
                                                             ) -> None:
    hub = make_hub(query_max_chars=1_000_000)
    sql = " UNION ALL ".join(f"SELECT {i} AS n" for i in range(10_000))  # seconds to parse
    assert ask(hub, "SELECT 1").status_code == 200   # a worker has started
    before = cpu_seconds()
    answer = ask(hub, sql, timeout_ms=500)
    assert answer.status_code == 408, answer.text
    assert answer.json()["code"] == "query_timeout"
    assert cpu_seconds() - before < 1.0   # the parsing was the worker's, stopped with it
    assert ask(hub, "SELECT 4 AS four").json()["rows"] == [[4]]


def test_sql_longer_than_the_limit_is_refused(small: Hub) -> None:
    sql = "SELECT 1 AS n -- " + "x" * 100_000
    answer = ask(small, sql)
    assert answer.status_code == 413, answer.text
    body = answer.json()
    assert body["code"] == "query_too_long" and body["field"] == "sql"
    assert "100000" in body["detail"]
    saved = small.client.post("/api/v1/queries", headers=small.bearer(small.make_user()),
                              json={"name": "긴 쿼리", "sql": sql})
    assert saved.status_code in (413, 422), saved.text


@pytest.mark.parametrize(("sql", "col", "what"), [
    ("SELECT '", 8, "unterminated string"),
    ("SELECT 1 /*", 10, "unterminated comment"),
])
def test_unterminated_strings_and_comments_are_syntax_errors(small: Hub, sql: str, col: int,
                                                             what: str) -> None:
    answer = ask(small, sql)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "syntax_error" and body["field"] == "sql"
    assert f"line 1, column {col}: {what}" in body["detail"]
    auth = small.bearer(small.make_user())
    saved = small.client.post("/api/v1/queries", headers=auth, json={"name": "x", "sql": sql})
    assert saved.status_code == 422 and saved.json()["code"] == "syntax_error"


def test_deeply_nested_subqueries_are_answered_or_refused_by_name(small: Hub) -> None:
    nested = "SELECT * FROM " + "(SELECT * FROM " * 500 + "(SELECT 1 AS n)" + " x)" * 500
    assert ask(small, nested).json()["rows"] == [[1]]
    scalar = "SELECT " + "(SELECT " * 500 + "1" + ")" * 500 + " AS n"
    for sql, code in ((scalar, "query_error"), ("SELECT " + "(" * 5000 + "1" + ")" * 5000,
                                                "query_too_deep")):
        answer = ask(small, sql)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == code and "depth" in answer.json()["detail"]
    assert ask(small, "SELECT 5 AS five").json()["rows"] == [[5]]


def test_string_literals_keep_their_text(small: Hub) -> None:
    answer = ask(small, "SELECT 'hong.gildong@123.kr' AS email, 'a.b@1' AS other")
    assert answer.json()["rows"] == [["hong.gildong@123.kr", "a.b@1"]]


def test_every_output_runs_in_a_worker_and_reads_versions(small: Hub, kr: Path) -> None:
    hub = small
    lake = Lake(hub)
    lake.create("libraries")
    lake.ingest_ok("libraries", LIBRARY)
    lake.ingest_ok("libraries", LIBRARY)
    sql = ("SELECT (SELECT count(*) FROM molit.libraries@1) AS v1, "
           "(SELECT count(*) FROM molit.libraries) AS now, 'molit.libraries@2' AS text")
    json_answer = hub.client.post("/api/v1/query", headers=lake.auth, json={"sql": sql})
    assert json_answer.json()["rows"] == [[3517, 7034, "molit.libraries@2"]]
    for fmt, expected in (("csv", '3517,7034,"molit.libraries@2"'),
                          ("ndjson", '"v1": 3517')):
        answer = hub.client.post("/api/v1/query", headers=lake.auth,
                                 json={"sql": sql, "format": fmt})
        assert answer.status_code == 200 and expected in answer.text
    bomb = hub.client.post("/api/v1/query", headers=lake.auth,
                           json={"sql": BOMBS[0], "format": "parquet"})
    assert bomb.status_code == 422 and bomb.json()["code"] == "query_memory"
    ckan = hub.client.post("/api/3/action/datastore_search_sql", json={
        "sql": 'SELECT count(*) AS n, \'"molit__libraries"\' AS t FROM "molit__libraries"'})
    assert ckan.json()["result"]["records"] == [{"n": 7034, "t": '"molit__libraries"'}]


def test_a_derived_dataset_is_built_in_a_worker(make_hub: Callable[..., Hub], kr: Path
                                                ) -> None:
    hub = make_hub(job_memory_mb=64)
    lake = Lake(hub)
    lake.create("ev")
    lake.ingest_ok("ev", EV)
    made = hub.client.post("/api/v1/orgs/molit/derived", headers=lake.auth, json={
        "slug": "ev-by-agency", "title_ko": "기관별 충전기",
        "sql": "SELECT 제공기관명, count(*) AS n FROM molit.ev GROUP BY 1"})
    assert made.status_code == 202, made.text
    job = lake.wait(made.json()["job"]["id"])
    assert job["state"] == "succeeded", job["error"]
    bomb = hub.client.post("/api/v1/orgs/molit/derived", headers=lake.auth, json={
        "slug": "bomb", "title_ko": "폭탄", "sql": BOMBS[0] + " FROM molit.ev"})
    assert bomb.status_code == 202, bomb.text
    failed = lake.wait(bomb.json()["job"]["id"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "query_memory"
    assert "64 MiB" in failed["error"]["message"]


def _wait_until_gone(pid: int) -> None:
    """The process ends (the kernel takes a moment to free a killed process's memory)."""
    for _ in range(1000):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} is still running")


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime
