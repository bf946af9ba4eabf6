"""Rows API benchmark: 1,000,000 rows streamed as CSV and NDJSON over real HTTP.

Ingests ≥ 1,000,000 rows of the real EV-charger dataset (repeated) into a hub on loopback,
then measures rows per second of `GET /api/v1/datasets/{org}/{name}/rows?format=csv|ndjson`
read to the end by a client, against DuckDB writing the same version's rows to a CSV file
in the same run. Goal: ≥ 200,000 rows/s for each format.
    .venv/bin/python bench/rows.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import SOURCE  # noqa: E402
from served import hub_with_ev  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"missing {SOURCE}")
    with hub_with_ev(args.rows) as hub, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet({hub.files})) TO "
                                 f"'{Path(tmp) / 'out.csv'}' (FORMAT csv)")
        base_seconds = time.perf_counter() - started
        print(f"rows: {hub.rows:,}")
        print(f"duckdb COPY to CSV file: {base_seconds:.2f} s "
              f"({hub.rows / base_seconds:,.0f} rows/s)")
        for fmt in ("csv", "ndjson"):
            started = time.perf_counter()
            size = 0
            with httpx.stream("GET", f"{hub.base}/api/v1/datasets/me/ev/rows",
                              params={"format": fmt}, timeout=120) as answer:
                answer.raise_for_status()
                for chunk in answer.iter_raw(1 << 20):
                    size += len(chunk)
            seconds = time.perf_counter() - started
            print(f"rows API {fmt:6}: {seconds:.2f} s ({hub.rows / seconds:,.0f} rows/s, "
                  f"{size / 1e6:.0f} MB)  ratio to DuckDB's file copy "
                  f"{base_seconds / seconds:.2f}  (goal >= 200,000 rows/s)")


if __name__ == "__main__":
    main()
