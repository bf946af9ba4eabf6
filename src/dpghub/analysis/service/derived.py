"""Derived datasets: made from a query, refreshed by a job, as strict as their inputs, with
their lineage and staleness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...core import audit, jobs
from ...core.errors import Forbidden, Invalid
from ...identity.models import Organization
from ...identity.policy import SYSTEM, Actor, authorize, can
from ...lake import service as lake
from ...lake.models import Dataset
from ...lake.schemas import DatasetCreate, DatasetUpdate
from ...lake.storage import LakeStorage
from .. import sandbox, schemas
from ..models import Derivation
from ..workers import Deadline, QueryPool
from .queries import CHECK_SECONDS, prepare

DERIVE_JOB = "analysis.derive"


# --- derived datasets ----------------------------------------------------------------------


def create_derived(
    session: Session, *, actor: Actor, org: Organization, storage: LakeStorage,
    queries: QueryPool, data: schemas.DerivedCreate,
) -> tuple[Dataset, jobs.Job]:
    """A new dataset of `org` made from a query; its first version is built by a job."""
    authorize(actor, "analysis.derived.create", org)
    _, _, used = prepare(session, actor=actor, storage=storage, queries=queries, sql=data.sql,
                         deadline=Deadline(CHECK_SECONDS))
    inputs = [lake.get_dataset_by_id(session, u["dataset_id"]) for u in used]
    floor = lake.strictest([d.access for d in inputs])
    access = str(data.access or floor)
    _may_publish(actor, inputs, access)
    dataset = lake.create_dataset(session, actor=actor, org=org, data=DatasetCreate(
        slug=data.slug, title_ko=data.title_ko, title_en=data.title_en,
        description_ko=data.description_ko, keywords=["융합", "derived"], access=access))
    session.add(Derivation(dataset_id=dataset.id, sql=data.sql, created_by=actor.user_id,
                           access_floor=floor,
                           inputs=[{k: u[k] for k in ("dataset_id", "org", "name", "version")}
                                   for u in used]))
    session.flush()
    job = _enqueue_derive(session, actor, dataset)
    audit.record(session, actor=actor, action="analysis.derived.create", target_type="dataset",
                 target_id=f"{org.slug}/{dataset.slug}", org_id=org.id,
                 details={"sql": data.sql, "inputs": used, "job": job.id})
    return dataset, job


def refresh_derived(session: Session, *, actor: Actor, dataset: Dataset) -> jobs.Job:
    authorize(actor, "analysis.derived.refresh", dataset)
    derivation = session.get(Derivation, dataset.id)
    if derivation is None:
        raise Invalid("{name} is not a derived dataset", code="not_derived",
                      name=dataset.table_name)
    job = _enqueue_derive(session, actor, dataset)
    audit.record(session, actor=actor, action="analysis.derived.refresh", target_type="dataset",
                 target_id=f"{dataset.organization.slug}/{dataset.slug}",
                 org_id=dataset.org_id, details={"job": job.id})
    return job


def _enqueue_derive(session: Session, actor: Actor, dataset: Dataset) -> jobs.Job:
    return jobs.enqueue(session, kind=DERIVE_JOB, params={"dataset_id": dataset.id,
                                                          "actor": actor.user_id},
                        org_id=dataset.org_id, created_by=actor.user_id)


# --- access of derived data ----------------------------------------------------------------
# Data made from restricted rows is restricted too: a derived dataset starts at the strictest
# access level of its inputs, follows them when one becomes stricter, and only someone who may
# publish every stricter input more openly (its editors) may open it further.


def _may_publish(actor: Actor, inputs: list[Dataset], access: str) -> None:
    for source in inputs:
        if lake.ACCESS_ORDER[source.access] <= lake.ACCESS_ORDER[access]:
            continue
        if not can(actor, "lake.dataset.update", source):
            raise Forbidden("{input} is {input_access}: data made from it cannot be {access} "
                            "unless its editors publish it so", code="access_below_inputs",
                            field="access", input=source.table_name,
                            input_access=source.access, access=access)


def _inputs_of(session: Session, dataset_id: int) -> list[Dataset]:
    derivation = session.get(Derivation, dataset_id)
    if derivation is None:
        return []
    found = (session.get(Dataset, item["dataset_id"]) for item in derivation.inputs)
    return [d for d in found if d is not None]


def _derived_from(session: Session, dataset_id: int) -> list[Dataset]:
    derived = []
    for derivation in session.scalars(select(Derivation)):
        if any(item["dataset_id"] == dataset_id for item in derivation.inputs):
            found = session.get(Dataset, derivation.dataset_id)
            if found is not None:
                derived.append(found)
    return derived


def follow_access(session: Session, actor: Actor, dataset: Dataset, old: str,
                  new: str) -> None:
    """The lake's access hook: refuse opening a derived dataset past its inputs, and make
    datasets derived from one that becomes stricter at least as strict (and theirs, in turn)."""
    if lake.ACCESS_ORDER[new] < lake.ACCESS_ORDER[old]:
        inputs = _inputs_of(session, dataset.id)
        _may_publish(actor, inputs, new)
        derivation = session.get(Derivation, dataset.id)
        if derivation is not None:
            derivation.access_floor = lake.strictest([d.access for d in inputs])
        return
    for derived in _derived_from(session, dataset.id):
        derivation = session.get(Derivation, derived.id)
        assert derivation is not None
        derivation.access_floor = lake.strictest([new], derivation.access_floor or "open")
        if lake.ACCESS_ORDER[derived.access] >= lake.ACCESS_ORDER[new]:
            continue
        raised_from = derived.access
        lake.update_dataset(session, actor=SYSTEM, dataset=derived,
                            data=DatasetUpdate(access=new))
        audit.record(session, actor=actor, action="analysis.derived.access_follows_input",
                     target_type="dataset", target_id=derived.table_name, org_id=derived.org_id,
                     details={"from": raised_from, "to": new, "input": dataset.table_name})


def keep_at_least_inputs_access(session: Session, dataset: Dataset) -> None:
    """Before a refresh writes: inputs may have become stricter since the dataset's level was
    decided (or it was made before this rule existed); the result is then at least as strict.
    A level that someone entitled opened past its inputs stays as they decided."""
    derivation = session.get(Derivation, dataset.id)
    if derivation is None:
        return
    floor = lake.strictest([d.access for d in _inputs_of(session, dataset.id)])
    decided = derivation.access_floor or "open"     # made before the rule: decided on nothing
    derivation.access_floor = lake.strictest([floor, decided])
    if lake.ACCESS_ORDER[floor] > lake.ACCESS_ORDER[decided] and \
            lake.ACCESS_ORDER[floor] > lake.ACCESS_ORDER[dataset.access]:
        raised_from = dataset.access
        dataset.access = floor
        audit.record(session, actor=SYSTEM, action="analysis.derived.access_follows_input",
                     target_type="dataset", target_id=dataset.table_name,
                     org_id=dataset.org_id, details={"from": raised_from, "to": floor})
        session.flush()


def derivation_section(session: Session, dataset: Dataset, actor: Actor) -> dict[str, Any]:
    """For the dataset's page: how a derived dataset was made and whether an input moved on
    (`derivation` is None for other datasets)."""
    found = session.get(Derivation, dataset.id)
    if found is None:
        return {"derivation": None}
    return {"derivation": {"sql": found.sql, "inputs": found.inputs,
                           "stale": staleness(session, dataset)}}


def register_hooks() -> None:
    """Called once at start-up by the app and the worker."""
    lake.on_access_change(follow_access)
    lake.on_describe(derivation_section)


def lineage_of(session: Session, dataset: Dataset) -> dict[str, Any]:
    """What a derived dataset was made from, and whether an input has moved on."""
    derivation = session.get(Derivation, dataset.id)
    return {"derived": derivation is not None,
            "sql": derivation.sql if derivation else None,
            "inputs": derivation.inputs if derivation else [],
            "stale": staleness(session, dataset),
            "refreshed_at": derivation.refreshed_at.isoformat()
            if derivation and derivation.refreshed_at else None}


def staleness(session: Session, dataset: Dataset) -> list[dict[str, Any]]:
    """Inputs of a derived dataset that have a newer version than the one it read."""
    derivation = session.get(Derivation, dataset.id)
    if derivation is None:
        return []
    stale = []
    for item in derivation.inputs:
        source = session.get(Dataset, item["dataset_id"])
        if source is not None and (source.current_version or 0) > item["version"]:
            stale.append({**item, "current": source.current_version})
    return stale


# Datasets a higher domain makes from others (privacy: pseudonymised datasets), registered at
# start-up: session → (source id, source version, made id) for the lineage graph.
LineageSource = Callable[[Session], list[tuple[int, int, int]]]
LINEAGE_SOURCES: list[LineageSource] = []


def on_lineage(source: LineageSource) -> None:
    if source not in LINEAGE_SOURCES:
        LINEAGE_SOURCES.append(source)


def lineage(session: Session) -> schemas.Lineage:
    """The graph of datasets feeding derived datasets (and the datasets higher domains make
    from others), across the hub."""
    nodes: dict[int, schemas.LineageNode] = {}
    edges = []

    def node(dataset: Dataset, derived: bool, stale: bool) -> str:
        ref = f"{dataset.organization.slug}/{dataset.slug}"
        current = nodes.get(dataset.id)
        nodes[dataset.id] = schemas.LineageNode(
            org=dataset.organization.slug, name=dataset.slug, title=dataset.title_ko,
            version=dataset.current_version, derived=derived or bool(current and current.derived),
            stale=stale or bool(current and current.stale))
        return ref

    for derivation in session.scalars(select(Derivation)):
        target = lake.get_dataset_by_id(session, derivation.dataset_id)
        target_ref = node(target, True, bool(staleness(session, target)))
        for item in derivation.inputs:
            source = session.get(Dataset, item["dataset_id"],
                                 options=[selectinload(Dataset.organization)])
            if source is not None:
                edges.append(schemas.LineageEdge(source=node(source, False, False),
                                                 target=target_ref, version=item["version"]))
    for provider in LINEAGE_SOURCES:
        for source_id, version, made_id in provider(session):
            source, made = session.get(Dataset, source_id), session.get(Dataset, made_id)
            if source is not None and made is not None:
                edges.append(schemas.LineageEdge(source=node(source, False, False),
                                                 target=node(made, True, False),
                                                 version=version))
    return schemas.Lineage(nodes=list(nodes.values()), edges=edges)


def hub_type(kind: pa.DataType) -> str:
    """The lake's column type for a query result column (anything unusual is stored as text)."""
    name = sandbox.type_name(kind)
    return name if name in ("integer", "decimal", "boolean", "date", "timestamp") else "text"
