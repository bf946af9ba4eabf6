"""Delta Lake operations for one dataset's table: write a version, read a version's files,
restore. Each write is one atomic commit, tagged with the job that made it so a retried job
can tell that its write already happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from ..core.duck import quote_ident

JOB_TAG = "dpghub.job"
# Row groups of 128 Ki rows keep the writer's buffer small whatever the size of the input,
# and still let readers skip data by row-group statistics.
WRITER = WriterProperties(max_row_group_size=131_072, compression="SNAPPY")
TARGET_FILE_BYTES = 128 << 20
SQL_TYPES = {"text": "VARCHAR", "time": "VARCHAR", "integer": "BIGINT", "decimal": "DOUBLE",
             "date": "DATE", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}


@dataclass(frozen=True)
class Written:
    delta_version: int
    row_count: int


def open_table(uri: str, storage_options: dict[str, str], version: int | None = None
               ) -> DeltaTable | None:
    try:
        return DeltaTable(uri, version=version, storage_options=storage_options or None)
    except TableNotFoundError:
        return None


def committed_by_job(uri: str, storage_options: dict[str, str], job_id: int) -> int | None:
    """The Delta version a job already committed (after a crash and a retry), if any."""
    table = open_table(uri, storage_options)
    if table is None:
        return None
    for entry in table.history(20):
        if str(entry.get(JOB_TAG, "")) == str(job_id):
            return int(entry["version"])
    return None


def row_count(table: DeltaTable) -> int:
    """Rows of the table version, from the Delta log's file statistics (no data read)."""
    actions = pa.table(table.get_add_actions(flatten=True))
    if actions.num_rows == 0:
        return 0
    return int(pc.sum(actions.column("num_records")).as_py() or 0)


def write(
    uri: str, storage_options: dict[str, str], data: pa.RecordBatchReader, *, mode: str,
    keys: list[str], job_id: int,
) -> Written:
    commit = CommitProperties(custom_metadata={JOB_TAG: str(job_id)})
    options = storage_options or None
    if mode == "upsert" and open_table(uri, storage_options) is not None:
        table = DeltaTable(uri, storage_options=options)
        predicate = " AND ".join(f"t.{_delta_ident(k)} = s.{_delta_ident(k)}" for k in keys)
        (table.merge(data, predicate=predicate, source_alias="s", target_alias="t",
                     merge_schema=True, commit_properties=commit, writer_properties=WRITER)
         .when_matched_update_all().when_not_matched_insert_all().execute())
    elif mode == "replace":
        write_deltalake(uri, data, mode="overwrite", schema_mode="overwrite",
                        storage_options=options, commit_properties=commit,
                        writer_properties=WRITER, target_file_size=TARGET_FILE_BYTES)
    else:  # append, and the first upsert into an empty table
        write_deltalake(uri, data, mode="append", schema_mode="merge", storage_options=options,
                        commit_properties=commit, writer_properties=WRITER,
                        target_file_size=TARGET_FILE_BYTES)
    table = DeltaTable(uri, storage_options=options)
    return Written(table.version(), row_count(table))


def restore(uri: str, storage_options: dict[str, str], delta_version: int, job_id: int) -> Written:
    table = DeltaTable(uri, storage_options=storage_options or None)
    table.restore(delta_version, commit_properties=CommitProperties(
        custom_metadata={JOB_TAG: str(job_id)}))
    table = DeltaTable(uri, storage_options=storage_options or None)
    return Written(table.version(), row_count(table))


@dataclass(frozen=True)
class VersionData:
    """What a reader needs of one table version: its live files and its schema."""

    files: list[str]
    schema: pa.Schema
    null_counts: dict[str, int] | None = None  # from the Delta log's file statistics
    rows: int | None = None    # rows of the version, from the same statistics (None: unknown)


def version_data(uri: str, storage_options: dict[str, str], delta_version: int) -> VersionData:
    """A version's files and schema. Versions never change, so they are remembered (reading
    the Delta log is a few milliseconds a one-row query should not spend twice)."""
    return _version_data(uri, tuple(sorted(storage_options.items())), delta_version)


@lru_cache(maxsize=256)
def _version_data(uri: str, options: tuple[tuple[str, str], ...], delta_version: int
                  ) -> VersionData:
    table = DeltaTable(uri, version=delta_version, storage_options=dict(options) or None)
    actions = pa.table(table.get_add_actions(flatten=True))
    return VersionData([u.removeprefix("file://") for u in table.file_uris()],
                       pa.schema(table.schema().to_arrow()), _null_counts(actions),
                       _rows(actions))


