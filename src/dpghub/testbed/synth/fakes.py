"""Well-formed fake identifiers that are no real row's value.

Faker (ko_KR) gives realistic pieces — surnames and given names, road names, phrases — in a
small pool; numpy combines and numbers them, which is what makes 100,000 values take a
fraction of a second. Formats follow the real column (hyphens, area codes, the first letter
of a key), and numbers that carry a check digit get a valid one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date

import numpy as np
from faker import Faker

from ...core.errors import Invalid
from .checkdigits import BRN_WEIGHTS, RRN_WEIGHTS
from .kinds import PHONE

AREA = re.compile(r"^(\+82[- ]?)?\(?0\d{1,2}\)?")
BUILDING_NUMBER = re.compile(r" \d+(-\d+)?(?= |$)")
SAFE_DOMAINS = ("example.com", "example.net", "example.org")  # reserved: nobody's mailbox
POOL = 600
ROUNDS = 50


def _faker(seed: int) -> Faker:
    fake = Faker("ko_KR")
    fake.seed_instance(seed)
    return fake


def _digits(rng: np.random.Generator, n: int, width: int, low: int = 0) -> np.ndarray:
    return rng.integers(low, 10, size=(n, width))


def _hyphenated(real: list[str]) -> bool:
    return sum("-" in v for v in real) * 2 >= len(real) if real else True


def _rrn(n: int, rng: np.random.Generator, real: list[str], _f: Faker) -> list[str]:
    start, end = date(1940, 1, 1).toordinal(), date(2019, 12, 31).toordinal()
    born = [date.fromordinal(int(d)) for d in rng.integers(start, end + 1, n)]
    sex = rng.integers(0, 2, n)
    head = np.array([[int(c) for c in b.strftime("%y%m%d")] for b in born]).reshape(n, 6)
    gender = np.array([(1 if b.year < 2000 else 3) + s for b, s in zip(born, sex, strict=True)])
    body = np.column_stack([head, gender, _digits(rng, n, 5)])
    check = (11 - (body @ np.array(RRN_WEIGHTS)) % 11) % 10
    sep = "-" if _hyphenated(real) else ""
    return ["".join(map(str, r[:6])) + sep + "".join(map(str, r[6:])) + str(c)
            for r, c in zip(body, check, strict=True)]


def _brn(n: int, rng: np.random.Generator, real: list[str], _f: Faker) -> list[str]:
    body = np.column_stack([rng.integers(1, 10, n), _digits(rng, n, 2),
                            _digits(rng, n, 2), _digits(rng, n, 4)])
    check = (10 - (body @ np.array(BRN_WEIGHTS) + (body[:, 8] * 5) // 10) % 10) % 10
    sep = "-" if _hyphenated(real) else ""
    return [f"{''.join(map(str, r[:3]))}{sep}{''.join(map(str, r[3:5]))}{sep}"
            f"{''.join(map(str, r[5:]))}{c}" for r, c in zip(body, check, strict=True)]


def _reshape(template: str, keep: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` copies of `template` with every digit and ASCII letter after the first `keep`
    characters drawn anew (the first new digit never 0, so "02-471-0044" stays a Seoul
    number); one numpy array of code points per template, so 100,000 values are cheap."""
    chars = np.array([ord(c) for c in template], dtype=np.uint32)
    grid = np.tile(chars, (n, 1))
    digits = [i for i in range(keep, len(template)) if template[i].isdigit()]
    for j, i in enumerate(digits):
        grid[:, i] = ord("0") + rng.integers(2 if j == 0 else 0, 10, n)
    for i in range(keep, len(template)):
        c = template[i]
        if c.isascii() and c.isalpha():
            grid[:, i] = ord("A" if c.isupper() else "a") + rng.integers(0, 26, n)
    return grid.view(f"<U{len(template)}").ravel() if len(template) else np.full(n, "")


def _templated(n: int, rng: np.random.Generator, templates: list[str],
               keep: Callable[[str], int]) -> list[str]:
    picks = rng.integers(0, len(templates), n)
    out = np.empty(n, dtype=object)
    for t in np.unique(picks):
        at = np.flatnonzero(picks == t)
        out[at] = _reshape(templates[t], keep(templates[t]), len(at), rng)
    return [str(v) for v in out]


def _phone(n: int, rng: np.random.Generator, real: list[str], _f: Faker) -> list[str]:
    templates = [v for v in real if PHONE.match(v)] or ["010-0000-0000"]

    def area(value: str) -> int:
        found = AREA.match(value)
        return found.end() if found else 0
    return _templated(n, rng, templates, area)


