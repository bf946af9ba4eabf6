"""The AI-support programme (초거대 AI 활용지원) after its selection: the companies selected in
`programmes` calls of programme `ai_support` are the supported ones; support staff record the
consulting and education sessions they attend and the public lead cases (공공 선도 적용) of AI
services; the programme's figures — companies, credit granted and spent, sessions held — come
from here. Applications, reviews, selection and progress reports are the calls' own
(`programmes`); credit is the budgets' (`budgets`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...catalog import service as catalog
from ...core import audit
from ...core import months as months_of
from ...core.errors import Invalid, NotFound, Unauthenticated
from ...identity import service as identity
from ...identity.models import Organization
from ...identity.policy import Actor, authorize, can
from ...programmes import service as programmes
from .. import schemas_support as schemas
from ..models import (
    Budget,
    LeadCase,
    LedgerEntry,
    SessionAttendance,
    SupportSession,
)

PROGRAMME = "ai_support"


# --- the supported companies --------------------------------------------------------------


@dataclass(frozen=True)
class Supported:
    """An organization selected in one or more `ai_support` calls (as lead or consortium
    member), with those calls and their agreements."""

    org: Organization
    calls: list[tuple[int, str]]
    agreements: list[Any]          # programmes' Agreement objects


def supported(session: Session) -> list[Supported]:
    """Every organization selected in a call of programme `ai_support`, by slug."""
    found: dict[int, tuple[list[tuple[int, str]], list[Any]]] = {}
    for call in programmes.calls.list_(session, programme=PROGRAMME):
        for agreement in programmes.agreements.of_call(session, call.id):
            for org_id in agreement.org_ids:
                calls, agreements = found.setdefault(org_id, ([], []))
                if (call.id, call.title) not in calls:
                    calls.append((call.id, call.title))
                agreements.append(agreement)
    companies = [Supported(identity.get_org_by_id(session, org_id), calls, agreements)
                 for org_id, (calls, agreements) in found.items()]
    return sorted(companies, key=lambda c: c.org.slug)


def org_ref(org: Organization) -> schemas.OrgRef:
    return schemas.OrgRef(slug=org.slug, name_ko=org.name_ko, name_en=org.name_en)


def _org(session: Session, slug: str, field: str) -> Organization:
    try:
        return identity.get_org_by_slug(session, slug)
    except NotFound:
        raise Invalid("No organization is called {org}", code="unknown_org", field=field,
                      org=slug) from None


# --- consulting and education sessions ----------------------------------------------------


def record_session(session: Session, *, actor: Actor, data: schemas.SupportSessionCreate,
                   now: datetime) -> SupportSession:
    """Record a session the programme held, with the organizations that attended."""
    authorize(actor, "ai.support.manage")
    orgs: list[Organization] = []
    for i, slug in enumerate(data.orgs):
        if any(o.slug == slug for o in orgs):
            raise Invalid("{org} is named twice", code="duplicate_org", field=f"orgs.{i}",
                          org=slug)
        orgs.append(_org(session, slug, f"orgs.{i}"))
    hours = Decimal(str(round(data.hours, 2)))
    if hours <= 0:
        raise Invalid("{field}: {message}", code="invalid", field="hours",
                      message="at least 0.01 hours")
    found = SupportSession(kind=data.kind, title=data.title, topics=list(data.topics),
                           held_on=data.held_on, hours=hours, attendees=data.attendees,
                           materials=list(data.materials), notes=data.notes,
                           created_by=actor.user_id, created_at=now,
                           attendance=[SessionAttendance(org_id=o.id) for o in orgs])
    session.add(found)
    session.flush()
    audit.record(session, actor=actor, action="ai.support.session.create",
                 target_type="ai_support_session", target_id=found.id,
                 details={"kind": found.kind, "title": found.title, "held_on": found.held_on,
                          "hours": float(hours), "orgs": [o.slug for o in orgs],
                          "attendees": found.attendees, "materials": found.materials})
    return found


def may_read_session(actor: Actor, found: SupportSession) -> bool:
    """Support staff and operators read every session; an attending organization's members
    read it too."""
    return can(actor, "ai.support.manage") or any(
        can(actor, "ai.support.read", attended) for attended in found.attendance)


def list_sessions(session: Session, *, actor: Actor, org: Organization | None = None,
                  limit: int | None = None) -> list[SupportSession]:
    """The sessions one may read (newest first, at most `limit`); with `org`, those it
    attended (its members, support staff and operators)."""
    if not actor.is_authenticated:
        raise Unauthenticated()
    manages = can(actor, "ai.support.manage")
    if org is not None and not manages:
        authorize(actor, "ai.support.read", org)
    query = (select(SupportSession).options(selectinload(SupportSession.attendance)
                                            .selectinload(SessionAttendance.organization))
             .order_by(SupportSession.held_on.desc(), SupportSession.id.desc()))
    if org is not None:
        query = query.where(SupportSession.id.in_(
            select(SessionAttendance.session_id).where(SessionAttendance.org_id == org.id)))
    elif not manages:
        query = query.where(SupportSession.id.in_(
            select(SessionAttendance.session_id)
            .where(SessionAttendance.org_id.in_(list(actor.roles)))))
    if limit is not None:
        query = query.limit(limit)
    return [s for s in session.scalars(query) if org is not None or may_read_session(actor, s)]


def session_read(found: SupportSession) -> schemas.SupportSessionRead:
    return schemas.SupportSessionRead(
        id=found.id, kind=found.kind, title=found.title,  # type: ignore[arg-type]
        topics=list(found.topics), held_on=found.held_on, hours=float(found.hours),
        orgs=[org_ref(a.organization) for a in found.attendance], attendees=found.attendees,
        materials=list(found.materials), notes=found.notes, created_by=found.created_by,
        created_at=found.created_at)


# --- public lead cases --------------------------------------------------------------------


def _service_ref(session: Session, ref: str) -> int:
    org, _, slug = ref.partition("/")
    if not org or not slug:
        raise Invalid("{ref} is not written as org/slug", code="bad_reference",
                      field="service", ref=ref)
    try:
        return catalog.get_service(session, org, slug).id
    except NotFound:
        raise Invalid("Service {ref} is not registered", code="unknown_service",
                      field="service", ref=ref) from None


def _parties(session: Session, agency_slug: str, supplier_slug: str
             ) -> tuple[Organization, Organization]:
    agency = _org(session, agency_slug, "agency")
    if agency.kind != "public":
        raise Invalid("{org} is no public agency; a lead case is a public agency's",
                      code="not_an_agency", field="agency", org=agency.slug)
    supplier = _org(session, supplier_slug, "supplier")
    if supplier.id == agency.id:
        raise Invalid("The supplier is another organization than the agency",
                      code="supplier_is_agency", field="supplier")
    return agency, supplier


def create_lead_case(session: Session, *, actor: Actor, data: schemas.LeadCaseCreate,
                     now: datetime) -> LeadCase:
    authorize(actor, "ai.leadcase.manage")
    agency, supplier = _parties(session, data.agency, data.supplier)
    found = LeadCase(agency_id=agency.id, supplier_id=supplier.id, title=data.title,
                     service_id=_service_ref(session, data.service) if data.service else None,
                     description=data.description, status=data.status, outcome=data.outcome,
                     public=data.public, created_by=actor.user_id, created_at=now,
                     updated_at=now)
    session.add(found)
    session.flush()
    audit.record(session, actor=actor, action="ai.leadcase.create", target_type="ai_lead_case",
                 target_id=found.id, org_id=agency.id,
                 details={"agency": agency.slug, "supplier": supplier.slug,
                          "title": found.title, "service": data.service,
                          "status": found.status, "public": found.public})
    return found


def get_lead_case(session: Session, *, actor: Actor, case_id: int) -> LeadCase:
    """A lead case: everyone's once public, else its agency's and supplier's people, support
    staff and operators (to others it does not exist)."""
    found = session.get(LeadCase, case_id)
    if found is None or not may_read_lead_case(actor, found):
        raise NotFound("Lead case {id} does not exist", code="lead_case_not_found",
                       id=case_id)
    return found


def may_read_lead_case(actor: Actor, found: LeadCase) -> bool:
    return found.public or can(actor, "ai.leadcase.manage") or can(actor, "ai.leadcase.read",
                                                                     found)


def update_lead_case(session: Session, *, actor: Actor, case_id: int,
                     data: schemas.LeadCaseUpdate, now: datetime) -> LeadCase:
    """Change the fields given (support staff and operators); the audit event holds each
    changed field's value before and after."""
    authorize(actor, "ai.leadcase.manage")
    found = get_lead_case(session, actor=actor, case_id=case_id)
    given = data.model_fields_set
    before = lead_case_read(session, found).model_dump(mode="json")
    if given & {"agency", "supplier"}:
        agency, supplier = _parties(session, data.agency or found.agency.slug,
                                    data.supplier or found.supplier.slug)
        found.agency_id, found.supplier_id = agency.id, supplier.id
    if "service" in given:
        found.service_id = _service_ref(session, data.service) if data.service else None
    for name in ("title", "description", "status", "outcome", "public"):
        if name in given:
            setattr(found, name, getattr(data, name))
    found.updated_at = now
    session.flush()
    session.expire(found, ["agency", "supplier"])
    after = lead_case_read(session, found).model_dump(mode="json")
    changes = {k: [before[k], after[k]] for k in after
               if k not in ("updated_at",) and before[k] != after[k]}
    audit.record(session, actor=actor, action="ai.leadcase.update", target_type="ai_lead_case",
                 target_id=found.id, org_id=found.agency_id, details={"changes": changes})
    return found


