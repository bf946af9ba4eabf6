"""Organizations: find, list, create, change, verify; and how many the hub has."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.db import utcnow
from ...core.errors import (
    Conflict,
    NotFound,
)
from ...core.pagination import check_limit, decode_cursor, encode_cursor
from .. import schemas
from ..models import Membership, Organization, Role, User
from ..policy import Actor, authorize

# --- organizations -------------------------------------------------------------------------


def get_org_by_slug(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound("Organization {slug} does not exist", code="org_not_found", slug=slug)
    return org


def get_org_by_id(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("Organization {slug} does not exist", code="org_not_found", slug=org_id)
    return org


def list_orgs(
    session: Session, *, limit: int = 50, cursor: str | None = None,
    verified: bool | None = None,
) -> tuple[list[Organization], str | None]:
    check_limit(limit)
    query = select(Organization).order_by(Organization.slug)
    after = decode_cursor(cursor)
    if after:
        query = query.where(Organization.slug > str(after[0]))
    if verified is not None:
        query = query.where(Organization.verified.is_(verified))
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].slug]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def orgs_of(session: Session, user_id: int) -> list[tuple[Organization, str]]:
    rows = session.execute(
        select(Organization, Membership.role).join(Membership)
        .where(Membership.user_id == user_id).order_by(Organization.slug)
    )
    return [(org, role) for org, role in rows]


def create_org(
    session: Session, *, actor: Actor, data: schemas.OrganizationCreate
) -> Organization:
    """Create an organization; a user who creates one becomes its admin."""
    authorize(actor, "identity.org.create")
    if session.scalar(select(Organization.id).where(Organization.slug == data.slug)):
        raise Conflict("The slug {slug} is already taken", code="slug_taken", field="slug",
                       slug=data.slug)
    org = Organization(**data.model_dump(), verified=False)
    session.add(org)
    session.flush()
    if actor.user_id is not None:
        session.add(Membership(org_id=org.id, user_id=actor.user_id, role=Role.admin))
    audit.record(session, actor=actor, action="identity.org.create", target_type="organization",
                 target_id=org.slug, org_id=org.id, details=data.model_dump(mode="json"))
    session.flush()
    return org


def update_org(
    session: Session, *, actor: Actor, org: Organization, data: schemas.OrganizationUpdate
) -> Organization:
    authorize(actor, "identity.org.update", org)
    changes = data.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(org, name, value)
    audit.record(session, actor=actor, action="identity.org.update", target_type="organization",
                 target_id=org.slug, org_id=org.id, details=changes)
    session.flush()
    return org


def verify_org(
    session: Session, *, actor: Actor, org: Organization, verified: bool = True
) -> Organization:
    authorize(actor, "identity.org.verify", org)
    org.verified = verified
    org.verified_at = utcnow() if verified else None
    audit.record(session, actor=actor, action="identity.org.verify", target_type="organization",
                 target_id=org.slug, org_id=org.id, details={"verified": verified})
    session.flush()
    return org


def fingerprint() -> tuple[Any, ...]:
    """A scalar subquery that changes when an organization is added or removed (the catalogue
    re-reads names then)."""
    return (select(func.count(Organization.id)).scalar_subquery(),)


def counts(session: Session) -> dict[str, int]:
    """How many organizations and people the hub has (the home page says so)."""
    return {"orgs": session.scalar(select(func.count()).select_from(Organization)) or 0,
            "users": session.scalar(select(func.count()).select_from(User)) or 0}
