"""Growing delays after failed sign-ins, instead of locking accounts.

A lock-out that anyone can trigger lets anyone lock anyone out (the operator included), and
answering a locked account differently from an unknown one tells which accounts exist. Here
failures are counted per (account as typed, client address) and per client address: after
`free` failures each further one makes that pair (or address) wait, 1 s, 2 s, 4 s … up to
`longest`. The same person at another address is not slowed down by an attacker elsewhere,
and an unknown address is throttled exactly like a real one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import SignInThrottle

ADDRESS_FACTOR = 10          # one address may fail this many times `free` across accounts
FORGET_AFTER = timedelta(days=1)   # a counter with no failure for this long starts again


@dataclass(frozen=True)
class Limits:
    free: int                 # failures without a delay
    longest: timedelta        # the longest delay


def keys(email: str, address: str) -> tuple[str, str]:
    account = email.strip().lower()
    pair = hashlib.sha256(f"pair\0{account}\0{address}".encode()).hexdigest()
    alone = hashlib.sha256(f"address\0{address}".encode()).hexdigest()
    return pair, alone


def account_key(email: str) -> str:
    return hashlib.sha256(f"account\0{email.strip().lower()}".encode()).hexdigest()


def wait_left(session: Session, email: str, address: str, now: datetime) -> float:
    """Seconds the next try from `address` for `email` must still wait (0: it may go)."""
    left = 0.0
    for key in keys(email, address):
        row = session.get(SignInThrottle, key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            left = max(left, (row.blocked_until - now).total_seconds())
    return left


def failed(session: Session, email: str, address: str, now: datetime, limits: Limits) -> float:
    """Count a failure; return the delay it starts (0 while failures are still free)."""
    delay = 0.0
    pair, alone = keys(email, address)
    for key, free in ((pair, limits.free), (alone, limits.free * ADDRESS_FACTOR)):
        row = session.get(SignInThrottle, key)
        if row is None:
            row = SignInThrottle(key=key, failures=0, last_failure_at=now,
                                 account=account_key(email) if key == pair else None)
            session.add(row)
        elif now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures > free:
            seconds = min(2.0 ** (row.failures - free - 1), limits.longest.total_seconds())
            row.blocked_until = now + timedelta(seconds=seconds)
            delay = max(delay, seconds)
    session.flush()
    return delay


def succeeded(session: Session, email: str, address: str) -> None:
    """The right password from this address: its pair starts again (the address does not:
    one success among many failures across accounts is how password spraying looks)."""
    row = session.get(SignInThrottle, keys(email, address)[0])
    if row is not None:
        session.delete(row)
        session.flush()


def lift(session: Session, email: str) -> int:
    """An operator reset the account: every address may try it again at once."""
    rows = session.scalars(select(SignInThrottle).where(
        SignInThrottle.account == account_key(email))).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