def list_lead_cases(session: Session, *, actor: Actor) -> list[LeadCase]:
    """The lead cases one may read, newest first: the public ones for everyone, every one
    for support staff and operators, and the agency's and supplier's own to their people."""
    authorize(actor, "ai.programme.read")
    query = (select(LeadCase).options(selectinload(LeadCase.agency),
                                      selectinload(LeadCase.supplier))
             .order_by(LeadCase.updated_at.desc(), LeadCase.id.desc()))
    if not can(actor, "ai.leadcase.manage"):
        mine = list(actor.roles)
        query = query.where(LeadCase.public.is_(True) | LeadCase.agency_id.in_(mine)
                            | LeadCase.supplier_id.in_(mine))
    return [c for c in session.scalars(query) if may_read_lead_case(actor, c)]


def lead_case_read(session: Session, found: LeadCase) -> schemas.LeadCaseRead:
    service = None
    if found.service_id is not None:
        registered = catalog.get_service_by_id(session, found.service_id)
        service = f"{registered.organization.slug}/{registered.slug}"
    return schemas.LeadCaseRead(
        id=found.id, agency=org_ref(found.agency), supplier=org_ref(found.supplier),
        title=found.title, service=service, description=found.description,
        status=found.status, outcome=found.outcome,  # type: ignore[arg-type]
        public=found.public, created_at=found.created_at, updated_at=found.updated_at)


