"""Queries: which tables a caller may read, running them in the sandbox's workers, the
caller's history and saved queries, and join suggestions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...config import Settings
from ...core.db import keep_after_failure
from ...core.errors import Forbidden, Invalid, NotFound
from ...identity.policy import Actor, authorize
from ...lake import service as lake
from ...lake.models import Dataset
from ...lake.storage import LakeStorage
from ...lake.tables import VersionData, version_data
from .. import joins, sandbox, schemas
from ..guard import GuardedQuery, TableRef
from ..models import QueryRecord, SavedQuery
from ..regions import index_for
from ..workers import Deadline, QueryPool, Rows

CHECK_SECONDS = 30  # the time limit for checking a query that is saved, not run


# --- resolving and authorising tables ------------------------------------------------------


def resolve(session: Session, actor: Actor, refs: tuple[TableRef, ...]
            ) -> list[tuple[TableRef, Dataset, Any]]:
    """Each table as a dataset version the actor may read; a clear refusal otherwise."""
    resolved = []
    for ref in refs:
        found = lake.table_by_sql_name(session, ref.schema, ref.name, ref.version)
        if found is None:
            raise Invalid("Unknown table {table}: no dataset has that name",
                          code="unknown_table", field="sql", table=f"{ref.schema}.{ref.name}")
        dataset, loaded = found
        if dataset.access == "sensitive":
            raise Forbidden("{table} is sensitive; sensitive datasets cannot be queried yet",
                            code="sensitive_dataset", table=dataset.table_name)
        version = lake.readable_version(session, actor=actor, dataset=dataset,
                                        version=ref.version, loaded=loaded)
        resolved.append((ref, dataset, version))
    return resolved


def prepare(session: Session, *, actor: Actor, storage: LakeStorage, queries: QueryPool,
            sql: str, deadline: Deadline, ckan_names: bool = False
            ) -> tuple[GuardedQuery, list[tuple[TableRef, VersionData]], list[dict[str, Any]]]:
    """The guarded query (checked in a query worker, within the deadline), the files of each
    table version it reads, and those versions as the caller is told them."""
    authorize(actor, "analysis.query.run")
    guarded = queries.guard(sql, deadline, ckan_names=ckan_names)
    sources = []
    used = []
    for ref, dataset, version in resolve(session, actor, guarded.tables):
        data = version_data(storage.table_uri(dataset.id), storage.storage_options,
                            version.delta_version)
        sources.append((ref, data))
        used.append({"org": dataset.organization.slug, "name": dataset.slug,
                     "version": version.version, "dataset_id": dataset.id})
    return guarded, sources, used


def run_query(
    session: Session, *, actor: Actor, storage: LakeStorage, settings: Settings,
    queries: QueryPool, request: schemas.QueryRequest, ckan_names: bool = False,
) -> schemas.QueryResult:
    """Rows as JSON values. The time limit covers checking the text, waiting for a worker
    and running the query."""
    answer = _answer(session, actor=actor, storage=storage, settings=settings,
                     queries=queries, request=request, ckan_names=ckan_names)
    rows = answer.rows.rows if isinstance(answer.rows, Rows) else answer.rows
    return _result(answer, rows)


def run_query_json(
    session: Session, *, actor: Actor, storage: LakeStorage, settings: Settings,
    queries: QueryPool, request: schemas.QueryRequest,
) -> bytes:
    """`run_query`'s answer as the bytes of its JSON (`QueryResult`): the rows are placed as
    the worker wrote them, not parsed and written again (for a 100-row result that was a
    fifth of what the hub added to the query's own time)."""
    answer = _answer(session, actor=actor, storage=storage, settings=settings,
                     queries=queries, request=request)
    if not isinstance(answer.rows, Rows):         # Spark's rows are Python values
        return _result(answer, answer.rows).model_dump_json().encode()
    head = _result(answer, []).model_dump_json(exclude={"rows"}).encode()
    return b"".join((head[:-1], b',"rows":', answer.rows.json, b"}"))


def _result(answer: _Answer, rows: list[list[Any]]) -> schemas.QueryResult:
    return schemas.QueryResult(
        columns=[schemas.ColumnInfo(**c) for c in answer.columns], rows=rows,
        truncated=answer.truncated, elapsed_ms=answer.elapsed_ms, datasets=answer.datasets)


@dataclass
class _Answer:
    columns: list[dict[str, str]]
    rows: Rows | list[list[Any]]       # as the worker sent them, or Spark's values
    truncated: bool
    elapsed_ms: float
    datasets: list[schemas.DatasetUsed]


def _answer(
    session: Session, *, actor: Actor, storage: LakeStorage, settings: Settings,
    queries: QueryPool, request: schemas.QueryRequest, ckan_names: bool = False,
) -> _Answer:
    started = time.perf_counter()
    deadline = Deadline(request.timeout_ms / 1000)
    rows: Rows | list[list[Any]]
    try:
        guarded, sources, used = prepare(session, actor=actor, storage=storage,
                                         queries=queries, sql=request.sql, deadline=deadline,
                                         ckan_names=ckan_names)
        if request.engine == "spark":
            if request.params:
                raise Invalid("The Spark engine takes no parameters; write the values in the "
                              "query", code="spark_params", field="params")
            from .. import spark  # the optional pyspark extra, loaded only when asked for

            result = spark.run(guarded, sources, storage, index_for(settings.home),
                               master=settings.spark_master, limit=request.limit,
                               timeout_ms=max(int(deadline.left() * 1000), 1))
            columns, rows, truncated = result.columns, result.rows, result.truncated
            elapsed_ms = result.elapsed_ms
        else:
            found = queries.rows(guarded, sources, params=request.params, limit=request.limit,
                                 deadline=deadline)
            columns, rows, truncated = found.columns, found, found.truncated
            elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    except Exception as exc:
        # the request's transaction is lost with the error; the failed query stays in the
        # user's history all the same, written on its own after the rollback
        failure = str(exc)
        keep_after_failure(session, lambda own: _remember(own, actor, request.sql, [], 0,
                                                           started, failure))
        raise
    count = len(rows) if isinstance(rows, list) else rows.count
    _remember(session, actor, request.sql, used, count, started, None)
    return _Answer(columns, rows, truncated, elapsed_ms,
                   [schemas.DatasetUsed(org=u["org"], name=u["name"], version=u["version"])
                    for u in used])


def run_over(
    *, queries: QueryPool, sql: str, tables: Callable[[TableRef], VersionData], limit: int,
    timeout_ms: int,
) -> schemas.QueryResult:
    """SQL over tables the caller names itself (the testbed's synthetic copies, say): the
    same guard, sandbox, workers and limits as every query; `tables` answers each table the
    query reads, or refuses it."""
    started = time.perf_counter()
    deadline = Deadline(timeout_ms / 1000)
    guarded = queries.guard(sql, deadline)
    sources = [(ref, tables(ref)) for ref in guarded.tables]
    found = queries.rows(guarded, sources, params=None, limit=limit, deadline=deadline)
    return schemas.QueryResult(
        columns=[schemas.ColumnInfo(**c) for c in found.columns], rows=found.rows,
        truncated=found.truncated, elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        datasets=[])


def open_stream(
    session: Session, *, actor: Actor, storage: LakeStorage, queries: QueryPool,
    request: schemas.QueryRequest,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch], list[dict[str, Any]]]:
    """(schema, batches, datasets used) for file formats; the query starts before returning,
    and its time limit covers reading the batches to the end."""
    started = time.perf_counter()
    deadline = Deadline(request.timeout_ms / 1000)
    guarded, sources, used = prepare(session, actor=actor, storage=storage, queries=queries,
                                     sql=request.sql, deadline=deadline)
    schema, batches = queries.batches(guarded, sources, params=request.params,
                                      limit=request.limit, deadline=deadline)
    _remember(session, actor, request.sql, used, 0, started, None)
    return schema, batches, used


