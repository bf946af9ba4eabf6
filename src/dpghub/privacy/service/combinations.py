"""Combination across providers (결합): a requester names datasets of other organizations and
the identifier columns that link them; each owner approves its dataset's use, a key manager
approves with a salt of their own; a job inside the hub turns each provider's identifiers
into linkage keys with that salt, joins, and leaves the result — without identifiers or keys
— in the requester's safe zone. No provider sees another's identifiers or the salt."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit, jobs
from ...core.db import utcnow
from ...core.errors import Conflict, Forbidden, Invalid, NotFound
from ...core.security import seal
from ...identity.policy import Actor, authorize
from ...lake import service as lake
from .. import schemas
from ..models import Combination, CombinationPart, CombinationState, Salt, Zone
from . import findings
from . import zones as zone_service

JOB = "privacy.combine"
SALT_PURPOSE = "privacy:linkage-salt"


def request(session: Session, *, actor: Actor, data: schemas.CombinationCreate
            ) -> Combination:
    """Asked by editors of the zone's organization: the result goes into that zone."""
    zone = zone_service.get(session, actor=actor, zone_id=data.zone)
    org = zone.organization
    authorize(actor, "privacy.combination.request", org)
    if any(c.name == data.name for c in _of_zone(session, zone)):
        raise Conflict("Zone {zone} already has a combination named {name}",
                       code="combination_exists", field="name", zone=zone.name, name=data.name)
    parts = []
    kinds_seen: list[tuple[str, list[str]]] = []
    for position, part in enumerate(data.datasets):
        org_slug, _, slug = part.dataset.partition("/")
        dataset = lake.get_dataset(session, org_slug, slug)
        version = lake.get_version(session, dataset=dataset)
        names = {c["name"] for c in version.columns}
        for column in part.columns:
            if column not in names:
                raise Invalid("{dataset} has no column {column}", code="unknown_column",
                              field=f"datasets.{position}.columns", dataset=part.dataset,
                              column=column)
        kinds = _kinds(session, dataset, part.columns)
        kinds_seen.append((part.dataset, kinds))
        parts.append(CombinationPart(position=position, dataset_id=dataset.id,
                                     org_id=dataset.org_id, columns=part.columns, kinds=kinds))
    if len({p.org_id for p in parts}) < 2:
        raise Invalid("A combination joins datasets of at least two different organizations",
                      code="one_organization", field="datasets")
    if len({p.dataset_id for p in parts}) < len(parts):
        raise Invalid("A dataset is named twice", code="dataset_twice", field="datasets")
    first_name, first = kinds_seen[0]
    for name, kinds in kinds_seen[1:]:
        if len(kinds) != len(first):
            raise Invalid("{a} links by {n} columns but {b} by {m}; name the same identifiers "
                          "in each", code="identifier_count_differs", field="datasets",
                          a=first_name, b=name, n=len(first), m=len(kinds))
        if kinds != first:
            raise Invalid("The identifier columns hold different kinds of identifier: {a} "
                          "{kinds_a}, {b} {kinds_b}", code="identifier_kinds_differ",
                          field="datasets", a=first_name, b=name,
                          kinds_a=", ".join(first), kinds_b=", ".join(kinds))
    combination = Combination(org_id=org.id, zone_id=zone.id, name=data.name,
                              purpose=data.purpose, requested_by=actor.user_id, parts=parts)
    session.add(combination)
    session.flush()
    audit.record(session, actor=actor, action="privacy.combination.request",
                 target_type="combination", target_id=combination.id, org_id=org.id,
                 details={"purpose": data.purpose, "zone": zone.id,
                          "datasets": [{"dataset": p.dataset, "columns": p.columns}
                                       for p in data.datasets]})
    return combination


def _kinds(session: Session, dataset: object, columns: list[str]) -> list[str]:
    """What each identifier column holds, as the scan found it ("unknown" where it found
    nothing): linking an RRN to a phone number matches nobody, and is refused."""
    found: dict[str, tuple[float, str]] = {}
    for f in findings.of_version(session, dataset):  # type: ignore[arg-type]
        if f.column in columns and (f.column not in found or f.confidence > found[f.column][0]):
            found[f.column] = (f.confidence, f.kind)
    return [found[c][1] if c in found else "unknown" for c in columns]


def _of_zone(session: Session, zone: Zone) -> list[Combination]:
    return list(session.scalars(select(Combination).where(Combination.zone_id == zone.id)))


def get(session: Session, *, actor: Actor, combination_id: int) -> Combination:
    """Seen by the requester's members, the owners of its datasets, key managers and
    operators."""
    authorize(actor, "privacy.combination.read")
    found = session.get(Combination, combination_id)
    if found is None:
        raise NotFound("Combination {id} does not exist", code="combination_not_found",
                       id=combination_id)
    orgs = {found.org_id} | {p.org_id for p in found.parts}
    if not (actor.is_operator or "key_manager" in actor.platform_roles
            or any(actor.role_in(o) is not None for o in orgs)):
        raise Forbidden("Only the requester, the owners of its datasets and key managers may "
                        "see this combination", code="forbidden")
    return found


def list_(session: Session, *, actor: Actor) -> list[Combination]:
    authorize(actor, "privacy.combination.read")
    every = session.scalars(select(Combination).order_by(Combination.id.desc()))
    if actor.is_operator or "key_manager" in actor.platform_roles:
        return list(every)
    mine = set(actor.roles)
    return [c for c in every if c.org_id in mine or any(p.org_id in mine for p in c.parts)]


