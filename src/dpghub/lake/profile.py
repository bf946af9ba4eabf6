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

from ..core.duck import first_row, quote_ident

BINS = 10
TOP = 5
FEW_DISTINCT = 1000
NUMERIC = ("integer", "decimal")
GROUP = 32


def profile(con, source: str | None, columns: list[dict[str, Any]],  # type: ignore[no-untyped-def]
            null_counts: dict[str, int] | None = None) -> dict[str, Any]:
    """`source` is a DuckDB table expression over the version (None: the table is empty).
    `null_counts` from the Delta log spare a scan for the columns they cover."""
    if source is None:
        return {"rows": 0, "columns": []}
    known = null_counts or {}
    # min, max and count(*) come from Parquet metadata; only the rest needs a scan
    first: list[str] = ["count(*)"]
    for col in columns:
        c = quote_ident(col["name"])
        first += [f"min({c})", f"max({c})"]
    bounds = _aggregate(con, first, source)
    total = int(bounds.pop(0) or 0)
    scan: list[str] = []
    for col in columns:
        c = quote_ident(col["name"])
        scan.append(f"approx_count_distinct({c})")
        if col["name"] not in known:
            scan.append(f"count({c})")
    row = _aggregate(con, scan, source)
    stats: list[dict[str, Any]] = []
    second: list[str] = []
    for col in columns:
        low, high = bounds[:2]
        del bounds[:2]
        distinct = row.pop(0)
        if col["name"] in known:
            nonnull = total - known[col["name"]]
        else:
            nonnull = row.pop(0)
        entry: dict[str, Any] = {"name": col["name"], "type": col["type"],
                                 "nulls": total - int(nonnull or 0),
                                 "distinct": int(distinct or 0),
                                 "min": _text(low), "max": _text(high)}
        c = quote_ident(col["name"])
        if entry["distinct"] <= FEW_DISTINCT and nonnull and distinct is not None:
            entry["_top"] = len(second)
            second.append(f"histogram(CAST({c} AS VARCHAR))")
        if col["type"] in NUMERIC:
            lo = float(low) if low is not None else None
            hi = float(high) if high is not None else None
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


def _text(value: Any) -> str | None:
    """Bounds as text, as DuckDB would print them (dates ISO, date-times with a space)."""
    from datetime import datetime

    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
