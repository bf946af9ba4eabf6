"""Monitoring: Prometheus counters kept by each process, and usage read from call records.

`/metrics` shows this process's counters (Prometheus scrapes every hub process);
`GET /api/v1/gateway/usage` reads the call records, which every process writes, so its
figures cover the whole hub.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .limits import KST
from .models import CallRecord

BUCKETS = (0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter("dpghub_gateway_calls", "Calls through the gateway",
                             ["service", "app", "status", "outcome"], registry=self.registry)
        self.hub_ms = Histogram("dpghub_gateway_hub_latency_ms",
                                "Milliseconds the hub added to a call", ["service"],
                                buckets=BUCKETS, registry=self.registry)
        self.upstream_ms = Histogram("dpghub_gateway_upstream_latency_ms",
                                     "Milliseconds the upstream took to answer", ["service"],
                                     buckets=BUCKETS, registry=self.registry)
        self.bytes = Counter("dpghub_gateway_response_bytes", "Bytes answered",
                             ["service"], registry=self.registry)

    def observe(self, record: dict[str, Any]) -> None:
        service = str(record.get("service_ref", ""))
        app = str(record.get("app_id", ""))
        self.calls.labels(service, app, str(record.get("status", 0)),
                          str(record.get("outcome", ""))).inc()
        self.hub_ms.labels(service).observe(float(record.get("hub_ms") or 0.0))
        if record.get("upstream_ms"):
            self.upstream_ms.labels(service).observe(float(record["upstream_ms"]))
        self.bytes.labels(service).inc(int(record.get("response_bytes") or 0))

    def text(self) -> bytes:
        return generate_latest(self.registry)


def usage(session: Session, *, service_id: int | None = None, app_id: int | None = None,
          days: int = 7, quota: int | None = None) -> dict[str, Any]:
    """Calls, errors, latency percentiles per day (Asia/Seoul) and today's quota use."""
    since = datetime.now(UTC) - timedelta(days=days)
    query = select(CallRecord.at, CallRecord.status, CallRecord.outcome, CallRecord.upstream_ms,
                   CallRecord.hub_ms).where(CallRecord.at >= since)
    if service_id is not None:
        query = query.where(CallRecord.service_id == service_id)
    if app_id is not None:
        query = query.where(CallRecord.app_id == app_id)
    per_day: dict[str, list[Any]] = {}
    latencies: list[float] = []
    errors = 0
    total = 0
    for at, status, outcome, upstream, hub in session.execute(query):
        day = at.astimezone(KST).strftime("%Y-%m-%d")
        per_day.setdefault(day, []).append((status, outcome))
        total += 1
        if outcome != "ok":
            errors += 1
        if outcome == "ok":
            latencies.append((upstream or 0.0) + (hub or 0.0))
    latencies.sort()
    today = datetime.now(UTC).astimezone(KST).strftime("%Y-%m-%d")
    used_today = sum(1 for status, outcome in per_day.get(today, [])
                     if outcome not in ("refused",))
    return {
        "calls": total, "errors": errors,
        "p50_ms": _percentile(latencies, 0.50), "p95_ms": _percentile(latencies, 0.95),
        "days": [{"day": day, "calls": len(items),
                  "errors": sum(1 for _, outcome in items if outcome != "ok")}
                 for day, items in sorted(per_day.items())],
        "quota": quota, "used_today": used_today,
    }


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def count_today(session: Session, subscription_id: int) -> int:
    midnight = datetime.now(UTC).astimezone(KST).replace(hour=0, minute=0, second=0,
                                                         microsecond=0)
    return int(session.scalar(select(func.count(CallRecord.id)).where(
        CallRecord.subscription_id == subscription_id, CallRecord.at >= midnight,
        CallRecord.outcome != "refused")) or 0)
