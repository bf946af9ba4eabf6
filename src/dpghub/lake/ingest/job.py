"""The ingestion job's handler: stage, infer, reconcile, write, then profile and catalogue.

Types are proposed from a sample and every value is checked while writing; a misfit aborts
that write (nothing is committed), the column is typed again from all of its values, and the
write runs again.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from ...config import Settings
from ...core import jobs
from ...core.duck import job_connection
from ...core.jobs import JobContext
from .. import profile as profiling
from .. import service, tables
from ..errors import IngestError
from ..infer import misfits, propose, refine
from ..readers import SOURCE_COLUMN
from ..storage import LakeStorage
from .faults import guard
from .reconcile import check_keys, ordered, reconcile
from .staging import source_view, stage_all
from .write import Refine, write


def run(ctx: JobContext) -> dict[str, Any]:
    """The handler of `lake.ingest` jobs (registered by `lake.jobs.register_jobs`)."""
    settings: Settings = ctx.extras["settings"]
    storage: LakeStorage = ctx.extras["storage"]
    params = ctx.params
    with ctx.factory() as session:
        dataset = service.get_dataset_by_id(session, params["dataset_id"])
        existing = list(dataset.columns) if dataset.current_version else []
        job_info = {"id": ctx.job_id, "created_by": jobs.created_by(session, ctx.job_id)}
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
        ctx.progress(message="looking for personal data", force=True)
        scans = service.scan_version(con, source, outcome["columns"])
        con.close()
        with ctx.factory() as session:
            dataset = service.get_dataset_by_id(session, params["dataset_id"])
            version = service.record_version(
                session, dataset=dataset, job=job_info, operation=params["mode"],
                delta_version=outcome["delta_version"], row_count=outcome["row_count"],
                rows_written=outcome["rows_written"], columns=outcome["columns"],
                schema_changes=outcome["schema_changes"], source_files=outcome["files"],
                profile=stats, scans=scans)
            session.commit()
            number = version.version
        ctx.progress(rows_done=outcome["rows_written"], message="done", force=True)
        return {"version": number, "row_count": outcome["row_count"],
                "rows_written": outcome["rows_written"],
                "schema_changes": outcome["schema_changes"]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _ingest(ctx: JobContext, con: duckdb.DuckDBPyConnection, settings: Settings,
            storage: LakeStorage, scratch: Path, uri: str,
            existing: list[dict[str, Any]]) -> dict[str, Any]:
    """Stage, propose types from a sample, then write in one pass that checks every value
    against the proposal; a misfit aborts that write (nothing is committed), the column is
    typed again from all of its values, and the write runs again."""
    params = ctx.params
    staged, files = stage_all(ctx, settings, storage, scratch)
    names, paths = source_view(con, staged, settings)

    ctx.progress(message="inferring types", force=True)
    # the sample comes from the head of the first file alone (cheap), every value is checked
    proposal = guard(lambda: propose(con, names, staged[0].relation, staged[0].columns), paths)
    inferred = guard(lambda: refine(con, proposal.columns, proposal.unseen, "src"), paths)
    if params["mode"] == "upsert":
        guard(lambda: check_keys(con, params["key"], names), paths)
    for _attempt in range(3):
        columns, changes = reconcile(inferred, existing, params)
        ctx.progress(message="writing", force=True)
        counts: dict[str, int] = {}
        try:
            written = write(ctx, con, settings, storage, uri, columns, inferred, counts, paths)
            break
        except Refine as redo:
            # the write stopped at the first batch with a misfit: find every column that has
            # one, so that a single new pass settles them all
            ctx.progress(message="typing again from every value", force=True)
            again = list(dict.fromkeys(redo.columns + guard(
                lambda i=inferred: misfits(con, i, "src"), paths)))
            inferred = guard(lambda a=again, i=inferred: refine(con, i, a, "src"), paths)
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
        stored = ordered(stored, existing)
    return {"delta_version": written.delta_version, "row_count": written.row_count,
            "rows_written": total_rows, "columns": stored, "schema_changes": changes,
            "files": files}


def _recover_outcome(ctx: JobContext, con: duckdb.DuckDBPyConnection, storage: LakeStorage,
                     uri: str, delta_version: int, existing: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    """What a retry after the commit reports: the committed version, read back."""
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
