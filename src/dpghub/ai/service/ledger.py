"""The usage ledger: one row per call through the AI gateway, written in batches off the hot
path (each batch one transaction with one audit event holding the digest of its rows, so the
audit chain covers them), and the usage figures read from it."""

from __future__ import annotations

import hashlib
import operator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...core import audit
from ...core import months as months_of
from ...identity.models import Organization
from ...identity.policy import SYSTEM, Actor, authorize
from .. import schemas
from ..models import LedgerEntry, UsageMonth

FIELDS = ("request_id", "app_id", "org_id", "provider_id", "alias", "model", "kind", "stream",
          "input_tokens", "output_tokens", "cost_krw", "latency_ms", "ttft_ms", "status",
          "outcome", "fault")
COLUMNS = ("at", "month", *FIELDS)
# a record's fields when it does not say (the columns' defaults; None where nullable)
TEMPLATE: dict[str, Any] = {**dict.fromkeys(FIELDS), "alias": "", "model": "", "kind": "chat",
                            "stream": False, "input_tokens": 0, "output_tokens": 0,
                            "cost_krw": 0, "latency_ms": 0.0, "fault": ""}
_values = operator.itemgetter(*FIELDS)


def write(session: Session, records: list[dict[str, Any]]) -> int:
    """Store a batch of the gateway's records (`at` in epoch seconds) with one audit event,
    and add their tokens to the organizations' monthly counts (`ai_usage_month`).

    The rows go to the database driver's own `executemany` as tuples: an ORM object per row,
    and even Core's per-row parameter handling, cost more CPU than the calls they recorded
    (the writer shares the hub process's interpreter lock with the calls)."""
    if not records:
        return 0
    on_sqlite = session.get_bind().dialect.name == "sqlite"
    digest = hashlib.sha256()
    rows = []
    months: dict[tuple[int, str], list[int]] = {}
    for record in records:
        values = _values({**TEMPLATE, **record})
        at = datetime.fromtimestamp(record["at"], UTC)
        month = record.get("month") or months_of.month_of(at)
        # SQLite keeps times as SQLAlchemy writes them: UTC text without its zone
        rows.append((at.replace(tzinfo=None).isoformat(" ", "microseconds") if on_sqlite
                     else at,
                     month, *values))
        org_id = record.get("org_id")
        if org_id:
            counted = months.setdefault((org_id, month), [0, 0])
            counted[0] += (record.get("input_tokens") or 0) + (record.get("output_tokens") or 0)
            counted[1] += 1
    digest.update(repr([(record["at"], *row[2:]) for record, row in zip(records, rows,
                                                                         strict=True)]).encode())
    marker = "?" if on_sqlite else "%s"
    session.connection().exec_driver_sql(
        f"INSERT INTO ai_ledger ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join([marker] * len(COLUMNS))})", rows)
    add_to_months(session, months)
    audit.record(session, actor=SYSTEM, action="ai.ledger.batch", target_type="ai_ledger",
                 target_id="batch", details={"calls": len(records),
                                             "sha256": digest.hexdigest()})
    return len(records)


def add_to_months(session: Session, counted: dict[tuple[int, str], list[int]]) -> None:
    """Add (tokens, calls) to each (organization, month)'s count, made when missing."""
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = UsageMonth.__table__
    for (org_id, month), (tokens, calls) in sorted(counted.items()):
        statement = upsert(table).values(org_id=org_id, month=month, tokens=tokens,
                                         calls=calls)
        session.execute(statement.on_conflict_do_update(
            index_elements=["org_id", "month"],
            set_={"tokens": table.c.tokens + tokens, "calls": table.c.calls + calls}))


def month_tokens(session: Session, org_id: int, month: str) -> int:
    """The organization's tokens in the month, as the ledger's writer counted them."""
    return int(session.scalar(select(UsageMonth.tokens).where(
        UsageMonth.org_id == org_id, UsageMonth.month == month)) or 0)


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
