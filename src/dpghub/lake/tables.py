"""Delta Lake operations for one dataset's table: write a version, read a version's files,
restore. Each write is one atomic commit, tagged with the job that made it so a retried job
can tell that its write already happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from .sources import quote_ident

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


def version_data(uri: str, storage_options: dict[str, str], delta_version: int) -> VersionData:
    """A version's files and schema. Versions never change, so they are remembered (reading
    the Delta log is a few milliseconds a one-row query should not spend twice)."""
    return _version_data(uri, tuple(sorted(storage_options.items())), delta_version)


@lru_cache(maxsize=256)
def _version_data(uri: str, options: tuple[tuple[str, str], ...], delta_version: int
                  ) -> VersionData:
    table = DeltaTable(uri, version=delta_version, storage_options=dict(options) or None)
    return VersionData([u.removeprefix("file://") for u in table.file_uris()],
                       pa.schema(table.schema().to_arrow()), _null_counts(table))


def _null_counts(table: DeltaTable) -> dict[str, int] | None:
    """Nulls per column summed over the version's files (Delta keeps them for the first 32
    columns); None when any file lacks them."""
    actions = pa.table(table.get_add_actions(flatten=True))
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
