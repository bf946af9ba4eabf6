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


def test_versions_are_read_from_table_names_only() -> None:
    query = guard("SELECT 'hong.gildong@123.kr' AS email, \"a.b@1\" AS quoted -- x.y@2\n"
                  "FROM mois.population@3 /* c.d@4 */ WHERE note = 'mois.population@5'")
    assert [(t.schema, t.name, t.version) for t in query.tables] == [
        ("mois", "population", 3)]
    assert "'hong.gildong@123.kr'" in query.sql and "'mois.population@5'" in query.sql
    assert '"a.b@1"' in query.sql


def test_a_version_after_something_other_than_a_table_is_refused() -> None:
    with pytest.raises(Invalid) as bad:
        guard("SELECT x@3 FROM mois.population")
    assert bad.value.code == "syntax_error"
    assert (bad.value.params["line"], bad.value.params["col"]) == (1, 9)


def test_a_quoted_name_is_a_name_even_with_an_at_sign() -> None:
    query = guard('SELECT * FROM mois."population@3"')
    assert [(t.name, t.version) for t in query.tables] == [("population@3", None)]


@pytest.mark.parametrize(("sql", "line", "col", "what"), [
    ("SELECT '", 1, 8, "unterminated string"),
    ("SELECT 1 /*", 1, 10, "unterminated comment"),
    ("SELECT 1,\n  'a' || 'b\n FROM x", 2, 10, "unterminated string"),
    ('SELECT "name', 1, 8, "unterminated quoted name"),
    ("SELECT 1 /* a /* nested */ b", 1, 10, "unterminated comment"),
    ("SELECT $tag$ never closed", 1, 8, "unterminated $tag$ string"),
])
def test_unterminated_strings_and_comments_name_their_line_and_column(
        sql: str, line: int, col: int, what: str) -> None:
    with pytest.raises(Invalid) as bad:
        guard(sql)
    assert bad.value.code == "syntax_error"
    assert (bad.value.params["line"], bad.value.params["col"]) == (line, col)
    assert bad.value.params["reason"].startswith(what)


def test_deep_nesting_is_a_refusal_that_says_so() -> None:
    with pytest.raises(Invalid) as deep:
        guard("SELECT * FROM " + "(SELECT * FROM " * 500 + "mois.population" + ") x" * 500)
    assert deep.value.code == "query_too_deep"


def test_ckan_resource_ids_are_tables_only_where_they_are_table_names() -> None:
    query = guard('SELECT "mcst__libraries".시도명, \'"mcst__libraries"\' AS literal '
                  'FROM "mcst__libraries"', ckan_names=True)
    assert [(t.schema, t.name) for t in query.tables] == [("mcst", "libraries")]
    assert '\'"mcst__libraries"\'' in query.sql and '"t0" AS "mcst__libraries"' in query.sql
    with pytest.raises(Invalid):
        guard('SELECT * FROM "mcst__libraries"')   # only where the caller asks for them
