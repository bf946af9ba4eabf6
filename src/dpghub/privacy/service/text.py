"""Personal data in free text, masked before it leaves the hub (the AI gateway's prompts): the
scan's own patterns (detect/patterns.py, RE2 syntax that Python's `re` reads alike) and its
masks (detect/mask.py), for the kinds a prompt most often carries — 주민등록번호 and
외국인등록번호, phone numbers, e-mail addresses, card numbers (with their Luhn check).
Without the column context the scan has, a 13-digit number of the registration shape is masked
whether or not its check digit holds: a prompt is better masked once too often."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..detect.mask import mask
from ..detect.patterns import FAMILIES

KINDS = ("rrn", "phone", "email", "card")


def _luhn(digits: str) -> bool:
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _registration(value: str) -> str | None:
    return "frn" if value.replace("-", "")[6] in "5678" else "rrn"


def _phone(value: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", value)
    if value.startswith("+"):
        digits = "0" + digits[2:].lstrip("0")
    return "mobile" if digits.startswith("01") else "landline"


def _card(value: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", value)
    return "card" if 13 <= len(digits) <= 19 and _luhn(digits) else None


# kind → (the family's compiled pattern, which kind a candidate is, or None to leave it)
_RULES: dict[str, tuple[re.Pattern[str], Callable[[str], str | None]]] = {
    "rrn": (re.compile(FAMILIES["n13"].pattern), _registration),
    "phone": (re.compile(FAMILIES["phone"].pattern), _phone),
    "email": (re.compile(FAMILIES["email"].pattern), lambda value: "email"),
    "card": (re.compile(FAMILIES["card"].pattern), _card),
}


def mask_text(text: str) -> tuple[str, dict[str, int]]:
    """`text` with every identifier of `KINDS` masked, and how many of each were."""
    counts: dict[str, int] = {}
    for pattern, kind_of in _RULES.values():
        text = pattern.sub(lambda match, kind_of=kind_of: _masked(match, kind_of, counts), text)
    return text, counts


def _masked(match: re.Match[str], kind_of: Callable[[str], str | None],
            counts: dict[str, int]) -> str:
    """The match with its identifier (group 1) masked, the boundary characters kept."""
    value = match.group(1)
    kind = kind_of(value)
    if kind is None:
        return match.group(0)
    counts[kind] = counts.get(kind, 0) + 1
    start, end = match.start(1) - match.start(0), match.end(1) - match.start(0)
    return match.group(0)[:start] + mask(kind, value) + match.group(0)[end:]
