"""What each column is, for the synthesizer and the reports alike.

- number: integers, decimals, dates, timestamps — modelled by the copula with their own
  (empirical) distribution;
- category: booleans, short texts and codes (법정동코드 "1111010100") — sampled only from
  values that exist, at their frequencies;
- fake: identifiers (names, phone numbers, 주민등록번호, 사업자등록번호, e-mail, addresses,
  web addresses, keys that are unique per row, free text of high cardinality) — replaced by
  well-formed values that are no real row's value; the reports do not score them;
- empty: no value at all — stays empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .columns import is_numeric, is_text

RRN = re.compile(r"^\d{6}-?[1-8]\d{6}$")
BRN = re.compile(r"^\d{3}-?\d{2}-?\d{5}$")
PHONE = re.compile(r"^(\+82[- ]?)?\(?0\d{1,2}\)?[-. ]?\d{3,4}[-. ]?\d{4}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
URL = re.compile(r"^(https?://|www\.)\S+$", re.I)
CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-]*$")
ADDRESS_START = re.compile(
    r"^(서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충청|충북|충남|전라|전북|전남|경상|경북|"
    r"경남|제주)")
PERSON = re.compile(r"^[가-힣]{2,4}$")
SURNAMES = set("김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민"
               "진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예봉")

NAME_HINTS = {
    "rrn": re.compile(r"주민(등록)?번호|rrn|resident", re.I),
    "brn": re.compile(r"사업자(등록)?번호|brn|business.?(reg|no)", re.I),
    "phone": re.compile(r"전화|휴대|핸드폰|연락처|팩스|phone|tel|fax|mobile", re.I),
    "email": re.compile(r"이메일|메일|e-?mail", re.I),
    "address": re.compile(r"^(?!.*(홈페이지|웹|url|homepage|web|ip)).*(주소|address|addr)",
                          re.I),
    "name": re.compile(r"^(성명|이름|성함|대표자(명)?|담당자(명)?|고객명|회원명|환자명|"
                       r"신청인(명)?|name|person)$", re.I),
}
MIN_TEXT_DISTINCT = 20  # fewer distinct values than this stay categories, whatever the ratio


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    kind: str  # "number" | "category" | "fake" | "empty"
    fake: str | None = None  # rrn, brn, phone, email, url, address, name, key, text

    @property
    def scored(self) -> bool:
        """SDMetrics scores the modelled columns; identifiers (its 'pii' and 'id') are not."""
        return self.kind in ("number", "category")

    @property
    def continuous(self) -> bool:
        return self.kind == "number"


def _share(pattern: re.Pattern[str], values: list[str]) -> float:
    return sum(1 for v in values if pattern.match(v)) / len(values) if values else 0.0


def _fake_kind(name: str, values: list[str], distinct: int, valid: int) -> str | None:
    """The identifier a text column holds, or None for a category. Patterns decide where the
    values are unambiguous; a column's name only tips a close call."""
    stripped = [v.strip() for v in values if v and v.strip()]
    if not stripped:
        return None
    ratio = distinct / valid if valid else 0.0
    hint = {kind: bool(rx.search(name)) for kind, rx in NAME_HINTS.items()}
    need = {kind: (0.5 if hint[kind] else 0.9) for kind in hint}
    if _share(RRN, stripped) >= need["rrn"]:
        return "rrn"
    if _share(BRN, stripped) >= need["brn"] and (hint["brn"] or ratio > 0.5):
        return "brn"
    if _share(EMAIL, stripped) >= need["email"]:
        return "email"
    if _share(PHONE, stripped) >= need["phone"] and (hint["phone"] or ratio > 0.2):
        return "phone"
    high = distinct >= MIN_TEXT_DISTINCT and ratio > 0.5
    if hint["name"] or (high and sum(1 for v in stripped if PERSON.match(v) and v[0] in SURNAMES)
                        >= 0.9 * len(stripped)):
        return "name"
    if (hint["address"] and (high or ratio > 0.2)) or (
            high and _share(ADDRESS_START, stripped) >= 0.8
            and sum(1 for v in stripped if any(c.isdigit() for c in v)) >= 0.8 * len(stripped)):
        return "address"
    if _share(URL, stripped) >= 0.9 and high:
        return "url"
    if _share(CODE, stripped) >= 0.99:
        # codes are sampled from values that exist, unless each row has its own (a key)
        return "key" if ratio >= 0.95 and distinct >= MIN_TEXT_DISTINCT else None
    return "text" if high else None


def plan_column(name: str, column: pa.ChunkedArray, sample_size: int = 2000) -> ColumnPlan:
    type_ = column.type
    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
        column = column.cast(type_)
    valid = len(column) - column.null_count
    if valid == 0:
        return ColumnPlan(name, "empty")
    if is_numeric(type_):
        return ColumnPlan(name, "number")
    if not is_text(type_):
        return ColumnPlan(name, "category")  # booleans, binaries, nested: existing values
    distinct = len(pc.unique(column))
    distinct -= 1 if column.null_count else 0
    non_null = column.drop_null()
    take = np.linspace(0, len(non_null) - 1, min(sample_size, len(non_null))).astype(np.int64)
    values = non_null.take(pa.array(take)).to_pylist()
    fake = _fake_kind(name, values, distinct, valid)
    return ColumnPlan(name, "fake", fake) if fake else ColumnPlan(name, "category")


def plan_columns(table: pa.Table) -> list[ColumnPlan]:
    return [plan_column(name, table.column(name)) for name in table.column_names]
