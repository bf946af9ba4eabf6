"""Parquet files: the footer read in a child process (`confine`), the rows by DuckDB as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ...core.duck import quote_ident
from .. import confine
from ..errors import bad_file
from .staged import Limits, Staged, Watch, sql_string, usable_names


def stage_parquet(path: Path, name: str, scratch: Path, *, limits: Limits,
                  watch: Watch | None = None) -> Staged:
    """A Parquet file: its footer is read in a child (a hostile one may declare anything),
    its rows by DuckDB as text."""
    answer = confine.run("parquet", {"path": str(path), "name": name}, file=name,
                         memory_mb=limits.memory_mb, scratch=scratch, watch=watch)
    found = answer["columns"]
    columns, renamed = usable_names(found)
    # positional aliases: DuckDB itself would rename a second "ID" to "ID_1"
    aliases = ", ".join(quote_ident(f"c{i}") for i in range(len(found)))
    casts = ", ".join(f"CAST({quote_ident(f'c{i}')} AS VARCHAR) AS {quote_ident(c)}"
                      for i, c in enumerate(columns))
    return Staged(name, f"(SELECT {casts} FROM read_parquet({sql_string(str(path))}) "
                        f"AS t({aliases}))", columns, renamed=renamed)


def parquet_task(*, path: str, name: str) -> dict[str, Any]:
    """(In the child.) The file's column names, from its footer."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise bad_file("{file} is not a readable Parquet file: {reason}", file=name,
                       code="bad_parquet", reason=str(exc).splitlines()[0][:300]) from None
    return {"columns": list(schema.names)}
