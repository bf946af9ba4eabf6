"""Queries in a safe zone: only checked aggregates leave. The analyst's SQL is planned
(row-level output refused), its cells measured in the sandbox's workers over the zone's
approved sources only, small and recomputable cells suppressed, differencing refused, and —
where asked — noise added under the zone's privacy budget. Every query is logged, answered or
refused, with what was hidden."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...analysis import service as analysis
from ...analysis.guard import TableRef
from ...analysis.workers import QueryPool
from ...core import audit
from ...core.db import keep_after_failure
from ...core.errors import Forbidden, HubError, Invalid
from ...identity.policy import Actor
from ...lake import service as lake
from ...lake.storage import LakeStorage
from ...lake.tables import VersionData, open_table, version_data
from .. import schemas
from ..disclosure import dp
from ..disclosure.plan import plan_query
from ..disclosure.suppress import COUNT_COLUMN, align_counts, suppress
from ..models import Combination, Zone, ZoneQuery, ZoneSource
from . import findings, zones

MAX_CELLS = 10_000          # groups one answer may have (all are needed for the margins)
TIME_LIMIT_MS = 60_000
DEFAULT_EPSILON = 0.5       # spent by a DP answer that names none
NAME_ERRORS = ("Parser Error", "Binder Error", "Catalog Error")   # about the SQL, not data


def query(session: Session, *, actor: Actor, zone: Zone, data: schemas.ZoneQueryRequest,
          storage: LakeStorage, queries: QueryPool) -> schemas.ZoneAnswer:
    try:    # refused to a non-analyst too: an attempt from outside is logged as well
        zones.require_analyst(actor, zone)
        answer = _answer(session, actor, zone, data, storage, queries)
    except HubError as refused:
        reason = f"{refused.code}: {refused}"[:2000]
        keep_after_failure(session, lambda own: _log(own, zone.id, actor, data.sql, [], [], [],
                                                     0.0, reason))
        raise
    return answer


def _answer(session: Session, actor: Actor, zone: Zone, data: schemas.ZoneQueryRequest,
            storage: LakeStorage, queries: QueryPool) -> schemas.ZoneAnswer:
    tables, k = _tables(session, actor, zone, storage)
    plan = plan_query(data.sql, k=k)

    def resolve(ref: TableRef) -> VersionData:
        key = (ref.schema.lower(), ref.name.lower())
        if key not in tables:
            raise Forbidden("{table} is not a source of this zone approved for you",
                            code="not_zone_source", field="sql",
                            table=f"{ref.schema}.{ref.name}")
        if ref.version is not None:
            raise Invalid("A safe zone reads the current version of its sources",
                          code="zone_version", field="sql")
        return tables[key]

    cells = _run(queries, plan.cells_sql, resolve)
    counted = sum(int(c.get(COUNT_COLUMN) or 0) for c in cells)
    if counted < k:    # the same answer whether the few records exist or not: no oracle
        raise Invalid("This query counts fewer than {k} records in all; a safe zone answers "
                      "only about larger groups", code="query_set_too_small", field="sql", k=k)
    n0 = None
    if plan.base_sql:
        n0 = align_counts(cells, _run(queries, plan.base_sql, resolve), plan)
    hidden = suppress(cells, plan, k=k, n0=n0)
    if any(s.reason == "difference" for s in hidden.suppressed):
        raise Invalid("A condition of this query leaves out fewer than {k} records of a group "
                      "that another query could count whole: comparing the two would reveal "
                      "those records", code="differencing", field="sql", k=k)
    rows = [[row.get(c) for c in plan.columns] for row in hidden.rows]
    spent = 0.0
    if data.dp:
        rows, spent = _noisy(session, zone, data, plan, rows, resolve, queries)
    suppressed = [schemas.SuppressedCell(row=s.row, column=s.column, reason=s.reason)
                  for s in hidden.suppressed if s.column != COUNT_COLUMN]
    columns = [{"name": c, "type": "decimal" if c not in plan.groups else "text"}
               for c in plan.columns]
    logged = _log(session, zone.id, actor, data.sql, columns, rows,
                  [s.model_dump() for s in suppressed], spent, None)
    audit.record(session, actor=actor, action="privacy.zone.query", target_type="zone",
                 target_id=zone.id, org_id=zone.org_id,
                 details={"query": logged.id, "suppressed": len(suppressed), "epsilon": spent})
    return schemas.ZoneAnswer(
        query_id=logged.id, columns=columns, rows=rows, suppressed=suppressed, k=k,
        epsilon=spent, epsilon_left=None if zone.epsilon_total is None
        else round(zone.epsilon_total - zone.epsilon_spent, 6), elapsed_ms=0.0)


def _tables(session: Session, actor: Actor, zone: Zone, storage: LakeStorage
            ) -> tuple[dict[tuple[str, str], VersionData], int]:
    """The sources this analyst may query (approved, and approved for them) by their SQL
    names, and the k of the answer: the zone's, or a source dataset's own when larger."""
    tables: dict[tuple[str, str], VersionData] = {}
    k = zone.k
    for source in zone.sources:
        if source.decision != "approve" or actor.user_id not in source.approved_analysts:
            continue
        schema, name = zones.source_name(session, source)
        key = (schema.replace("-", "_").lower(), name.replace("-", "_").lower())
        tables[key] = _source_data(session, source, storage)
        for dataset_id in _datasets_behind(session, source):
            k = max(k, findings.min_cell(session, lake.get_dataset_by_id(session, dataset_id)))
    return tables, k


def _datasets_behind(session: Session, source: ZoneSource) -> list[int]:
    """The datasets a source reads: itself, or every part of a combination (whose owners'
    minimum cell sizes hold for the combined rows too)."""
    if source.dataset_id is not None:
        return [source.dataset_id]
    combination = session.get(Combination, source.combination_id)
    return [p.dataset_id for p in combination.parts] if combination else []


def _source_data(session: Session, source: ZoneSource, storage: LakeStorage) -> VersionData:
    if source.dataset_id is not None:
        dataset = lake.get_dataset_by_id(session, source.dataset_id)
        version = lake.get_version(session, dataset=dataset)
        return version_data(storage.table_uri(dataset.id), storage.storage_options,
                            version.delta_version)
    uri = storage.private_uri("combined", f"c{source.combination_id}")
    table = open_table(uri, storage.storage_options)
    if table is None:
        raise Invalid("The combination's result is missing", code="combination_missing")
    return version_data(uri, storage.storage_options, table.version())


def _run(queries: QueryPool, sql: str, resolve: Any) -> list[dict[str, Any]]:
    try:
        found = analysis.run_over(queries=queries, sql=sql, tables=resolve, limit=MAX_CELLS,
                                  timeout_ms=TIME_LIMIT_MS)
    except Invalid as failed:
        raise _without_values(failed) from None
    if found.truncated:
        raise Invalid("The answer has more than {limit} groups; group by fewer or coarser "
                      "values", code="too_many_groups", field="sql", limit=MAX_CELLS)
    names = [c.name for c in found.columns]
    return [dict(zip(names, row, strict=True)) for row in found.rows]


def _without_values(failed: Invalid) -> Invalid:
    """DuckDB's message about a failed zone query, without the values it quotes: "could not
    convert string '홍길동'" would let a record out through the error. Messages about the
    query's text (syntax, names) keep their detail; the others keep only their kind."""
    if failed.code not in ("query_error", "sandbox_refused"):
        return failed
    reason = str(failed.params.get("reason", failed))
    kind, _, _ = reason.partition(":")
    if kind.strip() in NAME_ERRORS:
        return failed
    return Invalid("The query failed in the zone ({kind}); the zone does not show the "
                   "values involved", code=failed.code, field="sql", kind=kind.strip()[:80])


