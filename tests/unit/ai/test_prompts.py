"""Reading the model's answers: the SQL in a ```sql block or plain, a declined question, the
citations of catalogue answers; and the chart a result suggests."""

from __future__ import annotations

import pytest

from dpghub.ai.service import nl2sql, prompts
from dpghub.analysis.schemas import ColumnInfo, QueryResult


@pytest.mark.parametrize(("answer", "sql"), [
    ("```sql\nSELECT 1;\n```", "SELECT 1"),
    ("Here it is:\n```SQL\nWITH a AS (SELECT 1) SELECT * FROM a\n```\nIt counts.",
     "WITH a AS (SELECT 1) SELECT * FROM a"),
    ("```\nSELECT 2\n```", "SELECT 2"),
    ("SELECT 시도명, count(*) FROM mcst.libraries GROUP BY 1;", "SELECT 시도명, count(*) FROM "
                                                              "mcst.libraries GROUP BY 1"),
    ("The query:\nselect 3\n", "select 3"),
    ("echo: nothing like SQL", "echo: nothing like SQL"),     # the guard will say why
])
def test_the_statement_in_an_answer(answer: str, sql: str) -> None:
    assert prompts.read_sql(answer) == prompts.SqlAnswer(sql, None)


def test_a_declined_question() -> None:
    assert prompts.read_sql("-- cannot answer: no weather table") == prompts.SqlAnswer(
        None, "no weather table")
    assert prompts.read_sql("```sql\n```") == prompts.SqlAnswer(None, None)


def test_citations_are_only_numbers_that_were_shown() -> None:
    assert prompts.cited("[2] 그리고 [1], 다시 [2], 없는 [7] [0]", 3) == [2, 1]


def test_column_names_are_quoted_as_sql_needs() -> None:
    assert [prompts.quoted(n) for n in ("시도명", "2025년09월_총인구수", "자료수(도서)", 'a"b')] \
        == ["시도명", '"2025년09월_총인구수"', '"자료수(도서)"', '"a""b"']


def _result(*columns: tuple[str, str]) -> QueryResult:
    return QueryResult(columns=[ColumnInfo(name=n, type=t) for n, t in columns],
                       rows=[["x"] * len(columns)], truncated=False, elapsed_ms=1.0,
                       datasets=[])


def test_a_chart_where_one_fits() -> None:
    bar = nl2sql.chart_for(_result(("시도", "text"), ("도서관수", "integer")))
    assert bar is not None and (bar.type, bar.x, bar.y) == ("bar", "시도", "도서관수")
    line = nl2sql.chart_for(_result(("날짜", "date"), ("건수", "decimal")))
    assert line is not None and (line.type, line.x) == ("line", "날짜")
    assert nl2sql.chart_for(_result(("a", "text"), ("b", "text"))) is None
    assert nl2sql.chart_for(_result(("a", "text"), ("b", "integer"), ("c", "integer"))) is None
    assert nl2sql.chart_for(None) is None
