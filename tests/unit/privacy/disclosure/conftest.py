"""A hospital of 200 patients over five districts, one of them (Z) with three people."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from dpghub.privacy.disclosure.plan import ZoneQuery, plan_query
from dpghub.privacy.disclosure.suppress import Suppressed, align_counts, suppress

PATIENTS = """
CREATE SCHEMA hospital;
CREATE TABLE hospital.patients AS
SELECT 'P' || i AS id,
       CASE WHEN i < 3 THEN 'Z' ELSE ['A', 'B', 'C', 'D'][i % 4 + 1] END AS district,
       CASE WHEN i % 3 = 0 THEN 'F' ELSE 'M' END AS sex,
       20 + i % 50 AS age,
       1000 + (i * 37) % 100 * 10 AS income
FROM range(200) t(i);
CREATE SCHEMA geo;
CREATE TABLE geo.regions AS
SELECT * FROM (VALUES ('A', 'North'), ('B', 'North'), ('C', 'South'), ('D', 'South'),
                      ('Z', 'Island')) v(district, province);
"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(PATIENTS)
    yield connection
    connection.close()


def answer(con: duckdb.DuckDBPyConnection, sql: str, k: int = 5) -> tuple[ZoneQuery, Suppressed]:
    """The whole safe-zone path as the service runs it: plan, cells, base, suppress."""
    plan = plan_query(sql, k=k)
    cells = con.sql(plan.cells_sql).to_arrow_table()
    n0 = None
    if plan.base_sql:
        n0 = align_counts(cells, con.sql(plan.base_sql).to_arrow_table(), plan)
    return plan, suppress(cells, plan, k=k, n0=n0)


def shown(result: Suppressed, column: str) -> dict[Any, Any]:
    key = result.columns[0]
    return {row[key]: row[column] for row in result.rows}
