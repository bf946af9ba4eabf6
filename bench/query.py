"""Query benchmark: SQL through `POST /api/v1/query` against the same SQL in DuckDB directly.

On ≥ 1,000,000 rows (the real EV-charger dataset, repeated) in a hub on loopback: a grouped
aggregation and a join, each through the API (guard, permissions, sandbox, JSON over HTTP)
and directly in DuckDB over the same version's Parquet files; and the round trip of a
one-row query. Goals (the performance issue): ≤ 1.1× a warm DuckDB for the large queries,
≤ 10 ms one-row p50.
    .venv/bin/python bench/query.py [--rows 1000000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import SOURCE  # noqa: E402
from served import hub_with_ev  # noqa: E402

QUERIES = {
    "grouped aggregation": """SELECT 제공기관명, 충전소명, count(*) AS n, avg(위도) AS lat,
        avg(경도) AS lon, sum(급속충전기대수) AS fast FROM {ev} GROUP BY ALL
        ORDER BY n DESC, 제공기관명, 충전소명 LIMIT 100""",
    "join": """SELECT a.제공기관명, count(*) AS n, sum(b.c) AS pairs
        FROM {ev} a JOIN (SELECT 충전소명, 소재지지번주소, count(*) AS c FROM {ev}
                          GROUP BY 1, 2) b USING (충전소명, 소재지지번주소)
        GROUP BY 1 ORDER BY n DESC, 1 LIMIT 100""",
}


def interleaved(rounds: int, **actions) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Each action once per round, in turn, so that every one meets the same moments of a
    shared, noisy machine; the times of each (seconds)."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"missing {SOURCE}")
    with hub_with_ev(args.rows) as hub:
        client = httpx.Client(base_url=hub.base, timeout=120)
        files = hub.files
        con = duckdb.connect()
        con.execute(f"CREATE VIEW ev AS SELECT * FROM read_parquet({files})")
        print(f"rows: {hub.rows:,}")
        for label, template in QUERIES.items():
            def direct(t: str = template) -> None:
                con.execute(t.format(ev="ev")).fetchall()

            def through_api(t: str = template) -> None:
                answer = client.post("/api/v1/query", json={"sql": t.format(ev="me.ev")})
                answer.raise_for_status()

            def fresh(t: str = template) -> None:  # a new database, as the sandbox uses
                own = duckdb.connect()
                own.execute(f"CREATE VIEW ev AS SELECT * FROM read_parquet({files})")
                own.execute(t.format(ev="ev")).fetchall()
                own.close()

            for action in (direct, through_api, fresh):   # warm up each path once
                action()
            times = interleaved(args.rounds, direct=direct, api=through_api, fresh=fresh)
            warm, api, cold = (statistics.median(times[k]) for k in ("direct", "api", "fresh"))
            print(f"{label:20}: medians of {args.rounds} interleaved rounds: DuckDB warm "
                  f"{warm * 1000:6.1f} ms, fresh {cold * 1000:6.1f} ms, API {api * 1000:6.1f} "
                  f"ms; ratio to warm {api / warm:.2f}, to fresh {api / cold:.2f}  (goal <= 1.1)")
        one = []
        for _ in range(50):
            started = time.perf_counter()
            client.post("/api/v1/query",
                        json={"sql": "SELECT 충전소명 FROM me.ev LIMIT 1"}).raise_for_status()
            one.append(time.perf_counter() - started)
        print(f"one-row round trip: p50 {statistics.median(one) * 1000:.1f} ms, "
              f"p95 {sorted(one)[int(len(one) * 0.95)] * 1000:.1f} ms  (goal p50 <= 10 ms)")


if __name__ == "__main__":
    main()
