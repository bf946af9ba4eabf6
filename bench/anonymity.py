"""k-anonymity benchmark: the safe zone's risk report on real data against a plain pyarrow
group-by computing the same measures in the same run; the numbers must agree exactly.

Data: 전국도서관표준데이터 (3,517 public libraries, ../shared/data/kr/library_std), read as
text, with three quasi-identifier sets of the kinds a re-identifier uses — region names, a
category, a number, a date — and k ∈ {2, 5, 10}. Timings run on the table repeated
`--repeat` times (every class grows by that factor, so the class structure is kept).

ARX (the reference tool for k-anonymity, Java) could not be run: a JVM is on this machine but
ARX's jar is not, and only PyPI is reachable. ARX's published figures are for the UCI "adult"
census extract and its generalisation hierarchies, which are not here to regenerate byte for
byte, so no ARX figure is reproduced. What is reproduced is the measure ARX reports as
"records at risk" under the prosecutor model for k-anonymity — records in equivalence classes
smaller than k — computed independently twice. The generalisation search (ARX's Flash lattice)
is not compared: the report tries one coarsening per column, it does not search a lattice.

    .venv/bin/python bench/anonymity.py [--repeat 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from dpghub.privacy.disclosure.risk import risk_report  # noqa: E402

SOURCE = Path(__file__).resolve().parents[2] / "shared/data/kr/library_std/전국도서관표준데이터.csv"
QUASI = {
    "region": ["시도명", "시군구명", "도서관유형"],
    "region+seats": ["시도명", "도서관유형", "열람좌석수"],
    "provider+date": ["제공기관코드", "도서관유형", "데이터기준일자"],
}
KS = (2, 5, 10)


def load(path: Path) -> pa.Table:
    """The CSV as text columns (CP949 as published), numbers read as numbers by DuckDB."""
    text = path.read_bytes().decode("cp949")
    options = pacsv.ConvertOptions(column_types={"제공기관코드": pa.string()})
    return pacsv.read_csv(io.BytesIO(text.encode("utf-8")), convert_options=options)


def baseline(table: pa.Table, quasi: list[str], k: int) -> dict[str, float]:
    """The same measures with pyarrow alone: class sizes from a group-by, then counted."""
    sizes = table.group_by(quasi, use_threads=False).aggregate([([], "count_all")])
    sizes = sizes.column("count_all")
    small = pc.less(sizes, k)
    records = pc.sum(sizes).as_py() or 0
    at_risk = pc.sum(pc.filter(sizes, small)).as_py() or 0
    return {"records": records, "classes": len(sizes),
            "smallest_class": pc.min(sizes).as_py() or 0,
            "classes_under_k": pc.sum(small.cast(pa.int64())).as_py() or 0,
            "records_at_risk": at_risk, "share_at_risk": at_risk / records if records else 0.0}


def ours(con: duckdb.DuckDBPyConnection, quasi: list[str], k: int) -> dict[str, float]:
    report = risk_report(con, "libraries", quasi, k=k).as_dict()
    return {key: report[key] for key in ("records", "classes", "smallest_class",
                                         "classes_under_k", "records_at_risk",
                                         "share_at_risk")}


def timed(rounds: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"missing {SOURCE}")
    table = load(SOURCE)
    con = duckdb.connect()
    con.register("libraries", table)
    print(f"rows: {table.num_rows:,}")
    disagreements = 0
    for label, quasi in QUASI.items():
        for k in KS:
            got, want = ours(con, quasi, k), baseline(table, quasi, k)
            same = got == want
            disagreements += not same
            print(f"{label:14} k={k:2}: classes {got['classes']:5}, smallest "
                  f"{got['smallest_class']:3}, under k {got['classes_under_k']:5}, at risk "
                  f"{got['records_at_risk']:5} ({got['share_at_risk']:6.1%})  "
                  f"{'same as baseline' if same else f'DIFFERS: baseline {want}'}")
        report = risk_report(con, "libraries", quasi, k=5)
        best = report.suggestions[0]
        print(f"{'':14} best single change at k=5: {best.column} → {best.change} "
              f"({report.records_at_risk} → {best.records_at_risk} at risk)")
    big = pa.concat_tables([table] * args.repeat)
    con.register("libraries", big)
    print(f"timing on {big.num_rows:,} rows (×{args.repeat}), median of {args.rounds}:")
    for label, quasi in QUASI.items():
        report_time = timed(args.rounds, lambda q=quasi: risk_report(con, "libraries", q, k=5))
        plain = timed(args.rounds, lambda q=quasi: baseline(big, q, 5))
        group_bys = 1 + len(risk_report(con, "libraries", quasi, k=5).suggestions)
        print(f"{label:14}: pyarrow baseline (1 group-by) {plain * 1000:7.1f} ms; risk report "
              f"({group_bys} group-bys) {report_time * 1000:7.1f} ms = "
              f"{report_time / plain:5.2f}× the baseline, "
              f"{report_time / group_bys / plain:5.2f}× per group-by")
    sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
