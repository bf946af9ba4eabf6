"""Personal-data detection benchmark: the hub's scan against Presidio's pattern recognizers.

Builds a Korean table (Faker ko_KR names, e-mails and IPs; identifiers from
dpghub.privacy.detect.synthetic, which pass the real check digits): one column per kind,
a free-text column with phone numbers, e-mails and RRNs inside sentences (particles glued
on), and look-alike columns that hold no personal data (product codes, model numbers,
13-digit 880… barcodes, phone-length counters, order numbers, 법정동코드, dates).
Written as a UTF-8 CSV; the truth of every cell is known from the generation.

Measures, in one run:
1. the hub's `scan` over DuckDB's `read_csv` of the file (and over a Parquet copy): per kind,
   precision and recall at VALUE level (a cell counts as found for kind K when its column is
   reported for K and the cell matches K) and at COLUMN level; rows/s;
2. Presidio's pattern recognizers (no spaCy model) over a sample, in a throw-away venv under
   /tmp (`--presidio`): the same value-level figures for the kinds it has, rows/s;
3. ingestion overhead: DuckDB's CSV→Parquet copy and the hub's ingestion job against the scan.

Usage: PYTHONPATH=src .venv/bin/python bench/pii.py [--rows 1000000] [--presidio]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from faker import Faker

from dpghub.privacy.detect import KINDS, scan
from dpghub.privacy.detect import synthetic as syn
from dpghub.privacy.detect.scan import tally

POOL = 20_000
NULL_SHARE = 0.02
PRESIDIO_VENV = Path("/tmp/pii-bench-presidio")


def _pools(seed: int) -> dict[str, list[str]]:
    rng, fake = random.Random(seed), Faker("ko_KR")
    fake.seed_instance(seed)

    def births(start_year: int = 1930) -> list:
        return [syn.birth(rng, start=date(start_year, 1, 1)) for _ in range(POOL)]

    rrn = [syn.registration(rng, b, hyphen=rng.random() > 0.1) for b in births()]
    rrn += [syn.registration(rng, syn.birth(rng, start=date(2020, 10, 1))) for _ in range(POOL // 10)]
    return {
        "주민등록번호": rrn,
        "외국인등록번호": [syn.registration(rng, b, foreign=True) for b in births(1950)],
        "휴대전화": [syn.mobile(rng) for _ in range(POOL)],
        "전화번호": [syn.landline(rng) for _ in range(POOL)],
        "이메일": [fake.free_email() if i % 2 else fake.email() for i in range(POOL)],
        "여권번호": [syn.passport(rng) for _ in range(POOL)],
        "운전면허번호": [syn.driver_license(rng) for _ in range(POOL)],
        "사업자등록번호": [syn.brn(rng, hyphen=rng.random() > 0.2) for _ in range(POOL)],
        "법인등록번호": [syn.crn(rng) for _ in range(POOL)],
        "카드번호": [syn.card(rng, separator=rng.choice(("-", " ", ""))) for _ in range(POOL)],
        "계좌번호": [syn.account(rng) for _ in range(POOL)],
        "접속IP": [fake.ipv4() if i % 4 else fake.ipv6() for i in range(POOL)],
        "성명": [fake.name() for _ in range(POOL)],
        "주소": [syn.address(rng) for _ in range(POOL)],
        "생년월일": [b.strftime(rng.choice(("%Y-%m-%d", "%Y%m%d", "%Y.%m.%d"))) for b in births()],
        # look-alikes: no personal data
        "상품코드": [f"PRD-{rng.randrange(2015, 2025)}-{rng.randrange(10**6):06d}" for _ in range(POOL)],
        "모델번호": [f"{rng.choice('MSROD')}{rng.randrange(10**8):08d}" for _ in range(POOL)],
        "바코드": [f"880{rng.randrange(10**10):010d}" for _ in range(POOL)],
        "주문번호": [f"{syn.birth(rng, start=date(2019, 1, 1)).strftime('%Y%m%d')}-"
                 f"{rng.randrange(10**6):06d}" if i % 2 else f"2024{rng.randrange(10**12):012d}"
                 for i in range(POOL)],
        "법정동코드": [f"{rng.choice((11, 26, 41, 50))}{rng.randrange(100, 999)}"
                  f"{rng.randrange(101, 140)}{rng.choice(('00', '21', '25'))}" for _ in range(POOL)],
        "접수일": [syn.birth(rng, start=date(2015, 1, 1)).isoformat() for _ in range(POOL)],
    }


TRUTH = {"주민등록번호": "rrn", "외국인등록번호": "frn", "휴대전화": "mobile", "전화번호": "landline",
         "이메일": "email", "여권번호": "passport", "운전면허번호": "driver_license",
         "사업자등록번호": "brn", "법인등록번호": "crn", "카드번호": "card", "계좌번호": "account",
         "접속IP": "ip", "성명": "person_name", "주소": "address", "생년월일": "birth_date"}
MEMO = (("", "배송 전에 문 앞에 놓아 주세요"), ("", "주문번호 {order} 교환 요청"),
        ("mobile", "연락처는 {mobile}입니다"), ("mobile", "{mobile}로 문자 주세요"),
        ("email", "메일 {email}으로 보내 주세요"), ("rrn", "본인 확인 {rrn}을 확인함"),
        ("", "상품 {product} 재고 문의"), ("mobile", "야간엔 {mobile}, 주간엔 사무실"))


def build(path: Path, rows: int, seed: int) -> tuple[np.ndarray, int]:
    """Write the CSV; return the memo column's truth per row."""
    pools = _pools(seed)
    gen = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for name, pool in pools.items():
        picks = np.asarray(pool, dtype=object)[gen.integers(0, len(pool), rows)]
        picks[gen.random(rows) < NULL_SHARE] = None
        columns[name] = pa.array(picks, type=pa.string())
    columns["조회수"] = pa.array(gen.integers(1_000_000_000, 99_999_999_999, rows))
    template = gen.integers(0, len(MEMO), rows)
    fill = {key: np.asarray(pools[col], dtype=object)[gen.integers(0, POOL, rows)]
            for key, col in (("mobile", "휴대전화"), ("email", "이메일"), ("rrn", "주민등록번호"),
                             ("order", "주문번호"), ("product", "상품코드"))}
    memo = [MEMO[t][1].format(**{k: fill[k][i] for k in fill}) for i, t in enumerate(template)]
    columns["메모"] = pa.array(memo)
    pacsv.write_csv(pa.table(columns), path)
    return np.asarray([MEMO[t][0] for t in template]), rows


