"""The usage ledger: one row per call through the AI gateway, written in batches off the hot
path (each batch one transaction with one audit event holding the digest of its rows, so the
audit chain covers them), and the usage figures read from it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...core import audit
from ...core import months as months_of
from ...identity.models import Organization
from ...identity.policy import SYSTEM, Actor, authorize
from .. import schemas
from ..models import LedgerEntry

FIELDS = ("request_id", "app_id", "org_id", "provider_id", "alias", "model", "kind", "stream",
          "input_tokens", "output_tokens", "cost_krw", "latency_ms", "ttft_ms", "status",
          "outcome", "fault")


def write(session: Session, records: list[dict[str, Any]]) -> int:
    """Store a batch of the gateway's records (`at` in epoch seconds) with one audit event."""
    if not records:
        return 0
    digest = hashlib.sha256()
    for record in records:
        at = datetime.fromtimestamp(record["at"], UTC)
        row = {name: record.get(name) for name in FIELDS}
        session.add(LedgerEntry(at=at, month=months_of.month_of(at),
                                **{k: v for k, v in row.items() if v is not None}))
        digest.update(json.dumps([record["at"], *row.values()], default=str).encode())
    session.flush()
    audit.record(session, actor=SYSTEM, action="ai.ledger.batch", target_type="ai_ledger",
                 target_id="batch", details={"calls": len(records),
                                             "sha256": digest.hexdigest()})
    return len(records)


def usage(session: Session, *, actor: Actor, org: Organization | None = None,
          app: Any = None, days: int = 31, now: datetime) -> schemas.UsageRead:
    """Calls, tokens and cost per model and Seoul day, of an organization or one of its apps
    (its members; operators), over the last `days` days."""
    target = org if org is not None else app.organization
    authorize(actor, "ai.usage.read", target)
    day = months_of.seoul_day(LedgerEntry.at)
    query = (select(day, LedgerEntry.alias, func.count(LedgerEntry.id),
                    func.sum(LedgerEntry.input_tokens), func.sum(LedgerEntry.output_tokens),
                    func.sum(LedgerEntry.cost_krw))
             .where(LedgerEntry.at >= now - months_of.days(days))
             .group_by(day, LedgerEntry.alias).order_by(day, LedgerEntry.alias))
    query = (query.where(LedgerEntry.org_id == org.id) if org is not None
             else query.where(LedgerEntry.app_id == app.id))
    rows = [schemas.UsageRow(day=d, model=alias, calls=int(n), input_tokens=int(i or 0),
                             output_tokens=int(o or 0), cost_krw=round(float(c or 0), 4))
            for d, alias, n, i, o, c in session.execute(query)]
    return schemas.UsageRead(calls=sum(r.calls for r in rows),
                             input_tokens=sum(r.input_tokens for r in rows),
                             output_tokens=sum(r.output_tokens for r in rows),
                             cost_krw=round(sum(r.cost_krw for r in rows), 4), rows=rows)


def monthly_figures(session: Session, months: list[str]) -> dict[str, dict[str, float]]:
    """AI tokens used per month, for the programme dashboard (added in app.register_hooks)."""
    totals = dict(session.execute(
        select(LedgerEntry.month,
               func.sum(LedgerEntry.input_tokens + LedgerEntry.output_tokens))
        .where(LedgerEntry.month.in_(months)).group_by(LedgerEntry.month)).all())
    return {"ai_tokens": {m: int(totals.get(m) or 0) for m in months}}
