"""Safe zones (데이터안심구역): an organization's zone names its analysts and the datasets they
work on; each dataset's owner approves the analysts named at that moment; combined results
join as sources through their combination. Queries: `zone_queries.py`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...core import audit
from ...core.db import utcnow
from ...core.errors import Conflict, Forbidden, Invalid, NotFound
from ...identity import service as identity
from ...identity.models import Role
from ...identity.policy import Actor, authorize
from ...lake import service as lake
from ...lake.models import Dataset
from .. import schemas
from ..models import Combination, Zone, ZoneAnalyst, ZoneSource


def create(session: Session, *, actor: Actor, data: schemas.ZoneCreate) -> Zone:
    org = identity.get_org_by_slug(session, data.org)
    authorize(actor, "privacy.zone.create", org)
    if session.scalar(select(Zone.id).where(Zone.org_id == org.id, Zone.name == data.name)):
        raise Conflict("{org} already has a safe zone named {name}", code="zone_exists",
                       field="name", org=org.slug, name=data.name)
    zone = Zone(org_id=org.id, name=data.name, purpose=data.purpose, k=data.k,
                epsilon_total=data.epsilon, created_by=actor.user_id)
    session.add(zone)
    session.flush()
    if actor.user_id is not None:
        zone.analysts.append(ZoneAnalyst(user_id=actor.user_id, added_by=actor.user_id))
    for position, ref in enumerate(data.datasets):
        _add_source(session, zone, _dataset(ref, session, f"datasets.{position}"))
    audit.record(session, actor=actor, action="privacy.zone.create", target_type="zone",
                 target_id=zone.id, org_id=org.id,
                 details={"name": data.name, "k": data.k, "epsilon": data.epsilon,
                          "datasets": data.datasets})
    session.flush()
    return zone


def _dataset(ref: str, session: Session, field: str) -> Dataset:
    org_slug, _, slug = ref.partition("/")
    if not slug:
        raise Invalid("Name a dataset as organization/dataset, not {ref}", code="bad_reference",
                      field=field, ref=ref)
    return lake.get_dataset(session, org_slug, slug)


def _add_source(session: Session, zone: Zone, dataset: Dataset) -> ZoneSource:
    if any(s.dataset_id == dataset.id for s in zone.sources):
        raise Conflict("{dataset} is already a source of this zone", code="source_exists",
                       dataset=dataset.table_name)
    source = ZoneSource(dataset_id=dataset.id, owner_org_id=dataset.org_id)
    zone.sources.append(source)
    session.flush()
    return source


def get(session: Session, *, actor: Actor, zone_id: int) -> Zone:
    zone = session.get(Zone, zone_id, options=[selectinload(Zone.analysts),
                                               selectinload(Zone.sources)])
    if zone is None:
        raise NotFound("Safe zone {id} does not exist", code="zone_not_found", id=zone_id)
    if not _may_see(actor, zone):
        try:
            authorize(actor, "privacy.zone.read", zone)
        except Forbidden as refused:
            if refused.code != "forbidden":
                raise
            raise Forbidden("Only the analysts of safe zone {id}, the members of its "
                            "organization and the owners of its data may see it",
                            code="forbidden", id=zone_id) from refused
    return zone


def _may_see(actor: Actor, zone: Zone) -> bool:
    """The zone's own people, and the admins of organizations whose data it asks for (they
    decide on it)."""
    owners = {s.owner_org_id for s in zone.sources}
    return any(actor.role_in(o) is not None for o in owners)


def list_(session: Session, *, actor: Actor) -> list[Zone]:
    """The zones one works in, one's organizations' zones, and the zones asking for one's
    organizations' data."""
    if not actor.is_authenticated:
        return []
    mine = set(actor.roles)
    every = session.scalars(select(Zone).options(selectinload(Zone.analysts),
                                                 selectinload(Zone.sources))
                            .order_by(Zone.id.desc()))
    return [z for z in every if actor.is_operator or z.org_id in mine
            or actor.user_id in z.participant_ids or _may_see(actor, z)]


def add_analyst(session: Session, *, actor: Actor, zone: Zone, email: str) -> Zone:
    authorize(actor, "privacy.zone.manage", zone)
    user = identity.get_user_by_email(session, email)
    if user.id in zone.participant_ids:
        raise Conflict("{email} is already an analyst of this zone", code="analyst_exists",
                       field="email", email=email)
    zone.analysts.append(ZoneAnalyst(user_id=user.id, added_by=actor.user_id))
    audit.record(session, actor=actor, action="privacy.zone.analyst.add", target_type="zone",
                 target_id=zone.id, org_id=zone.org_id, details={"user": user.id})
    session.flush()
    return zone


