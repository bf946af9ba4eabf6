"""The ingestion job: received files → one atomic Delta version, profiled and catalogued.

Steps: stage every file as text columns (detect format, encoding, delimiter), infer types over
all of them at once, reconcile with the table's existing schema, check overrides, keys and
limits, then stream the typed rows into a single Delta commit. Every refusal names the file,
line, column and value; until the commit nothing is visible, and after it the job records the
version. A retried job finds its own commit (tagged with the job id) and does not write twice.
"""

from __future__ import annotations

import logging
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..config import Settings
from ..core import jobs
from ..core.duck import first_row, job_connection, quote_ident
from ..core.jobs import JobContext
from . import profile as profiling
from . import readers, service, tables
from .errors import IngestError, bad_file
from .infer import Column, cast_sql, check_sql, misfit_sql, misfits, propose, refine
from .readers import (
    SOURCE_COLUMN,
    Limits,
    Staged,
    detect_format,
    line_too_long,
    open_archive,
    sql_string,
)
from .storage import LakeStorage

DUCKDB_ERRORS = ("Invalid Input Error", "Conversion Error", "Out of Memory Error")
BATCH_ROWS = 65_536
WIDENS = {("integer", "decimal"): "decimal"}  # (new, existing) → stored type
Paths = dict[str, tuple[str, int, int]]  # staged file → (user's file, line shift, line limit)
# an object store stamps files with its own clock: leave what it calls this recent alone
REMOTE_CLOCK_MARGIN = timedelta(minutes=5)
log = logging.getLogger("dpghub.lake")


