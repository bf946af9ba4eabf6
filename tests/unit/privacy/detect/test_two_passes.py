"""The survey rules out only what could not be reported, checking per distinct value counts as
checking per row, and wide tables of every type are scanned."""

from __future__ import annotations

import importlib
import random
from dataclasses import replace
from datetime import date, datetime

import duckdb
import pyarrow as pa
import pytest
from faker import Faker

from dpghub.privacy.detect import Finding, scan
from dpghub.privacy.detect import synthetic as syn

scan_module = importlib.import_module("dpghub.privacy.detect.scan")

ROWS = 400


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20240602)


def _table(columns: dict[str, list]) -> tuple[duckdb.DuckDBPyConnection, list[dict]]:
    """A connection with view `t` over `columns`; each column's scan type from its values."""
    con = duckdb.connect()
    con.register("t", pa.table(columns))
    kinds = {"VARCHAR": "text", "BIGINT": "integer", "DOUBLE": "decimal", "DATE": "date",
             "BOOLEAN": "boolean", "TIMESTAMP": "timestamp"}
    described = con.execute("DESCRIBE t").fetchall()
    return con, [{"name": name, "type": kinds[str(kind).split("(")[0]]}
                 for name, kind, *_ in described]


def _mixed(rng: random.Random, rows: int = ROWS) -> dict[str, list]:
    fake = Faker("ko_KR")
    fake.seed_instance(3)
    half = rows // 2
    return {
        "주민번호": [syn.registration(rng, syn.birth(rng)) for _ in range(rows)],
        "연락처": [syn.mobile(rng) for _ in range(rows)],
        "비고": [f"{syn.mobile(rng, 0)}로 연락" for _ in range(half)]
                + [f"메일 {fake.free_email()}" for _ in range(rows - half)],
        "성명": [fake.name() for _ in range(rows)],
        "바코드": [f"880{rng.randrange(10**10):010d}" for _ in range(rows)],
        "주문번호": [f"2024{rng.randrange(10**12):012d}" for _ in range(rows)],
        "등급": [rng.choice(("A", "B", "C")) for _ in range(rows)],
        "조회수": [rng.randrange(10**9, 10**11) for _ in range(rows)],
        "여권": [syn.passport(rng) if i % 3 else None for i in range(rows)],
    }


def test_the_survey_rules_out_only_what_could_not_be_reported(
        rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
    con, columns = _table(_mixed(rng))
    surveyed = scan(con, "t", columns)
    monkeypatch.setattr(scan_module, "worth_checking", lambda *args: True)
    assert scan(con, "t", columns) == surveyed
    assert {(f.column, f.kind) for f in surveyed} == {
        ("주민번호", "rrn"), ("연락처", "mobile"), ("비고", "mobile"), ("비고", "email"),
        ("성명", "person_name"), ("여권", "passport")}


def test_per_distinct_value_counts_as_per_row(rng: random.Random,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    values = _mixed(rng, rows=120)
    repeated = {name: column * 5 for name, column in values.items()}   # 600 rows, 20 % distinct
    con, columns = _table(repeated)
    per_row = scan(con, "t", columns)
    monkeypatch.setattr(scan_module, "DISTINCT_ROWS", 100)
    per_value = scan(con, "t", columns)
    assert [replace(f, example=None) for f in per_value] == [   # any example may be shown
        replace(f, example=None) for f in per_row]
    assert all(f.example for f in per_value)
    assert {f.matched for f in per_row if f.column == "연락처"} == {600}
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)


def _one_kind_in(share: float, values: list[str], rng: random.Random) -> list[str]:
    return [rng.choice(values) if i < len(values) * share else "해당 없음"
            for i in range(len(values))]


@pytest.mark.parametrize("share", [0.03, 0.9])
def test_a_weak_kind_in_three_percent_of_rows_is_not_reported_and_in_ninety_is(
        share: float, rng: random.Random) -> None:
    fake = Faker("ko_KR")
    fake.seed_instance(5)
    passports = [syn.passport(rng) for _ in range(1000)]
    names = [fake.name() for _ in range(1000)]
    con, columns = _table({"col_a": _one_kind_in(share, passports, rng),
                           "col_b": _one_kind_in(share, names, rng)})
    found = {(f.column, f.kind) for f in scan(con, "t", columns)}
    expected = {("col_a", "passport"), ("col_b", "person_name")} if share > 0.5 else set()
    assert found == expected


def test_a_strong_kind_in_three_percent_of_rows_is_reported(rng: random.Random) -> None:
    """Free text holding an RRN in a few rows still holds personal data (score.py)."""
    rrns = [syn.registration(rng, syn.birth(rng)) for _ in range(1000)]
    con, columns = _table({"memo": _one_kind_in(0.03, rrns, rng)})
    [finding] = scan(con, "t", columns)
    assert (finding.kind, finding.matched, finding.total) == ("rrn", 30, 1000)


def _wide_column(number: int, rng: random.Random, rows: int) -> list:
    kind = number % 6
    if kind == 0:
        return [f"항목{rng.randrange(1000)}" for _ in range(rows)]
    if kind == 1:
        return [rng.randrange(10**6) for _ in range(rows)]
    if kind == 2:
        return [rng.random() * 1000 for _ in range(rows)]
    if kind == 3:
        return [date(2020, 1, 1 + rng.randrange(28)) for _ in range(rows)]
    if kind == 4:
        return [rng.random() > 0.5 for _ in range(rows)]
    return [datetime(2024, 5, 1, rng.randrange(24)) for _ in range(rows)]


def test_a_thousand_columns_of_every_type(rng: random.Random) -> None:
    rows = 100
    columns = {f"col{number:04d}": _wide_column(number, rng, rows) for number in range(996)}
    columns["고객 연락처"] = [syn.mobile(rng) for _ in range(rows)]
    columns["생년월일"] = [syn.birth(rng) for _ in range(rows)]
    columns["jumin"] = [int(syn.registration(rng, syn.birth(rng), hyphen=False))
                        for _ in range(rows)]
    columns["메모"] = [f"{syn.card(rng)} 결제" if i % 2 else "현금" for i in range(rows)]
    con, described = _table(columns)
    assert len(described) == 1000
    found: list[Finding] = scan(con, "t", described)
    assert [(f.column, f.kind) for f in found] == [
        ("고객 연락처", "mobile"), ("생년월일", "birth_date"), ("jumin", "rrn"), ("메모", "card")]
