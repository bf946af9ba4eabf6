"""Generalisation: ages and birth years from 주민등록번호 and dates, regions from addresses
and 법정동코드, months, ranges and top/bottom coding."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest
from faker import Faker

from dpghub.core.errors import Invalid

from .conftest import Run

REFERENCE = date(2025, 1, 1)


def rrn(born: date, rng: random.Random) -> str:
    """A 주민등록번호 whose 7th digit says the century and sex, as the real ones do."""
    digit = {18: "90", 19: "12", 20: "34"}[born.year // 100][rng.randrange(2)]
    return f"{born:%y%m%d}-{digit}{rng.randrange(10**6):06d}"


def age_at(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_rrn_to_age_band_and_birth_year_across_centuries(run: Run) -> None:
    fake = Faker("ko_KR")
    Faker.seed(21)
    rng = random.Random(21)
    born = [fake.date_between(date(1930, 1, 1), date(2020, 12, 31)) for _ in range(60)]
    born += [date(1999, 12, 31), date(2000, 1, 1), date(2005, 3, 1), date(1899, 5, 5),
             date(2000, 1, 2)]
    people = [{"rrn": rrn(b, rng), "rrn2": rrn(b, rng).replace("-", "")} for b in born]
    assert any(b.year < 2000 for b in born) and any(b.year >= 2000 for b in born)
    rows, result = run({"rrn": "text", "rrn2": "text"}, people, {
        "rrn": {"action": "generalise", "to": "age_band", "reference_date": "2025-01-01"},
        "rrn2": {"action": "generalise", "to": "birth_year"}})
    bands = []
    for b in born:
        low = age_at(b, REFERENCE) // 10 * 10
        bands.append(f"{low}-{low + 9}")
    assert [r["rrn"] for r in rows] == bands
    assert [r["rrn2"] for r in rows] == [b.year for b in born]
    assert rows[-5:] == [{"rrn": "20-29", "rrn2": 1999}, {"rrn": "20-29", "rrn2": 2000},
                         {"rrn": "10-19", "rrn2": 2005}, {"rrn": "120-129", "rrn2": 1899},
                         {"rrn": "20-29", "rrn2": 2000}]
    assert result.out_columns == [{"name": "rrn", "type": "text"},
                                  {"name": "rrn2", "type": "integer"}]


def test_age_turns_on_the_birthday_and_the_reference_date_defaults_to_today(run: Run) -> None:
    rows, _ = run({"born": "date"}, [{"born": date(2000, 6, 15)}, {"born": date(2030, 1, 1)}],
                  {"born": {"action": "generalise", "to": "age_band", "width": 5}},
                  today=date(2025, 6, 14))
    assert rows == [{"born": "20-24"}, {"born": None}]       # born later than the reference
    rows, _ = run({"born": "date"}, [{"born": date(2000, 6, 15)}],
                  {"born": {"action": "generalise", "to": "age_band", "width": 5}},
                  today=date(2025, 6, 15))
    assert rows == [{"born": "25-29"}]


def test_text_dates_timestamps_and_masked_rrn(run: Run) -> None:
    texts = ["19850704", "850704", "200101", "1985-07-04", "900101-2******", "9001012******",
             "1985.07.04", "언젠가", "19851304"]
    rows, result = run({"t": "text"}, [{"t": t} for t in texts],
                       {"t": {"action": "generalise", "to": "birth_year"}},
                       today=date(2025, 6, 1))
    assert [r["t"] for r in rows] == [1985, 1985, 2020, 1985, 1990, 1990, 1985, None, None]
    assert result.record[0]["emptied"] == 2
    rows, _ = run({"ts": "timestamp"}, [{"ts": datetime(1990, 3, 4, 23, 59)}],
                  {"ts": {"action": "generalise", "to": "birth_year"}})
    assert rows == [{"ts": 1990}]


def test_dates_to_month_and_year(run: Run) -> None:
    rows, result = run(
        {"d": "date", "ts": "timestamp", "t": "text"},
        [{"d": date(2024, 3, 5), "ts": datetime(2023, 12, 31, 23, 0), "t": "2024-02-29 10:00"},
         {"d": None, "ts": None, "t": "20240105"}],
        {"d": {"action": "generalise", "to": "month"},
         "ts": {"action": "generalise", "to": "month"},
         "t": {"action": "generalise", "to": "year"}})
    assert rows == [{"d": "2024-03", "ts": "2023-12", "t": 2024},
                    {"d": None, "ts": None, "t": 2024}]
    assert [c["type"] for c in result.out_columns] == ["text", "text", "integer"]


ADDRESSES = [
    ("서울특별시 종로구 자하문로 12", "서울특별시 종로구", "11110", "서울특별시", "11"),
    ("부산광역시 해운대구 {street} {n}", "부산광역시 해운대구", "26350", "부산광역시", "26"),
    ("경기도 수원시 장안구 {street} {n}", "경기도 수원시 장안구", "41111", "경기도", "41"),
    ("서울 강남구 {street} {n}", "서울특별시 강남구", "11680", "서울특별시", "11"),
    ("1111010100", "서울특별시 종로구", "11110", "서울특별시", "11"),
]


def test_addresses_and_codes_to_sigungu_and_sido(run: Run) -> None:
    fake = Faker("ko_KR")
    Faker.seed(31)
    texts = [a.format(street=fake.street_name(), n=fake.building_number())
             for a, *_ in ADDRESSES] + ["어딘가 먼 곳", None]
    rows, result = run({"addr": "text", "a2": "text", "a3": "text", "a4": "text"},
                       [{"addr": t, "a2": t, "a3": t, "a4": t} for t in texts], {
        "addr": {"action": "generalise", "to": "sigungu"},
        "a2": {"action": "generalise", "to": "sigungu", "output": "code"},
        "a3": {"action": "generalise", "to": "sido"},
        "a4": {"action": "generalise", "to": "sido", "output": "code"}})
    expected = [{"addr": n, "a2": c, "a3": sn, "a4": sc} for _, n, c, sn, sc in ADDRESSES]
    empty = {"addr": None, "a2": None, "a3": None, "a4": None}
    assert rows == [*expected, empty, empty]
    assert result.record[0]["emptied"] == 1 and result.record[0]["nulls"] == 1


def test_regions_are_required_for_region_generalisation(run: Run) -> None:
    with pytest.raises(Invalid) as caught:
        run({"주소": "text"}, [{"주소": "서울특별시 종로구"}],
            {"주소": {"action": "generalise", "to": "sigungu"}}, regions=None)
    assert caught.value.code == "regions_unavailable" and "주소" in str(caught.value)


def test_numbers_to_ranges(run: Run) -> None:
    rows, result = run(
        {"n": "integer", "x": "decimal", "t": "text", "u": "text"},
        [{"n": 34, "x": 2.6, "t": "1,234", "u": "2.5"}, {"n": -3, "x": 0.0, "t": "40", "u": "7"},
         {"n": None, "x": None, "t": None, "u": None}],
        {"n": {"action": "generalise", "to": "range"},
         "x": {"action": "generalise", "to": "range", "width": 2.5},
         "t": {"action": "generalise", "to": "range", "width": 100},
         "u": {"action": "generalise", "to": "range", "width": 5}})
    assert rows == [{"n": "30-39", "x": "[2.5, 5.0)", "t": "1200-1299", "u": "[0.0, 5.0)"},
                    {"n": "-10--1", "x": "[0.0, 2.5)", "t": "0-99", "u": "[5.0, 10.0)"},
                    {"n": None, "x": None, "t": None, "u": None}]
    assert {c["type"] for c in result.out_columns} == {"text"}


def test_range_on_text_that_is_not_numeric_is_refused(run: Run) -> None:
    with pytest.raises(Invalid) as caught:
        run({"소득 구간": "text"}, [{"소득 구간": "100"}, {"소득 구간": "많음"}, {"소득 구간": "적음"}],
            {"소득 구간": {"action": "generalise", "to": "range", "width": 10}})
    assert caught.value.code == "generalisation_type_mismatch"
    assert caught.value.field == "plan.소득 구간.to"
    assert "'소득 구간'" in str(caught.value) and "2 values" in str(caught.value)


def test_top_bottom_coding_clamps_numbers_and_labels_text(run: Run) -> None:
    rows, result = run(
        {"age": "integer", "income": "decimal", "t": "text"},
        [{"age": 15, "income": 12.5, "t": "3"}, {"age": 50, "income": 99.0, "t": "50"},
         {"age": 97, "income": 5000.75, "t": "1,200"}, {"age": None, "income": None, "t": None}],
        {"age": {"action": "generalise", "to": "top_bottom", "low": 20, "high": 90},
         "income": {"action": "generalise", "to": "top_bottom", "high": 1000.5},
         "t": {"action": "generalise", "to": "top_bottom", "low": 10, "high": 100}})
    assert rows == [{"age": 20, "income": 12.5, "t": "<10"}, {"age": 50, "income": 99.0,
                                                             "t": "50"},
                    {"age": 90, "income": 1000.5, "t": ">100"},
                    {"age": None, "income": None, "t": None}]
    assert [c["type"] for c in result.out_columns] == ["integer", "decimal", "text"]
    assert [e["changed"] for e in result.record] == [2, 1, 2]
