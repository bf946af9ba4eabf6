"""The scan finds each kind where it is, and nothing in look-alikes of personal data."""

from __future__ import annotations

import random
from datetime import date

import duckdb
import pytest
from faker import Faker

from dpghub.core.errors import Invalid
from dpghub.privacy.detect import KINDS, REPORT_THRESHOLD, Finding, scan
from dpghub.privacy.detect import synthetic as syn

ROWS = 300


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20240601)


@pytest.fixture
def fake() -> Faker:
    generator = Faker("ko_KR")
    generator.seed_instance(7)
    return generator


def _scan(columns: dict[str, list], types: dict[str, str] | None = None) -> list[Finding]:
    """Scan a table built from `columns` (name → values), all text unless typed."""
    types = types or {}
    con = duckdb.connect()
    sql_type = {"text": "VARCHAR", "integer": "BIGINT", "date": "DATE", "decimal": "DOUBLE",
                "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"}
    names = list(columns)
    con.execute("CREATE TABLE t (" + ", ".join(
        f'"{n}" {sql_type[types.get(n, "text")]}' for n in names) + ")")
    rows = list(zip(*columns.values(), strict=True))
    if rows:
        con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in names)})", rows)
    return scan(con, "t", [{"name": n, "type": types.get(n, "text")} for n in names])


def _kinds(findings: list[Finding], column: str) -> list[str]:
    return [f.kind for f in findings if f.column == column]


def test_each_kind_is_found_in_its_column(rng: random.Random, fake: Faker) -> None:
    columns = {
        "주민등록번호": [syn.registration(rng, syn.birth(rng), hyphen=i % 3 > 0) for i in range(ROWS)],
        "외국인등록번호": [syn.registration(rng, syn.birth(rng), foreign=True) for _ in range(ROWS)],
        "휴대폰": [syn.mobile(rng) for _ in range(ROWS)],
        "전화번호": [syn.landline(rng) for _ in range(ROWS)],
        "이메일": [fake.email() for _ in range(ROWS)],
        "여권번호": [syn.passport(rng) for _ in range(ROWS)],
        "운전면허번호": [syn.driver_license(rng) for _ in range(ROWS)],
        "사업자등록번호": [syn.brn(rng) for _ in range(ROWS)],
        "법인등록번호": [syn.crn(rng) for _ in range(ROWS)],
        "카드번호": [syn.card(rng) for _ in range(ROWS)],
        "계좌번호": [syn.account(rng) for _ in range(ROWS)],
        "접속IP": [fake.ipv4() if i % 2 else fake.ipv6() for i in range(ROWS)],
        "성명": [fake.name() for _ in range(ROWS)],
        "주소": [syn.address(rng) for _ in range(ROWS)],
        "생년월일": [syn.birth(rng).strftime("%Y%m%d") for _ in range(ROWS)],
    }
    expected = {"주민등록번호": "rrn", "외국인등록번호": "frn", "휴대폰": "mobile",
                "전화번호": "landline", "이메일": "email", "여권번호": "passport",
                "운전면허번호": "driver_license", "사업자등록번호": "brn", "법인등록번호": "crn",
                "카드번호": "card", "계좌번호": "account", "접속IP": "ip", "성명": "person_name",
                "주소": "address", "생년월일": "birth_date"}
    findings = _scan(columns)
    assert {column: _kinds(findings, column) for column in expected} == {
        column: [kind] for column, kind in expected.items()}
    for finding in findings:
        assert finding.matched == finding.total == ROWS, finding
        assert finding.share == 1.0
        assert finding.confidence >= REPORT_THRESHOLD
        assert finding.direct == KINDS[finding.kind].direct


def test_faker_values_are_found_where_faker_gets_them_right(fake: Faker) -> None:
    findings = _scan({"고객명": [fake.name() for _ in range(ROWS)],
                      "메일": [fake.free_email() for _ in range(ROWS)],
                      "연락처": [fake.phone_number() for _ in range(ROWS)]})
    by_column = {(f.column, f.kind): f for f in findings}
    assert by_column[("고객명", "person_name")].share == 1.0
    assert by_column[("메일", "email")].share == 1.0
    phones = [f for f in findings if f.column == "연락처"]
    assert phones and sum(f.matched for f in phones) >= ROWS * 0.95


def test_rrns_from_october_2020_need_no_check_digit(rng: random.Random) -> None:
    late = [syn.registration(rng, syn.birth(rng, start=date(2020, 10, 1))) for _ in range(ROWS)]
    [finding] = _scan({"주민번호": late})
    assert (finding.kind, finding.share) == ("rrn", 1.0)


def test_an_rrn_with_a_wrong_check_digit_or_date_is_not_an_rrn(rng: random.Random) -> None:
    good = [syn.registration(rng, syn.birth(rng, end=date(2019, 12, 31))) for _ in range(ROWS)]
    wrong_check = [v[:-1] + str((int(v[-1]) + 1) % 10) for v in good]
    wrong_date = ["901301-1234567", "900230-1234567", "000229-3000000", "991231-3000000"]
    findings = _scan({"a": wrong_check, "b": (wrong_date * ROWS)[:ROWS]})
    assert [f for f in findings if f.kind in ("rrn", "frn")] == []


