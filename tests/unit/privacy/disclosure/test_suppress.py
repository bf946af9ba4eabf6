"""Small cells hidden, and hidden so that no other query gives them back."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pytest

from dpghub.core.errors import Invalid
from dpghub.privacy.disclosure.plan import plan_query
from dpghub.privacy.disclosure.suppress import suppress

from .conftest import answer, shown


def test_the_small_district_cannot_be_recomputed_from_the_total(
        con: duckdb.DuckDBPyConnection) -> None:
    _, result = answer(con, "SELECT district, count(*) AS n, sum(income) AS income "
                            "FROM hospital.patients GROUP BY district ORDER BY district")
    reasons = {(result.rows[s.row]["district"], s.column): s.reason for s in result.suppressed}
    assert reasons[(None, "n")] == "primary"         # the small group's key is hidden too
    assert reasons[(None, "district")] == "primary"
    assert "Z" not in {row["district"] for row in result.rows}
    hidden = [d for d, n in shown(result, "n").items() if n is None]
    assert len(hidden) == 2 and None in hidden
    # the analyst's other query: the grand total, which is large and shown
    _, total = answer(con, "SELECT count(*) AS n, sum(income) AS income FROM hospital.patients")
    for column in ("n", "income"):
        visible = sum(v for v in shown(result, column).values() if v is not None)
        truth = con.execute(f"SELECT {'count(*)' if column == 'n' else 'sum(income)'} FROM "
                            "hospital.patients WHERE district = 'Z'").fetchone()[0]
        assert total.rows[0][column] - visible != truth


def test_every_margin_of_two_keys_hides_none_or_at_least_two_cells(
        con: duckdb.DuckDBPyConnection) -> None:
    _, result = answer(con, "SELECT district, sex, count(*) AS n FROM hospital.patients "
                            "GROUP BY ALL")
    margins: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for row in result.rows:
        margins[("sex", row["sex"])].append(row["n"] is None)
        margins[("district", row["district"])].append(row["n"] is None)
        margins[("all", "")].append(row["n"] is None)
    assert any(any(v) for v in margins.values())
    assert {m: sum(v) for m, v in margins.items() if sum(v) == 1} == {}
    assert {s.reason for s in result.suppressed} == {"primary", "secondary"}


def test_a_count_of_the_suppressed_row_is_hidden_too(con: duckdb.DuckDBPyConnection) -> None:
    _, result = answer(con, "SELECT district, sum(income) AS income FROM hospital.patients "
                            "GROUP BY 1")
    z = next(row for row in result.rows if row["district"] is None)
    assert z == {"district": None, "income": None, "__n": None}


def test_having_count_under_five_reveals_nothing(con: duckdb.DuckDBPyConnection) -> None:
    _, result = answer(con, "SELECT district, count(*) AS n FROM hospital.patients "
                            "GROUP BY 1 HAVING count(*) < 5")
    assert result.rows == [] and result.suppressed == []


def test_having_and_order_run_on_the_shown_values(con: duckdb.DuckDBPyConnection) -> None:
    _, result = answer(con, "SELECT district, count(*) AS n FROM hospital.patients "
                            "GROUP BY 1 HAVING count(*) > 40 ORDER BY n DESC")
    assert [row["n"] for row in result.rows] == [50, 49, 49]
    assert result.suppressed == []


def test_the_differencing_attack_is_suppressed(con: duckdb.DuckDBPyConnection) -> None:
    _, everyone = answer(con, "SELECT district, count(*) AS n FROM hospital.patients "
                              "WHERE age >= 20 GROUP BY 1")
    _, minus_one = answer(con, "SELECT district, count(*) AS n FROM hospital.patients "
                               "WHERE age >= 20 AND id <> 'P7' GROUP BY 1")
    district = con.execute("SELECT district FROM hospital.patients WHERE id = 'P7'").fetchone()[0]
    before, after = shown(everyone, "n"), shown(minus_one, "n")
    assert before[district] is not None
    assert after[district] is None
    assert ("difference" in {s.reason for s in minus_one.suppressed})
    assert all(before[d] is None or after[d] is None or before[d] == after[d] for d in before)


def test_a_global_aggregate_of_few_rows_is_hidden_whole(con: duckdb.DuckDBPyConnection) -> None:
    _, result = answer(con, "SELECT count(*) AS n, avg(income) AS income "
                            "FROM hospital.patients WHERE district = 'Z'")
    assert result.rows == [{"n": None, "income": None, "__n": None}]


def test_small_cells_made_by_a_join_are_hidden(con: duckdb.DuckDBPyConnection) -> None:
    _, result = answer(con, "SELECT r.province, count(*) AS n, avg(p.income) AS income "
                            "FROM hospital.patients p JOIN geo.regions r USING (district) "
                            "GROUP BY 1")
    values = shown(result, "n")
    assert "Island" not in values and values[None] is None
    assert sum(v is None for v in values.values()) == 2


def test_a_count_of_few_of_a_kind_inside_a_large_group_is_hidden(
        con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE hospital.patients SET sex = NULL WHERE id IN ('P11', 'P15')")
    _, result = answer(con, "SELECT district, count(sex) AS known, count(*) AS n "
                            "FROM hospital.patients GROUP BY 1")
    row = next(r for r in result.rows if r["district"] == "D")
    assert row["n"] == 50 and row["known"] == 48
    con.execute("UPDATE hospital.patients SET sex = NULL WHERE district = 'A' AND id <> 'P3'")
    _, result = answer(con, "SELECT district, count(sex) AS known FROM hospital.patients "
                            "GROUP BY 1")
    assert shown(result, "known")["A"] is None


def test_one_record_dominating_a_sum_hides_it(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE hospital.patients SET income = 10000000 WHERE id = 'P4'")
    _, result = answer(con, "SELECT district, sum(income) AS income FROM hospital.patients "
                            "GROUP BY 1")
    assert shown(result, "income")["A"] is None
    assert ("dominance" in {s.reason for s in result.suppressed})


def test_one_group_per_record_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(Invalid) as refused:
        answer(con, "SELECT id, count(*) AS n FROM hospital.patients GROUP BY id")
    assert refused.value.code == "row_level_output"


def test_rows_given_as_dicts_with_counts_apart() -> None:
    plan = plan_query("SELECT region, count(*) AS n FROM t GROUP BY region", k=3)
    cells = [{"region": "a", "n": 10}, {"region": "b", "n": 2}, {"region": "c", "n": 7}]
    result = suppress(cells, plan, k=3, n=[10, 2, 7], n0=None)
    assert [row["n"] for row in result.rows] == [10, None, None]
    assert [(s.row, s.column, s.reason) for s in result.suppressed] == [
        (1, "region", "primary"), (1, "n", "primary"), (1, "__n", "primary"),
        (2, "n", "secondary"),
        (2, "__n", "secondary")]
