"""Korean-looking values for fields a schema types only as `string`: the field's name and
description (data.go.kr's are Korean: 성명, 주소, 사업자등록번호, 개업일자 …) say what it is.

Seeded `random` and small word lists keep this on the hot path (Faker is far slower)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache, lru_cache
from random import Random

from .draw import between, pick

Make = Callable[[Random], str]

SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구"
GIVEN = "민서준지현우예은하도윤수아연호진영재성승유채원태희경석주혜다나빈율건"
FIRMS = ["한빛", "새롬", "누리", "다온", "미래", "하늘", "바른", "푸른", "세종", "가온", "대한",
         "한결", "이음", "온새미", "참좋은"]
TRADES = ["테크", "소프트", "식품", "건설", "물산", "상사", "에너지", "바이오", "산업", "정보통신"]
REGIONS = [("서울특별시", ["강남구", "종로구", "마포구", "송파구", "서초구", "관악구"]),
           ("부산광역시", ["해운대구", "수영구", "부산진구"]), ("대구광역시", ["수성구", "달서구"]),
           ("인천광역시", ["연수구", "남동구"]), ("광주광역시", ["서구", "북구"]),
           ("대전광역시", ["유성구", "서구"]), ("울산광역시", ["남구"]),
           ("세종특별자치시", ["한누리대로"]), ("경기도", ["수원시 영통구", "성남시 분당구",
                                                   "고양시 일산동구", "부천시"]),
           ("강원특별자치도", ["춘천시", "원주시"]), ("충청북도", ["청주시 상당구"]),
           ("충청남도", ["천안시 동남구"]), ("전북특별자치도", ["전주시 완산구"]),
           ("전라남도", ["목포시", "여수시"]), ("경상북도", ["포항시 남구", "경주시"]),
           ("경상남도", ["창원시 성산구", "김해시"]), ("제주특별자치도", ["제주시", "서귀포시"])]
ROADS = ["테헤란로", "세종대로", "중앙로", "번영로", "시청로", "한빛로", "문화로", "동서대로",
         "해안로", "정부청사로"]
SECTORS = ["서비스업", "제조업", "도매 및 소매업", "건설업", "정보통신업", "음식점업", "부동산업"]
ITEMS = ["소프트웨어 개발 및 공급업", "응용 소프트웨어 개발", "한식 음식점업", "전자상거래업",
         "경영 컨설팅업", "데이터베이스 구축"]
AGENCIES = ["행정안전부", "국세청", "과학기술정보통신부", "보건복지부", "국토교통부", "서울특별시",
            "한국지능정보사회진흥원"]
WORDS = ["공공데이터", "서비스", "정보", "안내", "현황", "자료", "민원", "행정", "지원", "관리"]


def business_number(rng: Random) -> str:
    """A 사업자등록번호: a tax office (101–899), a kind (01–88), a serial and the National
    Tax Service's check digit."""
    head = f"{between(rng, 101, 899)}{between(rng, 1, 88):02d}{between(rng, 0, 9999):04d}"
    return head + str(business_check(head))


