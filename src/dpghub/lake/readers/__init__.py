"""Readers: from received bytes to a DuckDB relation of text columns, whatever the format.

Each input file becomes a `Staged` source: a DuckDB table expression whose columns are all
VARCHAR (types are inferred later over every file together). `detect_format` says which
reader a file needs and `stage` runs it; a zip (an archive of files, or an .xlsx workbook) is
opened first with `open_archive`.

CSV is copied to UTF-8 in one streaming pass (`utf8`; CP949/EUC-KR detected or forced, UTF-16
too) and read by DuckDB under the job's memory limit. The readers that allocate what a file
declares — Excel (calamine), zip archives (their directory and their members' codecs), JSON,
Parquet footers — run in a child process under a memory limit (`lake/confine.py`): their
functions named `*_task` run there, and stage Excel sheets and JSON as Parquet files of text.
"""

from __future__ import annotations

from pathlib import Path

from .archive import Opened, open_archive
from .csv import stage_csv
from .detect import detect_format
from .excel import stage_excel
from .json import stage_json
from .parquet import stage_parquet
from .staged import SOURCE_COLUMN, Limits, Progress, Staged, Watch, sql_string
from .utf8 import line_too_long

__all__ = ["SOURCE_COLUMN", "Limits", "Opened", "Staged", "detect_format", "line_too_long",
           "open_archive", "sql_string", "stage"]


def stage(kind: str, path: Path, name: str, scratch: Path, *, limits: Limits,
          encoding: str | None, delimiter: str | None, sheet: str | None,
          progress: Progress | None, watch: Watch | None, nested: bool) -> Staged:
    """Stage one file of a known `kind` (from `detect_format`). `nested`: the file came out of
    an archive, where a workbook is welcome and another archive is not."""
    if kind == "csv":
        return stage_csv(path, name, scratch, encoding=encoding or "auto",
                         delimiter=delimiter, progress=progress,
                         buffer_bytes=limits.line_bytes)
    if kind == "excel":
        return stage_excel(path, name, scratch, limits=limits, sheet=sheet, watch=watch)
    if kind == "archive":
        opened = open_archive(path, name, scratch, limits=limits, sheet=sheet, watch=watch,
                              workbook_only=nested)
        assert opened.staged is not None
        return opened.staged
    if kind == "json":
        return stage_json(path, name, scratch, limits=limits, watch=watch)
    return stage_parquet(path, name, scratch, limits=limits, watch=watch)
