"""What may be asked in a safe zone, and the queries written to check the answer."""

from __future__ import annotations

import pytest

from dpghub.core.errors import Invalid
from dpghub.privacy.disclosure.plan import plan_query


@pytest.mark.parametrize(("sql", "code", "named"), [
    ("SELECT * FROM hospital.patients", "row_level_output", "*"),
    ("SELECT p.* FROM hospital.patients p", "row_level_output", "p.*"),
    ("SELECT id FROM hospital.patients", "row_level_output", "id"),
    ("SELECT district, id FROM hospital.patients GROUP BY district", "row_level_output", "id"),
    ("SELECT district FROM hospital.patients GROUP BY district", "row_level_output", ""),
    ("SELECT district, MIN(income) FROM hospital.patients GROUP BY 1",
     "row_level_aggregate", "MIN"),
    ("SELECT MAX(income) FROM hospital.patients", "row_level_aggregate", "MAX"),
    ("SELECT MEDIAN(income) FROM hospital.patients", "row_level_aggregate", "MEDIAN"),
    ("SELECT quantile_cont(income, 0.5) FROM hospital.patients", "row_level_aggregate",
     "QUANTILE_CONT"),
    ("SELECT list(id) FROM hospital.patients", "row_level_aggregate", "ARRAY_AGG"),
    ("SELECT string_agg(id, ',') FROM hospital.patients", "row_level_aggregate", ""),
    ("SELECT any_value(id), count(*) FROM hospital.patients", "row_level_aggregate", "ANY"),
    ("SELECT histogram(income) FROM hospital.patients", "row_level_aggregate", "HISTOGRAM"),
    ("SELECT district, count(*) FROM hospital.patients GROUP BY 1 HAVING max(income) > 1",
     "row_level_aggregate", "MAX"),
    ("SELECT district, count(*), row_number() OVER () FROM hospital.patients GROUP BY 1",
     "window_function", "ROW_NUMBER"),
    ("SELECT count(*) FROM (SELECT *, rank() OVER (ORDER BY income) r FROM hospital.patients)",
     "window_function", "RANK"),
    ("SELECT sum(income) FROM (SELECT * FROM hospital.patients ORDER BY income DESC LIMIT 1)",
     "record_picking", "LIMIT"),
    ("SELECT sum(CASE WHEN id = 'P7' THEN income END) FROM hospital.patients",
     "conditional_aggregate", "P7"),
    ("SELECT count(*) FILTER (WHERE id <> 'P7') FROM hospital.patients",
     "conditional_aggregate", "P7"),
    ("SELECT district, count(*) FROM hospital.patients GROUP BY ROLLUP (district)",
     "grouping_sets", ""),
    ("SELECT count(*) FROM hospital.patients, (VALUES (1), (2)) v(x)", "row_multiplier", ""),
    ("SELECT count(*) FROM hospital.patients UNION SELECT 1", "select_only", "UNION"),
    ("SELECT count(*) FROM hospital.patients GROUP BY district", "group_key_not_selected",
     "district"),
])
def test_refusals_name_the_fault(sql: str, code: str, named: str) -> None:
    with pytest.raises(Invalid) as refused:
        plan_query(sql, k=5)
    assert refused.value.code == code
    assert refused.value.field == "sql"
    assert named.lower() in str(refused.value).lower()


def test_an_aggregate_over_a_subquery_of_raw_rows_and_a_join_is_accepted() -> None:
    plan = plan_query("""
        SELECT r.province, count(*) AS patients, avg(p.income) AS income
        FROM (SELECT id, district, income FROM hospital.patients WHERE age > 30) p
        JOIN geo.regions r ON r.district = p.district
        GROUP BY r.province ORDER BY patients DESC""", k=5)
    assert plan.columns == ("province", "patients", "income")
    assert plan.groups == ("province",)
    assert [(m.name, m.kinds(plan)) for m in plan.measures] == [
        ("patients", ("count_star",)), ("income", ("avg",))]
    assert plan.base_sql is None          # no outer WHERE: nothing to leave out
    assert 'ORDER BY "patients" DESC' in plan.release_sql


def test_cells_lose_having_and_order_and_gain_counts() -> None:
    plan = plan_query("SELECT district AS d, count(*) AS n FROM hospital.patients "
                      "WHERE age > 30 AND id <> 'P9' GROUP BY d HAVING count(*) < 5 "
                      "ORDER BY n LIMIT 3", k=5)
    assert "HAVING" not in plan.cells_sql and "ORDER" not in plan.cells_sql
    assert "AS __n" in plan.cells_sql
    assert plan.having == "COUNT(*) < 5"
    assert plan.conditions == ("age > 30", "id <> 'P9'")
    assert plan.release_sql.endswith("LIMIT 3")


def test_join_conditions_in_where_stay_in_the_base_query() -> None:
    plan = plan_query("SELECT r.province, count(*) FROM hospital.patients p, geo.regions r "
                      "WHERE p.district = r.district AND p.sex = 'F' GROUP BY 1", k=5)
    assert plan.conditions == ("p.sex = 'F'",)
    assert plan.base_sql is not None and plan.base_sql.count("p.district = r.district") == 2


def test_k_below_two_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        plan_query("SELECT count(*) FROM hospital.patients", k=1)
    assert refused.value.code == "invalid_k"