def answer(session: Session, *, actor: Actor, combination: Combination,
           data: schemas.CombinationDecision, secret: bytes) -> Combination:
    """One decision as the API and the page take it: an owner's on its dataset, or — with
    no dataset named — a key manager's."""
    if data.dataset is not None:
        return decide(session, actor=actor, combination=combination, dataset_ref=data.dataset,
                      verdict=data.verdict, comment=data.comment)
    if data.verdict == "reject":
        return reject_key(session, actor=actor, combination=combination, comment=data.comment)
    return approve_key(session, actor=actor, combination=combination, secret=secret)


def decide(session: Session, *, actor: Actor, combination: Combination, dataset_ref: str,
           verdict: str, comment: str) -> Combination:
    """An owner's decision on its dataset's part."""
    _open(combination)
    org_slug, _, slug = dataset_ref.partition("/")
    dataset = lake.get_dataset(session, org_slug, slug)
    part = next((p for p in combination.parts if p.dataset_id == dataset.id), None)
    if part is None:
        raise Invalid("{dataset} is not part of this combination", code="not_a_part",
                      field="dataset", dataset=dataset_ref)
    authorize(actor, "privacy.combination.approve", dataset)
    zone_service.require_owner_admin(actor, dataset)
    part.decision, part.decided_by, part.decided_at = verdict, actor.user_id, utcnow()
    part.comment = comment
    audit.record(session, actor=actor, action=f"privacy.combination.{verdict}",
                 target_type="combination", target_id=combination.id, org_id=dataset.org_id,
                 details={"dataset": dataset.table_name, "comment": comment})
    if verdict == "reject":
        combination.state = CombinationState.rejected
    _start_when_ready(session, combination)
    session.flush()
    return combination


def approve_key(session: Session, *, actor: Actor, combination: Combination,
                secret: bytes) -> Combination:
    """A key manager's approval: a fresh salt of theirs, sealed with the hub's key. A key
    manager from one of the organizations involved would hold both data and salt: refused."""
    authorize(actor, "privacy.combination.key")
    _open(combination)
    if combination.salt_id is not None:
        raise Conflict("A key manager has already approved this combination",
                       code="already_keyed")
    involved = {combination.org_id} | {p.org_id for p in combination.parts}
    if any(actor.role_in(o) is not None for o in involved):
        raise Forbidden("A key manager from an organization in the combination cannot salt "
                        "it", code="key_manager_conflict")
    salt = Salt(holder_id=actor.user_id, sealed=seal(secret, SALT_PURPOSE,
                                                    secrets.token_bytes(32)))
    session.add(salt)
    session.flush()
    combination.salt_id, combination.key_manager_id = salt.id, actor.user_id
    combination.key_approved_at = utcnow()
    audit.record(session, actor=actor, action="privacy.combination.key",
                 target_type="combination", target_id=combination.id, org_id=combination.org_id,
                 details={"salt": salt.id})
    _start_when_ready(session, combination)
    session.flush()
    return combination


def reject_key(session: Session, *, actor: Actor, combination: Combination,
               comment: str) -> Combination:
    """A key manager refuses to salt the combination (with the reason): it ends."""
    authorize(actor, "privacy.combination.key")
    _open(combination)
    combination.state = CombinationState.rejected
    combination.error = comment or None
    audit.record(session, actor=actor, action="privacy.combination.key_reject",
                 target_type="combination", target_id=combination.id, org_id=combination.org_id,
                 details={"comment": comment})
    session.flush()
    return combination


def _open(combination: Combination) -> None:
    if combination.state != CombinationState.requested:
        raise Conflict("This combination is {state}; decisions are over", code="decided",
                       state=combination.state)


def _start_when_ready(session: Session, combination: Combination) -> None:
    if combination.state != CombinationState.requested:
        return
    if combination.salt_id is None or any(p.decision != "approve" for p in combination.parts):
        return
    combination.state = CombinationState.approved
    zone = session.get(Zone, combination.zone_id)
    combination.analysts = sorted(zone.participant_ids) if zone else []
    job = jobs.enqueue(session, kind=JOB, params={"combination_id": combination.id},
                       org_id=combination.org_id, created_by=combination.requested_by)
    combination.job_id = job.id
    audit.record(session, actor="system:hub", action="privacy.combination.start",
                 target_type="combination", target_id=combination.id,
                 org_id=combination.org_id, details={"job": job.id})


def combination_read(session: Session, found: Combination) -> schemas.CombinationRead:
    job = session.get(jobs.Job, found.job_id) if found.job_id else None
    parts = []
    for p in found.parts:
        dataset = lake.get_dataset_by_id(session, p.dataset_id)
        parts.append(schemas.CombinationPartRead(
            dataset=f"{dataset.organization.slug}/{dataset.slug}", columns=p.columns,
            kinds=p.kinds, decision=p.decision, comment=p.comment, version=p.version,
            rows=p.rows, matched=p.matched, match_rate=p.match_rate))
    return schemas.CombinationRead(
        id=found.id, org=found.organization.slug, zone=found.zone_id, name=found.name,
        table=f"combined.{found.name}", purpose=found.purpose, state=found.state,
        key_approved=found.salt_id is not None, parts=parts, rows=found.rows,
        job_id=found.job_id, job_state=job.state if job else None, error=found.error,
        created_at=found.created_at, done_at=found.done_at)
