"""One contract validation run: Schemathesis' engine calls the service the way its OpenAPI
document says it may be called — the document's examples, boundary and missing-parameter
cases, then random ones — and checks every answer against the document.

The engine runs in a thread of its own and hands its events over a queue, so the caller's
thread (the hub's job worker) is the one that reports progress and asks whether to stop —
several times a second, even while a request is slow — and the run ends within one request
timeout of a cancel or of its time limit.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ...core.errors import Invalid
from . import settings
from .budget import MAX_CASES, CaseBudget
from .collect import Collector
from .curl import secret_variables
from .result import ValidationResult

PHASES = ("examples", "coverage", "fuzzing")
POLL_S = 0.1                 # how often the caller's thread looks up between events
STOP_POLL_S = 0.25           # how often `should_stop` is asked
REFUSED_BEFORE_GIVING_UP = 3
_DONE = object()


def _check(base_url: str, max_cases: int, response_time_limit_ms: int,
           request_timeout_s: float, max_time_s: float) -> None:
    if not base_url.startswith(("http://", "https://")):
        raise Invalid("The service URL must start with http:// or https://",
                      code="invalid_base_url", field="url")
    if not 1 <= max_cases <= MAX_CASES:
        raise Invalid("max_cases must be between 1 and {limit}", code="invalid_max_cases",
                      field="max_cases", limit=MAX_CASES)
    if response_time_limit_ms <= 0 or request_timeout_s <= 0 or max_time_s <= 0:
        raise Invalid("Time limits must be positive", code="invalid_time_limit",
                      field="response_time_limit_ms")


def run(document: dict[str, Any], base_url: str, *, headers: dict[str, str] | None = None,
        max_cases: int = 20, response_time_limit_ms: int = 2000, request_timeout_s: float = 5,
        max_time_s: float = 600, progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None, seed: int | None = 0
        ) -> ValidationResult:
    """Validate the service at `base_url` (where the document's paths are rooted; its
    `servers` are ignored) against `document`, an OpenAPI 3.x dict.

    `headers` are sent with every request (the sandbox credential) and never appear in the
    result. At most `max_cases` cases per operation (1–200) and `max_time_s` in all.
    `progress(done, total)` counts (operation, phase) units; `progress` and `should_stop` are
    called from the caller's thread. The same `seed` sends the same cases; None varies them.
    """
    base_url = base_url.rstrip("/")
    _check(base_url, max_cases, response_time_limit_ms, request_timeout_s, max_time_s)
    started, clock = datetime.now(UTC), time.monotonic()
    checks = settings.active_checks(document, headers)
    budget = CaseBudget(max_cases)
    config = settings.build(base_url=base_url, headers=headers, checks=checks,
                            random_cases=budget.random,
                            response_time_limit_ms=response_time_limit_ms,
                            request_timeout_s=request_timeout_s, seed=seed)
    schema = settings.load(document, config)
    labels = settings.operations(schema)
    budget.install(schema)
    collector = Collector(secret_variables(headers), request_timeout_s)
    for label in labels:
        collector.operation(label)
    total = max(1, len(labels) * len(PHASES))

    def report(done: int) -> None:
        if progress is not None:
            progress(min(done, total), total)

    stopped = _drive(schema, collector, clock=clock, max_time_s=max_time_s, progress=report,
                     should_stop=should_stop)
    if stopped is None:
        report(total)
    failures, errors = collector.failures(), collector.errors()
    return ValidationResult(
        base_url=base_url, started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"), checks=checks,
        max_cases=max_cases, operations=list(collector.operations.values()),
        failures=failures, errors=errors, stopped=stopped,
        duration_s=round(time.monotonic() - clock, 3))


def _drive(schema: Any, collector: Collector, *, clock: float, max_time_s: float,
           progress: Callable[[int], None], should_stop: Callable[[], bool] | None
           ) -> str | None:
    """Consume the engine's events until it finishes; the reason it was stopped early, if.

    Whatever goes wrong here (a `progress` that raises, say), the engine is stopped and its
    thread joined before the error goes up: no run is left calling a service unwatched.
    """
    from schemathesis.engine import from_schema

    stream = from_schema(schema).execute()
    handoff: queue.Queue[Any] = queue.Queue()

    def pump() -> None:
        try:
            for event in stream:
                handoff.put(event)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            handoff.put(exc)
        finally:
            handoff.put(_DONE)

    thread = threading.Thread(target=pump, name="contract-validation", daemon=True)
    thread.start()
    stopped: str | None = None
    next_ask, reported = 0.0, -1
    try:
        while True:
            try:
                item = handoff.get(timeout=POLL_S)
            except queue.Empty:
                item = None
            if item is _DONE:
                break
            _take(item, collector)
            if collector.scenarios != reported:
                reported = collector.scenarios
                progress(reported)
            if stopped is None:
                now = time.monotonic()
                if should_stop is not None and now >= next_ask:
                    next_ask = now + STOP_POLL_S
                    stopped = "cancelled" if should_stop() else None
                stopped = stopped or _limit(collector, now - clock, max_time_s)
                if stopped is not None:
                    stream.stop()
    finally:
        stream.stop()
        thread.join()
    return stopped


def _take(item: Any, collector: Collector) -> None:
    from schemathesis.engine import events

    if isinstance(item, events.ScenarioFinished):
        collector.scenario(item)
    elif isinstance(item, events.NonFatalError):
        collector.error(item)
    elif isinstance(item, events.FatalError):
        collector.stop_error("other", f"The validation engine failed: {item.exception}")
    elif isinstance(item, BaseException):
        collector.stop_error("other", f"The validation engine failed: {item!r}"[:500])


def _limit(collector: Collector, elapsed: float, max_time_s: float) -> str | None:
    if elapsed > max_time_s:
        return "time_limit"
    if collector.answered == 0 and collector.refused >= REFUSED_BEFORE_GIVING_UP:
        return "unreachable"
    return None
