"""The job that (re)builds a derived dataset: run its query in the sandbox as the person who
asked (their permissions are checked again now), write the result as one new version, profile
it, and record which input versions it read (its lineage).

The query runs in a query worker process of the job's own, with the job's memory limit
(DPGHUB_JOB_MEMORY_MB) and an hour's time limit; the job's process only writes the batches."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlalchemy.orm import selectinload

from ..core import jobs
from ..core.db import utcnow
from ..core.duck import job_connection
from ..core.jobs import JobContext
from ..identity.models import User
from ..identity.policy import Actor
from ..lake import profile as profiling
from ..lake import service as lake
from ..lake import tables
from . import schemas, service
from .models import Derivation
from .workers import Deadline, QueryPool

TIME_LIMIT = 3600  # seconds for the query and writing its result
MAX_ROWS = 1 << 62  # a derived dataset keeps every row of its query


def run(ctx: JobContext) -> dict[str, Any]:
    """The handler of `analysis.derive` jobs (registered by `analysis.jobs.register_jobs`)."""
    settings = ctx.extras["settings"]
    storage = ctx.extras["storage"]
    with ctx.factory() as session:
        dataset = lake.get_dataset_by_id(session, ctx.params["dataset_id"])
        derivation = session.get(Derivation, dataset.id)
        user = session.get(User, ctx.params["actor"], options=[selectinload(User.memberships)])
        if derivation is None or user is None:
            raise jobs.JobFailed("The derived dataset or its author no longer exists",
                                 code="derivation_gone")
        actor = Actor.for_user(user, via="job")
        sql = derivation.sql
    deadline = Deadline(TIME_LIMIT)
    with QueryPool(settings, size=1, memory_mb=settings.job_memory_mb) as queries:
        with ctx.factory() as session:
            guarded, sources, used = service.prepare(session, actor=actor, storage=storage,
                                                     queries=queries, sql=sql,
                                                     deadline=deadline)
            service.keep_at_least_inputs_access(
                session, lake.get_dataset_by_id(session, dataset.id))
            session.commit()
        uri = storage.table_uri(dataset.id)
        done = tables.committed_by_job(uri, storage.storage_options, ctx.job_id)
        ctx.progress(message="running the query", force=True)
        if done is None:
            schema, batches = queries.batches(guarded, sources, params=None,
                                              limit=MAX_ROWS, deadline=deadline)
            twice = sorted({n for n in schema.names if schema.names.count(n) > 1})
            if twice:      # SELECT * over a join repeats names; a table cannot hold that
                raise jobs.JobFailed("The query's result names these columns more than once: "
                                     "{columns}; give them distinct names with AS",
                                     code="duplicate_columns", columns=", ".join(twice))
            columns = [{"name": f.name, "type": service.hub_type(f.type)} for f in schema]
            counted = jobs.counting(pa.RecordBatchReader.from_batches(schema, batches), ctx)
            written = tables.write(uri, storage.storage_options, counted, mode="replace",
                                   keys=[], job_id=ctx.job_id)
        else:
            table = tables.open_table(uri, storage.storage_options, done)
            assert table is not None
            written = tables.Written(done, tables.row_count(table))
            columns = [{"name": f.name, "type": service.hub_type(pa.field(f).type)}
                       for f in pa.schema(table.schema().to_arrow())]
    ctx.progress(message="profiling", force=True)
    profiler = job_connection(settings, settings.home / "tmp")
    data = tables.version_data(uri, storage.storage_options, written.delta_version)
    source = storage.relation(profiler, data.files, "profiled", data.schema) if data.files \
        else None
    stats = profiling.profile(profiler, source, columns, data.null_counts)
    scans = lake.scan_version(profiler, source, columns)
    profiler.close()
    with ctx.factory() as session:
        dataset = lake.get_dataset_by_id(session, ctx.params["dataset_id"])
        version = lake.record_version(
            session, dataset=dataset, job={"id": ctx.job_id, "created_by": actor.user_id},
            operation="replace", delta_version=written.delta_version,
            row_count=written.row_count, rows_written=written.row_count, columns=columns,
            schema_changes={"derived_from": [{k: u[k] for k in ("org", "name", "version")}
                                             for u in used]},
            source_files=[], profile=stats, scans=scans)
        derivation = session.get(Derivation, dataset.id)
        assert derivation is not None
        derivation.inputs = [{k: u[k] for k in ("dataset_id", "org", "name", "version")}
                             for u in used]
        derivation.refreshed_at = utcnow()
        session.commit()
        return {"version": version.version, "row_count": written.row_count,
                "inputs": [schemas.DatasetUsed(org=u["org"], name=u["name"],
                                               version=u["version"]).model_dump()
                           for u in used]}

