"""Tables the synthesizer tests learn from, made here with Faker (ko_KR) and numpy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from faker import Faker

SIDO = ["서울특별시", "부산광역시", "경기도", "강원특별자치도", "제주특별자치도"]


def _brn(rng: np.random.Generator) -> str:
    d = [int(x) for x in rng.integers(0, 10, 9)]
    d[0] = max(d[0], 1)
    total = sum(a * b for a, b in zip(d, (1, 3, 7, 1, 3, 7, 1, 3, 5), strict=True))
    check = (10 - (total + d[8] * 5 // 10) % 10) % 10
    s = "".join(map(str, d)) + str(check)
    return f"{s[:3]}-{s[3:5]}-{s[5:]}"


def people(n: int = 800, seed: int = 1) -> pa.Table:
    """Residents: identifiers, a region with its codes, correlated numbers, nulls."""
    fake, rng = Faker("ko_KR"), np.random.default_rng(seed)
    fake.seed_instance(seed)
    region = rng.choice(len(SIDO), n, p=[0.4, 0.2, 0.25, 0.1, 0.05])
    codes = [f"0{r}{k:03d}" for r, k in zip(region, rng.integers(0, 4, n), strict=True)]
    age = np.clip(rng.normal(45, 14, n), 19, 90).round()
    income = np.round(1500 + 60 * age + 400 * region + rng.normal(0, 400, n), 1)
    income_valid = rng.random(n) > 0.1
    joined = [date(2024, 1, 1) - timedelta(days=int(a * 30 + rng.integers(0, 300)))
              for a in age]
    return pa.table({
        "성명": [fake.name() for _ in range(n)],
        "전화번호": [fake.phone_number() for _ in range(n)],
        "주민등록번호": [fake.ssn() for _ in range(n)],
        "이메일": [fake.email() for _ in range(n)],
        "주소": [fake.address() for _ in range(n)],
        "사업자등록번호": [_brn(rng) for _ in range(n)],
        "시도명": [SIDO[r] for r in region],
        "법정동코드": codes,
        "나이": pa.array(age.astype(np.int64)),
        "소득": pa.array(income, mask=~income_valid),
        "가입일": pa.array(joined, type=pa.date32()),
        "활성": pa.array(rng.random(n) < 0.3 + 0.1 * region),
        "점수": pa.array([Decimal(f"{v:.2f}") for v in rng.uniform(0, 100, n)],
                       type=pa.decimal128(6, 2)),
        "측정시각": pa.array([datetime(2024, 1, 1) + timedelta(minutes=int(m))
                          for m in rng.integers(0, 500_000, n)], type=pa.timestamp("us")),
    })


def correlated(n: int = 2000, seed: int = 2) -> pa.Table:
    """Strong linear and categorical dependence, nothing else."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    group = np.where(x + rng.normal(0, 0.5, n) > 0, "high", "low")
    return pa.table({
        "x": x,
        "y": 2 * x + rng.normal(0, 0.3, n),
        "z": pa.array((-x * 10 + rng.normal(0, 2, n)).round().astype(np.int64)),
        "group": group,
        "kind": [("A" if g == "high" else "B") if rng.random() < 0.9 else "C" for g in group],
    })


@pytest.fixture(scope="module")
def residents() -> pa.Table:
    return people()
