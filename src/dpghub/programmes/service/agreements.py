"""Agreements (협약) of selected participants and their progress reports: visible to the
applying organizations and operators; the lead's editors report."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.errors import NotFound
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Agreement, Report
from . import applications


def get(session: Session, *, actor: Actor, agreement_id: int) -> Agreement:
    found = session.get(Agreement, agreement_id)
    if found is None:
        raise NotFound("Agreement {id} does not exist", code="agreement_not_found",
                       id=agreement_id)
    authorize(actor, "programmes.application.read", found)
    return found


def of_call(session: Session, call_id: int) -> list[Agreement]:
    return list(session.scalars(select(Agreement).where(Agreement.call_id == call_id)
                                .order_by(Agreement.id)))


def report(session: Session, *, actor: Actor, agreement: Agreement,
           data: schemas.ReportCreate) -> Report:
    authorize(actor, "programmes.report.submit", agreement)
    found = Report(agreement_id=agreement.id, text=data.text, figures=dict(data.figures),
                   submitted_by=actor.user_id)
    session.add(found)
    session.flush()
    session.expire(agreement, ["reports"])
    audit.record(session, actor=actor, action="programmes.report.submit", target_type="report",
                 target_id=found.id, org_id=agreement.org_id,
                 details={"agreement": agreement.id, "figures": found.figures})
    return found


def report_read(found: Report) -> schemas.ReportRead:
    return schemas.ReportRead(id=found.id, text=found.text, figures=found.figures,
                              submitted_by=found.submitted_by, created_at=found.created_at)


def agreement_read(agreement: Agreement) -> schemas.AgreementRead:
    application = agreement.application
    return schemas.AgreementRead(
        id=agreement.id, application=application.id, call=agreement.call_id,
        call_title=application.call.title, programme=application.call.programme,
        lead=applications.org_ref(application.organization),
        members=[applications.org_ref(m.organization) for m in application.members],
        budget_krw=agreement.budget_krw, starts_on=agreement.starts_on,
        ends_on=agreement.ends_on, deliverables=agreement.deliverables,
        reports=[report_read(r) for r in agreement.reports], created_at=agreement.created_at)
