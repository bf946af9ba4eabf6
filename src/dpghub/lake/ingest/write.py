"""The write pass: cast, check every value, count rows per file, stream one Delta commit."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ...config import Settings
from ...core.duck import first_row, quote_ident
from ...core.jobs import JobContext
from .. import tables
from ..errors import IngestError, bad_file
from ..infer import Column, cast_sql, check_sql, misfit_sql
from ..readers import SOURCE_COLUMN
from ..storage import LakeStorage
from .faults import DUCKDB_ERRORS, Paths, guard, guard_error

BATCH_ROWS = 65_536  # rows DuckDB hands the writer at once


class Misfit(Exception):
    """A value does not fit a type that is not ours to change (the table's, or an override)."""

    def __init__(self, column: Column) -> None:
        self.column = column


class Refine(Exception):
    """A proposed type did not hold for some value: infer these columns from all values."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns


def write(ctx: JobContext, con: duckdb.DuckDBPyConnection, settings: Settings,
          storage: LakeStorage, uri: str, columns: list[Column], inferred: list[Column],
          counts: dict[str, int], paths: Paths) -> tables.Written:
    """One streaming pass: cast, check every value, count rows per file, write one commit.

    The checks are one column, `_misfit`: the index in `checks` of the first check a row
    fails, or null. One CASE costs DuckDB less than a column of flags per check."""
    shown = {c.name: c.type for c in inferred}
    checks: list[tuple[Column, bool]] = []  # column, is its type a proposal (not kept)?
    for column in columns:
        if column.type != "text":
            checks.append((column, shown[column.name] == column.type))
    select = ", ".join([cast_sql(c) for c in columns] + [quote_ident(SOURCE_COLUMN)])
    if checks:
        select += ", CASE " + " ".join(
            f"WHEN {misfit_sql(c) if proposal else check_sql(c)} THEN {k}"
            for k, (c, proposal) in enumerate(checks)) + " END AS _misfit"
    reader = guard(lambda: con.sql(f"SELECT {select} FROM src").to_arrow_reader(
        batch_size=BATCH_ROWS), paths)
    flag = len(reader.schema) - 1 if checks else -1  # the last column (a file may have one
    # of that name too)
    keep = [i for i in range(len(reader.schema)) if i != flag]
    schema = pa.schema([reader.schema.field(i) for i in keep])
    source_index = reader.schema.get_field_index(SOURCE_COLUMN)
    limit = settings.ingest_max_rows

    failure: dict[str, BaseException] = {}

    def batches():  # type: ignore[no-untyped-def]
        try:
            yield from checked()
        except BaseException as exc:  # the Delta writer reports it only as text
            failure["error"] = exc
            raise

    def checked():  # type: ignore[no-untyped-def]
        rows = 0
        for batch in ahead:
            if flag >= 0 and batch.column(flag).null_count < batch.num_rows:
                failed = pc.unique(batch.column(flag).drop_null()).to_pylist()
                bad = [checks[k] for k in sorted(failed)]
                refine_now = [c.name for c, proposal in bad if proposal]
                if refine_now:
                    raise Refine(refine_now)
                raise Misfit(bad[0][0])
            rows += batch.num_rows
            if rows > limit:
                raise bad_file("The files hold more than {limit} rows", code="too_many_rows",
                               file=next(iter(counts), "?"), limit=limit)
            for item in pc.value_counts(batch.column(source_index)).to_pylist():
                counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
            ctx.progress(rows_done=rows)
            yield pa.record_batch([batch.column(i) for i in keep], schema=schema)
        if rows == 0:
            raise bad_file("{file} has a header but no rows",
                           file=next(iter(paths.values()), ("?", 0, 0))[0], code="no_rows")

    stream = pa.RecordBatchReader.from_batches(schema, batches())
    ahead = _ReadAhead(reader)
    try:
        return tables.write(uri, storage.storage_options, stream, mode=ctx.params["mode"],
                            keys=ctx.params["key"], job_id=ctx.job_id)
    except Exception:
        ahead.close()
        reader.close()  # the connection must be free for what comes next
        error = failure.get("error")
        if isinstance(error, Misfit):
            _name_misfit(con, error.column)
        # DuckDB's errors while streaming reach us through pyarrow, as OSError
        if isinstance(error, duckdb.Error) or (
                error is not None and str(error).startswith(DUCKDB_ERRORS)):
            raise guard_error(error, paths) from None
        if error is not None:
            raise error from None
        raise
    finally:
        ahead.close()


class _ReadAhead:
    """The batches of a DuckDB Arrow reader, fetched one or two ahead in a thread: DuckDB's
    conversion of the next batch to Arrow then overlaps the Parquet encoding of this one
    (about a tenth off the write pass on two cores). `close` stops and joins the thread, so
    the connection is free again."""

    def __init__(self, reader: pa.RecordBatchReader, depth: int = 2) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fetch, args=(reader,), daemon=True,
                                        name="ingest-read-ahead")
        self._thread.start()

    def _fetch(self, reader: pa.RecordBatchReader) -> None:
        try:
            for batch in reader:
                if not self._put(("batch", batch)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(("error", exc))

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            kind, item = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item

    def close(self) -> None:
        """Stop and join the thread (again: a no-op)."""
        self._stop.set()
        self._thread.join()


def _name_misfit(con: duckdb.DuckDBPyConnection, column: Column) -> None:
    """Raise the error that names the first value not fitting the column's (kept) type."""
    bad = first_row(
        con,
        f"SELECT {SOURCE_COLUMN}, row_number, value FROM ("
        f"SELECT {SOURCE_COLUMN}, row_number() OVER (PARTITION BY {SOURCE_COLUMN}) AS "
        f"row_number, {quote_ident(column.name)} AS value, {check_sql(column)} AS misfit "
        f"FROM src) WHERE misfit LIMIT 1")
    if bad is None:  # pragma: no cover - the flag said there was one
        raise IngestError("A value does not fit column {column}", code="type_mismatch",
                          column=column.name)
    raise IngestError(
        "{file} line {line}, column {column}: '{value}' is not a valid {type}",
        code="type_mismatch", file=bad[0], line=int(bad[1]) + 1, column=column.name,
        value=str(bad[2])[:100], type=column.type)
