"""Rate limits (GCRA) and daily quotas per subscription: in memory for one process, or in
Redis — one atomic script — so several hub processes share them exactly.

GCRA keeps one number per key, the theoretical arrival time (TAT) of the next request: a
request is allowed when TAT − now ≤ the burst tolerance, and moves TAT on by 1/rate. Daily
quotas count calls per Asia/Seoul day (data.go.kr resets at midnight KST). `clock` (epoch
seconds) is there for tests to move time on; `check(now=…)` overrides it for one call.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NamedTuple

log = logging.getLogger("dpghub.gateway")
KST = timezone(timedelta(hours=9))


class Verdict(NamedTuple):
    """A named tuple, not a frozen dataclass: one is made on every gateway call, and a frozen
    dataclass's constructor costs several times more."""

    allowed: bool
    reason: str            # "" | "rate" | "quota" | "unavailable"
    retry_after: float     # seconds
    remaining: int         # calls left today
    limit: int             # the daily quota
    reset: int             # seconds until the quota resets


_DAY_CACHE: list[Any] = [None, "", 0.0]     # second, day, next midnight (epoch)


def _day_and_reset(now: float) -> tuple[str, int]:
    """The Asia/Seoul day of `now` and the seconds until it ends (cached per second)."""
    second = int(now)
    if _DAY_CACHE[0] != second:
        local = datetime.fromtimestamp(now, UTC).astimezone(KST)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                       microsecond=0)
        _DAY_CACHE[:] = [second, local.strftime("%Y%m%d"), midnight.timestamp()]
    return _DAY_CACHE[1], max(1, int(_DAY_CACHE[2] - now))


def _burst(rate: float) -> int:
    return max(1, math.ceil(rate))           # one second's worth may arrive at once


class MemoryLimits:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._tat: dict[Any, float] = {}
        self._used: dict[tuple[Any, str], int] = {}
        self._lock = threading.Lock()

    def check(self, key: Any, rate: float, quota: int, now: float | None = None) -> Verdict:
        now = self.clock() if now is None else now
        day, reset = _day_and_reset(now)
        interval = 1.0 / rate
        tolerance = interval * (_burst(rate) - 1)
        with self._lock:
            used = self._used.get((key, day), 0)
            if used >= quota:
                return Verdict(False, "quota", float(reset), 0, quota, reset)
            tat = max(self._tat.get(key, now), now)
            if tat - now > tolerance + 1e-9:
                return Verdict(False, "rate", tat - now - tolerance, quota - used, quota, reset)
            self._tat[key] = tat + interval
            self._used[(key, day)] = used + 1
            if len(self._used) > 100_000:   # forget earlier days
                self._used = {k: v for k, v in self._used.items() if k[1] == day}
        return Verdict(True, "", 0.0, quota - used - 1, quota, reset)


# KEYS: tat key, quota key. ARGV: now (ms), interval (ms), tolerance (ms), quota, ttl (s).
# Returns {allowed, reason (0 ok, 1 rate, 2 quota), retry (ms), used}.
SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local quota = tonumber(ARGV[4])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used >= quota then return {0, 2, 0, used} end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat - now > tolerance then return {0, 1, math.ceil(tat - now - tolerance), used} end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 1000)
used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5])) end
return {1, 0, 0, used}
"""


class RedisLimits:
    """The same rules, kept in Redis. When Redis cannot be reached, `fail_open` decides."""

    def __init__(self, client: Any, *, fail_open: bool = False,
                 prefix: str = "dpghub:gw:", clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.clock = clock
        self.fail_open = fail_open
        self.prefix = prefix
        self.script = client.register_script(SCRIPT)

    def check(self, key: Any, rate: float, quota: int, now: float | None = None) -> Verdict:
        now = self.clock() if now is None else now
        day, reset = _day_and_reset(now)
        interval = 1000.0 / rate
        tolerance = interval * (_burst(rate) - 1)
        try:
            allowed, reason, retry, used = self.script(
                keys=[f"{self.prefix}tat:{key}", f"{self.prefix}day:{day}:{key}"],
                args=[int(now * 1000), interval, tolerance, quota, reset + 3600])
        except Exception as exc:  # noqa: BLE001 — any Redis failure takes the configured path
            log.warning("rate limits unavailable (Redis: %s); failing %s", exc,
                        "open" if self.fail_open else "closed")
            if self.fail_open:
                return Verdict(True, "", 0.0, quota, quota, reset)
            return Verdict(False, "unavailable", 1.0, 0, quota, reset)
        used = int(used)
        if allowed:
            return Verdict(True, "", 0.0, max(0, quota - used), quota, reset)
        if int(reason) == 2:
            return Verdict(False, "quota", float(reset), 0, quota, reset)
        return Verdict(False, "rate", int(retry) / 1000.0, max(0, quota - used), quota, reset)
