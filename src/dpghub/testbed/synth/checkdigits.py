"""Check digits of Korean identifiers, so fake ones are well-formed (and tests can verify).

- 사업자등록번호 (10 digits): weights 1,3,7,1,3,7,1,3,5 on the first nine; the ninth digit
  times 5 adds its tens too; the check is (10 − sum mod 10) mod 10.
- 주민등록번호 (13 digits, the scheme before October 2020): weights 2..9,2..5 on the first
  twelve; the check is (11 − sum mod 11) mod 10.
"""

from __future__ import annotations

BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def _digits(value: str) -> list[int]:
    return [int(c) for c in value if c.isdigit()]


def brn_check_digit(first_nine: str) -> int:
    d = _digits(first_nine)
    total = sum(a * b for a, b in zip(d, BRN_WEIGHTS, strict=True)) + (d[8] * 5) // 10
    return (10 - total % 10) % 10


def rrn_check_digit(first_twelve: str) -> int:
    d = _digits(first_twelve)
    total = sum(a * b for a, b in zip(d, RRN_WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def valid_brn(value: str) -> bool:
    d = "".join(str(x) for x in _digits(value))
    return len(d) == 10 and brn_check_digit(d[:9]) == int(d[9])


def valid_rrn(value: str) -> bool:
    d = "".join(str(x) for x in _digits(value))
    return len(d) == 13 and rrn_check_digit(d[:12]) == int(d[12])
