"""Sandbox projects: who starts one, who works in it, what it builds on, its keys, its stage.

A project belongs to an organization; its members work in it, and people from elsewhere join
as invited collaborators. A sandbox key (`dsk_…`) works only on sandbox endpoints; the
project's expiry ends every key at once (its data stays until the project is deleted).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...catalog import service as catalog
from ...core import audit
from ...core.db import utcnow
from ...core.errors import Conflict, Forbidden, Invalid, NotFound
from ...core.netcheck import NetworkPolicy, check_upstream
from ...gateway.credentials import SANDBOX_KEY_PREFIX, key_digest
from ...identity import service as identity
from ...identity.models import Organization
from ...identity.policy import Actor, authorize
from ...lake import service as lake
from .. import schemas
from ..models import Project, ProjectMember, ProjectResource, SandboxKey, Stage, Validation

ACTIVE_KEYS = 5
GENERATION = [0]     # moved on by every change a sandbox call's cache must see (this process)


def changed() -> None:
    GENERATION[0] += 1


def _audit(session: Session, actor: Actor, project: Project, action: str, **details: object
           ) -> None:
    audit.record(session, actor=actor, action=f"testbed.{action}", target_type="project",
                 target_id=project.id, org_id=project.org_id, details=details)


def _refs(session: Session, project: Project, data: schemas.ProjectCreate) -> None:
    for ref in data.services:
        org, slug = ref.split("/")
        service = catalog.get_service(session, org, slug)
        project.resources.append(ProjectResource(service_id=service.id))
    for ref in data.datasets:
        org, slug = ref.split("/")
        dataset = lake.get_dataset(session, org, slug)
        project.resources.append(ProjectResource(dataset_id=dataset.id))


def create(session: Session, *, actor: Actor, org: Organization, data: schemas.ProjectCreate,
           now: datetime | None = None) -> Project:
    authorize(actor, "testbed.project.create", org)
    if session.scalar(select(Project.id).where(Project.org_id == org.id,
                                               Project.name == data.name)):
        raise Conflict("{org} already has a project named {name}", code="project_exists",
                       field="name", org=org.slug, name=data.name)
    now = now or utcnow()
    project = Project(org_id=org.id, name=data.name, purpose=data.purpose,
                      stage=Stage.development, expires_at=now + timedelta(days=data.days),
                      created_by=actor.user_id)
    project.organization = org
    _refs(session, project, data)
    if actor.user_id is not None:
        project.members.append(ProjectMember(user_id=actor.user_id, role="member",
                                             accepted_at=now, added_by=actor.user_id))
    session.add(project)
    session.flush()
    _audit(session, actor, project, "project.create", name=data.name, services=data.services,
           datasets=data.datasets, expires_at=project.expires_at.isoformat())
    return project


def get(session: Session, *, actor: Actor, project_id: int, action: str = "testbed.project.read"
        ) -> Project:
    project = load(session, project_id)
    authorize(actor, action, project)
    return project


def load(session: Session, project_id: int) -> Project:
    """The project, unchecked: for callers that check a permission of their own (a ticket's
    reader, a sandbox key's call)."""
    project = session.scalar(select(Project).where(Project.id == project_id).options(
        selectinload(Project.members), selectinload(Project.resources),
        selectinload(Project.organization)))
    if project is None:
        raise NotFound("Project {project_id} does not exist", code="project_not_found",
                       project_id=project_id)
    return project


def list_(session: Session, *, actor: Actor) -> list[Project]:
    """The projects the actor works in: their organizations' and those they were invited to."""
    if actor.user_id is None:
        return []
    invited = select(ProjectMember.project_id).where(ProjectMember.user_id == actor.user_id)
    query = select(Project).options(selectinload(Project.organization),
                                    selectinload(Project.members)).order_by(Project.id.desc())
    if not actor.is_operator:
        query = query.where(Project.org_id.in_(list(actor.roles)) | Project.id.in_(invited))
    return list(session.scalars(query))


def update(session: Session, *, actor: Actor, project: Project, data: schemas.ProjectUpdate,
           now: datetime | None = None) -> Project:
    authorize(actor, "testbed.project.manage", project)
    changes: dict[str, object] = {}
    if data.purpose is not None:
        project.purpose = changes["purpose"] = data.purpose
    if data.extend_days:
        start = max(project.expires_at, now or utcnow())
        project.expires_at = start + timedelta(days=data.extend_days)
        changes["expires_at"] = project.expires_at.isoformat()
    if data.rate_per_second is not None:
        project.rate_per_second = changes["rate_per_second"] = data.rate_per_second
    if data.daily_quota is not None:
        project.daily_quota = changes["daily_quota"] = data.daily_quota
    _audit(session, actor, project, "project.update", **changes)
    session.flush()
    changed()
    return project


def delete(session: Session, *, actor: Actor, project: Project) -> None:
    authorize(actor, "testbed.project.manage", project)
    _audit(session, actor, project, "project.delete", name=project.name)
    session.delete(project)
    session.flush()
    changed()


# --- members -------------------------------------------------------------------------------


def add_member(session: Session, *, actor: Actor, project: Project, email: str,
               now: datetime | None = None) -> ProjectMember:
    """A member of the organization joins at once; anyone else is invited as a collaborator
    and joins on accepting (the invitation shows on their testbed page)."""
    authorize(actor, "testbed.project.manage", project)
    user = identity.get_user_by_email(session, email)
    if any(m.user_id == user.id for m in project.members):
        raise Conflict("{email} is already in this project", code="member_exists",
                       field="email", email=email)
    inside = any(m.org_id == project.org_id for m in user.memberships)
    member = ProjectMember(user_id=user.id, role="member" if inside else "collaborator",
                           accepted_at=(now or utcnow()) if inside else None,
                           added_by=actor.user_id)
    project.members.append(member)
    session.flush()
    _audit(session, actor, project, "member.add", user_id=user.id, role=member.role)
    if not inside:
        identity.notify(session, user.id, "You are invited to the sandbox project {name}",
                        f"/testbed/projects/{project.id}", domain="testbed", now=now,
                        name=project.name)
    return member


def accept(session: Session, *, actor: Actor, project_id: int,
           now: datetime | None = None) -> Project:
    project = session.get(Project, project_id)
    member = None if project is None else next(
        (m for m in project.members if m.user_id == actor.user_id), None)
    if project is None or member is None:
        raise NotFound("There is no invitation to project {project_id} for you",
                       code="invitation_not_found", project_id=project_id)
    member.accepted_at = member.accepted_at or now or utcnow()
    _audit(session, actor, project, "member.accept", user_id=actor.user_id)
    session.flush()
    return project


def remove_member(session: Session, *, actor: Actor, project: Project, user_id: int,
                  now: datetime | None = None) -> None:
    """Take someone out, with the sandbox keys they made: they saw those keys once, and a
    key kept would go on reading the project's mocks and synthetic data."""
    authorize(actor, "testbed.project.manage", project)
    member = next((m for m in project.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound("User {user_id} is not in this project", code="member_not_found",
                       user_id=user_id)
    project.members.remove(member)
    revoked = [k for k in keys_of(session, project)
               if k.created_by == user_id and k.revoked_at is None]
    for key in revoked:
        key.revoked_at = now or utcnow()
    _audit(session, actor, project, "member.remove", user_id=user_id,
           keys_revoked=[k.id for k in revoked])
    session.flush()
    changed()


# --- services, the validation proxy --------------------------------------------------------


def set_upstream(session: Session, *, actor: Actor, project: Project, org: str, slug: str,
                 upstream_url: str | None, networks: NetworkPolicy) -> ProjectResource:
    """Point the project's calls of a service at the developer's own server (or back at the
    mock with None). The address is checked against the hub's allowed networks here, so the
    developer hears at once, and again on every connection a call opens, as the gateway's
    upstreams are (a name may resolve elsewhere later)."""
    authorize(actor, "testbed.project.work", project)
    service = catalog.get_service(session, org, slug)
    if upstream_url is not None:
        upstream_url = upstream_url.strip()
        if not upstream_url.startswith(("http://", "https://")) or len(upstream_url) < 10:
            raise Invalid("upstream_url must be an http:// or https:// address",
                          code="invalid_upstream", field="upstream_url")
        check_upstream(upstream_url, networks)
    resource = next((r for r in project.resources if r.service_id == service.id), None)
    if resource is None:
        resource = ProjectResource(service_id=service.id)
        project.resources.append(resource)
    resource.upstream_url = upstream_url.rstrip("/") if upstream_url else None
    session.flush()
    _audit(session, actor, project, "service.upstream", service=f"{org}/{slug}",
           upstream_url=resource.upstream_url)
    changed()
    return resource


# --- keys ----------------------------------------------------------------------------------


def keys_of(session: Session, project: Project) -> list[SandboxKey]:
    return list(session.scalars(select(SandboxKey).where(SandboxKey.project_id == project.id)
                                .order_by(SandboxKey.id)))


def create_key(session: Session, *, actor: Actor, project: Project, name: str = "sandbox",
               now: datetime | None = None) -> tuple[SandboxKey, str]:
    authorize(actor, "testbed.project.work", project)
    if is_expired(project, now):
        raise Forbidden("Project {name} expired on {date}; extend it first",
                        code="project_expired", name=project.name,
                        date=project.expires_at.date().isoformat())
    active = [k for k in keys_of(session, project) if k.revoked_at is None]
    if len(active) >= ACTIVE_KEYS:
        raise Conflict("A project has at most {n} active sandbox keys; revoke one first",
                       code="too_many_keys", n=ACTIVE_KEYS)
    plain = SANDBOX_KEY_PREFIX + secrets.token_urlsafe(32)
    key = SandboxKey(project_id=project.id, name=name, prefix=plain[:12],
                     digest=key_digest(plain), created_by=actor.user_id)
    session.add(key)
    session.flush()
    _audit(session, actor, project, "key.create", key_id=key.id, prefix=key.prefix)
    return key, plain


def revoke_key(session: Session, *, actor: Actor, project: Project, key_id: int,
               now: datetime | None = None) -> SandboxKey:
    authorize(actor, "testbed.project.work", project)
    key = session.get(SandboxKey, key_id)
    if key is None or key.project_id != project.id:
        raise NotFound("Key {key_id} is not a key of this project", code="key_not_found",
                       key_id=key_id)
    key.revoked_at = key.revoked_at or now or utcnow()
    _audit(session, actor, project, "key.revoke", key_id=key.id)
    session.flush()
    changed()
    return key


def is_expired(project: Project, now: datetime | None = None) -> bool:
    return project.expires_at <= (now or utcnow())


# --- stage ---------------------------------------------------------------------------------


def set_stage(session: Session, *, actor: Actor, project: Project, data: schemas.StageChange
              ) -> Project:
    """development → testing → validated; `validated` needs a passing report of this
    project, and any move back clears it."""
    authorize(actor, "testbed.project.work", project)
    if data.stage == Stage.validated:
        if data.validation is None:
            raise Invalid("A project becomes validated only with a passing validation report: "
                          "give its id", code="validation_required", field="validation")
        report = session.get(Validation, data.validation)
        if report is None or report.project_id != project.id:
            raise NotFound("Validation {id} is not a validation of this project",
                           code="validation_not_found", field="validation", id=data.validation)
        if report.state != "done" or not report.passed:
            raise Conflict("Validation {id} did not pass; fix the failures and validate again",
                           code="validation_not_passed", field="validation", id=report.id)
        project.validation_id = report.id
    else:
        project.validation_id = None
    old = project.stage
    project.stage = data.stage
    _audit(session, actor, project, "project.stage", old=old, new=data.stage,
           validation=project.validation_id)
    session.flush()
    return project


# --- reading -------------------------------------------------------------------------------


def project_read(session: Session, project: Project, now: datetime | None = None
                 ) -> schemas.ProjectRead:
    users = {m.user_id: identity.get_user(session, m.user_id) for m in project.members}
    resources = []
    for r in project.resources:
        if r.service_id is not None:
            service = catalog.get_service_by_id(session, r.service_id)
            ref = f"{service.organization.slug}/{service.slug}"
            resources.append(schemas.ResourceRead(kind="service", ref=ref,
                                                  upstream_url=r.upstream_url,
                                                  mock=f"/sandbox/{ref}/"))
        elif r.dataset_id is not None:
            dataset = lake.get_dataset_by_id(session, r.dataset_id)
            resources.append(schemas.ResourceRead(
                kind="dataset", ref=f"{dataset.organization.slug}/{dataset.slug}"))
    return schemas.ProjectRead(
        id=project.id, org=project.organization.slug, name=project.name,
        purpose=project.purpose, stage=Stage(project.stage), validation_id=project.validation_id,
        expires_at=project.expires_at, expired=is_expired(project, now),
        rate_per_second=project.rate_per_second, daily_quota=project.daily_quota,
        members=[schemas.MemberRead(user_id=m.user_id, email=users[m.user_id].email,
                                    display_name=users[m.user_id].display_name, role=m.role,
                                    accepted=m.accepted_at is not None)
                 for m in project.members],
        resources=resources, created_at=project.created_at)
