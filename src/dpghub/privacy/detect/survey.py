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
    shapes: dict[str, int] = field(default_factory=dict)   # family → values of its shape


def _counted(condition: str, weighted: bool) -> str:
    return f"coalesce(sum(n) FILTER (WHERE {condition}), 0)" if weighted else (
        f"count_if({condition})")


def _text_sql(relation: str, group: list[Target], weighted: bool) -> str:
    """Text columns in long form (column number, value): each family's regex appears once
    in the query, however many columns — DuckDB compiles every regex of a query, and a
    query per column and family made wide tables slow before any row was read."""
    numbers = ", ".join(str(target.index) for target in group)
    values = ", ".join(f"NULLIF(trim(CAST({target.source} AS VARCHAR)), '')" for target in group)
    aggregates = [f"{_counted('v IS NOT NULL', weighted)} AS t"]
    for name, family in FAMILIES.items():
        wanted = [str(target.index) for target in group if name in target.families]
        if wanted:
            test = shape_sql(family, "v")
            if len(wanted) < len(group):
                test = f"(i IN ({', '.join(wanted)}) AND {test})"
            aggregates.append(f"{_counted(test, weighted)} AS f_{name}")
    n = ", n" if weighted else ""
    return (f"SELECT i, {', '.join(aggregates)} FROM (SELECT unnest([{numbers}]) AS i, "
            f"unnest([{values}]) AS v{n} FROM {relation}) AS long GROUP BY i")


def _integer_sql(relation: str, group: list[Target]) -> str:
    """Integer columns side by side: range tests only, nothing to compile."""
    aggregates = []
    for target in group:
        value = f"CAST({target.source} AS BIGINT)"
        aggregates.append(f"count({value})")
        aggregates += [f"count_if({NUMBER_SHAPES[name].replace('{v}', value)})"
                       for name in target.families]
    return f"SELECT {', '.join(aggregates)} FROM {relation}"


def survey(con: duckdb.DuckDBPyConnection, relation: str, targets: list[Target],
           weighted: bool = False) -> dict[int, Survey]:
    """Counts per target, from one query per `COLUMNS_PER_QUERY` columns of a type (each
    reads every row of its columns). `weighted`: the relation holds distinct values with
    their count `n` (text targets)."""
    surveys: dict[int, Survey] = {}
    texts = [target for target in targets if target.type == "text"]
    numbers = [target for target in targets if target.type != "text"]
    for start in range(0, len(texts), COLUMNS_PER_QUERY):
        group = texts[start:start + COLUMNS_PER_QUERY]
        cursor = con.execute(_text_sql(relation, group, weighted))
        names = [description[0] for description in cursor.description]
        rows = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
        for target in group:
            row = rows.get(target.index, {})   # no row: the relation is empty
            surveys[target.index] = Survey(
                total=row.get("t") or 0,
                shapes={name: row.get(f"f_{name}") or 0 for name in target.families})
    for start in range(0, len(numbers), COLUMNS_PER_QUERY):
        group = numbers[start:start + COLUMNS_PER_QUERY]
        row = iter(con.execute(_integer_sql(relation, group)).fetchone())
        for target in group:
            surveys[target.index] = Survey(
                total=next(row) or 0,
                shapes={name: next(row) or 0 for name in target.families})
    return surveys
