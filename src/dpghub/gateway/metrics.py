"""Monitoring: Prometheus counters kept by each process, and usage read from call records.

`/metrics` shows this process's counters (Prometheus scrapes every hub process);
`GET /api/v1/gateway/usage` reads the call records, which every process writes, so its
figures cover the whole hub.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .limits import KST
from .models import CallRecord

BUCKETS = (0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class Metrics:
    """Counters kept as plain integers on the hot path and turned into Prometheus families
    only when scraped: prometheus_client's labelled children and locks cost a tenth of the
    gateway's time per call. One event loop thread updates them, so no lock is needed."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str, str, str], int] = {}
        self.hub_ms: dict[str, _Histogram] = {}
        self.upstream_ms: dict[str, _Histogram] = {}
        self.bytes: dict[str, int] = {}
        self.registry = CollectorRegistry()
        self.registry.register(_Collector(self))

    def observe(self, record: dict[str, Any]) -> None:
        service = record.get("service_ref") or ""
        key = (service, str(record.get("app_id") or ""), str(record.get("status", 0)),
               record.get("outcome") or "")
        self.calls[key] = self.calls.get(key, 0) + 1
        histogram = self.hub_ms.get(service)
        if histogram is None:
            histogram = self.hub_ms[service] = _Histogram()
        histogram.observe(float(record.get("hub_ms") or 0.0))
        upstream = record.get("upstream_ms")
        if upstream:
            histogram = self.upstream_ms.get(service)
            if histogram is None:
                histogram = self.upstream_ms[service] = _Histogram()
            histogram.observe(float(upstream))
        self.bytes[service] = self.bytes.get(service, 0) + int(record.get("response_bytes") or 0)

    def text(self) -> bytes:
        return generate_latest(self.registry)


class _Histogram:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)     # the last one: above every bound
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(BUCKETS, value)] += 1
        self.total += value

    def family_buckets(self) -> list[tuple[str, float]]:
        cumulative, running = [], 0
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self.counts, strict=True):
            running += count
            cumulative.append((bound, float(running)))
        return cumulative


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        m = self.metrics
        calls = CounterMetricFamily("dpghub_gateway_calls", "Calls through the gateway",
                                    labels=["service", "app", "status", "outcome"])
        for labels, count in list(m.calls.items()):
            calls.add_metric(list(labels), count)
        yield calls
        for name, text, histograms in (
                ("dpghub_gateway_hub_latency_ms", "Milliseconds the hub added to a call",
                 m.hub_ms),
                ("dpghub_gateway_upstream_latency_ms",
                 "Milliseconds the upstream took to answer", m.upstream_ms)):
            family = HistogramMetricFamily(name, text, labels=["service"])
            for service, histogram in list(histograms.items()):
                family.add_metric([service], histogram.family_buckets(), histogram.total)
            yield family
        sent = CounterMetricFamily("dpghub_gateway_response_bytes", "Bytes answered",
                                   labels=["service"])
        for service, count in list(m.bytes.items()):
            sent.add_metric([service], count)
        yield sent


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
