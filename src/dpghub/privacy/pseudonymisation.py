"""The job that builds a pseudonymised dataset: read the source version, apply the plan in
DuckDB (under the job's memory limit), write the result as the target's new version with its
profile and scan, keep token mappings apart for the owner, and store what was done."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..analysis.regions import index_for
from ..core import jobs
from ..core.db import utcnow
from ..core.duck import job_connection
from ..core.jobs import JobContext
from ..core.security import derived_key
from ..lake import profile as profiling
from ..lake import service as lake
from ..lake import tables
from . import pseudo
from .models import Pseudonymisation
from .service import pseudonyms


def hmac_key(secret: bytes, org_id: int) -> bytes:
    """An organization's own pseudonymisation key: derived, never stored, never shown."""
    return derived_key(secret, f"pseudonymise:org:{org_id}")


def run(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.extras["settings"]
    storage = ctx.extras["storage"]
    with ctx.factory() as session:
        found = session.get(Pseudonymisation, ctx.params["pseudonymisation_id"])
        if found is None:
            raise jobs.JobFailed("The pseudonymisation no longer exists", code="gone")
        source = lake.get_dataset_by_id(session, found.source_id)
        version = lake.get_version(session, dataset=source, version=found.source_version)
        source_columns = list(version.columns)
        delta_version = version.delta_version
        plan = pseudo.validate_plan(dict(found.plan), source_columns)
        org_id, target_id, record_id = found.org_id, found.target_id, found.id
        token_columns = list(found.token_columns)
        creator = found.created_by
    scratch = Path(tempfile.mkdtemp(prefix=f"pseudo-{ctx.job_id}-",
                                    dir=_scratch_root(settings)))
    try:
        con = job_connection(settings, scratch)
        data = tables.version_data(storage.table_uri(found.source_id),
                                   storage.storage_options, delta_version)
        relation = storage.relation(con, data.files, "source", data.schema) if data.files \
            else None
        if relation is None:
            raise jobs.JobFailed("The source version has no rows", code="no_rows")
        con.execute(f"CREATE OR REPLACE TEMP VIEW __source AS SELECT * FROM {relation}")
        ctx.progress(message="pseudonymising", force=True)
        result = pseudo.pseudonymise(con, "__source", source_columns, plan,
                                     hmac_key=hmac_key(settings.secret, org_id),
                                     regions=index_for(settings.home),
                                     today=date.fromisoformat(ctx.params["today"]))
        uri = storage.table_uri(target_id)
        written = tables.write(uri, storage.storage_options, jobs.counting(result.reader, ctx),
                               mode="replace", keys=[], job_id=ctx.job_id)
        for position, column in enumerate(token_columns):
            mapping = result.tokens.get(column)
            if mapping is not None:
                tables.write(storage.private_uri("tokens", f"p{record_id}-c{position}"),
                             storage.storage_options,
                             pa.RecordBatchReader.from_batches(mapping.schema,
                                                               mapping.to_batches()),
                             mode="replace", keys=[], job_id=ctx.job_id)
        ctx.progress(message="profiling", force=True)
        out = tables.version_data(uri, storage.storage_options, written.delta_version)
        target_relation = storage.relation(con, out.files, "written", out.schema) \
            if out.files else None
        stats = profiling.profile(con, target_relation, result.out_columns, out.null_counts)
        scans = lake.scan_version(con, target_relation, result.out_columns)
        con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with ctx.factory() as session:
        target = lake.get_dataset_by_id(session, target_id)
        new = lake.record_version(
            session, dataset=target, job={"id": ctx.job_id, "created_by": creator},
            operation="replace", delta_version=written.delta_version,
            row_count=written.row_count, rows_written=written.row_count,
            columns=result.out_columns,
            schema_changes={"pseudonymised_from": {"dataset": source.table_name,
                                                    "version": found.source_version}},
            source_files=[], profile=stats, scans=scans)
        found = pseudonyms.get(session, record_id)
        found.record = result.record
        found.done_at = utcnow()
        session.commit()
        return {"version": new.version, "row_count": written.row_count,
                "record": result.record}


def _scratch_root(settings: Any) -> Path:
    root = settings.home / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root

