"""Differential privacy for a safe-zone answer, with OpenDP's samplers and privacy maps.

Each measure of each cell gets Laplace noise scaled to what one record can change: 1 for a
count (also COUNT(DISTINCT …)), max(|lower|, |upper|) for a sum whose values are clamped to the
bounds the analyst or the owner gives, and a mean is a noisy sum over a noisy count (half the
measure's epsilon each). The cells are disjoint (each record falls in one group), so one
answer spends `epsilon` per measure, whatever the number of groups; `Budget` keeps the total
a zone allows. This holds when each person is one row of the outer FROM: a join that repeats
a person multiplies what one person can change, and the epsilon with it.

Noise comes from OpenDP (a cryptographic source); it cannot be seeded, so a DP answer is not
reproducible. Under DP the "total, then total minus one person" attack gives two noisy numbers
whose difference is the person's value plus noise of the same size as the value.

Limits: the group keys themselves are not protected — a group that exists only because of one
person shows that person's key. Release DP answers over a public list of keys (all 시군구, all
age bands) or keep the k-threshold of `suppress` as well. OpenDP is not yet a declared
dependency of the hub, so it is imported where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

from ...core.errors import Invalid, Unavailable
from .plan import ZoneQuery


@dataclass
class Budget:
    """The epsilon a zone (or an analyst in it) may still spend."""

    total: float
    spent: float = 0.0

    @property
    def left(self) -> float:
        return max(self.total - self.spent, 0.0)

    def spend(self, epsilon: float) -> None:
        if epsilon <= 0:
            raise Invalid("epsilon must be positive (it is {epsilon})", code="invalid_epsilon",
                          field="epsilon", epsilon=epsilon)
        if self.spent + epsilon > self.total * (1 + 1e-9):
            raise Invalid("This answer needs epsilon {epsilon:.4g} but only {left:.4g} of the "
                          "privacy budget {total:.4g} is left", code="privacy_budget_exhausted",
                          field="epsilon", epsilon=epsilon, left=self.left, total=self.total)
        self.spent += epsilon


@dataclass
class NoisyAnswer:
    columns: list[str]
    rows: list[dict[str, Any]]
    epsilon: float                           # spent on this answer
    scales: dict[str, float] = field(default_factory=dict)   # Laplace scale per measure


def dp_cells_sql(plan: ZoneQuery, bounds: dict[str, tuple[float, float]]) -> str:
    """The groups of `plan` with, per measure, the count (`__dp{i}_count`) and the sum of the
    values clamped to `bounds[measure]` (`__dp{i}_sum`): what `release` adds noise to."""
    tree = sqlglot.parse_one(plan.cells_sql, read="duckdb")
    keys = [p for p in tree.expressions if p.alias in plan.groups]
    extra = []
    for i, measure in enumerate(plan.measures):
        kind, node = _single(plan, measure.name)
        if kind == "count_star":
            extra.append(f"COUNT(*) AS __dp{i}_count")
            continue
        arg = node.this
        if kind == "count_distinct":
            extra.append(f"COUNT(DISTINCT {arg.sql('duckdb')}) AS __dp{i}_count")
            continue
        extra.append(f"COUNT({arg.sql('duckdb')}) AS __dp{i}_count")
        if kind in ("sum", "avg"):
            lower, upper = _bounds(bounds, measure.name)
            extra.append(f"SUM(LEAST(GREATEST(CAST({arg.sql('duckdb')} AS DOUBLE), {lower!r}),"
                         f" {upper!r})) AS __dp{i}_sum")
    tree.set("expressions", keys + [sqlglot.parse_one(e, read="duckdb") for e in extra])
    return tree.sql("duckdb")


def release(cells: list[dict[str, Any]], plan: ZoneQuery, *, epsilon: float,
            bounds: dict[str, tuple[float, float]], budget: Budget) -> NoisyAnswer:
    """`dp_cells_sql`'s answer with noise; spends `epsilon` × the number of measures."""
    if epsilon <= 0:
        raise Invalid("epsilon must be positive (it is {epsilon})", code="invalid_epsilon",
                      field="epsilon", epsilon=epsilon)
    kinds = [_single(plan, m.name)[0] for m in plan.measures]
    for measure, kind in zip(plan.measures, kinds, strict=True):
        if kind in ("sum", "avg"):
            _bounds(bounds, measure.name)
    budget.spend(epsilon * len(plan.measures))
    rows = [{g: row[g] for g in plan.groups} for row in cells]
    scales: dict[str, float] = {}
    for i, (measure, kind) in enumerate(zip(plan.measures, kinds, strict=True)):
        if kind in ("count_star", "count", "count_distinct"):
            scales[measure.name] = 1 / epsilon
            for out, row in zip(rows, cells, strict=True):
                out[measure.name] = max(noisy_count(int(row[f"__dp{i}_count"]), epsilon), 0)
            continue
        lower, upper = _bounds(bounds, measure.name)
        sensitivity = max(abs(lower), abs(upper))
        share = epsilon if kind == "sum" else epsilon / 2
        scales[measure.name] = sensitivity / share
        for out, row in zip(rows, cells, strict=True):
            total = noisy_sum(float(row[f"__dp{i}_sum"] or 0.0), sensitivity, share)
            if kind == "sum":
                out[measure.name] = total
            else:
                count = noisy_count(int(row[f"__dp{i}_count"]), share)
                out[measure.name] = min(max(total / count, lower), upper) if count > 0 else None
    return NoisyAnswer([*plan.groups, *(m.name for m in plan.measures)], rows,
                       epsilon * len(plan.measures), scales)