def test_look_alikes_are_not_reported(rng: random.Random) -> None:
    columns = {
        "상품코드": [f"PRD-{rng.randrange(2015, 2025)}-{rng.randrange(10**6):06d}" for _ in range(ROWS)],
        "모델번호": [f"{rng.choice('MSROD')}{rng.randrange(10**8):08d}" for _ in range(ROWS)],
        "바코드": [f"880{rng.randrange(10**10):010d}" for _ in range(ROWS)],
        "주문번호": [f"2024{rng.randrange(10**12):012d}" for _ in range(ROWS)],
        "법정동코드": [f"11{rng.randrange(100, 999)}{rng.randrange(101, 140)}00" for _ in range(ROWS)],
        "접수일": [syn.birth(rng, start=date(2015, 1, 1)) for _ in range(ROWS)],
        "조회수": [rng.randrange(10**9, 10**11) for _ in range(ROWS)],
        "시군구명": [rng.choice(("강동구", "강남구", "이천시", "정선군", "박물관", "김해시", "이용자"))
                 for _ in range(ROWS)],
        "text_codes": [str(rng.randrange(10**12, 10**13)) for _ in range(ROWS)],
    }
    assert _scan(columns, {"접수일": "date", "조회수": "integer"}) == []


def test_numbers_glued_to_korean_particles_are_found_and_glued_to_digits_are_not() -> None:
    texts = ["연락처는 010-1234-5678입니다", "010-2345-6789로 연락", "900101-1234568로 확인",
             "메일은 hong@example.com으로", "02-471-0044에 문의", "901010-1234560을 적음"]
    glued = ["1010-1234-56789", "9900101-12345681", "주문 1234567890123456789012"]
    findings = _scan({"메모": texts * 10, "번호들": glued * 20})
    assert set(_kinds(findings, "메모")) == {"mobile", "rrn", "email", "landline"}
    assert _kinds(findings, "번호들") == []


def test_free_text_holds_several_kinds(rng: random.Random, fake: Faker) -> None:
    notes = [f"고객 요청: {syn.mobile(rng, 0)} 또는 {fake.free_email()}로 연락, 배송지 변경"
             for _ in range(ROWS)]
    notes += ["특이사항 없음"] * ROWS
    findings = _scan({"비고": notes})
    assert sorted(_kinds(findings, "비고")) == ["email", "mobile"]
    assert all(f.share == 0.5 for f in findings)


def test_nulls_and_blanks_are_not_counted(rng: random.Random) -> None:
    values = [syn.mobile(rng, 0) if i % 2 else None for i in range(ROWS)]
    values[0::4] = [""] * len(values[0::4])
    [finding] = _scan({"휴대폰": values})
    assert finding.total == finding.matched == ROWS // 2


def test_empty_tables_and_all_null_columns_have_no_findings() -> None:
    assert _scan({"주민번호": [], "연락처": []}) == []
    assert _scan({"주민번호": [None] * 10, "생일": [None] * 10}, {"생일": "date"}) == []


def test_numbers_stored_as_integers(rng: random.Random) -> None:
    rrns = [int(syn.registration(rng, syn.birth(rng), hyphen=False)) for _ in range(ROWS)]
    phones = [int(syn.mobile(rng, 1)) for _ in range(ROWS)]
    findings = _scan({"jumin": rrns, "phone": phones, "views": phones},
                     {"jumin": "integer", "phone": "integer", "views": "integer"})
    assert _kinds(findings, "jumin") == ["rrn"]
    assert _kinds(findings, "phone") == ["mobile"]
    assert _kinds(findings, "views") == []


def test_birth_dates_need_a_birth_column_name(rng: random.Random) -> None:
    days = [syn.birth(rng) for _ in range(ROWS)]
    findings = _scan({"생년월일": days, "접수일": days, "dob": [d.isoformat() for d in days]},
                     {"생년월일": "date", "접수일": "date"})
    assert [(f.column, f.kind) for f in findings] == [("생년월일", "birth_date"),
                                                      ("dob", "birth_date")]


def test_names_need_a_name_column_or_a_column_of_nothing_but_names(fake: Faker) -> None:
    names = [fake.name() for _ in range(ROWS)]
    findings = _scan({"col_a": names, "이름": names[:30] + ["주식회사 라온"] * (ROWS - 30)})
    assert _kinds(findings, "col_a") == ["person_name"]
    assert _kinds(findings, "이름") == []


def test_landline_is_direct_only_for_a_persons_phone(rng: random.Random) -> None:
    phones = [syn.landline(rng) for _ in range(ROWS)]
    findings = _scan({"도서관전화번호": phones, "고객 자택전화": phones})
    assert [(f.column, f.direct) for f in findings] == [("도서관전화번호", False),
                                                        ("고객 자택전화", True)]


def test_one_column_and_two_hundred_columns(rng: random.Random) -> None:
    [single] = _scan({"x": [syn.card(rng) for _ in range(50)]})
    assert single.kind == "card"
    wide = {f"c{i:03d}": [str(rng.randrange(1000)) for _ in range(50)] for i in range(199)}
    wide["연락처"] = [syn.mobile(rng, 0) for _ in range(50)]
    findings = _scan(wide)
    assert [(f.column, f.kind) for f in findings] == [("연락처", "mobile")]


def test_examples_are_masked(rng: random.Random) -> None:
    findings = _scan({"주민번호": ["900101-1234568"] * 5, "휴대폰": ["010-1234-5678"] * 5})
    assert [f.example for f in findings] == ["900101-1******", "010-****-5678"]


def test_an_unknown_column_type_is_refused() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR)")
    with pytest.raises(Invalid) as raised:
        scan(con, "t", [{"name": "a", "type": "blob"}])
    assert raised.value.code == "privacy_unknown_type"
