"""Constrained types shared by every domain's schemas."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    StringConstraints,
)

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(
            "a slug is 2 to 64 lowercase letters, digits and dashes, starting and ending with a "
            "letter or digit"
        )
    return value


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise ValueError("not a valid e-mail address")
    local, _, domain = value.partition("@")
    return f"{local}@{domain.lower()}"


def _written(kind: str, example: str):  # type: ignore[no-untyped-def]
    def check(value: object) -> object:
        # a number is no date: pydantic would read 0 as 1970-01-01 (seconds since the epoch)
        if isinstance(value, (int, float)):
            raise ValueError(f"{kind} is written as text, e.g. {example}, not as a number")
        return value
    return BeforeValidator(check)


IsoDate = Annotated[date, _written("a date", "2026-01-31")]
IsoDateTime = Annotated[datetime, _written("a date and time", "2026-01-31T09:00:00Z")]
# true or false only: pydantic would read 0 and 1 (and "yes") as booleans
JsonBool = Annotated[bool, Strict()]
Slug = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_slug)]
Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Language = Annotated[str, StringConstraints(pattern="^(ko|en)$")]
Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]


class Schema(BaseModel):
    """Base of every pydantic schema: reads ORM objects, refuses unknown fields."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")