def business_check(head: str) -> int:
    """The check digit of the first nine digits of a 사업자등록번호."""
    d = [ord(c) - 48 for c in head]
    total = (d[0] + 3 * d[1] + 7 * d[2] + d[3] + 3 * d[4] + 7 * d[5] + d[6] + 3 * d[7] +
             5 * d[8] + d[8] * 5 // 10)
    return (10 - total % 10) % 10


def is_business_number(text: str) -> bool:
    return bool(re.fullmatch(r"\d{10}", text)) and business_check(text[:9]) == int(text[9])


def corporate_number(rng: Random) -> str:
    """A 법인등록번호: a registry office, a kind (81: a stock company), a serial and the check
    digit (weights 1,2,1,2…)."""
    head = f"{between(rng, 1101, 2899)}81{between(rng, 0, 999999):06d}"
    total = sum((ord(c) - 48) * (1 if i % 2 == 0 else 2) for i, c in enumerate(head))
    return head + str((10 - total % 10) % 10)


def person(rng: Random) -> str:
    return pick(rng, SURNAMES) + pick(rng, GIVEN) + pick(rng, GIVEN)


def company(rng: Random) -> str:
    name = pick(rng, FIRMS) + pick(rng, TRADES)
    return pick(rng, ("(주)" + name, "주식회사 " + name, name))


def address(rng: Random) -> str:
    sido, areas = pick(rng, REGIONS)
    return f"{sido} {pick(rng, areas)} {pick(rng, ROADS)} {between(rng, 1, 300)}"


def phone(rng: Random) -> str:
    return f"010-{between(rng, 2000, 9999)}-{between(rng, 0, 9999):04d}"


@cache
def _days(separator: str) -> tuple[str, ...]:
    """Every day from 2000 to 2025, written once (a draw is then one index)."""
    first, count = date(2000, 1, 1), (date(2026, 1, 1) - date(2000, 1, 1)).days
    return tuple((first + timedelta(days=n)).strftime(f"%Y{separator}%m{separator}%d")
                 for n in range(count))


def ymd(rng: Random) -> str:
    """A day from 2000 to 2025 as YYYYMMDD."""
    return pick(rng, _days(""))


def dashed_date(rng: Random) -> str:
    return pick(rng, _days("-"))


def words(rng: Random) -> str:
    first = int(rng.random() * len(WORDS))
    second = (first + 1 + int(rng.random() * (len(WORDS) - 1))) % len(WORDS)
    return f"{WORDS[first]} {WORDS[second]}"


def _choice(options: list[str]) -> Make:
    return lambda rng: pick(rng, options)


def _const(value: str) -> Make:
    return lambda _rng: value


def _tokens(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if p]
    return {*parts, "".join(parts)}


RULES: list[tuple[tuple[str, ...], tuple[str, ...], Make]] = [
    # (name tokens, description words, maker): the first rule that fits wins
    (("resultcode",), (), _const("00")),
    (("resultmsg",), (), _const("NORMAL SERVICE.")),
    (("bno", "bizno", "brno", "bzno", "bizrno", "bsno"), ("사업자등록번호", "사업자번호"),
     business_number),
    (("corpno", "crno", "jurirno"), ("법인등록번호",), corporate_number),
    (("tel", "telno", "phone", "mobile", "hp", "fax", "phoneno"),
     ("전화", "연락처", "휴대폰", "팩스"), phone),
    (("zip", "zipcode", "zipno", "postcode"), ("우편번호",),
     lambda rng: f"{between(rng, 1000, 63644):05d}"),
    (("yn",), ("여부",), _choice(["Y", "N"])),
    (("email", "mail"), ("이메일", "전자우편"),
     lambda rng: f"user{between(rng, 1, 9999)}@example.kr"),
    (("url", "homepage", "hmpg", "hmpgaddr", "link"), ("홈페이지",),
     lambda rng: f"https://www.example.kr/{between(rng, 1, 999)}"),
    (("addr", "adr", "address", "adres", "juso", "rdnmadr", "lnmadr"),
     ("주소", "소재지"), address),
    (("sector", "bizcnd"), ("업태",), _choice(SECTORS)),
    (("indutyty",), ("종목",), _choice(ITEMS)),
    (("bnm", "company", "corpnm", "entrpsnm", "bsshnm", "cmpnm"),
     ("상호", "업체명", "회사명", "법인명", "기업명"), company),
    (("instt", "insttnm", "org", "orgnm", "agency"), ("기관명",), _choice(AGENCIES)),
    (("sido", "ctprvn", "ctprvnnm", "sidonm"), ("시도",), _choice([r[0] for r in REGIONS])),
    (("sgg", "signgu", "signgunm", "sggnm"), ("시군구",),
     _choice([a for r in REGIONS for a in r[1]])),
    (("lat", "latitude", "ycrd", "ypos"), ("위도",),
     lambda rng: f"{rng.uniform(33.2, 38.5):.6f}"),
    (("lng", "lon", "longitude", "xcrd", "xpos"), ("경도",),
     lambda rng: f"{rng.uniform(126.1, 129.5):.6f}"),
    (("pnm", "name", "nm", "rprsv", "rprsvnm", "ceo", "owner", "username", "fullname"),
     ("성명", "이름", "대표자", "담당자명"), person),
]
HEAD = re.compile(r"[(:<\n,.\-]")
DATE_TOKEN = re.compile(r"(^|_)(dt|de|date|ymd)$")      # start_dt, reg_de, REG_DATE
DATE_CAMEL = re.compile(r"[a-z0-9](Dt|De|Date|Ymd)$")   # startDt, regDate


@lru_cache(maxsize=4096)
def hint(name: str, description: str) -> Make | None:
    """How to make a value for a string field called `name`, or None when nothing fits."""
    text = description or ""
    if "YYYY-MM-DD" in text.upper():
        return dashed_date
    if "YYYYMMDD" in text.upper() or "일자" in HEAD.split(text, 1)[0] or DATE_TOKEN.search((name or "").lower()) \
            or DATE_CAMEL.search(name or ""):
        return ymd
    tokens = _tokens(name or "")
    last = re.split(r"[_\W]+", (name or "").lower())[-1] if name else ""
    head = HEAD.split(text, 1)[0]     # "과세유형메세지" of "과세유형메세지(명칭):<br/>01: …"
    for names, descriptions, make in RULES:
        if tokens & set(names) or last in names or any(w in head for w in descriptions):
            return make
    return None
