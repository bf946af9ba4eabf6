"""The registry of personal-data kinds the scan looks for.

Which kinds are *direct* identifiers (a finding blocks publishing a dataset as open):

- rrn, frn, passport, driver_license: state-issued numbers, one per person — direct.
- mobile: a mobile number belongs to one person in Korea (one subscriber, real-name
  registration) — direct.
- email: nearly always names one person's mailbox — direct (a role address such as
  info@… is a false alarm a reviewer clears, cheaper than the opposite mistake).
- card, account: a payment card or bank account leads to its holder through one request to the
  issuer, and leaking it harms the holder directly — direct.
- landline: most landlines in public data are an office's or an institution's (a library's
  02-…); the kind is therefore not direct, and a finding becomes direct only when its column
  names a person's phone (자택, 집, home, 고객, 회원, 환자, …; see `context.PERSON_WORDS`).
- brn, crn: they identify a company (a sole trader's 사업자등록번호 can point at a person, but
  it is published by the National Tax Service on purpose) — reported, not direct.
- person_name, address, birth_date: quasi-identifiers. A Korean name alone is shared by
  thousands (김민준), a road address by a whole building, a birth date by ~14,000 people a
  day; together they single a person out, which is the combination review's job, not a
  per-column block. Reported, not direct.
- ip: identifies a subscriber line only with the operator's logs — reported, not direct.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    label_ko: str
    label_en: str
    direct: bool


_ALL = (
    Kind("rrn", "주민등록번호", "resident registration number", True),
    Kind("frn", "외국인등록번호", "foreigner registration number", True),
    Kind("mobile", "휴대전화번호", "mobile phone number", True),
    Kind("landline", "유선전화번호", "landline phone number", False),
    Kind("email", "전자우편주소", "e-mail address", True),
    Kind("passport", "여권번호", "passport number", True),
    Kind("driver_license", "운전면허번호", "driver's licence number", True),
    Kind("brn", "사업자등록번호", "business registration number", False),
    Kind("crn", "법인등록번호", "corporate registration number", False),
    Kind("card", "신용카드번호", "payment card number", True),
    Kind("account", "계좌번호", "bank account number", True),
    Kind("ip", "IP 주소", "IP address", False),
    Kind("person_name", "성명", "person's name", False),
    Kind("address", "상세주소", "detailed address", False),
    Kind("birth_date", "생년월일", "date of birth", False),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in _ALL}
