"""Differential privacy: the budget holds, the noise has its scale, differencing gives no
exact value."""

from __future__ import annotations

import statistics

import duckdb
import pytest

from dpghub.core.errors import Invalid
from dpghub.privacy.disclosure import dp
from dpghub.privacy.disclosure.plan import plan_query

pytest.importorskip("opendp")

BOUNDS = {"income": (0.0, 2000.0)}


def test_the_budget_refuses_what_would_go_over() -> None:
    budget = dp.Budget(1.0)
    budget.spend(0.4)
    budget.spend(0.5)
    assert budget.left == pytest.approx(0.1)
    with pytest.raises(Invalid) as refused:
        budget.spend(0.2)
    assert refused.value.code == "privacy_budget_exhausted"
    assert budget.spent == pytest.approx(0.9)


def test_an_answer_spends_epsilon_per_measure(con: duckdb.DuckDBPyConnection) -> None:
    plan = plan_query("SELECT district, count(*) AS n, avg(income) AS income "
                      "FROM hospital.patients GROUP BY 1", k=5)
    cells = con.sql(dp.dp_cells_sql(plan, BOUNDS)).to_arrow_table().to_pylist()
    budget = dp.Budget(3.0)
    answer = dp.release(cells, plan, epsilon=1.0, bounds=BOUNDS, budget=budget)
    assert answer.epsilon == 2.0 and budget.left == pytest.approx(1.0)
    assert sorted(row["district"] for row in answer.rows) == ["A", "B", "C", "D", "Z"]
    assert all(0.0 <= row["income"] <= 2000.0 for row in answer.rows if row["income"])
    assert answer.scales == {"n": 1.0, "income": 4000.0}
    with pytest.raises(Invalid) as refused:
        dp.release(cells, plan, epsilon=1.0, bounds=BOUNDS, budget=budget)
    assert refused.value.code == "privacy_budget_exhausted"


def test_sums_need_bounds(con: duckdb.DuckDBPyConnection) -> None:
    plan = plan_query("SELECT sum(income) AS income FROM hospital.patients", k=5)
    with pytest.raises(Invalid) as refused:
        dp.dp_cells_sql(plan, {})
    assert refused.value.code == "dp_bounds_missing" and "income" in str(refused.value)


def test_the_sum_clamps_values_to_the_bounds(con: duckdb.DuckDBPyConnection) -> None:
    plan = plan_query("SELECT sum(income) AS income FROM hospital.patients", k=5)
    exact = con.execute(dp.dp_cells_sql(plan, {"income": (0.0, 1000.0)})).fetchall()
    assert exact == [(200, 200 * 1000.0)]      # every income is 1000 or more


def test_noise_has_the_laplace_scale() -> None:
    draws = [dp.noisy_sum(0.0, 100.0, 1.0) for _ in range(400)]
    assert 70 < statistics.mean(abs(d) for d in draws) < 140   # E|Laplace(b)| = b = 100


def test_total_minus_one_person_gives_no_exact_value() -> None:
    total = 200
    differences = [dp.noisy_count(total, 0.5) - dp.noisy_count(total - 1, 0.5)
                   for _ in range(300)]
    assert sum(d == 1 for d in differences) / len(differences) < 0.5
    assert statistics.pstdev(differences) > 2      # two draws of scale 2: sd ≈ 4
