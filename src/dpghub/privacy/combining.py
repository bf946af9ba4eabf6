"""The combination job (결합): inside the hub, each provider's identifiers become linkage keys
(HMAC-SHA-256 with the key manager's salt, over the normalised identifier values), the parts
are joined on those keys, and the result — without identifiers, linkage keys or any column the
scan found to identify people directly — is written apart from every dataset, where only the
requester's safe zone reaches it. The match rate of each part is recorded."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
from duckdb.sqltypes import VARCHAR

from ..core import jobs
from ..core.db import utcnow
from ..core.duck import job_connection, quote_ident, scalar
from ..core.jobs import JobContext
from ..core.security import unseal
from ..lake import service as lake
from ..lake import tables
from ..lake.readers import SOURCE_COLUMN
from .models import Combination, CombinationState, Salt, ZoneSource
from .service import combinations, findings


def result_uri(storage: Any, combination_id: int) -> str:
    return storage.private_uri("combined", f"c{combination_id}")


def run(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.extras["settings"]
    storage = ctx.extras["storage"]
    with ctx.factory() as session:
        found = session.get(Combination, ctx.params["combination_id"])
        if found is None or found.salt_id is None:
            raise jobs.JobFailed("The combination or its salt no longer exists", code="gone")
        salt_row = session.get(Salt, found.salt_id)
        assert salt_row is not None
        salt = unseal(settings.secret, combinations.SALT_PURPOSE, salt_row.sealed)
        parts = []
        for part in found.parts:
            dataset = lake.get_dataset_by_id(session, part.dataset_id)
            version = lake.get_version(session, dataset=dataset)
            drop = set(findings.direct_columns(session, dataset)) | set(part.columns) | {
                SOURCE_COLUMN}
            keep = [c["name"] for c in version.columns if c["name"] not in drop]
            parts.append({"id": part.id, "dataset_id": dataset.id, "slug": dataset.slug,
                          "version": version.version, "delta": version.delta_version,
                          "columns": list(part.columns), "keep": keep})
    scratch = Path(tempfile.mkdtemp(prefix=f"combine-{ctx.job_id}-",
                                    dir=_scratch_root(settings)))
    try:
        con = job_connection(settings, scratch)
        _linkage_function(con, salt)
        counts = []
        for i, part in enumerate(parts):
            data = tables.version_data(storage.table_uri(part["dataset_id"]),
                                       storage.storage_options, part["delta"])
            source = storage.relation(con, data.files, f"part{i}", data.schema) \
                if data.files else "(SELECT 1 WHERE false)"
            key = " || '\x1f' || ".join(
                f"coalesce(regexp_replace(upper(trim(CAST({quote_ident(c)} AS VARCHAR))), "
                f"'[\\s\\-.]', '', 'g'), '')" for c in part["columns"])
            kept = "".join(f", {quote_ident(c)} AS {quote_ident(_name(c, part, parts))}"
                           for c in part["keep"])
            nulls = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in part["columns"])
            con.execute(f"CREATE TEMP TABLE p{i} AS SELECT _pv_link({key}) AS __link{kept} "
                        f"FROM {source} WHERE {nulls}")
            ctx.progress(message=f"linkage keys of part {i + 1} of {len(parts)}", force=True)
        joined = "p0" + "".join(f" JOIN p{i} USING (__link)" for i in range(1, len(parts)))
        for i in range(len(parts)):
            others = " AND ".join(f"__link IN (SELECT __link FROM p{j})"
                                  for j in range(len(parts)) if j != i)
            counts.append((scalar(con, f"SELECT count(*) FROM p{i}"),
                           scalar(con, f"SELECT count(*) FROM p{i} WHERE {others}")))
        ctx.progress(message="joining", force=True)
        reader = con.sql(f"SELECT * EXCLUDE (__link) FROM {joined}").to_arrow_reader(
            batch_size=100_000)
        written = tables.write(result_uri(storage, ctx.params["combination_id"]),
                               storage.storage_options, jobs.counting(reader, ctx),
                               mode="replace", keys=[], job_id=ctx.job_id)
        con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with ctx.factory() as session:
        found = session.get(Combination, ctx.params["combination_id"])
        assert found is not None
        for part, info, (rows, matched) in zip(found.parts, parts, counts, strict=True):
            part.version, part.rows, part.matched = info["version"], rows, matched
        found.rows = written.row_count
        found.state = CombinationState.done
        found.done_at = utcnow()
        zone = found.zone_id
        session.add(ZoneSource(zone_id=zone, combination_id=found.id, owner_org_id=found.org_id,
                               decision="approve", decided_at=utcnow(),
                               approved_analysts=list(found.analysts or []),
                               comment="approved through the combination"))
        session.commit()
        return {"rows": written.row_count,
                "parts": [{"dataset": p["slug"], "rows": r, "matched": m}
                          for p, (r, m) in zip(parts, counts, strict=True)]}



def _name(column: str, part: dict[str, Any], parts: list[dict[str, Any]]) -> str:
    """A column's name in the result: as it is, unless another part has one of the same."""
    clash = any(column in other["keep"] for other in parts if other is not part)
    return f"{part['slug'].replace('-', '_')}_{column}" if clash else column


def _linkage_function(con: Any, salt: bytes) -> None:
    def link(values: pa.Array) -> pa.Array:
        return pa.array([hmac.new(salt, v.encode(), hashlib.sha256).hexdigest()
                         for v in values.to_pylist()], pa.string())

    con.create_function("_pv_link", link, [VARCHAR], VARCHAR, type="arrow",
                        side_effects=False)


def _scratch_root(settings: Any) -> Path:
    root = settings.home / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root

