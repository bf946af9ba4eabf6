"""Pseudonymisation (가명처리): a job builds a new dataset of the same organization from a
per-column plan; the plan and what was done per column stay with it as its record."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pyarrow.csv as pacsv
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit, jobs
from ...core.errors import Forbidden, Invalid, NotFound
from ...identity.models import Role
from ...identity.policy import Actor, authorize
from ...lake import service as lake
from ...lake import tables
from ...lake.models import Dataset
from ...lake.schemas import DatasetCreate
from .. import pseudo, schemas
from ..models import Pseudonymisation

JOB = "privacy.pseudonymise"


def request(session: Session, *, actor: Actor, source: Dataset,
            data: schemas.PseudonymiseRequest, today: date) -> tuple[Pseudonymisation, jobs.Job]:
    """Check the plan against the source's current columns, create the target dataset (as
    strict as the source unless asked otherwise) and queue the job that fills it. Ages are
    reckoned at `today` (the hub's clock when asked) unless the plan names a date."""
    authorize(actor, "privacy.pseudonymise", source)
    version = lake.get_version(session, dataset=source)
    pseudo.validate_plan({k: v for k, v in data.plan.items()}, version.columns)
    target = lake.create_dataset(session, actor=actor, org=source.organization,
                                 data=DatasetCreate(
                                     slug=data.target,
                                     title_ko=data.title_ko or f"{source.title_ko} (가명처리)",
                                     title_en=data.title_en or
                                     f"{source.title_en or source.slug} (pseudonymised)",
                                     description_ko=source.description_ko,
                                     keywords=["가명처리", "pseudonymised"],
                                     access=str(data.access or source.access)))
    record = Pseudonymisation(org_id=source.org_id, source_id=source.id,
                              source_version=version.version, target_id=target.id,
                              plan=data.plan, created_by=actor.user_id,
                              token_columns=sorted(c for c, p in data.plan.items()
                                                   if p.get("action") == "token"))
    session.add(record)
    session.flush()
    job = jobs.enqueue(session, kind=JOB, params={"pseudonymisation_id": record.id,
                                             "today": today.isoformat()},
                       org_id=source.org_id, created_by=actor.user_id)
    record.job_id = job.id
    audit.record(session, actor=actor, action="privacy.pseudonymise", target_type="dataset",
                 target_id=target.table_name, org_id=source.org_id,
                 details={"source": source.table_name, "version": version.version,
                          "plan": data.plan, "job": job.id})
    session.flush()
    return record, job


def get(session: Session, pseudonymisation_id: int) -> Pseudonymisation:
    found = session.get(Pseudonymisation, pseudonymisation_id)
    if found is None:
        raise NotFound("Pseudonymisation {id} does not exist", code="pseudonymisation_not_found",
                       id=pseudonymisation_id)
    return found


def get_visible(session: Session, *, actor: Actor, pseudonymisation_id: int
                ) -> Pseudonymisation:
    """The record, for members of the owner organization and operators only: it names the
    owner's datasets, its plan and what a job's error said about its values."""
    found = get(session, pseudonymisation_id)
    if not actor.is_operator and actor.role_in(found.org_id) is None:
        raise NotFound("Pseudonymisation {id} does not exist", code="pseudonymisation_not_found",
                       id=pseudonymisation_id)
    return found


def of_target(session: Session, dataset: Dataset) -> Pseudonymisation | None:
    return session.scalar(select(Pseudonymisation).where(
        Pseudonymisation.target_id == dataset.id))


def of_source(session: Session, dataset: Dataset) -> list[Pseudonymisation]:
    return list(session.scalars(select(Pseudonymisation).where(
        Pseudonymisation.source_id == dataset.id).order_by(Pseudonymisation.id.desc())))


def record_read(session: Session, found: Pseudonymisation) -> schemas.PseudonymisationRead:
    source = lake.get_dataset_by_id(session, found.source_id)
    target = lake.get_dataset_by_id(session, found.target_id)
    job = session.get(jobs.Job, found.job_id) if found.job_id else None
    return schemas.PseudonymisationRead(
        id=found.id, source=f"{source.organization.slug}/{source.slug}",
        source_version=found.source_version, target=f"{target.organization.slug}/{target.slug}",
        plan=found.plan, record=found.record, token_columns=found.token_columns,
        job_id=found.job_id, state=job.state if job else None,
        error=job.error if job else None, created_at=found.created_at, done_at=found.done_at)


def token_table_uri(storage: Any, found: Pseudonymisation, column: str) -> str:
    return storage.private_uri("tokens", f"p{found.id}-c{found.token_columns.index(column)}")


def tokens_of(session: Session, *, actor: Actor, found: Pseudonymisation, column: str
              ) -> Dataset:
    """Who may read a token column's mapping (value → token): the owner's admins only. Returns
    the target dataset; the route streams the table."""
    target = lake.get_dataset_by_id(session, found.target_id)
    authorize(actor, "privacy.tokens.read", target)
    if actor.role_in(target.org_id) is not Role.admin:   # operators pass authorize, not this
        raise Forbidden("Only admins of {org} may read a token mapping: it undoes the "
                        "pseudonymisation", code="forbidden", org=target.organization.slug)
    if actor.via == "app":
        raise Forbidden("Token mappings are never read through an app", code="forbidden")
    if column not in found.token_columns:
        raise Invalid("{column} was not tokenised in this pseudonymisation",
                      code="not_tokenised", field="column", column=column)
    if found.done_at is None:
        raise Invalid("The pseudonymisation has not finished yet", code="not_finished")
    audit.record(session, actor=actor, action="privacy.tokens.read",
                 target_type="dataset", target_id=target.table_name, org_id=target.org_id,
                 details={"pseudonymisation": found.id, "column": column})
    return target


def token_csv(session: Session, *, actor: Actor, found: Pseudonymisation, column: str,
              storage: Any) -> bytes:
    """The mapping of a token column as CSV (value, token), for the owner's admins."""
    tokens_of(session, actor=actor, found=found, column=column)
    table = tables.open_table(token_table_uri(storage, found, column), storage.storage_options)
    if table is None:
        raise NotFound("The token mapping of {column} is missing", code="tokens_missing",
                       column=column)
    out = io.BytesIO()
    pacsv.write_csv(table.to_pyarrow_table(), out)
    return out.getvalue()


def section(session: Session, dataset: Dataset, actor: Actor) -> dict[str, Any]:
    """For the dataset's page: how it was pseudonymised, or what was made from it — to the
    owner's members and operators, as the records are through the API."""
    if not actor.is_operator and actor.role_in(dataset.org_id) is None:
        return {"pseudonymised_from": None, "pseudonymised_into": []}
    made = of_target(session, dataset)
    return {"pseudonymised_from": record_read(session, made) if made else None,
            "pseudonymised_into": [record_read(session, p) for p in of_source(session, dataset)]}


def lineage_edges(session: Session) -> list[tuple[int, int, int]]:
    """For the hub's lineage graph: each pseudonymised dataset and the version it came from."""
    return [(p.source_id, p.source_version or 0, p.target_id)
            for p in session.scalars(select(Pseudonymisation))]
