"""Rows API benchmark: 1,000,000 rows streamed as CSV and NDJSON over real HTTP, and JSON pages.

Ingests ≥ 1,000,000 rows of the real EV-charger dataset (repeated) into a hub on loopback,
then measures rows per second of `GET /api/v1/datasets/{org}/{name}/rows?format=csv|ndjson`
read to the end by a client, and of JSON pages of 1,000 rows followed by their `next_cursor`
(`--pages` of them), each against DuckDB writing the same version's rows to a file in the same
run: CSV against DuckDB's `COPY … TO … (FORMAT csv)`, NDJSON and JSON pages against its
`COPY … TO … (FORMAT json)` (newline-delimited). Goals (issue 19): CSV ≥ 0.95× DuckDB's CSV
copy, NDJSON and JSON pages ≥ 0.8× DuckDB's NDJSON copy.
    .venv/bin/python bench/rows.py [--rows 1000000] [--pages 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import SOURCE  # noqa: E402
from served import hub_with_ev  # noqa: E402

GOALS = {"csv": 0.95, "ndjson": 0.8, "json": 0.8}


def duckdb_copy(files: list[str], target: Path, fmt: str) -> float:
    """Seconds DuckDB takes to write the version's rows to a file in `fmt`."""
    started = time.perf_counter()
    duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet({files})) TO '{target}' "
                             f"(FORMAT {fmt})")
    return time.perf_counter() - started


def streamed(base: str, fmt: str) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    with httpx.stream("GET", f"{base}/api/v1/datasets/me/ev/rows", params={"format": fmt},
                      timeout=300) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_raw(1 << 20):
            size += len(chunk)
    return time.perf_counter() - started, size


def paged(base: str, pages: int) -> tuple[float, int, float]:
    """JSON pages of 1,000 rows, each asked with the cursor of the one before: seconds, rows,
    and the seconds of that spent by the client parsing the pages' JSON."""
    rows, cursor, parsing = 0, None, 0.0
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(pages):
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            answer = client.get("/api/v1/datasets/me/ev/rows", params=params)
            answer.raise_for_status()
            parse_started = time.perf_counter()
            found = answer.json()
            parsing += time.perf_counter() - parse_started
            rows += len(found["rows"])
            cursor = found["next_cursor"]
            if cursor is None:
                break
    return time.perf_counter() - started, rows, parsing


def round_trip(base: str) -> float:
    """Median seconds of the hub's health check over the same client: the least a page
    can take besides its rows."""
    with httpx.Client(base_url=base, timeout=60) as client:
        times = []
        for _ in range(100):
            started = time.perf_counter()
            client.get("/api/v1/health").raise_for_status()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=100, help="JSON pages of 1,000 rows")
    parser.add_argument("--runs", type=int, default=3, help="runs of each; medians reported")
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"missing {SOURCE}")
    ratios: dict[str, list[float]] = {"csv": [], "ndjson": [], "json": []}
    with hub_with_ev(args.rows) as hub, tempfile.TemporaryDirectory() as tmp:
        print(f"rows: {hub.rows:,}")
        for run in range(1, args.runs + 1):
            base = {fmt: duckdb_copy(hub.files, Path(tmp) / f"out.{fmt}", fmt)
                    for fmt in ("csv", "json")}
            base_rate = {fmt: hub.rows / seconds for fmt, seconds in base.items()}
            print(f"run {run}: DuckDB COPY to a file: CSV {base['csv']:.2f} s "
                  f"({base_rate['csv']:,.0f} rows/s), NDJSON {base['json']:.2f} s "
                  f"({base_rate['json']:,.0f} rows/s)")
            for fmt in ("csv", "ndjson"):
                seconds, size = streamed(hub.base, fmt)
                rate = hub.rows / seconds
                ratio = rate / base_rate["csv" if fmt == "csv" else "json"]
                ratios[fmt].append(ratio)
                print(f"  rows API {fmt:6}: {seconds:.2f} s ({rate:,.0f} rows/s, "
                      f"{size / 1e6:.0f} MB), {ratio:.2f}× DuckDB's own")
            seconds, count, parsing = paged(hub.base, args.pages)
            rate = count / seconds
            ratios["json"].append(rate / base_rate["json"])
            print(f"  rows API json pages of 1,000: {count:,} rows in {seconds:.2f} s "
                  f"({rate:,.0f} rows/s), {ratios['json'][-1]:.2f}× DuckDB's NDJSON copy")
            # what the goal leaves a page: the client's own parse and a bare round trip
            # already take most of it, whatever the hub does
            budget = 1000 / (GOALS["json"] * base_rate["json"])
            pages = max(count // 1000, 1)
            print(f"    a page at the goal may take {budget * 1000:.1f} ms in all; the client's "
                  f"JSON parse took {parsing / pages * 1000:.1f} ms a page and a bare round "
                  f"trip (health) {round_trip(hub.base) * 1000:.1f} ms")
            served = count / (seconds - parsing)
            print(f"    the same pages without the client's parse: {served:,.0f} rows/s, "
                  f"{served / base_rate['json']:.2f}× (for comparison only; the goal counts it)")
    print("medians:")
    for fmt, found in ratios.items():
        middle = statistics.median(found)
        print(f"  {fmt:6} {middle:.2f}× DuckDB's own (goal ≥ {GOALS[fmt]}×)  "
              f"{'met' if middle >= GOALS[fmt] else 'NOT met'}")


if __name__ == "__main__":
    main()
