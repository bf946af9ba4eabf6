"""Re-identification risk of a table: k-anonymity and l-diversity over its quasi-identifiers.

Records that share every quasi-identifier value (region, age, sex, …) form an equivalence
class; a record in a class smaller than k can be singled out by someone who knows those values
of a person. The report counts them over all rows (DuckDB GROUP BY; NULL is one value, as a
re-identifier would treat a blank), measures distinct l-diversity of each sensitive column
(a class whose members share one diagnosis discloses it without singling anyone out), and tries
one coarsening of one quasi-identifier at a time — numbers in bands, dates by month or year,
codes by shorter prefixes (법정동코드 10 digits → 5 시군구 → 2 시도), free text dropped — so
the data owner sees which single change helps most.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from ...core.errors import Invalid

NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")
DATE_TYPES = ("DATE", "TIMESTAMP")
BANDS = (5, 10)
CODE_LENGTH = 20    # a text whose values are all short runs of letters and digits is a code


@dataclass(frozen=True)
class Diversity:
    column: str
    smallest_l: int           # fewest distinct values of the column within one class
    classes_under_2: int      # classes whose members all share one value (or have none)
    records_in_them: int


@dataclass(frozen=True)
class Suggestion:
    column: str
    change: str               # "10-year bands", "month", "first 5 characters", "drop"
    expression: str           # the DuckDB expression that makes it
    records_at_risk: int
    classes: int
    smallest_class: int


@dataclass(frozen=True)
class RiskReport:
    quasi: tuple[str, ...]
    k: int
    records: int
    classes: int
    smallest_class: int
    classes_under_k: int
    records_at_risk: int
    share_at_risk: float
    k_achieved: int
    diversity: tuple[Diversity, ...]
    suggestions: tuple[Suggestion, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def risk_report(con: duckdb.DuckDBPyConnection, relation: str, quasi: list[str], *, k: int,
                sensitive: list[str] | None = None) -> RiskReport:
    """k-anonymity of `relation` (a table or view name) over `quasi`, l-diversity of each
    `sensitive` column, and single-column generalisations that lower the records at risk."""
    if k < 2:
        raise Invalid("k must be at least 2 (it is {k})", code="invalid_k", field="k", k=k)
    if not quasi:
        raise Invalid("Name at least one quasi-identifier column", code="no_quasi_identifiers",
                      field="quasi")
    source = ".".join(_ident(part) for part in relation.split("."))
    types = _column_types(con, source)
    for column in [*quasi, *(sensitive or [])]:
        if column not in types:
            raise Invalid("Unknown column {column} in {relation} (it has: {known})",
                          code="unknown_column", field="quasi", column=column,
                          relation=relation, known=", ".join(types))
    expressions = [_ident(c) for c in quasi]
    classes, smallest, under, at_risk, records = _classes(con, source, expressions, k)
    diversity = tuple(_diversity(con, source, expressions, column)
                      for column in sensitive or [])
    suggestions = []
    for position, column in enumerate(quasi):
        for change, expression in _coarsenings(con, source, column, types[column]):
            trial = list(expressions)
            if expression is None:
                del trial[position]
            else:
                trial[position] = expression
            got = _classes(con, source, trial, k)
            suggestions.append(Suggestion(column, change, expression or "", got[3], got[0],
                                          got[1]))
    # stable: within a tie, the order made above (column order, finer change first)
    suggestions.sort(key=lambda s: (s.records_at_risk, -s.classes))
    return RiskReport(tuple(quasi), k, records, classes, smallest, under, at_risk,
                      at_risk / records if records else 0.0, smallest, diversity,
                      tuple(suggestions))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_types(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise Invalid("Cannot read {relation}: {reason}", code="unknown_table",
                      field="relation", relation=source, reason=str(exc)[:200]) from None
    return {row[0]: str(row[1]).upper() for row in described}


def _classes(con: duckdb.DuckDBPyConnection, source: str, expressions: list[str],
             k: int) -> tuple[int, int, int, int, int]:
    """(classes, smallest class, classes under k, records in them, records)."""
    group = f" GROUP BY {', '.join(expressions)}" if expressions else ""
    row = con.execute(
        "SELECT count(*), coalesce(min(c), 0), count(*) FILTER (WHERE c < $k), "
        "coalesce(sum(c) FILTER (WHERE c < $k), 0), coalesce(sum(c), 0) "
        f"FROM (SELECT count(*) AS c FROM {source}{group})", {"k": k}).fetchall()[0]
    return tuple(int(v) for v in row)  # type: ignore[return-value]


def _diversity(con: duckdb.DuckDBPyConnection, source: str, expressions: list[str],
               column: str) -> Diversity:
    row = con.execute(
        "SELECT coalesce(min(d), 0), count(*) FILTER (WHERE d < 2), "
        "coalesce(sum(c) FILTER (WHERE d < 2), 0) FROM (SELECT count(DISTINCT "
        f"{_ident(column)}) AS d, count(*) AS c FROM {source} "
        f"GROUP BY {', '.join(expressions)})").fetchall()[0]
    return Diversity(column, int(row[0]), int(row[1]), int(row[2]))


def _coarsenings(con: duckdb.DuckDBPyConnection, source: str, column: str,
                 kind: str) -> list[tuple[str, str | None]]:
    """(what, DuckDB expression, or None to drop the column) that fit the column's type."""
    name = _ident(column)
    if kind.startswith(NUMBER_TYPES):
        return [(f"{width}-wide bands", f"floor({name} / {width}) * {width}")
                for width in BANDS]
    if kind.startswith(DATE_TYPES):
        return [("month", f"date_trunc('month', {name})"),
                ("year", f"date_trunc('year', {name})")]
    if kind == "VARCHAR":
        length = _code_length(con, source, name)
        if length:
            prefixes = (5, 2) if length > 5 else (2,) if length > 2 else ()
            return [(f"first {p} characters", f"left({name}, {p})") for p in prefixes] + \
                [("drop", None)]
    return [("drop", None)]


def _code_length(con: duckdb.DuckDBPyConnection, source: str, name: str) -> int:
    """The longest value when every value is a code (letters and digits, no spaces), else 0."""
    row = con.execute(
        f"SELECT max(length({name})), bool_and(regexp_full_match({name}, '[0-9A-Za-z]+')) "
        f"FROM {source} WHERE {name} IS NOT NULL").fetchall()[0]
    if row[0] is None or not row[1] or row[0] > CODE_LENGTH:
        return 0
    return int(row[0])