TYPES = {"VARCHAR": "text", "BIGINT": "integer", "INTEGER": "integer", "DOUBLE": "decimal",
         "DATE": "date", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[dict]:
    described = con.execute(f"DESCRIBE {relation}").fetchall()
    return [{"name": name, "type": TYPES.get(str(kind).split("(")[0], "text")}
            for name, kind, *_ in described]


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def hub(csv: Path, memo_truth: np.ndarray) -> dict:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW data AS SELECT * FROM read_csv('{csv}')")
    columns = _columns(con, "data")
    started = time.perf_counter()
    findings = scan(con, "data", columns)
    csv_seconds = time.perf_counter() - started
    parquet = csv.with_suffix(".parquet")
    con.execute(f"COPY (SELECT * FROM data) TO '{parquet}' (FORMAT parquet)")
    con.execute(f"CREATE VIEW pq AS SELECT * FROM read_parquet('{parquet}')")
    started = time.perf_counter()
    scan(con, "pq", columns)
    parquet_seconds = time.perf_counter() - started
    reported = {(f.column, f.kind) for f in findings}
    counts = tally(con, "pq", columns)
    # the memo column's truth differs per row: count its matches per truth label
    con.execute("CREATE TABLE memo_truth AS SELECT * FROM (SELECT unnest($1) AS truth)",
                [memo_truth.tolist()])
    con.execute("CREATE VIEW memo AS SELECT \"메모\", truth FROM pq POSITIONAL JOIN memo_truth")
    memo_counts, memo_totals = {}, {}
    for label in sorted(set(memo_truth.tolist())):
        con.execute(f"CREATE OR REPLACE VIEW memo_part AS SELECT \"메모\" FROM memo "
                    f"WHERE truth = '{label}'")
        memo_counts[label] = tally(con, "memo_part", [{"name": "메모", "type": "text"}])
        [(memo_totals[label],)] = con.execute(
            "SELECT count(NULLIF(trim(\"메모\"), '')) FROM memo_part").fetchall()
    totals = dict(zip(TRUTH, con.execute(
        "SELECT " + ", ".join(f'count("{name}")' for name in TRUTH) + " FROM pq").fetchone(),
        strict=True))
    value = {}
    for kind in KINDS:
        tp = fp = fn = 0
        for name, truth_kind in TRUTH.items():
            got = counts.get((name, kind), {"matched": 0})["matched"]
            on = (name, kind) in reported
            total = totals[name]
            if truth_kind == kind:
                tp += got if on else 0
                fn += total - (got if on else 0)
            elif on:
                fp += got
        for name in ("상품코드", "모델번호", "바코드", "주문번호", "법정동코드", "접수일", "조회수"):
            if (name, kind) in reported:
                fp += counts[(name, kind)]["matched"]
        on = ("메모", kind) in reported
        for label, part in memo_counts.items():
            got = part.get(("메모", kind), {"matched": 0})   # absent: ruled out by the survey
            total = memo_totals[label]
            if label == kind:
                tp += got["matched"] if on else 0
                fn += total - (got["matched"] if on else 0)
            elif on:
                fp += got["matched"]
        value[kind] = (_ratio(tp, tp + fp), _ratio(tp, tp + fn))
    truth_columns = {(name, kind) for name, kind in TRUTH.items()}
    truth_columns |= {("메모", label) for label in memo_counts if label}
    column = {}
    for kind in KINDS:
        want = {c for c in truth_columns if c[1] == kind}
        got = {c for c in reported if c[1] == kind}
        column[kind] = (_ratio(len(want & got), len(got)), _ratio(len(want & got), len(want)))
    wrong = sorted(reported - truth_columns)
    missed = sorted(truth_columns - reported)
    return {"csv_seconds": csv_seconds, "parquet_seconds": parquet_seconds, "value": value,
            "column": column, "wrong": wrong, "missed": missed, "columns": len(columns)}


PRESIDIO = r"""
import csv, json, sys, time
from presidio_analyzer.predefined_recognizers import (EmailRecognizer, IpRecognizer,
    CreditCardRecognizer, PhoneRecognizer)
import presidio_analyzer.predefined_recognizers as pr
recognizers = [EmailRecognizer(), IpRecognizer(), CreditCardRecognizer(),
               PhoneRecognizer(supported_regions=("KR",))]
extra = [name for name in dir(pr) if name.startswith("Kr")]
for name in extra:
    try:
        recognizers.append(getattr(pr, name)())
    except Exception:
        pass
path, columns = sys.argv[1], json.loads(sys.argv[2])
rows = list(csv.DictReader(open(path, encoding="utf-8")))
counts = {}
started = time.perf_counter()
for row in rows:
    for name in columns:
        text = row[name]
        if not text:
            continue
        found = set()
        for recognizer in recognizers:
            for result in recognizer.analyze(text, recognizer.supported_entities, None):
                found.add(result.entity_type)
        key = name + ("|" + row["__truth"] if name == "메모" else "")
        for entity in found:
            counts[key + "#" + entity] = counts.get(key + "#" + entity, 0) + 1
        counts[key + "#__total"] = counts.get(key + "#__total", 0) + 1
print(json.dumps({"seconds": time.perf_counter() - started, "rows": len(rows), "counts": counts,
                  "recognizers": [type(r).__name__ for r in recognizers]}))
"""
PRESIDIO_KINDS = {"EMAIL_ADDRESS": "email", "IP_ADDRESS": "ip", "CREDIT_CARD": "card",
                  "PHONE_NUMBER": "phone", "KR_RRN": "rrn", "KR_FRN": "frn",
                  "KR_PASSPORT": "passport", "KR_DRIVER_LICENSE": "driver_license",
                  "KR_BRN": "brn"}


def presidio(csv: Path, memo_truth: np.ndarray, sample: int) -> dict:
    python = PRESIDIO_VENV / "bin/python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PRESIDIO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "presidio-analyzer"], check=True)
    version = subprocess.run([str(python), "-c", "import importlib.metadata as m;"
                              "print(m.version('presidio-analyzer'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    con = duckdb.connect()
    part = csv.with_name("presidio_sample.csv")
    con.execute("CREATE TABLE t AS SELECT unnest($1) AS __truth", [memo_truth[:sample].tolist()])
    con.execute(f"COPY (SELECT * FROM (SELECT * FROM read_csv('{csv}', all_varchar=true) "
                f"LIMIT {sample}) POSITIONAL JOIN t) TO '{part}' (HEADER)")
    names = [*TRUTH, "상품코드", "모델번호", "바코드", "주문번호", "법정동코드", "접수일", "조회수", "메모"]
    child = subprocess.run([str(python), "-c", PRESIDIO, str(part), json.dumps(names)],
                           capture_output=True, text=True)
    if child.returncode != 0:
        sys.exit(child.stderr[-3000:])
    answer = json.loads(child.stdout.strip().splitlines()[-1])
    counts = answer["counts"]
    value = {}
    for entity, kind in PRESIDIO_KINDS.items():
        truth = {"phone": ("mobile", "landline")}.get(kind, (kind,))
        tp = fp = fn = 0
        for key, n in counts.items():
            cell, _, found = key.rpartition("#")
            if found == "__total":
                name, _, label = cell.partition("|")
                is_kind = (TRUTH.get(name) in truth) or (label in truth)
                hit = counts.get(f"{cell}#{entity}", 0)
                fn += (n - hit) if is_kind else 0
            elif found == entity:
                name, _, label = cell.partition("|")
                is_kind = (TRUTH.get(name) in truth) or (label in truth)
                tp, fp = (tp + n, fp) if is_kind else (tp, fp + n)
        if tp + fp + fn:
            value[kind] = (_ratio(tp, tp + fp), _ratio(tp, tp + fn))
    return {"version": version, "seconds": answer["seconds"], "rows": answer["rows"],
            "value": value, "recognizers": answer["recognizers"]}


HUB_INGEST = r"""
import json, sys, time
from pathlib import Path
from dpghub.config import Settings
from dpghub.core.db import make_engine, make_session_factory, migrate, transaction
from dpghub.core import jobs
from dpghub.identity import service as ids, schemas as isch
from dpghub.identity.policy import CLI
from dpghub.job_kinds import register_jobs
from dpghub.lake import schemas as lsch, service as ls
from dpghub.lake.storage import LakeStorage
home, csv = Path(sys.argv[1]), Path(sys.argv[2])
settings = Settings(home=home).prepare()
engine = make_engine(settings.database_url); migrate(engine)
factory = make_session_factory(engine)
storage = LakeStorage.from_settings(settings)
with transaction(factory) as s:
    org = ids.create_org(s, actor=CLI, data=isch.OrganizationCreate(
        slug="bench", name_ko="벤치", name_en="Bench", kind="research"))
    ds = ls.create_dataset(s, actor=CLI, org=org, data=lsch.DatasetCreate(slug="pii", title_ko="pii"))
    with csv.open("rb") as handle:
        f = ls.store_upload(s, actor=CLI, storage=storage, dataset=ds, name=csv.name,
                            stream=handle, max_bytes=1 << 40)
    job_id = ls.request_ingest(s, actor=CLI, dataset=ds, files=[f],
                               options=lsch.IngestOptions()).id
register_jobs()
started = time.perf_counter()
jobs.JobRunner(factory, extras={"settings": settings, "storage": storage}).run_one()
elapsed = time.perf_counter() - started
with factory() as s:
    job = s.get(jobs.Job, job_id)
    print(json.dumps({"seconds": elapsed, "state": job.state, "error": job.error}))
"""


def ingestion(csv: Path, work: Path) -> dict:
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{work / 'base.parquet'}' "
                "(FORMAT parquet)")
    baseline = time.perf_counter() - started
    child = subprocess.run([sys.executable, "-c", HUB_INGEST, str(work / "home"), str(csv)],
                           capture_output=True, text=True)
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    job = json.loads(lines[-1]) if lines else {"state": "crashed", "error": child.stderr[-500:]}
    return {"baseline": baseline, "hub": job}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--presidio", action="store_true",
                        help="also run Presidio's pattern recognizers (venv under /tmp)")
    parser.add_argument("--presidio-rows", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        csv = work / "pii.csv"
        started = time.perf_counter()
        memo_truth, rows = build(csv, args.rows, args.seed)
        print(f"built {rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB in "
              f"{time.perf_counter() - started:.1f} s")
        ours = hub(csv, memo_truth)
        theirs = presidio(csv, memo_truth, args.presidio_rows) if args.presidio else None
        ingest = ingestion(csv, work)

    print(f"\n{'kind':15} {'value P':>8} {'value R':>8} {'column P':>9} {'column R':>9}"
          + ("   presidio P  presidio R" if theirs else ""))
    for kind in KINDS:
        (vp, vr), (cp, cr) = ours["value"][kind], ours["column"][kind]
        line = f"{kind:15} {vp:8.4f} {vr:8.4f} {cp:9.2f} {cr:9.2f}"
        if theirs:
            key = "phone" if kind in ("mobile", "landline") else kind
            pair = theirs["value"].get(key)
            line += f"   {pair[0]:10.4f}  {pair[1]:10.4f}" if pair else "          -           -"
        print(line)
    if theirs:
        print("(presidio: PHONE_NUMBER is scored against mobile and landline together)")
    print(f"\nreported where no such data: {ours['wrong'] or 'none'}")
    print(f"missed columns: {ours['missed'] or 'none'}")
    print(f"\nhub scan, {ours['columns']} columns over read_csv: {ours['csv_seconds']:.2f} s "
          f"({rows / ours['csv_seconds']:,.0f} rows/s); over Parquet: "
          f"{ours['parquet_seconds']:.2f} s ({rows / ours['parquet_seconds']:,.0f} rows/s)")
    if theirs:
        rate = theirs["rows"] / theirs["seconds"]
        print(f"presidio-analyzer {theirs['version']} ({', '.join(theirs['recognizers'])}) over "
              f"{theirs['rows']:,} rows: {theirs['seconds']:.2f} s ({rate:,.0f} rows/s); "
              f"hub/presidio throughput: {rows / ours['parquet_seconds'] / rate:,.0f}x")
    print(f"duckdb read_csv -> parquet: {ingest['baseline']:.2f} s; scan/copy: "
          f"{ours['parquet_seconds'] / ingest['baseline']:.0%} (Parquet), "
          f"{ours['csv_seconds'] / ingest['baseline']:.0%} (CSV)")
    job = ingest["hub"]
    if job["state"] == "succeeded":
        print(f"hub ingestion job: {job['seconds']:.2f} s; scan/ingestion: "
              f"{ours['parquet_seconds'] / job['seconds']:.0%} (goal <= 25%)")
    else:
        print(f"hub ingestion job did not succeed: {job['state']} {job['error']}")


if __name__ == "__main__":
    main()
