"""The value makers underneath the mock: strings for patterns, Korean-looking strings for
Korean field names, numbers inside their bounds."""

from __future__ import annotations

import re
from datetime import datetime
from random import Random

import pytest

from dpghub.testbed.mock import korean, regex_gen, scalars
from dpghub.testbed.mock.model import Unsatisfiable

PATTERNS = [r"^\d{3}-\d{2}-\d{5}$", r"^[가-힣]{2,4}$", r"^(Y|N)$", r"^[A-Z]{2}\d{4}(-[a-z]+)?$",
            r"^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$", r"^[^0-9\s]+$", r"^\w+@\w+\.kr$", r"[a-f0-9]{8}",
            r"^.{5,}$", r"^(02|0[3-6][1-5])-\d{3,4}-\d{4}$", r"^\\[\]\-]$", r"^a*b+c?$"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_string_made_for_a_pattern_matches_it(pattern: str) -> None:
    rng = Random(pattern)
    for _ in range(50):
        text = regex_gen.matching(pattern, rng)
        assert re.search(pattern, text), text


def test_lengths_are_kept_along_with_the_pattern() -> None:
    rng = Random(1)
    for _ in range(50):
        text = regex_gen.matching(r"^[0-9]+", rng, 10, 12)
        assert re.match(r"[0-9]+", text) and 10 <= len(text) <= 12


@pytest.mark.parametrize(("pattern", "reason"), [
    (r"^(?=.*\d)\w+$", "lookaround"), (r"^(a)\1$", "back-reference"),
    (r"^[a-z", "not a valid regular expression")])
def test_a_pattern_the_mock_cannot_generate_says_why(pattern: str, reason: str) -> None:
    with pytest.raises(Unsatisfiable, match=reason):
        regex_gen.matching(pattern, Random(0))


def test_an_impossible_length_for_a_pattern_says_why() -> None:
    with pytest.raises(Unsatisfiable, match="allowed length"):
        regex_gen.matching(r"^\d{3}$", Random(0), 5)


def test_business_numbers_carry_the_national_tax_services_check_digit() -> None:
    rng = Random(2)
    numbers = [korean.business_number(rng) for _ in range(500)]
    assert all(korean.is_business_number(n) for n in numbers)
    assert korean.is_business_number("2208162517")           # a real one
    assert not korean.is_business_number("2208162518")
    assert len(set(numbers)) > 490


@pytest.mark.parametrize(("name", "description", "check"), [
    ("p_nm", "대표자성명", r"[가-힣]{3}"),
    ("userName", "", r"[가-힣]{3}"),
    ("b_adr", "사업장주소", r"\S+(시|도) .+ \d+"),
    ("rdnmadr", "", r"\S+(시|도) .+ \d+"),
    ("telno", "", r"010-\d{4}-\d{4}"),
    ("contact", "담당자 연락처", r"010-\d{4}-\d{4}"),
    ("start_dt", "", r"\d{8}"), ("regDate", "", r"\d{8}"), ("x", "기준일자", r"\d{8}"),
    ("bizrno", "", r"\d{10}"), ("whatever", "사업자등록번호", r"\d{10}"),
    ("utcc_yn", "", r"[YN]"), ("resultCode", "", r"00"),
    ("hmpg_addr", "", r"https://\S+"), ("email_addr", "", r"user\d+@example\.kr"),
])
def test_korean_field_names_get_korean_looking_values(name: str, description: str,
                                                      check: str) -> None:
    make = korean.hint(name, description)
    assert make is not None
    for seed in range(20):
        assert re.fullmatch(check, make(Random(seed)))


def test_dates_from_names_are_real_days() -> None:
    make = korean.hint("tax_type_change_dt", "")
    assert make is not None
    for seed in range(200):
        datetime.strptime(make(Random(seed)), "%Y%m%d")


@pytest.mark.parametrize(("name", "description"), [
    ("tax_type", "과세유형메세지(명칭):<br/>01:부가가치세 일반과세자, 사업자등록번호입니다"),
    ("code", ""), ("status_code", "API 상태 코드"), ("mode", ""), ("valid_msg", "결과 메세지")])
def test_names_that_say_nothing_korean_get_no_hint(name: str, description: str) -> None:
    assert korean.hint(name, description) is None


@pytest.mark.parametrize("schema", [
    {"type": "integer", "minimum": 5, "maximum": 5},
    {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3},
    {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 2},
    {"type": "integer", "maximum": -50},
    {"type": "integer", "minimum": 1000, "multipleOf": 7},
    {"type": "integer", "format": "int64", "minimum": 2 ** 62},
])
def test_integers_stay_inside_their_bounds(schema: dict[str, object]) -> None:
    make, rng = scalars.integer(schema), Random(3)
    low, low_open, high, high_open = scalars.bounds(schema)
    for _ in range(200):
        value = make(rng)
        assert isinstance(value, int)
        assert low is None or (value > low if low_open else value >= low)
        assert high is None or (value < high if high_open else value <= high)
        assert value % schema.get("multipleOf", 1) == 0   # type: ignore[operator]


def test_decimal_multiples_survive_floating_point_division() -> None:
    make, rng = scalars.number({"type": "number", "multipleOf": 0.01, "minimum": 0}), Random(4)
    for _ in range(200):
        value = make(rng)
        assert (value / 0.01) == int(value / 0.01)


def test_empty_ranges_say_why() -> None:
    with pytest.raises(Unsatisfiable, match="no integer"):
        scalars.integer({"minimum": 3, "maximum": 2})
    with pytest.raises(Unsatisfiable, match="no number"):
        scalars.number({"minimum": 1, "maximum": 1, "exclusiveMaximum": True})
