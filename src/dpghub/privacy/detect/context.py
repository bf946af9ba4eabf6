"""Column-name hints: a name can say what a column holds (연락처, 주민번호) or what it is not
(상품코드, 주문번호, 조회수).

Names are compared lower-cased with spaces, underscores, hyphens and dots removed, so
`Customer_Name`, `customer name` and `customername` read alike.
"""

from __future__ import annotations

import re

# Words that name the kind a column holds. English words shorter than four letters (ip, tel,
# hp) are matched as whole tokens of the original name, so `zip` or `ship` is not an IP.
HINTS: dict[str, tuple[str, ...]] = {
    "rrn": ("주민등록", "주민번호", "주민no", "jumin", "residentregistration", "rrn", "ssn"),
    "frn": ("외국인등록", "외국인번호", "alienregistration", "foreigner", "frn", "주민등록",
            "주민번호"),
    "mobile": ("휴대폰", "휴대전화", "핸드폰", "휴대번호", "연락처", "전화", "mobile", "cellphone",
               "phone", "contact", "tel", "hp"),
    "landline": ("전화", "연락처", "팩스", "phone", "contact", "fax", "tel"),
    "email": ("이메일", "메일", "email", "mail"),
    "passport": ("여권", "passport"),
    "driver_license": ("면허", "driverlicen", "driverslicen", "licence", "license"),
    "brn": ("사업자", "businessregistration", "bizno", "brn"),
    "crn": ("법인등록", "법인번호", "corporateregistration", "crn"),
    "card": ("카드", "card"),
    "account": ("계좌", "예금", "입금", "account", "acct", "bankno"),
    "ip": ("아이피", "ip주소", "ipaddr", "ipv4", "ipv6", "ip"),
    "person_name": ("성명", "이름", "성함", "고객명", "회원명", "환자명", "가입자명", "예금주",
                    "신청인", "신청자", "대표자", "수령인", "받는분", "보내는분", "작성자명",
                    "담당자", "보호자", "name", "fullname"),
    "address": ("주소", "소재지", "거주지", "도로명", "지번", "address", "addr", "residence"),
    "birth_date": ("생년월일", "생일", "출생", "생년", "birth", "dob"),
}

# Words saying a column is about things, not people.
NEGATIVE = ("코드", "code", "바코드", "barcode", "상품", "제품", "품목", "품번", "product", "item",
            "goods", "sku", "수량", "qty", "quantity", "count", "cnt", "건수", "횟수", "조회수",
            "주문번호", "주문no", "orderno", "ordernumber", "orderid", "송장", "invoice",
            "일련번호", "serial", "모델", "model", "버전", "version", "좌표", "위도", "경도")

# Words saying the row is about a person: they override NEGATIVE (주문자연락처 is personal) and
# make a landline a person's phone.
PERSON_WORDS = ("고객", "회원", "환자", "주문자", "구매자", "수령인", "수취인", "가입자", "신청인",
                "신청자", "보호자", "개인", "자택", "집전화", "본인", "customer", "buyer",
                "patient", "member", "person", "personal", "home", "user", "resident")

_SHORT = 4


def _normalise(name: str) -> str:
    return re.sub(r"[\s_.\-]+", "", name.lower())


def _tokens(name: str) -> set[str]:
    """ASCII words of the name, split at case changes, digits, Hangul and punctuation."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return {token.lower() for token in re.findall(r"[A-Za-z]+", spaced)}


def _found(name: str, words: tuple[str, ...]) -> list[str]:
    flat, tokens = _normalise(name), _tokens(name)
    return [word for word in words
            if ((word in tokens) if (word.isascii() and len(word) < _SHORT) else (word in flat))]


def is_person(name: str) -> bool:
    """The column name speaks of a person (customer, patient, home…)."""
    return bool(_found(name, PERSON_WORDS))


def _is_thing(name: str, hints: list[str]) -> bool:
    """A thing word outside the hint words found (`account` holds `count`, not a count)."""
    rest = _normalise(name)
    for hint in hints:
        rest = rest.replace(hint, " ")
    return bool(_found(rest, NEGATIVE)) and not is_person(name)


def context(name: str, kind: str) -> int:
    """+1 when the name says the column holds `kind`, -1 when it says the column is about
    things (a code, a count, an order), 0 otherwise. A person word, or a Korean hint, beats a
    thing word (주문자연락처 is personal; product_name is not)."""
    hints = _found(name, HINTS[kind])
    if not _is_thing(name, hints):
        return 1 if hints else 0
    return 1 if any(not hint.isascii() for hint in hints) else -1
