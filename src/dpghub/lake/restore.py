"""The restore job: an earlier version becomes current again, as a new version.

History is never rewritten. A retried job finds its own commit (tagged with the job id).
"""

from __future__ import annotations

from typing import Any

from ..core import jobs
from ..core.duck import job_connection
from ..core.jobs import JobContext
from . import service, tables
from .storage import LakeStorage


def run(ctx: JobContext) -> dict[str, Any]:
    """The handler of `lake.restore` jobs (registered by `lake.jobs.register_jobs`)."""
    storage: LakeStorage = ctx.extras["storage"]
    with ctx.factory() as session:
        dataset = service.get_dataset_by_id(session, ctx.params["dataset_id"])
        target = service.get_version(session, dataset=dataset, version=ctx.params["version"])
        target_delta, columns, profile = target.delta_version, target.columns, target.profile
        sources = target.source_files
        creator = jobs.created_by(session, ctx.job_id)
    uri = storage.table_uri(ctx.params["dataset_id"])
    done = tables.committed_by_job(uri, storage.storage_options, ctx.job_id)
    if done is None:
        written = tables.restore(uri, storage.storage_options, target_delta, ctx.job_id)
    else:
        table = tables.open_table(uri, storage.storage_options, done)
        assert table is not None
        written = tables.Written(done, tables.row_count(table))
    settings = ctx.extras["settings"]
    scratch = settings.home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    con = job_connection(settings, scratch)
    try:   # the restored rows are looked at again: the scanners may know more than then
        data = tables.version_data(uri, storage.storage_options, written.delta_version)
        source = storage.relation(con, data.files, "restored", data.schema) if data.files \
            else None
        scans = service.scan_version(con, source, columns)
    finally:
        con.close()
    with ctx.factory() as session:
        dataset = service.get_dataset_by_id(session, ctx.params["dataset_id"])
        version = service.record_version(
            session, dataset=dataset, job={"id": ctx.job_id, "created_by": creator},
            operation="restore", delta_version=written.delta_version,
            row_count=written.row_count, rows_written=0, columns=columns,
            schema_changes={"restored_from": ctx.params["version"]}, source_files=sources,
            profile=profile, scans=scans)
        session.commit()
        return {"version": version.version, "row_count": written.row_count,
                "restored_from": ctx.params["version"]}
