"""Agile service projects: a lead organization and its consortium building one public service.
Made by the lead's editors (or operators), directly or from the agreement of an `agile`
programme selection (`programmes.service.selections.of_org`), which gives lead, members and
period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ...catalog import service as catalog
from ...core.errors import Conflict, Forbidden, Invalid, NotFound
from ...identity import service as identity
from ...identity.models import Organization
from ...identity.policy import Actor, authorize, can
from ...lake import service as lake
from ...programmes import service as programmes
from ...testbed import service as testbed
from .. import schemas
from ..models import AgileProject, ConsortiumMember
from .common import record


def create(session: Session, *, actor: Actor, data: schemas.ProjectCreate,
           now: datetime) -> AgileProject:
    lead = identity.get_org_by_slug(session, data.org)
    authorize(actor, "agile.project.create", lead)
    members, starts_on, ends_on = list(data.members), data.starts_on, data.ends_on
    if data.agreement is not None:
        agreement = _agreement(session, actor, lead, data.agreement)
        consortium = [identity.get_org_by_id(session, m.org_id).slug
                      for m in agreement.application.members]
        members = members or consortium
        _within_agreement(agreement, members, consortium, starts_on, ends_on)
        starts_on = starts_on or agreement.starts_on
        ends_on = ends_on or agreement.ends_on
    if starts_on is None or ends_on is None:
        raise Invalid("A project needs its period: starts_on and ends_on (or an agreement)",
                      code="period_required", field="starts_on")
    if ends_on < starts_on:
        raise Invalid("A project ends after it starts", code="bad_period", field="ends_on")
    project = AgileProject(org_id=lead.id, name=data.name, goal=data.goal,
                           agreement_id=data.agreement, starts_on=starts_on, ends_on=ends_on,
                           created_by=actor.user_id, created_at=now, alert_error_rate=0.05,
                           alert_min_calls=20)
    project.members = [ConsortiumMember(org_id=o.id) for o in _members(session, lead, members)]
    if data.service is not None:
        project.service_id = _service(session, actor, lead, data.service).id
    project.dataset_ids = [_dataset(session, ref, i) for i, ref in enumerate(data.datasets)]
    try:
        with session.begin_nested():      # two requests for one agreement or service at once
            session.add(project)
            session.flush()
    except IntegrityError:
        raise Conflict("The agreement or the service already has its project",
                       code="agreement_has_project" if data.agreement is not None
                       else "service_has_project") from None
    if data.testbed_project is not None:
        project.testbed_project_id = _testbed(session, project, data.testbed_project)
    session.flush()
    record(session, actor, project, "agile.project.create", "agile_project", project.id,
           name=project.name, members=members, service=data.service, datasets=data.datasets,
           testbed_project=data.testbed_project, agreement=data.agreement,
           starts_on=starts_on, ends_on=ends_on)
    return project


def _agreement(session: Session, actor: Actor, lead: Organization, agreement_id: int):  # type: ignore[no-untyped-def]
    """The agreement of an `agile` selection the lead won as lead, unused by any project."""
    chosen = [s for s in programmes.selections.of_org(session, lead.id, "agile")
              if s.lead and s.agreement == agreement_id]
    if not chosen:
        raise Invalid("Agreement {id} is no agile selection led by {org}",
                      code="not_an_agile_selection", field="agreement", id=agreement_id,
                      org=lead.slug)
    if session.scalar(select(AgileProject.id).where(AgileProject.agreement_id == agreement_id)):
        raise Conflict("Agreement {id} already has its project", code="agreement_has_project",
                       id=agreement_id)
    return programmes.agreements.get(session, actor=actor, agreement_id=agreement_id)


def open_agreements(session: Session, orgs: list[Organization]) -> list[tuple[str, int]]:
    """(org slug, agreement id) of the `agile` selections these organizations won as lead and
    have no project yet: what the page offers to start a project from."""
    used = set(session.scalars(select(AgileProject.agreement_id)
                               .where(AgileProject.agreement_id.is_not(None))))
    return [(org.slug, s.agreement) for org in orgs
            for s in programmes.selections.of_org(session, org.id, "agile")
            if s.lead and s.agreement is not None and s.agreement not in used]


def _within_agreement(agreement, members: list[str], consortium: list[str],  # type: ignore[no-untyped-def]
                      starts_on: date | None, ends_on: date | None) -> None:
    """A project from an agreement keeps to it: the selected consortium, within its period
    (a narrower consortium or period is the lead's choice)."""
    for i, slug in enumerate(members):
        if slug not in consortium:
            raise Invalid("{slug} is no member of the consortium of agreement {id}",
                          code="not_in_agreement", field=f"members.{i}", slug=slug,
                          id=agreement.id)
    for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if day is not None and not agreement.starts_on <= day <= agreement.ends_on:
            raise Invalid("{day} is outside agreement {id}'s period, {starts} to {ends}",
                          code="outside_agreement", field=name, day=day.isoformat(),
                          id=agreement.id, starts=agreement.starts_on.isoformat(),
                          ends=agreement.ends_on.isoformat())


def _members(session: Session, lead: Organization, slugs: list[str]) -> list[Organization]:
    found: list[Organization] = []
    for i, slug in enumerate(slugs):
        try:
            org = identity.get_org_by_slug(session, slug)
        except NotFound:
            raise Invalid("Organization {slug} does not exist", code="unknown_org",
                          field=f"members.{i}", slug=slug) from None
        if org.id == lead.id:
            raise Invalid("{slug} leads the project; it is no member besides",
                          code="lead_in_consortium", field=f"members.{i}", slug=slug)
        if org not in found:
            found.append(org)
    return found


def _split(ref: str, field: str) -> tuple[str, str]:
    org, _, slug = ref.partition("/")
    if not org or not slug:
        raise Invalid("{ref} is not written as org/slug", code="bad_reference", field=field,
                      ref=ref)
    return org, slug


def _service(session: Session, actor: Actor, lead: Organization, ref: str):  # type: ignore[no-untyped-def]
    """The registered service the project builds: the lead's own, or one whose organization's
    editors link it themselves — a project speaks for the service (it triages the service's
    feedback and writes its public changelog), so no one claims another's."""
    try:
        found = catalog.get_service(session, *_split(ref, "service"))
    except NotFound:
        raise Invalid("Service {ref} is not registered", code="unknown_service",
                      field="service", ref=ref) from None
    if found.org_id != lead.id and not can(actor, "agile.service.link", found):
        raise Forbidden("Service {ref} belongs to another organization; only its editors "
                        "link it to a project", code="foreign_service", field="service",
                        ref=ref)
    if session.scalar(select(AgileProject.id).where(AgileProject.service_id == found.id)):
        raise Conflict("Service {ref} already has its project", code="service_has_project",
                       ref=ref)
    return found


def _dataset(session: Session, ref: str, i: int) -> int:
    try:
        return lake.get_dataset(session, *_split(ref, f"datasets.{i}")).id
    except NotFound:
        raise Invalid("Dataset {ref} does not exist", code="unknown_dataset",
                      field=f"datasets.{i}", ref=ref) from None


def _testbed(session: Session, project: AgileProject, project_id: int) -> int:
    try:
        sandbox = testbed.projects.load(session, project_id)
    except NotFound:
        raise Invalid("Testbed project {id} does not exist", code="unknown_testbed_project",
                      field="testbed_project", id=project_id) from None
    if sandbox.org_id not in project.org_ids:
        raise Invalid("Testbed project {id} belongs to no organization of the consortium",
                      code="foreign_testbed_project", field="testbed_project", id=project_id)
    return sandbox.id


def load(session: Session, project_id: int) -> AgileProject:
    """The project, unchecked: for callers with a check of their own (a CI token's call)."""
    found = session.scalar(select(AgileProject).where(AgileProject.id == project_id).options(
        selectinload(AgileProject.members), selectinload(AgileProject.organization)))
    if found is None:
        raise NotFound("Agile project {id} does not exist", code="agile_project_not_found",
                       id=project_id)
    return found


def get(session: Session, *, actor: Actor, project_id: int,
        action: str = "agile.project.read") -> AgileProject:
    found = load(session, project_id)
    authorize(actor, action, found)
    return found


def list_(session: Session, *, actor: Actor) -> list[AgileProject]:
    """The projects one may read (operators: all), newest first."""
    rows = session.scalars(select(AgileProject).options(selectinload(AgileProject.members))
                           .order_by(AgileProject.id.desc()))
    if actor.is_operator:
        return list(rows)
    return [p for p in rows if any(actor.role_in(o) is not None for o in p.org_ids)]


def of_service(session: Session, service_id: int) -> AgileProject | None:
    return session.scalar(select(AgileProject).where(AgileProject.service_id == service_id))


def service_ref(session: Session, project: AgileProject) -> str | None:
    if project.service_id is None:
        return None
    found = catalog.get_service_by_id(session, project.service_id)
    return f"{found.organization.slug}/{found.slug}"


def project_read(session: Session, project: AgileProject) -> schemas.ProjectRead:
    def ref(org: Organization) -> schemas.OrgRef:
        return schemas.OrgRef(slug=org.slug, name_ko=org.name_ko, name_en=org.name_en)

    datasets = []
    for dataset_id in project.dataset_ids:
        found = lake.get_dataset_by_id(session, dataset_id)
        datasets.append(f"{found.organization.slug}/{found.slug}")
    return schemas.ProjectRead(
        id=project.id, name=project.name, goal=project.goal,
        lead=ref(identity.get_org_by_id(session, project.org_id)),
        members=[ref(identity.get_org_by_id(session, m.org_id)) for m in project.members],
        service=service_ref(session, project), datasets=datasets,
        testbed_project=project.testbed_project_id, agreement=project.agreement_id,
        starts_on=project.starts_on, ends_on=project.ends_on,
        alert=schemas.AlertSettings(error_rate=project.alert_error_rate,
                                    min_calls=project.alert_min_calls),
        created_at=project.created_at)
