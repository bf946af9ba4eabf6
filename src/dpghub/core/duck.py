"""Small helpers over DuckDB connections (results are always read to the end, as DuckDB 2
requires before the connection can run anything else)."""

from __future__ import annotations

from typing import Any


def first_row(con: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: Any, sql: str, params: list[Any] | None = None) -> Any:
    row = first_row(con, sql, params)
    return row[0] if row else None
