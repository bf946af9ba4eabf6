"""k-anonymity and l-diversity numbers on a table small enough to count by hand."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from dpghub.core.errors import Invalid
from dpghub.privacy.disclosure.risk import risk_report

# classes over (age, sex, bjd): 3 + 2 women in two 법정동 of one 시군구, 4 + 1 men
PEOPLE = """
CREATE TABLE people AS SELECT * FROM (VALUES
  (34, 'F', '1111010100', 'flu',  DATE '1990-01-03', 'tall'),
  (34, 'F', '1111010100', 'flu',  DATE '1990-01-20', 'likes tea'),
  (34, 'F', '1111010100', 'cold', DATE '1990-02-11', 'n/a'),
  (34, 'F', '1111010200', 'hiv',  DATE '1990-03-01', 'quiet'),
  (34, 'F', '1111010200', 'hiv',  DATE '1990-05-30', 'red car'),
  (47, 'M', '2611010100', 'a',    DATE '1977-06-01', 'x1'),
  (47, 'M', '2611010100', 'b',    DATE '1977-07-01', 'x2'),
  (47, 'M', '2611010100', 'c',    DATE '1977-08-01', 'x3'),
  (47, 'M', '2611010100', 'd',    DATE '1977-09-01', 'x4'),
  (49, 'M', '2611010100', 'x',    DATE '1975-06-01', 'x5')
) v(age, sex, bjd, diagnosis, born, note)
"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(PEOPLE)
    yield connection
    connection.close()


def test_counts_classes_and_records_at_risk(con: duckdb.DuckDBPyConnection) -> None:
    report = risk_report(con, "people", ["age", "sex", "bjd"], k=3, sensitive=["diagnosis"])
    numbers = report.as_dict()
    assert {key: numbers[key] for key in ("records", "classes", "smallest_class",
                                          "classes_under_k", "records_at_risk",
                                          "share_at_risk", "k_achieved")} == {
        "records": 10, "classes": 4, "smallest_class": 1, "classes_under_k": 2,
        "records_at_risk": 3, "share_at_risk": 0.3, "k_achieved": 1}
    assert list(numbers["diversity"]) == [{"column": "diagnosis", "smallest_l": 1,
                                     "classes_under_2": 2, "records_in_them": 3}]


def test_suggestions_fit_each_type_best_first(con: duckdb.DuckDBPyConnection) -> None:
    report = risk_report(con, "people", ["age", "sex", "bjd"], k=3)
    assert [(s.column, s.change, s.records_at_risk) for s in report.suggestions] == [
        ("bjd", "first 5 characters", 1), ("bjd", "first 2 characters", 1),
        ("bjd", "drop", 1), ("age", "5-wide bands", 2), ("age", "10-wide bands", 2),
        ("sex", "drop", 3)]
    assert report.suggestions[0].expression == 'left("bjd", 5)'


def test_dates_go_to_month_then_year_and_free_text_is_dropped(
        con: duckdb.DuckDBPyConnection) -> None:
    report = risk_report(con, "people", ["born"], k=2)
    assert report.records_at_risk == 10
    assert [(s.column, s.change, s.records_at_risk) for s in report.suggestions] == [
        ("born", "year", 1), ("born", "month", 8)]
    report = risk_report(con, "people", ["age", "note"], k=2)
    assert [(s.change, s.records_at_risk) for s in report.suggestions
            if s.column == "note"] == [("drop", 1)]


def test_k_is_met_when_every_class_is_large_enough(con: duckdb.DuckDBPyConnection) -> None:
    report = risk_report(con, "people", ["sex"], k=5)
    assert (report.k_achieved, report.records_at_risk, report.share_at_risk) == (5, 0, 0.0)


@pytest.mark.parametrize(("quasi", "sensitive", "k", "code", "named"), [
    (["age", "postcode"], None, 3, "unknown_column", "postcode"),
    (["age"], ["salary"], 3, "unknown_column", "salary"),
    (["age"], None, 1, "invalid_k", "1"),
    ([], None, 3, "no_quasi_identifiers", "quasi"),
])
def test_bad_requests_are_refused_by_name(con: duckdb.DuckDBPyConnection, quasi: list[str],
                                          sensitive: list[str] | None, k: int, code: str,
                                          named: str) -> None:
    with pytest.raises(Invalid) as refused:
        risk_report(con, "people", quasi, k=k, sensitive=sensitive)
    assert refused.value.code == code and named in str(refused.value)
