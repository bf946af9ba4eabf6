"""Well-formed fake Korean identifiers that pass the same checks the scan applies.

Faker's ko_KR `ssn()` writes impossible months (000028-…) and no check digit, so tests,
benchmarks and synthetic data build numbers here. All functions take a `random.Random`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from dpghub.privacy.detect.patterns import BRN_WEIGHTS, CRN_WEIGHTS, RRN_WEIGHTS

RANDOM_TAIL_FROM = date(2020, 10, 1)
MOBILE_PREFIXES = ("010",) * 9 + ("011", "016", "017", "018", "019")
AREA_CODES = ("02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054",
              "055", "061", "062", "063", "064", "070")
REGIONS = ("11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24",
           "25", "26", "28", "서울", "부산", "경기", "대구")
CITIES = (("서울특별시", ("강남구", "종로구", "마포구", "송파구", "노원구")),
          ("부산광역시", ("해운대구", "수영구", "동래구")), ("경기도", ("수원시 팔달구", "성남시 분당구",
                                                               "고양시 일산동구")),
          ("대전광역시", ("유성구", "서구")), ("제주특별자치도", ("제주시", "서귀포시")))
ROADS = ("테헤란로", "세종대로", "올림픽로", "중앙로", "성안로", "해운대로", "아리수로93길", "판교역로",
         "대학로", "은행나무길", "문화로12번길")
LOTS = ("역삼동", "삼성동", "우동", "봉명동", "노형동", "정자동", "신촌리", "종로1가")


def birth(rng: random.Random, start: date = date(1930, 1, 1), end: date | None = None) -> date:
    end = end or date.today()
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _gender_digit(rng: random.Random, born: date, foreign: bool) -> int:
    century = {18: (9, 0), 19: (1, 2), 20: (3, 4)}[born.year // 100]
    digit = rng.choice(century)
    return digit + 4 if foreign and born.year >= 1900 else digit


def _check(digits: str, weights: tuple[int, ...], modulus: int, base: int) -> int:
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=False))
    return (base - total % modulus) % 10


def registration(rng: random.Random, born: date, *, foreign: bool = False,
                 hyphen: bool = True) -> str:
    """A 주민등록번호 (or 외국인등록번호): random last digits when born from October 2020."""
    head = born.strftime("%y%m%d")
    body = f"{_gender_digit(rng, born, foreign)}{rng.randrange(100000):05d}"
    if born >= RANDOM_TAIL_FROM:
        last = rng.randrange(10)
    else:
        last = _check(head + body, RRN_WEIGHTS, 11, 11)
    return f"{head}{'-' if hyphen else ''}{body}{last}"


def crn(rng: random.Random) -> str:
    head = f"{rng.choice(('1101', '1201', '1311', '1345', '2841'))}{rng.choice(('11', '71', '81'))}"
    body = f"{rng.randrange(1000000):06d}"
    return f"{head}-{body}{_check(head + body, CRN_WEIGHTS, 10, 10)}"


def brn(rng: random.Random, hyphen: bool = True) -> str:
    digits = f"{rng.randrange(101, 900)}{rng.randrange(1, 100):02d}{rng.randrange(10000):04d}"
    total = sum(int(d) * w for d, w in zip(digits, BRN_WEIGHTS, strict=True))
    total += int(digits[8]) * 5 // 10
    digits += str((10 - total % 10) % 10)
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}" if hyphen else digits


def _luhn_digit(body: str) -> int:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:   # doubled: these are the even positions once the check is added
            digit = digit * 2 - 9 if digit >= 5 else digit * 2
        total += digit
    return (10 - total % 10) % 10


def card(rng: random.Random, *, separator: str = "-") -> str:
    prefix, length = rng.choice((("4", 16), ("5", 16), ("9", 16), ("35", 16), ("37", 15),
                                 ("62", 16), ("6011", 16)))
    if prefix == "5":
        prefix = f"5{rng.randrange(1, 6)}"
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    number = body + str(_luhn_digit(body))
    if length == 15:
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i:i + 4] for i in range(0, 16, 4)]
    return separator.join(groups)


def mobile(rng: random.Random, style: int | None = None) -> str:
    prefix = rng.choice(MOBILE_PREFIXES)
    middle = f"{rng.randrange(10000):04d}" if prefix == "010" or rng.random() < 0.5 else \
        f"{rng.randrange(100, 1000)}"
    last = f"{rng.randrange(10000):04d}"
    style = rng.randrange(6) if style is None else style
    return (f"{prefix}-{middle}-{last}", f"{prefix}{middle}{last}", f"{prefix}.{middle}.{last}",
            f"{prefix} {middle} {last}", f"+82 {prefix[1:]}-{middle}-{last}",
            f"+82-{prefix[1:]}-{middle}-{last}")[style]


def landline(rng: random.Random) -> str:
    area = rng.choice(AREA_CODES)
    middle = f"{rng.randrange(200, 1000)}" if rng.random() < 0.5 else f"{rng.randrange(2000, 10000)}"
    return f"{area}-{middle}-{rng.randrange(10000):04d}"


def passport(rng: random.Random) -> str:
    letter = rng.choice("MMMMSROD")
    if rng.random() < 0.3:
        return f"M{rng.randrange(1000):03d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randrange(10000):04d}"
    return f"{letter}{rng.randrange(100000000):08d}"


def driver_license(rng: random.Random) -> str:
    return (f"{rng.choice(REGIONS)}-{rng.randrange(100):02d}-{rng.randrange(1000000):06d}-"
            f"{rng.randrange(100):02d}")


def account(rng: random.Random) -> str:
    shape = rng.choice(((3, 2, 6), (3, 6, 2, 3), (6, 2, 6), (4, 3, 6), (3, 3, 6)))
    return "-".join("".join(str(rng.randrange(10)) for _ in range(n)) for n in shape)


def address(rng: random.Random) -> str:
    city, districts = rng.choice(CITIES)
    district = rng.choice(districts)
    if rng.random() < 0.6:
        number = f"{rng.randrange(1, 500)}" + (f"-{rng.randrange(1, 30)}" if rng.random() < 0.3 else "")
        return f"{city} {district} {rng.choice(ROADS)} {number}"
    return f"{city} {district} {rng.choice(LOTS)} {rng.randrange(1, 900)}-{rng.randrange(1, 40)}"