def _noisy(session: Session, zone: Zone, data: schemas.ZoneQueryRequest, plan: Any,
           rows: list[list[Any]], resolve: Any, queries: QueryPool
           ) -> tuple[list[list[Any]], float]:
    """Noise from OpenDP on every shown value, paid from the zone's budget; hidden cells stay
    hidden (which groups exist is not what the noise protects)."""
    if zone.epsilon_total is None:
        raise Invalid("This zone has no privacy budget; ask its editors for one to use "
                      "differential privacy", code="no_privacy_budget", field="dp")
    budget = dp.Budget(zone.epsilon_total, zone.epsilon_spent)
    cells = _run(queries, dp.dp_cells_sql(plan, data.bounds), resolve)
    noisy = dp.release(cells, plan, epsilon=data.epsilon or DEFAULT_EPSILON,
                       bounds=data.bounds, budget=budget)
    by_key = {tuple(r[g] for g in plan.groups): r for r in noisy.rows}
    out = []
    for row in rows:
        key = tuple(row[plan.columns.index(g)] for g in plan.groups)
        source = by_key.get(key, {})
        out.append([value if value is None or name in plan.groups else source.get(name)
                    for name, value in zip(plan.columns, row, strict=True)])
    zone.epsilon_spent = budget.spent
    return out, noisy.epsilon


def _log(session: Session, zone_id: int, actor: Actor, sql: str, columns: list[Any],
         rows: list[Any], suppressed: list[Any], epsilon: float, refused: str | None
         ) -> ZoneQuery:
    entry = ZoneQuery(zone_id=zone_id, user_id=actor.user_id, sql=sql[:100_000],
                      columns=columns, rows=rows, suppressed=suppressed, epsilon=epsilon,
                      refused=refused)
    session.add(entry)
    session.flush()
    return entry


def log(session: Session, zone: Zone) -> list[schemas.ZoneQueryLog]:
    entries = session.scalars(select(ZoneQuery).where(ZoneQuery.zone_id == zone.id)
                              .order_by(ZoneQuery.id.desc()).limit(500))
    return [schemas.ZoneQueryLog(id=e.id, user_id=e.user_id, sql=e.sql,
                                 suppressed=len(e.suppressed or []), refused=e.refused,
                                 epsilon=e.epsilon, created_at=e.created_at) for e in entries]
