"""The first pass: over every value of every column, how many values have each family's shape.

One small aggregate per (column, family) — a yes/no regex search (RE2's fast automaton, no
extraction) or a range test on integers — plus the non-null count and an approximate number of
distinct values. The full checks (check digits, dates, Luhn, every candidate inside free text)
then run only where these counts could reach the reporting threshold (see `scan.worth_checking`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from dpghub.privacy.detect.patterns import FAMILIES, NUMBER_SHAPES, shape_sql

COLUMNS_PER_QUERY = 50


@dataclass(frozen=True)
class Target:
    """A column and the families its type and name make worth looking for."""

    index: int
    source: str           # the quoted column name
    type: str             # "text" or "integer"
    families: tuple[str, ...]


@dataclass
class Survey:
    total: int                       # non-null values (blank text counts as null)
    distinct: int                    # approximate distinct values
    shapes: dict[str, int] = field(default_factory=dict)   # family → values of its shape


def _counted(condition: str, weighted: bool) -> str:
    return f"coalesce(sum(n) FILTER (WHERE {condition}), 0)" if weighted else (
        f"count_if({condition})")


def _aggregates(target: Target, weighted: bool) -> dict[str, str]:
    i = target.index
    if target.type == "text":
        value = f"NULLIF(trim(CAST({target.source} AS VARCHAR)), '')"
        tests = {name: shape_sql(FAMILIES[name], value) for name in target.families}
    else:
        value = f"CAST({target.source} AS BIGINT)"
        tests = {name: "(" + NUMBER_SHAPES[name].replace("{v}", value) + ")"
                 for name in target.families}
    aggregates = {f"t{i}": _counted(f"{value} IS NOT NULL", weighted),
                  f"d{i}": "count(*)" if weighted else f"approx_count_distinct({target.source})"}
    aggregates.update({f"f{i}_{name}": _counted(test, weighted) for name, test in tests.items()})
    return aggregates


def survey(con: duckdb.DuckDBPyConnection, relation: str, targets: list[Target],
           weighted: bool = False) -> dict[int, Survey]:
    """Counts per target, from one query per `COLUMNS_PER_QUERY` columns (each reads every
    row of its columns). `weighted`: the relation holds distinct values with their count `n`
    (one target)."""
    surveys: dict[int, Survey] = {}
    for start in range(0, len(targets), COLUMNS_PER_QUERY):
        group = targets[start:start + COLUMNS_PER_QUERY]
        aggregates: dict[str, str] = {}
        for target in group:
            aggregates.update(_aggregates(target, weighted))
        select = ", ".join(f"{sql} AS {alias}" for alias, sql in aggregates.items())
        cursor = con.execute(f"SELECT {select} FROM {relation}")
        names = [description[0] for description in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
        for target in group:
            i = target.index
            surveys[i] = Survey(total=row[f"t{i}"] or 0, distinct=row[f"d{i}"] or 0,
                                shapes={name: row[f"f{i}_{name}"] or 0   # NULL: no rows
                                        for name in target.families})
    return surveys
