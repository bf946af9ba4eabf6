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

from ..core.duck import first_row, quote_ident

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
# every value of a text column) sit behind a CASE whose condition is cheap.
# trim() removes spaces only; DuckDB's casts also skip tabs, line breaks and form feeds
CAST_SPACE = "\t\n\v\f\r"
DATE_STARTS = "0123456789+-iIeE" + CAST_SPACE  # DuckDB also reads "infinity", "epoch"
NUMBER_STARTS = "0123456789+-.,iInN" + CAST_SPACE  # "inf", "nan"; ",5" loses its comma
TIME_STARTS = "0123456789eE" + CAST_SPACE       # "epoch" is midnight
STATS = ("n", "num", "int", "lz", "comma", "date", "ts", "time", "bool", "d8", "maxlen",
         "minlen", "dot")
NO_VALUES = (0,) * 10 + (None, None, 0)


def _long(columns: list[str], source: str) -> str:
    """The non-null values of `columns` as rows (_column, v, t = trimmed v). The statistics
    are then one set of aggregates grouped by column, whatever the width of the table:
    planning 13 aggregates per column of a wide file cost more than running them."""
    cols = ", ".join(quote_ident(c) for c in columns)
    return (f"(SELECT _column, v, trim(v) AS t FROM (UNPIVOT (SELECT {cols} FROM {source}) "
            f"ON {cols} INTO NAME _column VALUE v))")


def _stats_sql(columns: list[str], source: str) -> str:
    """One row per column that has values: its name, then the counts named in STATS."""
    datelike, numberlike, timelike = (_starts("t", chars) for chars in (
        DATE_STARTS, NUMBER_STARTS, TIME_STARTS))
    parts = [
        "count(v)",
        f"count(CASE WHEN {numberlike} THEN TRY_CAST(replace(t, ',', '') AS DOUBLE) END)",
        f"count(CASE WHEN {numberlike} THEN TRY_CAST(replace(t, ',', '') AS BIGINT) END)",
        # "0101" is a code; "000" is zero
        "count_if(CASE WHEN t[1] = '0' THEN length(t) > 1 AND t[2] BETWEEN '0' AND '9' "
        "AND ltrim(t, '0') <> '' ELSE false END)",
        "count_if(contains(v, ','))",
        f"count(CASE WHEN {datelike} THEN TRY_CAST(t AS DATE) END)",
        f"count(CASE WHEN {datelike} THEN TRY_CAST(t AS TIMESTAMP) END)",
        f"count(CASE WHEN length(t) <= 8 AND {timelike} THEN TRY_CAST(t AS TIME) END)",
        "count_if(CASE WHEN length(t) IN (4, 5) THEN lower(t) IN ('true', 'false') "
        "ELSE false END)",
        "count(CASE WHEN length(t) = 8 THEN TRY_STRPTIME(t, '%Y%m%d') END)",
        "max(length(t))",
        "min(length(t))",
        "count_if(contains(t, '.'))",
    ]
    return (f"SELECT _column, {', '.join(parts)} FROM {_long(columns, source)} "
            "GROUP BY _column")


def _starts(t: str, chars: str) -> str:
    """A cheap test that `t` may parse: its first character is one of `chars`."""
    others = ", ".join(f"'{ch}'" for ch in chars if not ch.isdigit())
    return f"({t}[1] BETWEEN '0' AND '9' OR {t}[1] IN ({others}))"


def _detail_sql(columns: list[str], source: str) -> str:
    return (
        "SELECT _column, count_if(regexp_matches(t, '[A-Za-z]')), "
        f"count_if(contains(t, ',') AND NOT regexp_full_match(t, '{NUMBER_WITH_SEPARATORS}')), "
        "count_if(regexp_full_match(t, '[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}')) "
        f"FROM {_long(columns, source)} GROUP BY _column")


def _by_name(con, sql: str) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    return {row[0]: tuple(row[1:]) for row in con.execute(sql).fetchall()}


SAMPLE_ROWS = 5_000


def infer(con, columns: list[str], source: str) -> list[Column]:  # type: ignore[no-untyped-def]
    """Types for `columns` of the DuckDB table expression `source` (all VARCHAR), checked
    against every value: propose from a sample, verify in one pass, redo what failed."""
    if not columns:
        return []
    proposed = propose(con, columns, source)
    redo = list(proposed.unseen) + misfits(con, proposed.columns, source)
    return refine(con, proposed.columns, redo, source)