def _key(n: int, rng: np.random.Generator, real: list[str], _f: Faker) -> list[str]:
    return _templated(n, rng, real or ["A0000000"], lambda value: 1 if len(value) > 4 else 0)


def _name(n: int, rng: np.random.Generator, _real: list[str], f: Faker) -> list[str]:
    last = [f.last_name() for _ in range(POOL)]
    first = [f.first_name() for _ in range(POOL)]
    a, b = rng.integers(0, POOL, n), rng.integers(0, POOL, n)
    return [last[i] + first[j] for i, j in zip(a, b, strict=True)]


def _email(n: int, rng: np.random.Generator, _real: list[str], f: Faker) -> list[str]:
    users = [f.user_name() for _ in range(POOL)]
    a, num = rng.integers(0, POOL, n), rng.integers(0, 1000, n)
    dom = rng.integers(0, len(SAFE_DOMAINS), n)
    return [f"{users[i]}{k}@{SAFE_DOMAINS[d]}" for i, k, d in zip(a, num, dom, strict=True)]


def _url(n: int, rng: np.random.Generator, _real: list[str], f: Faker) -> list[str]:
    words = [f.user_name() for _ in range(POOL)]
    a, num = rng.integers(0, POOL, n), rng.integers(0, 100, n)
    return [f"https://www.{words[i]}{k}.example.org" for i, k in zip(a, num, strict=True)]


def _address(n: int, rng: np.random.Generator, _real: list[str], f: Faker) -> list[str]:
    pool = [f.road_address() for _ in range(POOL)]
    picks, numbers = rng.integers(0, POOL, n), rng.integers(1, 1000, n)
    return [BUILDING_NUMBER.sub(f" {k}", pool[p], count=1)
            for p, k in zip(picks, numbers, strict=True)]


def _suffixes(real: list[str]) -> tuple[list[str], np.ndarray] | None:
    """The endings most values share ("도서관", "충전소"), if they are a pattern at all."""
    for size in (3, 2):
        counts = Counter(v[-size:] for v in real if len(v) > size)
        top = counts.most_common(20)
        covered = sum(c for _, c in top)
        if real and covered >= 0.4 * len(real):
            weights = np.array([c for _, c in top], dtype=float)
            return [s for s, _ in top], weights / weights.sum()
    return None


def _text(n: int, rng: np.random.Generator, real: list[str], f: Faker) -> list[str]:
    lengths = np.array([len(v) for v in real] or [10])
    if lengths.mean() <= 40 and (ends := _suffixes(real)):
        stems = [f.street_name() for _ in range(POOL)] + [f.first_name() for _ in range(POOL)]
        picks = rng.integers(0, len(stems), n)
        chosen = rng.choice(len(ends[0]), size=n, p=ends[1])
        return [stems[p] + ends[0][s] for p, s in zip(picks, chosen, strict=True)]
    phrases = [f.catch_phrase() for _ in range(POOL)] + [f.bs() for _ in range(POOL)]
    target = rng.choice(lengths, size=n)
    out = []
    for size in target:
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < size:
            words.append(phrases[int(rng.integers(0, len(phrases)))])
        out.append(" ".join(words)[: max(int(size), 1)].strip() or phrases[0])
    return out


MAKERS: dict[str, Callable[[int, np.random.Generator, list[str], Faker], list[str]]] = {
    "rrn": _rrn, "brn": _brn, "phone": _phone, "key": _key, "name": _name,
    "email": _email, "url": _url, "address": _address, "text": _text,
}


def fake_values(kind: str, n: int, real: list[str], real_set: set[str], seed: int) -> list[str]:
    """`n` fake values of `kind`, none of them in `real_set`; `real` (a sample) shows the
    format. Values that collide with a real one are drawn again."""
    make = MAKERS[kind]
    rng, f = np.random.default_rng(seed), _faker(seed)
    out = make(n, rng, real, f)
    for _ in range(ROUNDS):
        bad = [i for i, v in enumerate(out) if v in real_set]
        if not bad:
            return out
        for i, v in zip(bad, make(len(bad), rng, real, f), strict=True):
            out[i] = v
    raise Invalid("Column values of kind {kind} cannot be replaced by values unlike the real "
                  "ones", code="synthetic_fake_exhausted", kind=kind)
