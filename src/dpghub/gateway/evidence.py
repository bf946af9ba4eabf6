"""Writing call records off the hot path: the proxy queues them, a thread writes them in
batches (each also an audit-chain event, so `dpghub audit verify` covers them), and stopping
writes whatever is still queued — none is lost on a normal shutdown."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ..core import audit
from ..core.db import transaction
from .models import CallRecord

log = logging.getLogger("dpghub.gateway")


class Recorder:
    def __init__(self, factory: sessionmaker[Session], *, batch: int = 500,
                 every: float = 0.5) -> None:
        self.factory = factory
        self.batch = batch
        self.every = every
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> None:
        self._queue.put(record)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="dpghub-evidence",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def flush(self) -> int:
        """Write everything queued now; returns how many records were written."""
        written = 0
        with self._lock:
            while True:
                items = []
                while len(items) < self.batch:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not items:
                    return written
                try:
                    _write(self.factory, items)
                except Exception:  # noqa: BLE001 — keep them for the next attempt
                    log.exception("could not write %d call records; will retry", len(items))
                    for item in items:
                        self._queue.put(item)
                    return written
                written += len(items)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.flush()


def _write(factory: sessionmaker[Session], items: list[dict[str, Any]]) -> None:
    with transaction(factory) as session:
        for item in items:
            event = audit.record(
                session, actor=item["client"], action="gateway.call",
                target_type="service", target_id=item["service_ref"],
                org_id=item.get("provider_org_id"),
                details={k: item.get(k) for k in (
                    "request_id", "method", "path", "operation", "status", "outcome", "fault",
                    "request_bytes", "response_bytes", "upstream_ms", "hub_ms",
                    "request_sha256", "response_sha256")})
            session.add(CallRecord(
                at=item["at"], request_id=item["request_id"], app_id=item.get("app_id"),
                consumer_org_id=item.get("consumer_org_id"), service_id=item.get("service_id"),
                provider_org_id=item.get("provider_org_id"),
                subscription_id=item.get("subscription_id"), operation=item.get("operation", ""),
                method=item["method"], path=item["path"][:2000], status=item["status"],
                request_bytes=item.get("request_bytes", 0),
                response_bytes=item.get("response_bytes", 0),
                upstream_ms=item.get("upstream_ms", 0.0), hub_ms=item.get("hub_ms", 0.0),
                outcome=item["outcome"], fault=item.get("fault", ""),
                request_sha256=item.get("request_sha256", ""),
                response_sha256=item.get("response_sha256", ""), audit_seq=event.seq))
