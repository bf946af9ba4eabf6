"""Strings of each `format`, and numbers within their bounds: values a validator (the mock's
own, and openapi-core's) accepts — the other fault mocks are often reported for."""

from __future__ import annotations

import math
import uuid
from base64 import b64encode
from collections.abc import Callable
from random import Random
from typing import Any

from . import korean
from .model import Unsatisfiable

KST = "+09:00"


def _datetime(rng: Random) -> str:
    moment = korean.a_date(rng)
    return f"{moment.isoformat()}T{_clock(rng)}{KST}"


def _clock(rng: Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _ipv6(rng: Random) -> str:
    return "2001:db8::" + ":".join(f"{rng.randint(0, 65535):x}" for _ in range(3))


FORMATS: dict[str, Callable[[Random], str]] = {
    "date": korean.dashed_date,
    "date-time": _datetime,
    "time": lambda rng: _clock(rng) + KST,
    "duration": lambda rng: f"P{rng.randint(1, 30)}D",
    "email": lambda rng: f"user{rng.randint(1, 9999)}@example.kr",
    "idn-email": lambda rng: f"user{rng.randint(1, 9999)}@example.kr",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "uri": lambda rng: f"https://www.example.kr/data/{rng.randint(1, 9999)}",
    "url": lambda rng: f"https://www.example.kr/data/{rng.randint(1, 9999)}",
    "iri": lambda rng: f"https://www.example.kr/data/{rng.randint(1, 9999)}",
    "uri-reference": lambda rng: f"/data/{rng.randint(1, 9999)}",
    "iri-reference": lambda rng: f"/data/{rng.randint(1, 9999)}",
    "uri-template": lambda rng: "https://www.example.kr/data/{id}",
    "hostname": lambda rng: f"api{rng.randint(1, 99)}.example.kr",
    "idn-hostname": lambda rng: f"api{rng.randint(1, 99)}.example.kr",
    "ipv4": lambda rng: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
    "ipv6": _ipv6,
    "byte": lambda rng: b64encode(rng.randbytes(rng.randint(3, 12))).decode(),
    "binary": lambda rng: rng.randbytes(8).hex(),
    "password": lambda rng: f"Pw{rng.randint(100000, 999999)}!",
    "regex": lambda rng: "^[0-9]+$",
    "json-pointer": lambda rng: f"/data/{rng.randint(0, 9)}",
    "relative-json-pointer": lambda rng: "0/data",
}


def formatted(fmt: str, rng: Random) -> str | None:
    make = FORMATS.get(fmt)
    return make(rng) if make else None


def fit_length(text: str, low: int, high: int | None, rng: Random) -> str:
    """`text` padded or cut to an allowed length (Korean words pad it)."""
    while len(text) < low:
        text += " " + rng.choice(korean.WORDS) if text else rng.choice(korean.WORDS)
    if high is not None and len(text) > high:
        text = text[:high].rstrip() if high > 0 else ""
        if len(text) < low:
            text = text.ljust(low, "가")
    return text


def bounds(schema: dict[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """(low, low is exclusive, high, high is exclusive) in either OpenAPI dialect."""
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    low_open = ex_low is True
    high_open = ex_high is True
    if isinstance(ex_low, int | float) and not isinstance(ex_low, bool):
        low, low_open = ex_low, True
    if isinstance(ex_high, int | float) and not isinstance(ex_high, bool):
        high, high_open = ex_high, True
    return low, low_open, high, high_open


def integer(schema: dict[str, Any], rng: Random) -> int:
    low, low_open, high, high_open = bounds(schema)
    lo = None if low is None else (math.floor(low) + 1 if low_open else math.ceil(low))
    hi = None if high is None else (math.ceil(high) - 1 if high_open else math.floor(high))
    if lo is None:
        lo = 1 if hi is None or hi >= 1 else hi - 99
    if hi is None:
        hi = max(lo, 1) + 99
    if schema.get("format") == "int32":
        lo, hi = max(lo, -(2 ** 31)), min(hi, 2 ** 31 - 1)
    step = schema.get("multipleOf")
    if isinstance(step, int) and not isinstance(step, bool) and step > 0:
        first, last = math.ceil(lo / step), math.floor(hi / step)
        if first > last:
            raise Unsatisfiable(f"no multiple of {step} lies between {low} and {high}")
        return rng.randint(first, min(last, first + 100)) * step
    if lo > hi:
        raise Unsatisfiable(f"no integer lies between {low} and {high}")
    return rng.randint(lo, hi)


def number(schema: dict[str, Any], rng: Random) -> float | int:
    low, low_open, high, high_open = bounds(schema)
    lo = float(low) if low is not None else (0.0 if high is None or high > 0 else high - 100)
    hi = float(high) if high is not None else lo + 1000.0
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        return _multiple(step, lo, low_open, hi, high_open, rng)
    if lo > hi or (lo == hi and (low_open or high_open)):
        raise Unsatisfiable(f"no number lies between {low} and {high}")
    for _ in range(20):
        value = round(rng.uniform(lo, hi), 2)
        if _inside(value, lo, low_open, hi, high_open):
            return value
    return (lo + hi) / 2


def _inside(value: float, lo: float, low_open: bool, hi: float, high_open: bool) -> bool:
    return (value > lo or (not low_open and value == lo)) and \
        (value < hi or (not high_open and value == hi))


def _multiple(step: float, lo: float, low_open: bool, hi: float, high_open: bool,
              rng: Random) -> float | int:
    """A multiple of `step` that floating point division also finds to be one (a validator
    divides: 0.07 / 0.01 is 7.000000000000001, so 0.07 would be refused)."""
    first, last = math.ceil(lo / step), math.floor(hi / step)
    decimals = max(0, -math.floor(math.log10(step))) + 2
    for _ in range(40):
        k = rng.randint(first, max(first, min(last, first + 1000)))
        value = round(k * step, decimals)
        quotient = value / step
        if quotient == int(quotient) and _inside(value, lo, low_open, hi, high_open):
            return int(value) if isinstance(step, int) else value
    raise Unsatisfiable(f"no multiple of {step} lies between {lo} and {hi}")
