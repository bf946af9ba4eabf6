"""Masked examples: enough of a value to recognise its kind, not enough to use it."""

from __future__ import annotations

import re


def _star_digits(text: str) -> str:
    return re.sub(r"[0-9]", "*", text)


def _registration(value: str) -> str:            # 900101-1******
    return value[:8] + _star_digits(value[8:]) if "-" in value[:7] else value[:7] + _star_digits(value[7:])


def _phone(value: str) -> str:                   # 010-****-5678
    groups = re.split(r"([- .)]+)", value)
    digits = [i for i, part in enumerate(groups) if part.isdigit()]
    if len(digits) >= 3:
        middle = digits[-2]
        groups[middle] = "*" * len(groups[middle])
        return "".join(groups)
    return value[:-8] + "****" + value[-4:] if len(value) > 8 else "*" * len(value)


def _email(value: str) -> str:                   # h***@example.com
    local, _, domain = value.partition("@")
    return local[:1] + "***@" + domain


def _name(value: str) -> str:                    # 김*수, 남궁*수, 이*
    if len(value) <= 2:
        return value[:1] + "*"
    head = 2 if len(value) == 4 else 1
    return value[:head] + "*" * (len(value) - head - 1) + value[-1]


def _card(value: str) -> str:                    # 4111-****-****-1111
    positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    hidden = set(positions[4:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _ip(value: str) -> str:                      # 192.168.*.*, 2001:db8:*
    if ":" in value:
        return ":".join(value.split(":")[:2]) + ":*"
    return ".".join(value.split(".")[:2]) + ".*.*"


def _address(value: str) -> str:                 # 서울특별시 강동구 성안로 ***-*
    return _star_digits(value)


def _birth(value: str) -> str:                   # 1990-**-**, 90****
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    keep = set(digits[:4] if len(digits) >= 7 else digits[:2])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(value))


def _tail(value: str, shown: int) -> str:        # ***-**-**1234
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    keep = set(digits[-shown:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(value))


def _head(value: str, shown: int) -> str:        # 11-12-******-**, M12*****
    kept = 0
    out = []
    for ch in value:
        if ch.isalnum() and kept >= shown:
            out.append("*")
        else:
            kept += ch.isalnum()
            out.append(ch)
    return "".join(out)


_MASKS = {
    "rrn": _registration, "frn": _registration, "mobile": _phone, "landline": _phone,
    "email": _email, "person_name": _name, "card": _card, "ip": _ip, "address": _address,
    "birth_date": _birth, "account": lambda v: _tail(v, 4), "brn": lambda v: _head(v, 5),
    "crn": lambda v: _head(v, 6), "passport": lambda v: _head(v, 3),
    "driver_license": lambda v: _head(v, 4),
}


def mask(kind: str, value: str) -> str:
    """The value with its identifying part starred; unknown kinds keep only the first character."""
    masker = _MASKS.get(kind)
    if masker is None:
        return value[:1] + "*" * (len(value) - 1)
    return masker(value)
