"""Monthly AI credit of an organization (tokens, Asia/Seoul months): granted by operators or
by a selection of the AI-support programme, spent by the calls in the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core import audit
from ...core import months as months_of
from ...core.errors import Invalid
from ...identity.models import Organization
from ...identity.policy import Actor, authorize
from ...programmes import service as programmes
from .. import schemas
from ..models import Budget
from . import ledger


def set_(session: Session, *, actor: Actor, org: Organization, data: schemas.BudgetSet,
         now: datetime) -> Budget:
    """Grant the month's credit: by an operator's decision, or under the agreement of the
    organization's selection in an `ai_support` call (the AI-support programme)."""
    authorize(actor, "ai.budget.grant", org)
    month = data.month or months_of.month_of(now)
    months_of.parse_month(month, "month")
    source = "operator"
    if data.agreement is not None:
        chosen = [s for s in programmes.selections.of_org(session, org.id, "ai_support")
                  if s.agreement == data.agreement]
        if not chosen:
            raise Invalid("Agreement {id} is no selection of {org} in an AI-support call",
                          code="not_an_ai_support_selection", field="agreement",
                          id=data.agreement, org=org.slug)
        source = f"ai_support:agreement:{data.agreement}"
    found = session.scalar(select(Budget).where(Budget.org_id == org.id, Budget.month == month))
    before = found.tokens if found is not None else None
    if found is None:
        found = Budget(org_id=org.id, month=month, tokens=data.tokens)
        session.add(found)
    found.tokens, found.source = data.tokens, source
    found.granted_by, found.updated_at = actor.user_id, now
    session.flush()
    audit.record(session, actor=actor, action="ai.budget.set", target_type="organization",
                 target_id=org.id, org_id=org.id,
                 details={"month": month, "tokens": data.tokens, "before": before,
                          "source": source})
    return found


def month_now(now: datetime) -> str:
    return months_of.month_of(now)


def granted(session: Session, org_id: int, month: str) -> int:
    return int(session.scalar(select(Budget.tokens).where(Budget.org_id == org_id,
                                                          Budget.month == month)) or 0)


def used(session: Session, org_id: int, month: str) -> int:
    """Tokens the ledger holds for the organization in the month (input and output)."""
    return ledger.month_tokens(session, org_id, month)


def read(session: Session, *, actor: Actor, org: Organization, now: datetime,
         month: str | None = None, pending: int = 0) -> schemas.BudgetRead:
    authorize(actor, "ai.budget.read", org)
    month = month or months_of.month_of(now)
    months_of.parse_month(month, "month")
    source = session.scalar(select(Budget.source).where(Budget.org_id == org.id,
                                                        Budget.month == month))
    given, spent = granted(session, org.id, month), used(session, org.id, month) + pending
    return schemas.BudgetRead(org=org.slug, month=month, granted=given, used=spent,
                              left=max(0, given - spent), source=source)