def remove_analyst(session: Session, *, actor: Actor, zone: Zone, user_id: int) -> Zone:
    authorize(actor, "privacy.zone.manage", zone)
    found = next((a for a in zone.analysts if a.user_id == user_id), None)
    if found is None:
        raise NotFound("User {id} is not an analyst of this zone", code="analyst_not_found",
                       id=user_id)
    zone.analysts.remove(found)
    for source in zone.sources:     # an approval covered the analysts named then
        if user_id in source.approved_analysts:
            source.approved_analysts = [u for u in source.approved_analysts if u != user_id]
    audit.record(session, actor=actor, action="privacy.zone.analyst.remove",
                 target_type="zone", target_id=zone.id, org_id=zone.org_id,
                 details={"user": user_id})
    session.flush()
    return zone


def add_source(session: Session, *, actor: Actor, zone: Zone, dataset_ref: str) -> ZoneSource:
    authorize(actor, "privacy.zone.manage", zone)
    source = _add_source(session, zone, _dataset(dataset_ref, session, "dataset"))
    audit.record(session, actor=actor, action="privacy.zone.source.add", target_type="zone",
                 target_id=zone.id, org_id=zone.org_id, details={"dataset": dataset_ref})
    return source


def decide(session: Session, *, actor: Actor, zone: Zone, dataset_ref: str, verdict: str,
           comment: str) -> ZoneSource:
    """The owner's decision on its dataset in a zone; an approval covers the analysts the
    zone names now (one added later waits for a new approval)."""
    dataset = _dataset(dataset_ref, session, "dataset")
    source = next((s for s in zone.sources if s.dataset_id == dataset.id), None)
    if source is None:
        raise Invalid("{dataset} is not a source of this zone", code="not_a_source",
                      field="dataset", dataset=dataset_ref)
    authorize(actor, "privacy.zone.approve", dataset)
    require_owner_admin(actor, dataset)
    source.decision, source.decided_by, source.decided_at = verdict, actor.user_id, utcnow()
    source.comment = comment
    source.approved_analysts = sorted(zone.participant_ids) if verdict == "approve" else []
    audit.record(session, actor=actor, action=f"privacy.zone.source.{verdict}",
                 target_type="zone", target_id=zone.id, org_id=dataset.org_id,
                 details={"dataset": dataset.table_name, "analysts": source.approved_analysts,
                          "comment": comment})
    session.flush()
    return source


def require_owner_admin(actor: Actor, dataset: Dataset) -> None:
    """The use of a dataset is its owner's decision: operators pass `authorize` for org
    rules, but they do not speak for an organization they are not an admin of."""
    if actor.role_in(dataset.org_id) is not Role.admin:
        raise Forbidden("Only admins of the organization that owns {dataset} may decide on "
                        "its use", code="forbidden", dataset=dataset.table_name)


def require_analyst(actor: Actor, zone: Zone) -> None:
    """The analyst check comes first: the policy's own refusal would speak of a project's
    members and carry no code of its own."""
    if actor.user_id is None or actor.user_id not in zone.participant_ids:
        raise Forbidden("Only the zone's analysts may query it or export from it",
                        code="not_zone_analyst")
    authorize(actor, "privacy.zone.query", zone)


def source_name(session: Session, source: ZoneSource) -> tuple[str, str]:
    """How a query names the source: `org.dataset` as everywhere, `combined.<name>` for a
    combination's result."""
    if source.combination_id is not None:
        combination = session.get(Combination, source.combination_id)
        assert combination is not None
        return "combined", combination.name
    dataset = lake.get_dataset_by_id(session, source.dataset_id or 0)
    schema, _, name = dataset.table_name.partition(".")
    return schema, name


def zone_read(session: Session, zone: Zone, actor: Actor) -> schemas.ZoneRead:
    users = {a.user_id: identity.get_user(session, a.user_id) for a in zone.analysts}
    sources = []
    for s in zone.sources:
        schema, name = source_name(session, s)
        ref = None
        if s.dataset_id is not None:
            dataset = lake.get_dataset_by_id(session, s.dataset_id)
            ref = f"{dataset.organization.slug}/{dataset.slug}"
        sources.append(schemas.ZoneSourceRead(
            table=f"{schema}.{name}", dataset=ref, combination=s.combination_id,
            decision=s.decision, comment=s.comment,
            approved_for_me=actor.user_id in s.approved_analysts))
    return schemas.ZoneRead(
        id=zone.id, org=zone.organization.slug, name=zone.name, purpose=zone.purpose, k=zone.k,
        epsilon_total=zone.epsilon_total, epsilon_spent=round(zone.epsilon_spent, 6),
        analysts=[schemas.AnalystRead(id=u.id, email=u.email, name=u.display_name)
                  for u in users.values()],
        sources=sources, created_at=zone.created_at)
