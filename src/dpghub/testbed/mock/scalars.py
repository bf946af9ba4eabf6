"""Strings of each `format`, and numbers within their bounds: values a validator (the mock's
own, and openapi-core's) accepts — the other fault mocks are often reported for.

Bounds are read once, when a schema is compiled: each function here returns a maker."""

from __future__ import annotations

import math
import uuid
from base64 import b64encode
from collections.abc import Callable
from random import Random
from typing import Any

from .draw import between, pick
from .korean import WORDS, dashed_date
from .model import Unsatisfiable

Maker = Callable[[Random], Any]
KST = "+09:00"
BIG = 2 ** 50       # beyond this a float draw is uneven: randint is used


def _clock(rng: Random) -> str:
    return f"{between(rng, 0, 23):02d}:{between(rng, 0, 59):02d}:{between(rng, 0, 59):02d}"


def _web(rng: Random) -> str:
    return f"https://www.example.kr/data/{between(rng, 1, 9999)}"


def _email(rng: Random) -> str:
    return f"user{between(rng, 1, 9999)}@example.kr"


def _host(rng: Random) -> str:
    return f"api{between(rng, 1, 99)}.example.kr"


FORMATS: dict[str, Maker] = {
    "date": dashed_date,
    "date-time": lambda rng: f"{dashed_date(rng)}T{_clock(rng)}{KST}",
    "time": _clock,        # no offset: openapi-core's checker refuses one (see checker.py)
    "duration": lambda rng: f"P{between(rng, 1, 30)}D",
    "email": _email, "idn-email": _email,
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "uri": _web, "url": _web, "iri": _web,
    "uri-reference": lambda rng: f"/data/{between(rng, 1, 9999)}",
    "iri-reference": lambda rng: f"/data/{between(rng, 1, 9999)}",
    "uri-template": lambda rng: "https://www.example.kr/data/{id}",
    "hostname": _host, "idn-hostname": _host,
    "ipv4": lambda rng: ".".join(str(between(rng, 1, 254)) for _ in range(4)),
    "ipv6": lambda rng: "2001:db8::" + ":".join(f"{between(rng, 0, 65535):x}"
                                                for _ in range(3)),
    "byte": lambda rng: b64encode(rng.randbytes(between(rng, 3, 12))).decode(),
    "binary": lambda rng: rng.randbytes(8).hex(),
    "password": lambda rng: f"Pw{between(rng, 100000, 999999)}!",
    "regex": lambda rng: "^[0-9]+$",
    "json-pointer": lambda rng: f"/data/{between(rng, 0, 9)}",
    "relative-json-pointer": lambda rng: "0/data",
}


def fit_length(text: str, low: int, high: int | None, rng: Random) -> str:
    """`text` padded or cut to an allowed length (Korean words pad it)."""
    if len(text) < low:                   # words gathered, then joined once
        words, size = [text] if text else [], len(text)
        while size < low:
            word = pick(rng, WORDS)
            size += len(word) + (1 if words else 0)
            words.append(word)
        text = " ".join(words)
    if high is not None and len(text) > high:
        text = text[:high].rstrip() if high > 0 else ""
        if len(text) < low:
            text = text.ljust(low, "가")
    return text


def bounds(schema: dict[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """(low, low is exclusive, high, high is exclusive) in either OpenAPI dialect."""
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    low_open, high_open = ex_low is True, ex_high is True
    if isinstance(ex_low, int | float) and not isinstance(ex_low, bool):
        low, low_open = ex_low, True
    if isinstance(ex_high, int | float) and not isinstance(ex_high, bool):
        high, high_open = ex_high, True
    return low, low_open, high, high_open


def _draw(low: int, high: int) -> Maker:
    if high - low < BIG:
        return lambda rng: low + int(rng.random() * (high - low + 1))
    return lambda rng: rng.randint(low, high)


def integer(schema: dict[str, Any]) -> Maker:
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
        draw = _draw(first, min(last, first + 100))
        return lambda rng: draw(rng) * step
    if lo > hi:
        raise Unsatisfiable(f"no integer lies between {low} and {high}")
    return _draw(lo, hi)


def number(schema: dict[str, Any]) -> Maker:
    low, low_open, high, high_open = bounds(schema)
    lo = float(low) if low is not None else (0.0 if high is None or high > 0 else high - 100)
    hi = float(high) if high is not None else lo + 1000.0
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        return _multiple(step, lo, low_open, hi, high_open)
    if lo > hi or (lo == hi and (low_open or high_open)):
        raise Unsatisfiable(f"no number lies between {low} and {high}")

    def make(rng: Random) -> float:
        for _ in range(20):
            value = round(lo + rng.random() * (hi - lo), 2)
            if _inside(value, lo, low_open, hi, high_open):
                return value
        return (lo + hi) / 2
    return make


def _inside(value: float, lo: float, low_open: bool, hi: float, high_open: bool) -> bool:
    return (value > lo or (not low_open and value == lo)) and \
        (value < hi or (not high_open and value == hi))


def _multiple(step: float, lo: float, low_open: bool, hi: float, high_open: bool) -> Maker:
    """Multiples of `step` that floating point division also finds to be ones (a validator
    divides: 0.07 / 0.01 is 7.000000000000001, so 0.07 would be refused)."""
    first, last = math.ceil(lo / step), math.floor(hi / step)
    decimals = max(0, -math.floor(math.log10(step))) + 2
    good = []
    for k in range(first, min(last, first + 1000) + 1):
        value = round(k * step, decimals)
        quotient = value / step
        if quotient == int(quotient) and _inside(value, lo, low_open, hi, high_open):
            good.append(int(value) if isinstance(step, int) else value)
    if not good:
        raise Unsatisfiable(f"no multiple of {step} lies between {lo} and {hi}")
    return lambda rng: pick(rng, good)
