"""How sure a finding is: share of matching values, how many look-alikes failed the kind's
checks, and what the column's name says.

- evidence = valid / shaped: of the values shaped like the kind, the share passing its check
  digit, birth date or prefix. Real numbers pass all; random digits of the same shape pass a
  check digit one time in ten (a barcode column against `rrn`, an RRN column against `crn`),
  so evidence below 0.3 counts as nothing and 0.9 or more as full.
- share = valid / non-null values. Free text holds a phone number in one row of a hundred
  and still holds personal data, so a small share lowers confidence only to 70 %.
- name: a hint for the kind adds 0.3; a column about things (코드, 수량, 주문번호) takes 0.5.
- account and birth_date are digits and dates that many columns hold, so they need the name's
  hint; a person's name needs the hint or a column of nothing but names with the usual share
  of 김/이/박 and few place-like endings (a column of three-syllable words, 강동구 or
  박물관, fails one of the two).
"""

from __future__ import annotations

REPORT_THRESHOLD = 0.5

STRENGTH: dict[str, float] = {
    "rrn": 0.95, "frn": 0.95, "email": 0.95, "card": 0.9, "mobile": 0.9, "crn": 0.85,
    "brn": 0.85, "driver_license": 0.85, "ip": 0.8, "landline": 0.75, "address": 0.7,
    "passport": 0.6, "account": 0.0, "birth_date": 0.0, "person_name": 0.0,
}
WITH_HINT: dict[str, float] = {"account": 0.8, "birth_date": 0.9, "person_name": 0.9}
HINT_BONUS = 0.3
THING_PENALTY = 0.5
NAMES_SHARE = 0.9           # a column of names without a hint: nearly every value a name …
COMMON_SURNAME_SHARE = 0.25  # … and at least this share starting with 김, 이 or 박 …
THING_ENDING_SHARE = 0.1     # … and few ending like a place or a thing (구, 시, 관)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def confidence(kind: str, *, matched: int, shaped: int, total: int, hint: int,
               common_surnames: int = 0, thing_endings: int = 0) -> float:
    if matched == 0 or total == 0:
        return 0.0
    share = matched / total
    evidence = _clamp((matched / max(shaped, matched) - 0.3) / 0.6)
    spread = 0.7 + 0.3 * min(1.0, share / 0.5)
    if kind == "person_name":
        names = hint > 0 or (share >= NAMES_SHARE
                             and common_surnames / matched >= COMMON_SURNAME_SHARE
                             and thing_endings / matched < THING_ENDING_SHARE)
        return round(_clamp(0.9 * min(1.0, share / 0.6)) if names else 0.0, 3)
    if kind in WITH_HINT:
        return round(WITH_HINT[kind] * evidence * spread if hint > 0 else 0.0, 3)
    score = STRENGTH[kind] * evidence * spread
    if hint > 0 and evidence > 0:
        score += HINT_BONUS
    elif hint < 0:
        score -= THING_PENALTY
    return round(_clamp(score), 3)
