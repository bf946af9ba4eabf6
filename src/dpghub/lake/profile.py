"""Per-column profile of a table version: nulls, distinct (approximate), min/max, top values,
and a histogram for numbers.

Two DuckDB passes over the version's Parquet files, whatever the width of the table: one for
the per-column aggregates (approximate distinct, min, max, and `approx_top_k` candidates),
one for the exact counts of those candidates and the histogram bins.
"""

from __future__ import annotations

import math
from typing import Any

from ..core.duck import first_row
from .sources import quote_ident, sql_string

BINS = 10
TOP = 5
NUMERIC = ("integer", "decimal")


def profile(con, files: list[str], columns: list[dict[str, Any]]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    if not files:
        return {"rows": 0, "columns": []}
    source = "read_parquet([" + ", ".join(sql_string(f) for f in files) + "])"
    first: list[str] = ["count(*)"]
    for col in columns:
        c = quote_ident(col["name"])
        text = f"CAST({c} AS VARCHAR)"
        first += [f"count({c})", f"approx_count_distinct({c})", f"CAST(min({c}) AS VARCHAR)",
                  f"CAST(max({c}) AS VARCHAR)", f"approx_top_k({text}, {TOP})"]
        if col["type"] in NUMERIC:
            first += [f"min({c})::DOUBLE", f"max({c})::DOUBLE"]
    row = list(first_row(con, f"SELECT {', '.join(first)} FROM {source}"))
    total = int(row.pop(0))
    stats = []
    for col in columns:
        nonnull, distinct, low, high, top = row[:5]
        del row[:5]
        entry: dict[str, Any] = {"name": col["name"], "type": col["type"],
                                 "nulls": total - int(nonnull), "distinct": int(distinct or 0),
                                 "min": low, "max": high,
                                 "top": [v for v in (top or []) if v is not None]}
        if col["type"] in NUMERIC:
            entry["_range"] = (row[0], row[1])
            del row[:2]
        stats.append(entry)

    second: list[str] = []
    for entry in stats:
        c = quote_ident(entry["name"])
        for value in entry["top"]:
            second.append(f"count_if(CAST({c} AS VARCHAR) = {sql_string(str(value))})")
        low, high = entry.get("_range", (None, None))
        if low is not None and high is not None and not (math.isinf(low) or math.isinf(high)):
            width = (high - low) / BINS or 1.0
            entry["_edges"] = [low + width * i for i in range(BINS + 1)]
            for i in range(BINS):
                lower = entry["_edges"][i]
                upper = entry["_edges"][i + 1]
                last = i == BINS - 1
                second.append(f"count_if({c} >= {lower!r} AND {c} {'<=' if last else '<'} "
                              f"{upper!r})")
    counts = list(first_row(con, f"SELECT {', '.join(second)} FROM {source}")) \
        if second else []
    for entry in stats:
        values = entry.pop("top")
        entry["top"] = [{"value": v, "count": int(counts.pop(0))} for v in values]
        entry["top"].sort(key=lambda item: -item["count"])
        entry.pop("_range", None)
        edges = entry.pop("_edges", None)
        if edges is not None:
            entry["histogram"] = {"edges": edges, "counts": [int(counts.pop(0))
                                                             for _ in range(BINS)]}
    return {"rows": total, "columns": stats}
