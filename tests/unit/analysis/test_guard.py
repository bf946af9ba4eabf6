"""The SQL guard: one SELECT over org.dataset tables, nothing else."""

from __future__ import annotations

import pytest

from dpghub.analysis.guard import guard
from dpghub.core.errors import Forbidden, Invalid


def test_tables_and_versions_become_views() -> None:
    query = guard('SELECT a.x FROM mois.population@3 a JOIN "mcst"."libraries" USING (k)')
    assert [(t.schema, t.name, t.version, t.view) for t in query.tables] == [
        ("mois", "population", 3, "t0"), ("mcst", "libraries", None, "t1")]
    assert '"t0" AS "a"' in query.sql and '"t1" AS "libraries"' in query.sql
    assert "mois" not in query.sql


def test_ctes_and_set_operations() -> None:
    query = guard("WITH t AS (SELECT * FROM mcst.libraries) SELECT 1 FROM t "
                  "UNION ALL SELECT 2 FROM me.ev_chargers")
    assert sorted(t.name for t in query.tables) == ["ev_chargers", "libraries"]


@pytest.mark.parametrize(("sql", "code"), [
    ("SELECT * FROM read_csv('/etc/passwd')", "function_not_allowed"),
    ("SELECT * FROM read_parquet('/lake/tables/d1/x.parquet')", "function_not_allowed"),
    ("SELECT getenv('HOME')", "function_not_allowed"),
    ("SELECT current_setting('memory_limit')", "function_not_allowed"),
    ("SELECT * FROM glob('/etc/*')", "function_not_allowed"),
    ("COPY (SELECT 1) TO '/tmp/x.csv'", "select_only"),
    ("ATTACH '/tmp/x.db'", "select_only"),
    ("INSTALL httpfs", "select_only"),
    ("LOAD httpfs", "select_only"),
    ("SET memory_limit = '10GB'", "select_only"),
    ("PRAGMA version", "select_only"),
    ("SELECT 1; SELECT 2", "one_statement_only"),
    ("CREATE TABLE x AS SELECT 1", "select_only"),
    ("SELECT * INTO x FROM mcst.libraries", "select_only"),
])
def test_refusals(sql: str, code: str) -> None:
    with pytest.raises(Forbidden) as refused:
        guard(sql)
    assert refused.value.code == code


def test_syntax_error_has_a_position_and_unknown_tables_are_named() -> None:
    with pytest.raises(Invalid) as bad:
        guard("SELECT * FROM mcst.libraries WHERE (")
    assert bad.value.code == "syntax_error" and bad.value.params["line"] == 1
    with pytest.raises(Invalid) as unknown:
        guard("SELECT * FROM libraries")
    assert unknown.value.code == "unknown_table"
    with pytest.raises(Invalid):
        guard("   ")