# --- the programme's figures --------------------------------------------------------------


def programme_figures(session: Session, *, actor: Actor, now: datetime,
                      start: str | None = None, end: str | None = None
                      ) -> schemas.ProgrammeRead:
    """Companies supported, credit granted to them and spent by them, sessions held and their
    hours — totals since the programme began, and per month for `start` to `end` (YYYY-MM,
    Asia/Seoul; the last twelve by default). Each company's own figures are for support staff
    and operators; lead cases are counted as the caller may see them."""
    authorize(actor, "ai.programme.read")
    months = months_of.months_between(start, end, now)
    detailed = can(actor, "ai.support.manage")
    companies = supported(session)
    ids = [c.org.id for c in companies]
    spent_sum = func.coalesce(func.sum(LedgerEntry.input_tokens + LedgerEntry.output_tokens), 0)
    granted_by_org = dict(session.execute(
        select(Budget.org_id, func.sum(Budget.tokens)).where(Budget.org_id.in_(ids))
        .group_by(Budget.org_id)).all())
    spent_by_org = dict(session.execute(
        select(LedgerEntry.org_id, spent_sum).where(LedgerEntry.org_id.in_(ids))
        .group_by(LedgerEntry.org_id)).all())
    granted_by_month = dict(session.execute(
        select(Budget.month, func.sum(Budget.tokens))
        .where(Budget.org_id.in_(ids), Budget.month.in_(months)).group_by(Budget.month)).all())
    spent_by_month = dict(session.execute(
        select(LedgerEntry.month, spent_sum)
        .where(LedgerEntry.org_id.in_(ids), LedgerEntry.month.in_(months))
        .group_by(LedgerEntry.month)).all())
    held = session.execute(select(SupportSession.kind, SupportSession.held_on,
                                  SupportSession.hours, SupportSession.attendees)).all()
    attended = dict(session.execute(
        select(SessionAttendance.org_id, func.count(SessionAttendance.id))
        .where(SessionAttendance.org_id.in_(ids)).group_by(SessionAttendance.org_id)).all())
    per_month: dict[str, list[Any]] = {m: [0, Decimal(0)] for m in months}
    for _, held_on, hours, _ in held:
        slot = per_month.get(held_on.strftime("%Y-%m"))
        if slot is not None:
            slot[0] += 1
            slot[1] += hours
    kinds = Counter(kind for kind, *_ in held)
    cases = Counter(c.status for c in list_lead_cases(session, actor=actor))
    return schemas.ProgrammeRead(
        as_of=now, companies=len(companies),
        granted_tokens=int(sum(granted_by_org.values())),
        spent_tokens=int(sum(spent_by_org.values())),
        sessions=len(held), consulting=kinds["consulting"], education=kinds["education"],
        hours=float(sum((h for _, _, h, _ in held), Decimal(0))),
        attendees=sum(a for *_, a in held),
        lead_cases={status: cases[status] for status in
                    ("planned", "in_progress", "completed", "stopped")},
        months=[schemas.MonthFigures(month=m, granted_tokens=int(granted_by_month.get(m) or 0),
                                     spent_tokens=int(spent_by_month.get(m) or 0),
                                     sessions=per_month[m][0], hours=float(per_month[m][1]))
                for m in months],
        supported=[schemas.SupportedCompany(
            org=org_ref(c.org), calls=[schemas.CallRef(id=i, title=t) for i, t in c.calls],
            granted_tokens=int(granted_by_org.get(c.org.id) or 0) if detailed else None,
            spent_tokens=int(spent_by_org.get(c.org.id) or 0) if detailed else None,
            sessions=int(attended.get(c.org.id) or 0) if detailed else None)
            for c in companies])


# --- progress reports (the agreements' own) -----------------------------------------------


@dataclass(frozen=True)
class Progress:
    """The progress reports of one `ai_support` agreement, for those who may read it."""

    agreement: int
    application: int
    call: str
    lead: schemas.OrgRef
    reports: list[Any]             # programmes' ReportRead


def progress(session: Session, *, actor: Actor) -> list[Progress]:
    """The agreements of `ai_support` selections one may read (the selected organizations'
    members, operators) with their progress reports, submitted through the programmes API."""
    found = []
    for call in programmes.calls.list_(session, programme=PROGRAMME):
        for agreement in programmes.agreements.of_call(session, call.id):
            if not can(actor, "programmes.application.read", agreement):
                continue
            found.append(Progress(
                agreement=agreement.id, application=agreement.application_id, call=call.title,
                lead=org_ref(agreement.application.organization),
                reports=[programmes.agreements.report_read(r) for r in agreement.reports]))
    return found
