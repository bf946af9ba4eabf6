"""Rows API benchmark: 1,000,000 rows streamed as CSV and NDJSON over real HTTP.

Ingests ≥ 1,000,000 rows of the real EV-charger dataset (repeated) into a hub on loopback,
then measures rows per second of `GET /api/v1/datasets/{org}/{name}/rows?format=csv|ndjson`
read to the end by a client, against DuckDB writing the same version's rows to a CSV file
in the same run. Goal: ≥ 200,000 rows/s for each format.
    .venv/bin/python bench/rows.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import SOURCE, build  # noqa: E402

DPGHUB = str(Path(sys.executable).parent / "dpghub")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"missing {SOURCE}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "DPGHUB_HOME": str(work / "home")}
        env.pop("DPGHUB_DATABASE_URL", None)
        csv = work / "ev.csv"
        rows = build(csv, args.rows)
        subprocess.run([DPGHUB, "init", "--admin-password", "bench-password-1"], env=env,
                       check=True, capture_output=True)
        subprocess.run([DPGHUB, "org", "create", "me", "--name-ko", "환경부", "--name-en", "ME",
                        "--kind", "public"], env=env, check=True, capture_output=True)
        subprocess.run([DPGHUB, "ingest", str(csv), "--org", "me", "--dataset", "ev"], env=env,
                       check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([DPGHUB, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/api/v1/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            files = sorted(str(p) for p in (work / "home" / "lake" / "tables").rglob("*.parquet"))
            started = time.perf_counter()
            duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet({files})) TO "
                                     f"'{work / 'out.csv'}' (FORMAT csv)")
            base_seconds = time.perf_counter() - started
            print(f"rows: {rows:,}")
            print(f"duckdb COPY to CSV file: {base_seconds:.2f} s ({rows / base_seconds:,.0f} "
                  "rows/s)")
            for fmt in ("csv", "ndjson"):
                started = time.perf_counter()
                size = 0
                with httpx.stream("GET", f"{base}/api/v1/datasets/me/ev/rows",
                                  params={"format": fmt}, timeout=120) as answer:
                    answer.raise_for_status()
                    for chunk in answer.iter_raw(1 << 20):
                        size += len(chunk)
                seconds = time.perf_counter() - started
                print(f"rows API {fmt:6}: {seconds:.2f} s ({rows / seconds:,.0f} rows/s, "
                      f"{size / 1e6:.0f} MB)  ratio to DuckDB's file copy "
                      f"{base_seconds / seconds:.2f}  (goal >= 200,000 rows/s)")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
