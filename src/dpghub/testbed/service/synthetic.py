"""Synthetic copies: asked for in a project, made by a job (synthesis.py), read by the
project's people and its sandbox keys — through the rows API and as `sandbox.<org>_<name>`
in SQL. A copy of data that is not open is made only in a project of the data's own
organization (the owner decides who sees even a likeness of it); sensitive data, never."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...analysis import service as analysis
from ...core import audit, jobs
from ...core.errors import Forbidden, Invalid, NotFound
from ...identity.policy import Actor, authorize
from ...lake import service as lake
from ...lake.models import Dataset
from ...lake.storage import LakeStorage
from ...lake.tables import VersionData, open_table, version_data
from .. import schemas
from ..models import Project, SyntheticCopy
from .progress import settled
from .projects import is_expired

JOB = "testbed.synthesize"
MAX_ROWS = 5_000_000


def reader_check(actor: Actor, project: Project, now: datetime | None = None) -> None:
    """Who may read a project's synthetic data: its people, and its own sandbox keys while
    the project runs."""
    if actor.via == "sandbox":
        if actor.sandbox_project != project.id:
            raise Forbidden("This sandbox key belongs to another project",
                            code="sandbox_key_other_project")
        if is_expired(project, now):
            raise Forbidden("This sandbox project has expired; its keys work again when it is "
                            "extended", code="project_expired")
        return
    authorize(actor, "testbed.project.read", project)


def holding_refused(dataset: Dataset, project: Project) -> Forbidden | None:
    """Why `project` may not hold a copy of `dataset` — now, not only when it was asked for:
    a copy of data that became restricted or sensitive afterwards is withheld (it, and its
    quality report charting the real columns, are a likeness of data the project may no
    longer read), and served again if the data opens again."""
    name = f"{dataset.organization.slug}/{dataset.slug}"
    if dataset.access == "sensitive":
        return Forbidden("{name} is sensitive: no copy of it, synthetic or not, leaves its "
                         "owner", code="sensitive_dataset", field="dataset", name=name)
    if dataset.access != "open" and dataset.org_id != project.org_id:
        return Forbidden("{name} is {access}: only a project of its own organization may make "
                         "a synthetic copy of it", code="not_the_owner", field="dataset",
                         name=name, access=dataset.access)
    return None


def _withheld(session: Session, copy: SyntheticCopy) -> Forbidden | None:
    project = session.get(Project, copy.project_id)
    assert project is not None
    return holding_refused(lake.get_dataset_by_id(session, copy.dataset_id), project)


def table_name(org: str, dataset: str) -> str:
    return f"{org}_{dataset}".replace("-", "_")


def request(session: Session, *, actor: Actor, project: Project,
            data: schemas.SyntheticCreate) -> SyntheticCopy:
    authorize(actor, "testbed.project.work", project)
    org, slug = data.dataset.split("/")
    dataset = lake.get_dataset(session, org, slug)
    refused = holding_refused(dataset, project)
    if refused is not None:
        raise refused
    version = lake.readable_version(session, actor=actor, dataset=dataset, version=None)
    copy = SyntheticCopy(project_id=project.id, dataset_id=dataset.id,
                         source_version=version.version, rows_asked=data.rows,
                         created_by=actor.user_id)
    session.add(copy)
    session.flush()
    job = jobs.enqueue(session, kind=JOB, params={"copy_id": copy.id}, org_id=project.org_id,
                       created_by=actor.user_id, max_attempts=1)
    copy.job_id = job.id
    audit.record(session, actor=actor, action="testbed.synthetic.request", target_type="project",
                 target_id=project.id, org_id=project.org_id,
                 details={"dataset": data.dataset, "version": version.version,
                          "rows": data.rows, "job": job.id})
    session.flush()
    return copy


def list_(session: Session, project: Project) -> list[SyntheticCopy]:
    return list(session.scalars(select(SyntheticCopy).where(SyntheticCopy.project_id == project.id)
                                .order_by(SyntheticCopy.id.desc())))


def get(session: Session, project: Project, copy_id: int) -> SyntheticCopy:
    copy = session.get(SyntheticCopy, copy_id)
    if copy is None or copy.project_id != project.id:
        raise NotFound("Synthetic copy {id} is not in this project", code="synthetic_not_found",
                       id=copy_id)
    return copy


def copy_read(session: Session, copy: SyntheticCopy) -> schemas.SyntheticRead:
    dataset = lake.get_dataset_by_id(session, copy.dataset_id)
    org = dataset.organization.slug
    withheld = _withheld(session, copy)
    shown = withheld is None
    state, error = settled(session, copy.job_id, copy.state, copy.error)
    return schemas.SyntheticRead(
        id=copy.id, dataset=f"{org}/{dataset.slug}",
        table=f"sandbox.{table_name(org, dataset.slug)}", source_version=copy.source_version,
        rows=copy.rows, state=state if shown else "withheld",
        error=error if shown else str(withheld), job_id=copy.job_id,
        quality=(copy.quality or {}) if shown else {},
        privacy=(copy.privacy or {}) if shown else {}, created_at=copy.created_at)


def ready_data(session: Session, storage: LakeStorage, copy: SyntheticCopy) -> VersionData:
    if copy.state != "ready" or copy.delta_version is None:
        raise Invalid("Synthetic copy {id} is not ready ({state})", code="synthetic_not_ready",
                      id=copy.id, state=copy.state)
    withheld = _withheld(session, copy)
    if withheld is not None:
        raise withheld
    return version_data(storage.sandbox_uri(copy.id), storage.storage_options,
                        copy.delta_version)


def preview(session: Session, storage: LakeStorage, copy: SyntheticCopy, *, rows: int = 20
            ) -> pa.Table | None:
    """The first rows of a ready copy (None before it is ready, and while it is withheld)."""
    if copy.state != "ready" or copy.delta_version is None:
        return None
    if _withheld(session, copy) is not None:
        return None
    table = open_table(storage.sandbox_uri(copy.id), storage.storage_options,
                       copy.delta_version)
    return None if table is None else table.to_pyarrow_dataset().head(rows)


def query(session: Session, *, actor: Actor, project: Project, storage: LakeStorage,
          queries: Any, data: schemas.SandboxQuery, now: datetime | None = None) -> Any:
    """SQL over the project's synthetic copies only: each table is `sandbox.<org>_<name>`,
    its newest ready copy. Real datasets are not reachable from here, whoever asks."""
    reader_check(actor, project, now)
    copies: dict[str, SyntheticCopy] = {}
    for copy in reversed(list_(session, project)):      # oldest first: the newest wins
        if copy.state == "ready":
            dataset = lake.get_dataset_by_id(session, copy.dataset_id)
            copies[table_name(dataset.organization.slug, dataset.slug)] = copy

    def tables(ref: Any) -> VersionData:
        copy = copies.get(ref.name.lower()) if ref.schema.lower() == "sandbox" else None
        if copy is None:
            raise Invalid("Unknown table {table}: a sandbox query reads the project's "
                          "synthetic copies, as sandbox.<org>_<dataset> ({known})",
                          code="unknown_table", field="sql", table=f"{ref.schema}.{ref.name}",
                          known=", ".join(f"sandbox.{n}" for n in copies) or "none yet")
        return ready_data(session, storage, copy)

    return analysis.run_over(queries=queries, sql=data.sql, tables=tables, limit=data.limit,
                             timeout_ms=30_000)