def noisy_count(value: int, epsilon: float) -> int:
    """`value` with discrete Laplace noise for sensitivity 1 at `epsilon` (OpenDP)."""
    return int(_count_mechanism(epsilon)(value))


def noisy_sum(value: float, sensitivity: float, epsilon: float) -> float:
    """`value` with Laplace noise for `sensitivity` at `epsilon` (OpenDP)."""
    return float(_sum_mechanism(sensitivity, epsilon)(value))


def _opendp() -> Any:
    try:
        import opendp.prelude as dp
    except ImportError:
        raise Unavailable("Differential privacy needs the opendp package (pip install opendp)",
                          code="opendp_missing") from None
    dp.enable_features("contrib")
    return dp


@lru_cache(maxsize=64)
def _count_mechanism(epsilon: float) -> Any:
    dp = _opendp()
    mechanism = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int),
                                  scale=1 / epsilon)
    _check(mechanism.map(1), epsilon)
    return mechanism


@lru_cache(maxsize=64)
def _sum_mechanism(sensitivity: float, epsilon: float) -> Any:
    dp = _opendp()
    mechanism = dp.m.make_laplace(dp.atom_domain(T=float, nan=False),
                                  dp.absolute_distance(T=float), scale=sensitivity / epsilon)
    _check(mechanism.map(float(sensitivity)), epsilon)
    return mechanism


def _check(spent: float, epsilon: float) -> None:
    """OpenDP's own privacy map must agree with the epsilon charged (rounding aside)."""
    if spent > epsilon * (1 + 1e-6):
        raise Invalid("OpenDP charges epsilon {spent} where {epsilon} was asked",
                      code="invalid_epsilon", field="epsilon", spent=spent, epsilon=epsilon)


def _single(plan: ZoneQuery, name: str) -> tuple[str, exp.Expr]:
    measure = next(m for m in plan.measures if m.name == name)
    if len(measure.aggregates) != 1:
        raise Invalid("{measure} combines several aggregates; differential privacy is given "
                      "for a plain COUNT, SUM or AVG only", code="dp_unsupported",
                      field="sql", measure=name)
    aggregate = plan.aggregates[measure.aggregates[0]]
    node = sqlglot.parse_one(aggregate.sql, read="duckdb")
    if aggregate.kind == "count_distinct":
        node = exp.Count(this=node.this.expressions[0])
    return aggregate.kind, node


def _bounds(bounds: dict[str, tuple[float, float]], name: str) -> tuple[float, float]:
    if name not in bounds:
        raise Invalid("{measure} needs bounds (lower, upper) for differential privacy: the "
                      "noise is scaled to the largest value one record may add",
                      code="dp_bounds_missing", field="bounds", measure=name)
    lower, upper = (float(b) for b in bounds[name])
    if not lower < upper:
        raise Invalid("The bounds of {measure} must have lower < upper ({lower}, {upper})",
                      code="dp_bounds_invalid", field="bounds", measure=name, lower=lower,
                      upper=upper)
    return lower, upper
