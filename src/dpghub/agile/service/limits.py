"""Abuse limits for feedback: the generic cell rate algorithm (GCRA) per key (a person, or a
network address for anonymous feedback), in memory, on the clock it is given. One process
keeps its own cells, as the gateway's memory limits do when no Redis is configured."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Lock


@dataclass
class Gcra:
    """`count` events per `period`, `burst` of them at once. `allow(key)` → seconds to wait
    (0 when allowed, and then the event is counted)."""

    count: int
    period: timedelta
    burst: int
    clock: Callable[[], datetime]
    _tat: dict[str, datetime] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    def wait(self, key: str) -> float:
        now = self.clock()
        interval = self.period / self.count
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            allowed_at = tat - interval * (self.burst - 1)
            if now < allowed_at:
                return (allowed_at - now).total_seconds()
            self._tat[key] = tat + interval
            if len(self._tat) > 100_000:       # forget the cells that are long idle
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            return 0.0


def feedback_limiter(clock: Callable[[], datetime]) -> Gcra:
    """Ten pieces of feedback an hour from one person or address, five at once."""
    return Gcra(count=10, period=timedelta(hours=1), burst=5, clock=clock)
