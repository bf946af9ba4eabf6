"""Excel workbooks (.xlsx and legacy .xls), read by calamine in a child process (`confine`).

A sheet is checked for its extent first (`sheet_extent`), then read row by row into a Parquet
file of text.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import confine
from ..errors import bad_file
from .sheet_extent import check_extent
from .staged import Limits, Staged, Watch, staged_parquet, usable_names

BATCH_ROWS = 65_536  # rows of a sheet written to its Parquet file at once


def stage_excel(path: Path, name: str, scratch: Path, *, limits: Limits,
                sheet: str | None = None, watch: Watch | None = None) -> Staged:
    """A legacy .xls workbook's sheet, staged in a child (an .xlsx comes by `open_archive`)."""
    answer = confine.run("excel", {
        "path": str(path), "name": name, "scratch": str(scratch), "sheet": sheet,
        "max_rows": limits.max_rows, "max_columns": limits.max_columns,
        "memory_mb": limits.memory_mb}, file=name, memory_mb=limits.memory_mb,
        scratch=scratch, watch=watch)
    return staged_parquet(name, answer)


def excel_task(*, path: str, name: str, scratch: str, sheet: str | None, max_rows: int,
               max_columns: int, memory_mb: int) -> dict[str, Any]:
    """(In the child.) Check the sheet's extent where the format lets us (.xlsx: the sheet's
    XML, streamed), then read it row by row into a Parquet file of text."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(path)
    except Exception as exc:  # calamine raises its own types for damaged files
        raise bad_file("{file} is not a readable Excel workbook ({reason})", file=name,
                       code="bad_excel", reason=str(exc)[:200]) from None
    names = book.sheet_names
    chosen = sheet or (names[0] if names else "")
    if chosen not in names:
        if chosen.isdigit() and 1 <= int(chosen) <= len(names):
            chosen = names[int(chosen) - 1]
        else:
            raise bad_file("{file} has no sheet {sheet}; its sheets are: {sheets}", file=name,
                           code="no_such_sheet", sheet=chosen, sheets=", ".join(names))
    if zipfile.is_zipfile(path):
        check_extent(Path(path), name, chosen, max_rows=max_rows, max_columns=max_columns,
                     memory_mb=memory_mb)
    try:
        grid = book.get_sheet_by_name(chosen)
    except Exception as exc:
        if isinstance(exc, MemoryError):
            raise
        raise bad_file("{file} is not a readable Excel workbook ({reason})", file=name,
                       code="bad_excel", reason=str(exc)[:200]) from None
    target = Path(scratch) / f"{Path(path).name}.sheet.parquet"
    columns, renamed = _write_sheet(grid.iter_rows(), target, name, chosen, max_rows)
    return {"parquet": str(target), "columns": columns, "renamed": renamed,
            "extra": {"sheet": chosen}}


def _write_sheet(rows: Any, target: Path, name: str, sheet: str, max_rows: int
                 ) -> tuple[list[str], dict[str, str]]:
    """The first row with a value is the header; the rows after it are written in batches."""
    header = next((row for row in rows if any(_cell_text(c) for c in row)), None)
    if header is None:
        raise bad_file("Sheet {sheet} of {file} is empty", file=name, code="empty_file",
                       sheet=sheet)
    columns, renamed = usable_names([_cell_text(c) or "" for c in header])
    width = len(columns)
    schema = pa.schema([(c, pa.string()) for c in columns])
    batch: list[list[str | None]] = [[] for _ in range(width)]
    count = 0
    with pq.ParquetWriter(target, schema) as writer:
        for line, row in enumerate(rows, start=2):
            if len(row) > width and any(_cell_text(c) for c in row[width:]):
                raise bad_file("{file} sheet {sheet} row {line}: more cells than header columns",
                               file=name, code="ragged_row", line=line, sheet=sheet)
            for index in range(width):
                batch[index].append(_cell_text(row[index]) if index < len(row) else None)
            count += 1
            if count > max_rows:
                raise bad_file("The files hold more than {limit} rows", code="too_many_rows",
                               file=name, limit=max_rows)
            if len(batch[0]) >= BATCH_ROWS:
                writer.write_table(_text_table(batch, schema))
                batch = [[] for _ in range(width)]
        writer.write_table(_text_table(batch, schema))
    return columns, renamed


def _text_table(columns: list[list[str | None]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays([pa.array(v, pa.string()) for v in columns], schema=schema)


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) \
            else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)