def _remember(session: Session, actor: Actor, sql: str, used: list[dict[str, Any]], rows: int,
              started: float, error: str | None) -> None:
    if actor.user_id is None:
        return
    session.add(QueryRecord(user_id=actor.user_id, sql=sql[:100_000], rows=rows,
                            datasets=[{k: u[k] for k in ("org", "name", "version")}
                                      for u in used],
                            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
                            error=error[:2000] if error else None))
    session.flush()


def history(session: Session, *, actor: Actor, limit: int = 50) -> list[QueryRecord]:
    authorize(actor, "analysis.saved.manage")
    return list(session.scalars(select(QueryRecord).where(QueryRecord.user_id == actor.user_id)
                                .order_by(QueryRecord.id.desc()).limit(limit)))


def save_query(session: Session, *, actor: Actor, queries: QueryPool,
               data: schemas.SavedQueryCreate) -> SavedQuery:
    authorize(actor, "analysis.saved.manage")
    queries.guard(data.sql, Deadline(CHECK_SECONDS))  # only queries that could run are saved
    saved = SavedQuery(user_id=actor.user_id, name=data.name, sql=data.sql)
    session.add(saved)
    session.flush()
    return saved


def saved_queries(session: Session, *, actor: Actor) -> list[SavedQuery]:
    authorize(actor, "analysis.saved.manage")
    return list(session.scalars(select(SavedQuery).where(SavedQuery.user_id == actor.user_id)
                                .order_by(SavedQuery.id.desc())))


def delete_saved(session: Session, *, actor: Actor, saved_id: int) -> None:
    authorize(actor, "analysis.saved.manage")
    saved = session.get(SavedQuery, saved_id)
    if saved is None or saved.user_id != actor.user_id:
        raise NotFound("Saved query {id} does not exist", code="saved_query_not_found",
                       id=saved_id)
    session.delete(saved)
    session.flush()


def join_suggestions(session: Session, *, actor: Actor, storage: LakeStorage,
                     settings: Settings, left: Dataset, right: Dataset) -> list[dict[str, Any]]:
    """Column pairs that link two datasets, with measured match rates (both must be readable)."""
    keys = []
    regions = index_for(settings.home)
    for dataset in (left, right):
        if dataset.access == "sensitive":
            raise Forbidden("{table} is sensitive; sensitive datasets cannot be queried yet",
                            code="sensitive_dataset", table=dataset.table_name)
        version = lake.readable_version(session, actor=actor, dataset=dataset)
        data = version_data(storage.table_uri(dataset.id), storage.storage_options,
                            version.delta_version)
        con = sandbox.fresh(settings.query_memory_mb, 2)
        try:
            source = storage.relation(con, data.files, "keys", data.schema)
            keys.append(joins.key_columns(con, source, version.columns, regions))
        finally:
            con.close()
    return joins.suggest(keys[0], keys[1])
