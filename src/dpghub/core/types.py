"""Constrained types shared by every domain's schemas."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

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


Slug = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_slug)]
Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Language = Annotated[str, StringConstraints(pattern="^(ko|en)$")]
Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]


class Schema(BaseModel):
    """Base of every pydantic schema: reads ORM objects, refuses unknown fields."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")
