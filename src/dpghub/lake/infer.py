"""Column types inferred from every value of every file, not from the first rows.

One DuckDB pass computes, per text column, how many values parse as each candidate type
(with native TRY_CASTs, which are cheap); a second, narrow pass checks the few details that
need patterns (thousands separators, letters in would-be numbers) only for columns still in
the running. Rules, in order:

- no values → text;
- codes stay text: a leading zero ("0101"), or a name saying code/number/id/phone/zip;
- `true`/`false` only → boolean (Y/N stays text: it is as often a code as a flag);
- numbers (thousands separators allowed, "9,318,500") → integer, or decimal when any has a
  fraction; latitude/longitude are decimals;
- "2020-07-01" (also / and .) → date; "20200701" → date only when the name says date;
- date and time → timestamp; "09:00" → time (kept as text "HH:MM[:SS]", Delta has no TIME).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..core.duck import first_row
from .sources import quote_ident

TYPES = ("text", "integer", "decimal", "date", "timestamp", "time", "boolean")
CODE_NAME = re.compile(r"(코드|번호|code|_cd$|^cd_|_no$|^no$|\bid\b|_id$|^id|우편|zip|전화|팩스|"
                       r"phone|tel$|fax|사업자|주민|계좌)", re.I)
DATE_NAME = re.compile(r"(일자|날짜|일시|년월일|기준일|생성일|말소일|date|_dt$|ymd|^dt_)", re.I)
NUMBER_WITH_SEPARATORS = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type}


# DuckDB evaluates both sides of an AND over every value, but a CASE only over the values
# its condition selects: the costly tests (casts to dates and times, which fail on almost
# every value of a text column) sit behind a CASE whose condition is cheap. Measured on the
# 5,000-row sample of a 21-column file: 0.52 s of statistics before, see bench/ingest.py.
DATE_STARTS = "0123456789+-iIeE"   # DuckDB also reads "infinity" and "epoch" as dates


def _stats_sql(columns: list[str], source: str) -> str:
    parts = []
    for i, name in enumerate(columns):
        c = quote_ident(name)
        t = f"trim({c})"
        datelike = (f"({t}[1] BETWEEN '0' AND '9' OR {t}[1] IN (" +
                    ", ".join(f"'{ch}'" for ch in DATE_STARTS if not ch.isdigit()) + "))")
        parts += [
            f"count({c}) AS n{i}",
            f"count(TRY_CAST(replace({t}, ',', '') AS DOUBLE)) AS num{i}",
            f"count(TRY_CAST(replace({t}, ',', '') AS BIGINT)) AS int{i}",
            f"count_if(CASE WHEN {t}[1] = '0' THEN length({t}) > 1 AND {t}[2] BETWEEN '0' "
            f"AND '9' AND ltrim({t}, '0') <> '' ELSE false END) AS lz{i}",
            # "0101" is a code; "000" is zero
            f"count_if(contains({c}, ',')) AS comma{i}",
            f"count(CASE WHEN {datelike} THEN TRY_CAST({t} AS DATE) END) AS date{i}",
            f"count(CASE WHEN {datelike} THEN TRY_CAST({t} AS TIMESTAMP) END) AS ts{i}",
            f"count(CASE WHEN length({t}) <= 8 THEN TRY_CAST({t} AS TIME) END) AS time{i}",
            f"count_if(CASE WHEN length({t}) IN (4, 5) THEN lower({t}) IN ('true', 'false') "
            f"ELSE false END) AS bool{i}",
            f"count(CASE WHEN length({t}) = 8 THEN TRY_STRPTIME({t}, '%Y%m%d') END) AS d8{i}",
            f"max(length({t})) AS maxlen{i}",
            f"min(length({t})) AS minlen{i}",
            f"count_if(contains({t}, '.')) AS dot{i}",
        ]
    return f"SELECT {', '.join(parts)} FROM {source}"


def _detail_sql(columns: list[tuple[int, str]], source: str) -> str:
    parts = []
    for i, name in columns:
        t = f"trim({quote_ident(name)})"
        parts += [
            f"count_if(regexp_matches({t}, '[A-Za-z]')) AS letters{i}",
            f"count_if(contains({t}, ',') AND NOT regexp_full_match({t}, "
            f"'{NUMBER_WITH_SEPARATORS}')) AS badsep{i}",
            f"count_if(regexp_full_match({t}, '[0-9]{{4}}[-./][0-9]{{1,2}}[-./][0-9]{{1,2}}'))"
            f" AS isodate{i}",
        ]
    return f"SELECT {', '.join(parts)} FROM {source}"


SAMPLE_ROWS = 5_000


def infer(con, columns: list[str], source: str) -> list[Column]:  # type: ignore[no-untyped-def]
    """Types for `columns` of the DuckDB table expression `source` (all VARCHAR), checked
    against every value: propose from a sample, verify in one pass, redo what failed."""
    if not columns:
        return []
    proposed = propose(con, columns, source)
    to_check = [c for c in proposed.columns if c.type != "text"]
    redo = list(proposed.unseen)
    if to_check:
        row = first_row(con, "SELECT " + ", ".join(
            f"count_if({misfit_sql(c)})" for c in to_check) + f" FROM {source}")
        redo += [c.name for c, bad in zip(to_check, row or [], strict=True) if bad]
    return refine(con, proposed.columns, redo, source)


@dataclass(frozen=True)
class Proposal:
    columns: list[Column]
    unseen: list[str]  # columns with no value in the sample: typed from all values later


def propose(con, columns: list[str], source: str,  # type: ignore[no-untyped-def]
            sampled: list[str] | None = None) -> Proposal:
    """Types from the first rows of `source`; callers must check every value against them
    (`misfit_sql`) and `refine` the columns that do not hold. `sampled` are the columns the
    source has (the first file of several); the others count as unseen."""
    present = [c for c in columns if sampled is None or c in sampled]
    sample = f"(SELECT * FROM {source} LIMIT {SAMPLE_ROWS})"
    found, nonnull = _infer_counted(con, present, sample) if present else ([], [])
    types = {c.name: c for c in found}
    unseen = [c.name for c, n in zip(found, nonnull, strict=True) if n == 0]
    unseen += [c for c in columns if c not in types]
    return Proposal([types.get(c, Column(c, "text")) for c in columns], unseen)


def refine(con, columns: list[Column], redo: list[str], source: str) -> list[Column]:  # type: ignore[no-untyped-def]
    """Infer `redo` columns again from all of their values."""
    if not redo:
        return columns
    again = {c.name: c for c in _infer_full(con, redo, source)}
    return [again.get(c.name, c) for c in columns]


def misfit_sql(column: Column) -> str:
    """True for a value that would not have let the column get its proposed type.

    Written for speed over millions of values: cheap tests first, patterns only behind a CASE
    for the rare values that need them.
    """
    c = quote_ident(column.name)
    separators = (f"CASE WHEN contains({c}, ',') THEN NOT regexp_full_match(trim({c}), "
                  f"'{NUMBER_WITH_SEPARATORS}') ELSE false END")
    leading_zero = (f"CASE WHEN starts_with(ltrim({c}), '0') THEN length(trim({c})) > 1 AND "
                    f"NOT starts_with(ltrim({c}), '0.') AND ltrim(trim({c}), '0') <> '' "
                    "ELSE false END")
    number = f"TRY_CAST(replace({c}, ',', '') AS DOUBLE)"
    if column.type == "integer":
        bad = (f"TRY_CAST(replace({c}, ',', '') AS BIGINT) IS NULL OR contains({c}, '.') OR "
               f"{leading_zero} OR {separators}")
    elif column.type == "decimal":
        bad = f"{number} IS NULL OR NOT isfinite({number}) OR {separators}"
    elif column.type == "date" and DATE_NAME.search(column.name):
        bad = (f"CASE WHEN length({c}) = 8 THEN TRY_STRPTIME({c}, '%Y%m%d') IS NULL "
               f"ELSE TRY_CAST({c} AS DATE) IS NULL OR length(trim({c})) > 10 END")
    elif column.type == "date":
        bad = f"TRY_CAST({c} AS DATE) IS NULL OR length(trim({c})) > 10"
    elif column.type == "timestamp":
        bad = f"TRY_CAST({c} AS TIMESTAMP) IS NULL OR length(trim({c})) < 16"
    elif column.type == "time":
        bad = f"TRY_CAST({c} AS TIME) IS NULL OR length(trim({c})) NOT BETWEEN 4 AND 8"
    elif column.type == "boolean":
        bad = f"lower(trim({c})) NOT IN ('true', 'false')"
    else:
        return "false"
    return f"({c} IS NOT NULL AND ({bad}))"


def _infer_full(con, columns: list[str], source: str) -> list[Column]:  # type: ignore[no-untyped-def]
    return _infer_counted(con, columns, source)[0]


def _infer_counted(con, columns: list[str], source: str  # type: ignore[no-untyped-def]
                   ) -> tuple[list[Column], list[int]]:
    row = first_row(con, _stats_sql(columns, source))
    stats = _by_column(row, len(columns), 13)  # type: ignore[arg-type]
    candidates = [(i, c) for i, c in enumerate(columns) if stats[i][0] and (
        stats[i][1] == stats[i][0] or stats[i][5] == stats[i][0] or stats[i][6] == stats[i][0])]
    detail: dict[int, tuple[int, int, int]] = {}
    if candidates:
        drow = first_row(con, _detail_sql(candidates, source))
        for k, (i, _) in enumerate(candidates):
            detail[i] = tuple(drow[3 * k: 3 * k + 3])  # type: ignore[assignment, index]
    types = [Column(c, _decide(c, stats[i], detail.get(i))) for i, c in enumerate(columns)]
    return types, [int(s[0] or 0) for s in stats]


def _by_column(row: tuple[Any, ...], count: int, width: int) -> list[tuple[Any, ...]]:
    return [tuple(row[i * width:(i + 1) * width]) for i in range(count)]


def _decide(name: str, s: tuple[Any, ...], detail: tuple[int, int, int] | None) -> str:
    n, num, integer, lz, comma, dates, ts, times, bools, d8, maxlen, minlen, dots = s
    if not n:
        return "text"
    if bools == n:
        return "boolean"
    letters, badsep, isodate = detail or (0, 0, 0)
    if num == n and not letters and not badsep:
        if DATE_NAME.search(name) and d8 == n:
            return "date"
        if lz or CODE_NAME.search(name):
            return "text"
        if integer == n and not dots:  # DuckDB's BIGINT cast would round "37.5"
            return "integer"
        return "decimal"
    if dates == n and isodate == n:
        return "date"
    if ts == n and (maxlen or 0) >= 16:
        return "timestamp"
    if times == n and (maxlen or 0) <= 8 and (minlen or 0) >= 4:
        return "time"
    return "text"


def cast_sql(column: Column) -> str:
    """The SQL that turns a text column into its type. TRY_ casts: a value that does not fit
    becomes NULL here and is caught by the column's check flag, which stops the write."""
    c = quote_ident(column.name)
    t = f"trim({c})"
    kind = column.type
    if kind == "integer":
        return f"TRY_CAST(replace({t}, ',', '') AS BIGINT) AS {c}"
    if kind == "decimal":
        return f"TRY_CAST(replace({t}, ',', '') AS DOUBLE) AS {c}"
    if kind == "date":
        return (f"CASE WHEN length({t}) = 8 AND NOT contains({t}, '-') "
                f"THEN CAST(TRY_STRPTIME({t}, '%Y%m%d') AS DATE) "
                f"ELSE TRY_CAST({t} AS DATE) END AS {c}")
    if kind == "timestamp":
        return f"TRY_CAST({t} AS TIMESTAMP) AS {c}"
    if kind == "time":
        return f"CAST(TRY_CAST({t} AS TIME) AS VARCHAR) AS {c}"
    if kind == "boolean":
        return f"CAST(lower({t}) = 'true' AS BOOLEAN) AS {c}"
    return f"{c}"


def check_sql(column: Column) -> str:
    """A predicate true for a non-empty value that does not fit the column's type."""
    c = quote_ident(column.name)
    t = f"trim({c})"
    kind = column.type
    fits = {
        "integer": f"TRY_CAST(replace({t}, ',', '') AS BIGINT) IS NOT NULL",
        "decimal": f"TRY_CAST(replace({t}, ',', '') AS DOUBLE) IS NOT NULL",
        "date": f"(TRY_CAST({t} AS DATE) IS NOT NULL OR (length({t}) = 8 AND "
                f"TRY_STRPTIME({t}, '%Y%m%d') IS NOT NULL))",
        "timestamp": f"TRY_CAST({t} AS TIMESTAMP) IS NOT NULL",
        "time": f"TRY_CAST({t} AS TIME) IS NOT NULL",
        "boolean": f"lower({t}) IN ('true', 'false')",
    }.get(kind)
    if fits is None:
        return "false"
    return f"({c} IS NOT NULL AND {t} <> '' AND NOT ({fits}))"
