"""A circuit breaker per upstream: after repeated failures calls pause, then one probe decides.

closed → (5 failures in a row) → open: refused at once for 10 s → half-open: one call goes
through; success closes, failure opens again. `clock` (seconds, monotonic) is there for tests
to move time on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class Breaker:
    def __init__(self, threshold: int = 5, cooldown: float = 10.0,
                 clock: Clock = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if self.clock() - self.opened_at < self.cooldown or self.probing:
                return False
            self.probing = True          # the one probe
            return True

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self.probing = False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.probing or self.failures >= self.threshold:
                self.opened_at = self.clock()
            self.probing = False


class Breakers:
    def __init__(self, threshold: int = 5, cooldown: float = 10.0,
                 clock: Clock = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self._by_upstream: dict[str, Breaker] = {}

    def get(self, upstream: str) -> Breaker:
        breaker = self._by_upstream.get(upstream)
        if breaker is None:
            breaker = self._by_upstream.setdefault(upstream,
                                                   Breaker(self.threshold, self.cooldown,
                                                           self.clock))
        return breaker