def misfits(con, columns: list[Column], source: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The columns with at least one value that does not fit their proposed type."""
    to_check = [c for c in columns if c.type != "text"]
    if not to_check:
        return []
    row = first_row(con, "SELECT " + ", ".join(
        f"count_if({misfit_sql(c)})" for c in to_check) + f" FROM {source}")
    return [c.name for c, bad in zip(to_check, row or [], strict=True) if bad]


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
    for the rare values that need them. The casts are spelled exactly as in `cast_sql` (and
    as the statistics count them), so that DuckDB computes each once for both columns of the
    write pass.
    """
    c = quote_ident(column.name)
    separators = (f"CASE WHEN contains({c}, ',') THEN NOT regexp_full_match(trim({c}), "
                  f"'{NUMBER_WITH_SEPARATORS}') ELSE false END")
    leading_zero = (f"CASE WHEN starts_with(ltrim({c}), '0') THEN length(trim({c})) > 1 AND "
                    f"NOT starts_with(ltrim({c}), '0.') AND ltrim(trim({c}), '0') <> '' "
                    "ELSE false END")
    cast = _cast_expression(column)
    if column.type == "integer":
        bad = f"{cast} IS NULL OR contains({c}, '.') OR {leading_zero} OR {separators}"
    elif column.type == "decimal":
        bad = f"{cast} IS NULL OR NOT isfinite({cast}) OR {separators}"
    elif column.type == "date" and DATE_NAME.search(column.name):
        t = f"trim({c})"     # as the statistics see it
        bad = (f"CASE WHEN length({t}) = 8 THEN TRY_STRPTIME({t}, '%Y%m%d') IS NULL "
               f"ELSE TRY_CAST({t} AS DATE) IS NULL OR length({t}) > 10 END")
    elif column.type == "date":
        bad = f"TRY_CAST(trim({c}) AS DATE) IS NULL OR length(trim({c})) > 10"
    elif column.type == "timestamp":
        bad = f"{cast} IS NULL OR length(trim({c})) < 16"
    elif column.type == "time":
        bad = f"{_time(c)} IS NULL OR length(trim({c})) NOT BETWEEN 4 AND 8"
    elif column.type == "boolean":
        bad = f"lower(trim({c})) NOT IN ('true', 'false')"
    else:
        return "false"
    return f"({c} IS NOT NULL AND ({bad}))"


def _infer_full(con, columns: list[str], source: str) -> list[Column]:  # type: ignore[no-untyped-def]
    return _infer_counted(con, columns, source)[0]


def _infer_counted(con, columns: list[str], source: str  # type: ignore[no-untyped-def]
                   ) -> tuple[list[Column], list[int]]:
    found = _by_name(con, _stats_sql(columns, source))
    stats = [found.get(c, NO_VALUES) for c in columns]
    candidates = [c for c, s in zip(columns, stats, strict=True) if s[0] and (
        s[1] == s[0] or s[5] == s[0] or s[6] == s[0])]
    detail = _by_name(con, _detail_sql(candidates, source)) if candidates else {}
    types = [Column(c, _decide(c, s, detail.get(c))) for c, s in zip(columns, stats, strict=True)]
    return types, [int(s[0] or 0) for s in stats]


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
    if column.type == "time":
        return f"CAST({_time(c)} AS VARCHAR) AS {c}"
    return f"{_cast_expression(column)} AS {c}"


def _cast_expression(column: Column) -> str:
    c = quote_ident(column.name)
    t = f"trim({c})"
    kind = column.type
    if kind == "integer":
        return f"TRY_CAST(replace({t}, ',', '') AS BIGINT)"
    if kind == "decimal":
        return f"TRY_CAST(replace({t}, ',', '') AS DOUBLE)"
    if kind == "date":
        return (f"CASE WHEN length({t}) = 8 AND NOT contains({t}, '-') "
                f"THEN CAST(TRY_STRPTIME({t}, '%Y%m%d') AS DATE) "
                f"ELSE TRY_CAST({t} AS DATE) END")
    if kind == "timestamp":
        return f"TRY_CAST({t} AS TIMESTAMP)"
    if kind == "boolean":
        return f"CAST(lower({t}) = 'true' AS BOOLEAN)"
    return c


def _time(c: str) -> str:
    return f"TRY_CAST(trim({c}) AS TIME)"


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
