"""Staging: every received file (and every file inside an archive) as text columns."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from ...config import Settings
from ...core.jobs import JobContext
from .. import readers
from ..errors import bad_file
from ..readers import SOURCE_COLUMN, Limits, Staged, detect_format, open_archive, sql_string
from ..storage import LakeStorage
from .faults import Paths


def stage_all(ctx: JobContext, settings: Settings, storage: LakeStorage, scratch: Path
              ) -> tuple[list[Staged], list[dict[str, Any]]]:
    """Stage every received file (an archive's files one by one); return them and the job's
    file entries, completed with their format, encoding and sheet."""
    params = ctx.params
    limits = job_limits(settings)
    staged: list[Staged] = []
    files = [dict(f) for f in params["files"]]
    before = 0
    for entry in files:
        path = storage.local_raw_path(entry["sha256"], scratch)
        kind = detect_format(path, entry["name"])
        ctx.progress(message=f"reading {entry['name']}", bytes_done=before)
        members = [(entry["name"], path, kind)]
        if kind == "archive":   # an .xlsx workbook, or an archive of files
            opened = open_archive(path, entry["name"], scratch, limits=limits,
                                  sheet=params.get("sheet"), watch=ctx.check_cancelled)
            kind, members = opened.format, []
            if opened.staged is not None:
                staged.append(opened.staged)
                entry["sheet"] = opened.staged.extra.get("sheet")
            else:
                members = [(n, p, detect_format(p, n)) for n, p in opened.members]
        entry["format"] = kind
        for member_name, member_path, member_kind in members:
            ctx.progress(message=f"reading {member_name}", bytes_done=before)
            source = readers.stage(
                member_kind, member_path, member_name, scratch, limits=limits,
                encoding=params.get("encoding"), delimiter=params.get("delimiter"),
                sheet=params.get("sheet"),
                progress=lambda n, base=before: ctx.progress(bytes_done=base + n),
                watch=ctx.check_cancelled, nested=kind == "zip")
            if member_kind == "csv":
                entry.setdefault("encoding", source.encoding)
            if source.extra.get("sheet"):
                entry["sheet"] = source.extra["sheet"]
            staged.append(source)
        before += entry["size"]
        ctx.progress(bytes_done=before)
    return staged, files


def source_view(con: duckdb.DuckDBPyConnection, staged: list[Staged], settings: Settings
                ) -> tuple[list[str], Paths]:
    """Every staged file as one view `src`, each row with its file in `_source_file`; returns
    the column names (the first spelling of each) and where DuckDB's errors point."""
    names: list[str] = []
    seen = {SOURCE_COLUMN}
    for source in staged:  # DuckDB matches names across files without case, and so do we
        for column in source.columns:
            if column.lower() not in seen:
                names.append(column)
                seen.add(column.lower())
    if len(names) + 1 > settings.ingest_max_columns:
        raise bad_file("{file} has {count} columns; the limit is {limit}", file=staged[0].name,
                       code="too_many_columns", count=len(names), limit=settings.ingest_max_columns)
    union = " UNION ALL BY NAME ".join(
        f"SELECT *, {sql_string(s.name)} AS {SOURCE_COLUMN} FROM {s.relation}" for s in staged)
    con.execute(f"CREATE TEMP VIEW src AS {union}")
    # staged file → (the user's file, lines before it, the longest line DuckDB reads in it)
    line_bytes = csv_buffer(settings)
    paths = {path: (s.name, shift, line_bytes)
             for s in staged for path, shift in s.line_shift.items()}
    paths.update({str(p): (s.name, 0, line_bytes) for s, p in _staged_paths(staged)
                  if str(p) not in paths})
    return names, paths


def job_limits(settings: Settings) -> Limits:
    """What the readers may take, from the settings."""
    return Limits(memory_mb=settings.job_memory_mb, max_rows=settings.ingest_max_rows,
                  max_columns=settings.ingest_max_columns, zip_ratio=settings.zip_max_ratio,
                  zip_bytes=settings.upload_max_mb << 20, line_bytes=csv_buffer(settings))


def csv_buffer(settings: Settings) -> int:
    """DuckDB's CSV buffer: an eighth of the job's memory, between 2 and 32 MiB."""
    return max(2 << 20, min(32 << 20, (settings.job_memory_mb << 20) // 8))


def _staged_paths(staged: list[Staged]) -> list[tuple[Staged, str]]:
    """The file each staged source reads, where its relation names one."""
    found = []
    for source in staged:
        match = re.search(r"read_(?:csv|parquet)\('((?:[^']|'')*)'", source.relation)
        if match:
            found.append((source, match.group(1).replace("''", "'")))
    return found
