"""Tokens per minute per organization: GCRA weighted by tokens. A call moves the
organization's theoretical arrival time on by its tokens ÷ the rate; it is allowed while that
time is no more than a minute's worth ahead of now (so a minute's tokens may come at once).
The estimate is taken before the call and the difference to the provider's count after it.
In memory, per hub process (requests per minute use the gateway's limits, which Redis
shares between processes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenRate:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.per_second = per_minute / 60.0
        self.tolerance = 60.0            # seconds: one minute's tokens at once
        self.clock = clock
        self._tat: dict[int, float] = {}
        self._lock = threading.Lock()

    def take(self, key: int, tokens: int) -> float:
        """0 when `tokens` may go now (and they are counted), else the seconds to wait."""
        if self.per_second <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            after = tat + tokens / self.per_second
            if after - now > self.tolerance + 1e-9:
                return after - now - self.tolerance
            self._tat[key] = after
            if len(self._tat) > 100_000:
                self._tat = {k: v for k, v in self._tat.items() if v > now}
        return 0.0

    def settle(self, key: int, difference: int) -> None:
        """The provider counted `difference` tokens more (or fewer) than the estimate."""
        if self.per_second <= 0 or not difference:
            return
        now = self.clock()
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            self._tat[key] = max(now, tat + difference / self.per_second)
