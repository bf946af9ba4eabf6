"""What every reader hands back: a `Staged` source of text columns, and the job's limits.

A staged source is a DuckDB table expression whose columns are all VARCHAR; types are
inferred later over every file together. Column names are made usable here, once, for every
format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CHUNK = 4 << 20

SOURCE_COLUMN = "_source_file"  # the hub's provenance column: each row's file

Progress = Callable[[int], None]  # bytes read so far (of this file)
Watch = Callable[[], None]        # called while a child reads; raises to cancel


@dataclass
class Staged:
    name: str                 # as the user knows the file ("a.zip/b.csv" inside archives)
    relation: str             # DuckDB table expression with VARCHAR columns
    columns: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    # staged file path → lines to add to a line number DuckDB reports in it
    line_shift: dict[str, int] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # column → the file's own name


@dataclass(frozen=True)
class Limits:
    """What one job may take, from the settings."""

    memory_mb: int       # DPGHUB_JOB_MEMORY_MB: also the children's memory limit
    max_rows: int
    max_columns: int
    zip_ratio: int
    zip_bytes: int
    line_bytes: int      # the longest CSV line (DuckDB's read buffer)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def usable_names(header: list[str]) -> tuple[list[str], dict[str, str]]:
    """Column names as given, trimmed; blanks named `column_N`. A name already used — compared
    without case, as SQL compares names, so `id, ID` — or the hub's own `_source_file` gets
    a suffix (`ID_2`, `_source_file_2`): the data is kept, and the hub's provenance column
    is never overwritten by a file's. Returns the names and {new name: the file's name}."""
    taken = {SOURCE_COLUMN.lower()}
    names: list[str] = []
    renamed: dict[str, str] = {}
    for index, raw in enumerate(header, start=1):
        name = raw.replace("\ufeff", "").strip() or f"column_{index}"
        if name.lower() in taken:
            number = 2
            while f"{name}_{number}".lower() in taken:
                number += 1
            renamed[f"{name}_{number}"] = name
            name = f"{name}_{number}"
        taken.add(name.lower())
        names.append(name)
    return names, renamed


def staged_parquet(name: str, answer: dict[str, Any]) -> Staged:
    """A Parquet file of text a child wrote (an Excel sheet, JSON records), as a source."""
    return Staged(name, f"read_parquet({sql_string(answer['parquet'])})", answer["columns"],
                  extra=answer.get("extra") or {}, renamed=answer.get("renamed") or {})
