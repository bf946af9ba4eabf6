"""Final column types (overrides, then the table's own where compatible) and upsert keys."""

from __future__ import annotations

from typing import Any

import duckdb

from ...core.duck import first_row, quote_ident
from ..errors import IngestError
from ..infer import Column
from ..readers import SOURCE_COLUMN

WIDENS = {("integer", "decimal"): "decimal"}  # (new, existing) → stored type


def reconcile(inferred: list[Column], existing: list[dict[str, Any]], params: dict[str, Any]
              ) -> tuple[list[Column], dict[str, Any]]:
    """Final types: overrides first, then the table's existing types where compatible."""
    overrides: dict[str, str] = params.get("types") or {}
    names = {c.name for c in inferred}
    for column in overrides:
        if column not in names:
            raise IngestError("Type override for {column}, which is not in the files (they "
                              "have: {columns})", code="unknown_column", column=column,
                              columns=", ".join(sorted(names)))
    old = {c["name"]: c["type"] for c in existing if c["name"] != SOURCE_COLUMN}
    keep_old = params["mode"] != "replace"
    final: list[Column] = []
    for column in inferred:
        kind = overrides.get(column.name, column.type)
        previous = old.get(column.name) if keep_old else None
        if previous and previous != kind:
            if (kind, previous) in WIDENS:
                kind = WIDENS[(kind, previous)]
            elif column.name in overrides and previous != "text":
                raise IngestError("Column {column} is {previous} in the table; the override "
                                  "{type} would change it (use mode replace to change types)",
                                  code="incompatible_type", column=column.name,
                                  previous=previous, type=kind)
            else:
                kind = previous  # every value is checked below; a misfit is an error
        final.append(Column(column.name, kind))
    changes: dict[str, Any] = {}
    if keep_old and old:
        added = [c.name for c in inferred if c.name not in old]
        missing = [name for name in old if name not in names]
        if added:
            changes["added"] = added
        if missing:
            changes["missing"] = missing
    return final, changes


def check_keys(con: duckdb.DuckDBPyConnection, keys: list[str], names: list[str]) -> None:
    """An upsert's key columns: present in the files, never empty, unique."""
    for key in keys:
        if key not in names:
            raise IngestError("Key column {column} is not in the files (they have: {columns})",
                              code="unknown_key", column=key, columns=", ".join(names))
    cols = ", ".join(quote_ident(k) for k in keys)
    null = first_row(con, f"SELECT {SOURCE_COLUMN} FROM src WHERE "
                       + " OR ".join(f"{quote_ident(k)} IS NULL" for k in keys)
                       + " LIMIT 1")
    if null:
        raise IngestError("{file}: a row has no value in key column(s) {column}",
                          code="null_key", file=null[0], column=", ".join(keys))
    dup = first_row(con, f"SELECT {cols}, count(*) FROM src GROUP BY ALL HAVING count(*) > 1 "
                      "LIMIT 1")
    if dup:
        raise IngestError("Key {value} appears {count} times in the files; an upsert key must "
                          "be unique", code="duplicate_key", column=", ".join(keys),
                          value=" / ".join(str(v) for v in dup[:-1]), count=dup[-1])


def ordered(columns: list[dict[str, Any]], existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's columns in their earlier order, new ones after them, `_source_file` last."""
    order = {c["name"]: i for i, c in enumerate(existing)}
    return sorted(columns, key=lambda c: (order.get(c["name"], len(order)),
                                          c["name"] == SOURCE_COLUMN))
