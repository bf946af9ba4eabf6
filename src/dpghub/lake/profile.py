"""Per-column profile of a table version: nulls, distinct (approximate), min/max, top values,
and a histogram for numbers.

Two DuckDB passes over the version's Parquet files, whatever the width of the table:
1. count, approximate distinct, min and max of every column;
2. for columns with few distinct values, their exact value counts (`histogram`), and for
   numeric columns one binned `histogram` each. Columns whose values are nearly all different
   (names, addresses) get no top values: every value would count once.
"""

from __future__ import annotations

import math
from typing import Any

from ..core.duck import first_row
from .sources import quote_ident

BINS = 10
TOP = 5
FEW_DISTINCT = 1000
NUMERIC = ("integer", "decimal")
GROUP = 32


def profile(con, source: str | None, columns: list[dict[str, Any]]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """`source` is a DuckDB table expression over the version (None: the table is empty)."""
    if source is None:
        return {"rows": 0, "columns": []}
    first: list[str] = ["count(*)"]
    for col in columns:
        c = quote_ident(col["name"])
        first += [f"count({c})", f"approx_count_distinct({c})", f"CAST(min({c}) AS VARCHAR)",
                  f"CAST(max({c}) AS VARCHAR)"]
        if col["type"] in NUMERIC:
            first += [f"min({c})::DOUBLE", f"max({c})::DOUBLE"]
    row = _aggregate(con, first, source)
    total = int(row.pop(0) or 0)
    stats: list[dict[str, Any]] = []
    second: list[str] = []
    for col in columns:
        nonnull, distinct, low, high = row[:4]
        del row[:4]
        entry: dict[str, Any] = {"name": col["name"], "type": col["type"],
                                 "nulls": total - int(nonnull or 0),
                                 "distinct": int(distinct or 0),
                                 "min": low, "max": high}
        c = quote_ident(col["name"])
        if entry["distinct"] <= FEW_DISTINCT and nonnull and distinct is not None:
            entry["_top"] = len(second)
            second.append(f"histogram(CAST({c} AS VARCHAR))")
        if col["type"] in NUMERIC:
            lo, hi = row[0], row[1]
            del row[:2]
            if lo is not None and hi is not None and not (math.isinf(lo) or math.isinf(hi)):
                width = (hi - lo) / BINS or 1.0
                entry["_bins"] = (len(second), lo, width)
                second.append(f"histogram(least(CAST(floor(({c} - {lo!r}) / {width!r}) AS "
                              f"INTEGER), {BINS - 1}))")
        stats.append(entry)
    results: list[Any] = []
    for start in range(0, len(second), GROUP):  # histogram states are large: a few at a time
        results += _aggregate(con, second[start:start + GROUP], source)
    for entry in stats:
        top = entry.pop("_top", None)
        entry["top"] = []
        if top is not None:
            counts = sorted((results[top] or {}).items(), key=lambda kv: (-kv[1], str(kv[0])))
            entry["top"] = [{"value": v, "count": int(n)} for v, n in counts[:TOP]
                            if v is not None]
        bins = entry.pop("_bins", None)
        if bins is not None:
            index, lo, width = bins
            found = results[index] or {}
            entry["histogram"] = {"edges": [lo + width * i for i in range(BINS + 1)],
                                  "counts": [int(found.get(i, 0)) for i in range(BINS)]}
    return {"rows": total, "columns": stats}


def _aggregate(con, expressions: list[str], source: str) -> list[Any]:  # type: ignore[no-untyped-def]
    """Run the aggregates together; under memory pressure, one at a time; an aggregate that
    still does not fit is left empty (a profile never fails an ingestion)."""
    import duckdb

    try:
        return list(first_row(con, f"SELECT {', '.join(expressions)} FROM {source}") or [])
    except duckdb.OutOfMemoryException:
        if len(expressions) == 1:
            return [None]
    values: list[Any] = []
    for expression in expressions:
        values += _aggregate(con, [expression], source)
    return values