@jobs.handler(service.INGEST_JOB)
def run(ctx: JobContext) -> dict[str, Any]:
    settings: Settings = ctx.extras["settings"]
    storage: LakeStorage = ctx.extras["storage"]
    params = ctx.params
    with ctx.factory() as session:
        dataset = service.get_dataset_by_id(session, params["dataset_id"])
        existing = list(dataset.columns) if dataset.current_version else []
        job_info = {"id": ctx.job_id, "created_by": _creator(session, ctx.job_id)}
    uri = storage.table_uri(params["dataset_id"])
    scratch_root = settings.home / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"ingest-{ctx.job_id}-", dir=scratch_root))
    try:
        done = tables.committed_by_job(uri, storage.storage_options, ctx.job_id)
        con = job_connection(settings, scratch)
        if done is None:
            outcome = _ingest(ctx, con, settings, storage, scratch, uri, existing)
        else:  # a retry after the commit: only the catalog is missing
            outcome = _recover_outcome(ctx, con, storage, uri, done, existing)
        ctx.progress(message="profiling", force=True)
        data = tables.version_data(uri, storage.storage_options, outcome["delta_version"])
        source = storage.relation(con, data.files, "profiled", data.schema) if data.files else None
        stats = profiling.profile(con, source, outcome["columns"], data.null_counts)
        con.close()
        with ctx.factory() as session:
            dataset = service.get_dataset_by_id(session, params["dataset_id"])
            version = service.record_version(
                session, dataset=dataset, job=job_info, operation=params["mode"],
                delta_version=outcome["delta_version"], row_count=outcome["row_count"],
                rows_written=outcome["rows_written"], columns=outcome["columns"],
                schema_changes=outcome["schema_changes"], source_files=outcome["files"],
                profile=stats)
            session.commit()
            number = version.version
        ctx.progress(rows_done=outcome["rows_written"], message="done", force=True)
        return {"version": number, "row_count": outcome["row_count"],
                "rows_written": outcome["rows_written"],
                "schema_changes": outcome["schema_changes"]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _creator(session: Any, job_id: int) -> int | None:
    job = session.get(jobs.Job, job_id)
    return job.created_by if job else None


class _Misfit(Exception):
    """A value does not fit a type that is not ours to change (the table's, or an override)."""

    def __init__(self, column: Column) -> None:
        self.column = column


class _Refine(Exception):
    """A proposed type did not hold for some value: infer these columns from all values."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns


def _ingest(ctx: JobContext, con: duckdb.DuckDBPyConnection, settings: Settings,
            storage: LakeStorage, scratch: Path, uri: str,
            existing: list[dict[str, Any]]) -> dict[str, Any]:
    """Stage, propose types from a sample, then write in one pass that checks every value
    against the proposal; a misfit aborts that write (nothing is committed), the column is
    typed again from all of its values, and the write runs again."""
    params = ctx.params
    staged, files = _stage_all(ctx, settings, storage, scratch)
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
    line_bytes = _csv_buffer(settings)
    paths = {path: (s.name, shift, line_bytes)
             for s in staged for path, shift in s.line_shift.items()}
    paths.update({str(p): (s.name, 0, line_bytes) for s, p in _staged_paths(staged)
                  if str(p) not in paths})

    ctx.progress(message="inferring types", force=True)
    # the sample comes from the head of the first file alone (cheap), every value is checked
    proposal = _guard(lambda: propose(con, names, staged[0].relation, staged[0].columns), paths)
    inferred = _guard(lambda: refine(con, proposal.columns, proposal.unseen, "src"), paths)
    if params["mode"] == "upsert":
        _guard(lambda: _check_keys(con, params["key"], names), paths)
    for _attempt in range(3):
        columns, changes = _reconcile(inferred, existing, params)
        ctx.progress(message="writing", force=True)
        counts: dict[str, int] = {}
        try:
            written = _write(ctx, con, settings, storage, uri, columns, inferred, counts, paths)
            break
        except _Refine as redo:
            # the write stopped at the first batch with a misfit: find every column that has
            # one, so that a single new pass settles them all
            ctx.progress(message="typing again from every value", force=True)
            again = list(dict.fromkeys(redo.columns + _guard(
                lambda i=inferred: misfits(con, i, "src"), paths)))
            inferred = _guard(lambda a=again, i=inferred: refine(con, i, a, "src"), paths)
    else:  # pragma: no cover - a column can only be widened to text so often
        raise IngestError("The column types did not settle; send the files again",
                          code="types_unsettled")
    renamed = [{"file": s.name, "column": new, "was": old}
               for s in staged for new, old in s.renamed.items()]
    if renamed:  # `id, ID` or a file's own `_source_file`: kept, under another name
        changes["renamed"] = renamed
    total_rows = sum(counts.values())
    for f in files:
        f["rows"] = sum(n for name, n in counts.items()
                        if name == f["name"] or name.startswith(f["name"] + "/"))
    stored = [c.as_dict() for c in columns] + [{"name": SOURCE_COLUMN, "type": "text"}]
    if params["mode"] != "replace":
        # columns of earlier versions that these files lack stay in the table (as nulls)
        stored = [c for c in existing if c["name"] not in {s["name"] for s in stored}] + stored
        stored = _ordered(stored, existing)
    return {"delta_version": written.delta_version, "row_count": written.row_count,
            "rows_written": total_rows, "columns": stored, "schema_changes": changes,
            "files": files}


def _write(ctx: JobContext, con: duckdb.DuckDBPyConnection, settings: Settings,
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
    reader = _guard(lambda: con.sql(f"SELECT {select} FROM src").to_arrow_reader(
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
                    raise _Refine(refine_now)
                raise _Misfit(bad[0][0])
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
        if isinstance(error, _Misfit):
            _name_misfit(con, error.column)
        # DuckDB's errors while streaming reach us through pyarrow, as OSError
        if isinstance(error, duckdb.Error) or (
                error is not None and str(error).startswith(DUCKDB_ERRORS)):
            raise _guard_error(error, paths) from None
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


def _ordered(columns: list[dict[str, Any]], existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {c["name"]: i for i, c in enumerate(existing)}
    return sorted(columns, key=lambda c: (order.get(c["name"], len(order)),
                                          c["name"] == SOURCE_COLUMN))


def _recover_outcome(ctx: JobContext, con: duckdb.DuckDBPyConnection, storage: LakeStorage,
                     uri: str, delta_version: int, existing: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    table = tables.open_table(uri, storage.storage_options, delta_version)
    assert table is not None
    types = {"string": "text", "long": "integer", "double": "decimal", "date": "date",
             "timestamp_ntz": "timestamp", "timestamp": "timestamp", "boolean": "boolean"}
    known = {c["name"]: c["type"] for c in existing}
    columns = [{"name": f.name, "type": known.get(f.name, types.get(str(f.type.type), "text"))}
               for f in table.schema().fields]
    return {"delta_version": delta_version, "row_count": tables.row_count(table),
            "rows_written": 0, "columns": columns, "schema_changes": {"recovered": True},
            "files": ctx.params["files"]}


# --- staging -------------------------------------------------------------------------------


def _stage_all(ctx: JobContext, settings: Settings, storage: LakeStorage, scratch: Path
               ) -> tuple[list[Staged], list[dict[str, Any]]]:
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


def job_limits(settings: Settings) -> Limits:
    return Limits(memory_mb=settings.job_memory_mb, max_rows=settings.ingest_max_rows,
                  max_columns=settings.ingest_max_columns, zip_ratio=settings.zip_max_ratio,
                  zip_bytes=settings.upload_max_mb << 20, line_bytes=_csv_buffer(settings))


def _csv_buffer(settings: Settings) -> int:
    """DuckDB's CSV buffer: an eighth of the job's memory, between 2 and 32 MiB."""
    return max(2 << 20, min(32 << 20, (settings.job_memory_mb << 20) // 8))


def _staged_paths(staged: list[Staged]) -> list[tuple[Staged, str]]:
    found = []
    for source in staged:
        match = re.search(r"read_(?:csv|parquet)\('((?:[^']|'')*)'", source.relation)
        if match:
            found.append((source, match.group(1).replace("''", "'")))
    return found


_CSV_ERROR = re.compile(r"CSV Error on Line: (\d+)(?:.*?Original Line: (.*?)\n)?", re.S)
_LINE_SIZE = re.compile(r"Maximum line size of (\d+) bytes exceeded")
_CSV_ADVICE = re.compile(r"\n(?:Possible (?:fixes|Solution)|  file = )")


def _guard(action: Any, paths: Paths) -> Any:
    """Run a DuckDB step; turn its parse errors into errors naming the user's file and line."""
    try:
        return action()
    except duckdb.Error as exc:
        raise _guard_error(exc, paths) from None


def _guard_error(exc: Exception, paths: Paths) -> IngestError:
    text = str(exc)
    staged = next((path for path in paths if path in text), None)
    name, shift, line_bytes = paths[staged] if staged else \
        next(iter(paths.values()), ("?", 0, 0))
    match = _CSV_ERROR.search(text)
    if match:
        line = int(match.group(1)) + shift
        size = _LINE_SIZE.search(text)
        if size:
            return line_too_long(name, line, int(size.group(1)))
        # our UTF-8 copies are valid: "invalid unicode" is DuckDB's buffer cutting a character
        # of a line longer than the buffer
        if staged and "Invalid unicode" in text and \
                _line_longer(Path(staged), int(match.group(1)), line_bytes):
            return line_too_long(name, line, line_bytes)
        return bad_file("{file} line {line}: {reason}", file=name, code="bad_row",
                        line=line, reason=_csv_reason(text), value=(match.group(2) or "")[:200])
    return bad_file("{file}: {reason}", file=name, code="unreadable",
                    reason=text.splitlines()[0][:300])


def _line_longer(path: Path, number: int, limit: int) -> bool:
    """Whether line `number` (from 1) of a file is longer than `limit` bytes (read in pieces:
    that line may be as long as the file)."""
    with path.open("rb") as handle:
        line = 1
        length = 0
        while piece := handle.readline(1 << 20):
            if line == number:
                length += len(piece)
                if length > limit:
                    return True
            if piece.endswith(b"\n"):
                if line == number:
                    return False
                line += 1
    return False


def _csv_reason(text: str) -> str:
    """DuckDB's reason, the last line before its advice (after the line it quotes, which may
    itself span lines)."""
    lines = [line.strip() for line in _CSV_ADVICE.split(text, maxsplit=1)[0].split("\n")]
    reason = next((line for line in reversed(lines[1:]) if line), "")
    if not reason or reason.startswith("Original Line:"):
        return lines[0]
    return reason


# --- types ---------------------------------------------------------------------------------


def _reconcile(inferred: list[Column], existing: list[dict[str, Any]], params: dict[str, Any]
               ) -> tuple[list[Column], dict[str, Any]]:
    """Final types: overrides first, then the table's existing types where compatible."""
    overrides: dict[str, str] = params.get("types") or {}
    names = {c.name for c in inferred}
    for column in overrides:
        if column not in names:
            raise IngestError("Type override for {column}, which is not in the files (they "
                              "have: {columns})", code="unknown_column", column=column,
                              columns=", ".join(sorted(names)))
    old = {c["name"]: c["type"] for c in existing if c["name"] != SOURCE_COLUMN}
    keep_old = params["mode"] != "replace"
    final: list[Column] = []
    for column in inferred:
        kind = overrides.get(column.name, column.type)
        previous = old.get(column.name) if keep_old else None
        if previous and previous != kind:
            if (kind, previous) in WIDENS:
                kind = WIDENS[(kind, previous)]
            elif column.name in overrides and previous != "text":
                raise IngestError("Column {column} is {previous} in the table; the override "
                                  "{type} would change it (use mode replace to change types)",
                                  code="incompatible_type", column=column.name,
                                  previous=previous, type=kind)
            else:
                kind = previous  # every value is checked below; a misfit is an error
        final.append(Column(column.name, kind))
    changes: dict[str, Any] = {}
    if keep_old and old:
        added = [c.name for c in inferred if c.name not in old]
        missing = [name for name in old if name not in names]
        if added:
            changes["added"] = added
        if missing:
            changes["missing"] = missing
    return final, changes


def _check_keys(con: duckdb.DuckDBPyConnection, keys: list[str], names: list[str]) -> None:
    for key in keys:
        if key not in names:
            raise IngestError("Key column {column} is not in the files (they have: {columns})",
                              code="unknown_key", column=key, columns=", ".join(names))
    cols = ", ".join(quote_ident(k) for k in keys)
    null = first_row(con, f"SELECT {SOURCE_COLUMN} FROM src WHERE "
                       + " OR ".join(f"{quote_ident(k)} IS NULL" for k in keys)
                       + " LIMIT 1")
    if null:
        raise IngestError("{file}: a row has no value in key column(s) {column}",
                          code="null_key", file=null[0], column=", ".join(keys))
    dup = first_row(con, f"SELECT {cols}, count(*) FROM src GROUP BY ALL HAVING count(*) > 1 "
                      "LIMIT 1")
    if dup:
        raise IngestError("Key {value} appears {count} times in the files; an upsert key must "
                          "be unique", code="duplicate_key", column=", ".join(keys),
                          value=" / ".join(str(v) for v in dup[:-1]), count=dup[-1])


# --- restore -------------------------------------------------------------------------------


@jobs.handler(service.RESTORE_JOB)
def run_restore(ctx: JobContext) -> dict[str, Any]:
    storage: LakeStorage = ctx.extras["storage"]
    with ctx.factory() as session:
        dataset = service.get_dataset_by_id(session, ctx.params["dataset_id"])
        target = service.get_version(session, dataset=dataset, version=ctx.params["version"])
        target_delta, columns, profile = target.delta_version, target.columns, target.profile
        sources = target.source_files
        creator = _creator(session, ctx.job_id)
    uri = storage.table_uri(ctx.params["dataset_id"])
    done = tables.committed_by_job(uri, storage.storage_options, ctx.job_id)
    if done is None:
        written = tables.restore(uri, storage.storage_options, target_delta, ctx.job_id)
    else:
        table = tables.open_table(uri, storage.storage_options, done)
        assert table is not None
        written = tables.Written(done, tables.row_count(table))
    with ctx.factory() as session:
        dataset = service.get_dataset_by_id(session, ctx.params["dataset_id"])
        version = service.record_version(
            session, dataset=dataset, job={"id": ctx.job_id, "created_by": creator},
            operation="restore", delta_version=written.delta_version,
            row_count=written.row_count, rows_written=0, columns=columns,
            schema_changes={"restored_from": ctx.params["version"]}, source_files=sources,
            profile=profile)
        session.commit()
        return {"version": version.version, "row_count": written.row_count,
                "restored_from": ctx.params["version"]}


# --- after a crash -------------------------------------------------------------------------


@jobs.after_recovery
def remove_orphan_files(factory: sessionmaker[Session], extras: dict[str, Any],
                        began: datetime) -> None:
    """Delete the data files a killed write left in table folders (no version names them).
    Tables a running job may be writing are skipped: after the recovery, every job still
    `running` has a live worker. Files written since `began` are kept: a job claimed after the
    check below started after that instant."""
    storage: LakeStorage | None = extras.get("storage")
    if storage is None:
        return
    with factory() as session:
        busy = {params.get("dataset_id") for params in session.scalars(
            select(jobs.Job.params).where(jobs.Job.state == jobs.JobState.running))}
    before = began - (REMOTE_CLOCK_MARGIN if storage.remote else timedelta(0))
    for dataset_id in storage.table_ids():
        if dataset_id in busy:
            continue
        removed = tables.remove_orphans(storage.fs, storage.table_path(dataset_id), before)
        if removed:
            log.warning("removed %d file(s) an interrupted write left in table d%d: %s",
                        len(removed), dataset_id, ", ".join(removed[:5]))
