"""Builders for the pseudonymisation tests: a table from rows in the hub's types, a plan run
over it, and the real 법정동코드 reference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from dpghub.analysis import regions
from dpghub.privacy.pseudo import Result, pseudonymise, validate_plan
from tests.conftest import SHARED_DATA, unavailable

BJD = SHARED_DATA / "kr" / "bjd_code_molit" / "국토교통부_법정동코드_20240805.csv"
ARROW_TYPES = {"text": pa.string(), "integer": pa.int64(), "decimal": pa.float64(),
               "date": pa.date32(), "timestamp": pa.timestamp("us"), "boolean": pa.bool_()}
KEY = b"a key of thirty-two bytes, fixed"
TODAY = date(2025, 6, 1)

Run = Callable[..., tuple[list[dict[str, Any]], Result]]


@pytest.fixture(scope="session")
def region_index() -> regions.RegionIndex:
    if not BJD.exists():
        unavailable(f"the 법정동코드 file is not at {BJD}")
    return regions.build([BJD])


def make_table(con: duckdb.DuckDBPyConnection, types: dict[str, str],
               rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Table `src` with these columns (hub types) and rows; returns its columns."""
    schema = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in types.items()])
    table = pa.Table.from_pylist(rows, schema=schema)
    con.register("pv_rows", table)
    con.execute("CREATE OR REPLACE TABLE src AS SELECT * FROM pv_rows")
    con.unregister("pv_rows")
    return [{"name": name, "type": kind} for name, kind in types.items()]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def run(con: duckdb.DuckDBPyConnection, region_index: regions.RegionIndex) -> Run:
    """run(types, rows, plan, **overrides) → (output rows, Result); the plan goes through
    validate_plan first, as the service will."""
    def go(types: dict[str, str], rows: list[dict[str, Any]], plan: dict[str, dict[str, Any]],
           **overrides: Any) -> tuple[list[dict[str, Any]], Result]:
        columns = make_table(con, types, rows)
        checked = validate_plan(plan, columns)
        options: dict[str, Any] = {"hmac_key": KEY, "regions": region_index, "today": TODAY}
        options.update(overrides)
        result = pseudonymise(con, "src", columns, checked, **options)
        return result.reader.read_all().to_pylist(), result
    return go
