"""Small helpers over DuckDB connections (results are always read to the end, as DuckDB 2
requires before the connection can run anything else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from ..config import Settings


def quote_ident(name: str) -> str:
    """A column or table name as a DuckDB identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def job_connection(settings: Settings, scratch: Path) -> duckdb.DuckDBPyConnection:
    """A connection for a background job: held to the job memory limit, spilling to the job's
    scratch folder, loading no extension (nothing is fetched from the network)."""
    spill = scratch / "spill"
    spill.mkdir(exist_ok=True)
    return duckdb.connect(config={
        "memory_limit": f"{settings.job_memory_mb}MB", "temp_directory": str(spill),
        "preserve_insertion_order": True, "autoinstall_known_extensions": False,
        "autoload_known_extensions": False})


def first_row(con: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: Any, sql: str, params: list[Any] | None = None) -> Any:
    row = first_row(con, sql, params)
    return row[0] if row else None