def _rows(actions: pa.Table) -> int | None:
    """Rows summed over the version's files; None when a file's count is not recorded."""
    if actions.num_rows == 0:
        return 0
    if "num_records" not in actions.column_names or actions.column("num_records").null_count:
        return None
    return int(pc.sum(actions.column("num_records")).as_py() or 0)


def _null_counts(actions: pa.Table) -> dict[str, int] | None:
    """Nulls per column summed over the version's files (Delta keeps them for the first 32
    columns); None when any file lacks them."""
    if actions.num_rows == 0:
        return {}
    counts: dict[str, int] = {}
    for name in actions.column_names:
        if name.startswith("null_count."):
            column = actions.column(name)
            if column.null_count:
                continue
            counts[name.removeprefix("null_count.")] = int(pc.sum(column).as_py() or 0)
    return counts


def _delta_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def null_column(name: str, hub_type: str) -> str:
    return f"CAST(NULL AS {SQL_TYPES[hub_type]}) AS {quote_ident(name)}"


def history(uri: str, storage_options: dict[str, str]) -> list[dict[str, Any]]:
    table = open_table(uri, storage_options)
    return table.history() if table is not None else []


# --- files a crash left behind ---------------------------------------------------------------

LOG = "_delta_log"
FILE_ACTIONS = ("add", "remove", "cdc")


def remove_orphans(fs: pafs.FileSystem, root: str, before: datetime) -> list[str]:
    """Delete the data files of the table at `root` (a path of `fs`) that no version names
    and that were last written before `before`; return their paths, relative to the table.

    The writer puts each data file in the table's folder under its final name and commits
    the log entry naming it last: a process killed in between leaves Parquet files that no
    version will ever read. A file any log entry or checkpoint names — added or removed,
    so the files of old versions kept for time travel too — is never touched; nor is one a
    write still in progress may have made, if the caller picks `before` well (the instant
    before it checked that no live job writes this table). When the log cannot be read in
    full, nothing is deleted."""
    listing = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    named = _named_files(fs, root, listing)
    if named is None:
        return []
    removed = []
    for info in listing:
        relative = info.path[len(root):].lstrip("/")
        if info.type != pafs.FileType.File or relative in named or info.mtime is None:
            continue
        written = info.mtime if info.mtime.tzinfo else info.mtime.replace(tzinfo=UTC)
        if written >= before or not _data_file(relative):
            continue
        fs.delete_file(info.path)
        removed.append(relative)
    return removed


def _data_file(relative: str) -> bool:
    """A data file of the table, or the writer's temporary copy of a log entry; never the log
    itself, nor folders the hub does not write (`_change_data`, hidden ones)."""
    parts = relative.split("/")
    if parts[0] == LOG:
        return len(parts) == 2 and parts[1].startswith("_commit_") and \
            parts[1].endswith(".tmp")
    return relative.endswith(".parquet") and not any(p.startswith(("_", ".")) for p in parts)


def _named_files(fs: pafs.FileSystem, root: str, listing: list[pafs.FileInfo]
                 ) -> set[str] | None:
    """Every path an action of the log names (commits and checkpoints, sidecars included),
    relative to the table (none when there is no log yet: a first write died before its
    commit); None when a log file cannot be read."""
    logs = [info for info in listing if info.type == pafs.FileType.File
            and info.path[len(root):].lstrip("/").startswith(LOG + "/")]
    named: set[str] = set()
    prefix = root.rstrip("/") + "/"
    try:
        for info in logs:
            if info.path.endswith(".json"):
                with fs.open_input_stream(info.path) as stream:
                    text = stream.read().decode("utf-8")
                for line in text.splitlines():
                    if line.strip():
                        action = json.loads(line)
                        named.update(str(action[k]["path"]) for k in FILE_ACTIONS
                                     if isinstance(action.get(k), dict))
            elif info.path.endswith(".parquet"):
                with fs.open_input_file(info.path) as handle:
                    checkpoint = pq.ParquetFile(handle)
                    kinds = [k for k in FILE_ACTIONS if k in checkpoint.schema_arrow.names]
                    table = checkpoint.read(columns=kinds)
                for kind in kinds:
                    paths = pc.struct_field(table.column(kind), "path")
                    named.update(str(p) for p in paths.to_pylist() if p is not None)
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None
    relative = set()
    for path in named:
        path = unquote(path)
        if "://" in path:  # an absolute path (a clone's): relative when inside this table
            path = path.split("://", 1)[1]
        relative.add(path[len(prefix):] if path.startswith(prefix) else path)
    return relative
