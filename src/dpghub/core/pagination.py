"""Keyset pagination with opaque cursors: `limit` + `cursor`, stable under inserts."""

from __future__ import annotations

import base64
import json
from typing import Any

from .errors import Invalid

MAX_LIMIT = 1000


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("The cursor is not valid; use the one from the previous page",
                      code="invalid_cursor", field="cursor") from exc
    if not isinstance(values, list):
        raise Invalid("The cursor is not valid; use the one from the previous page",
                      code="invalid_cursor", field="cursor")
    return values


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    if limit < 1 or limit > maximum:
        raise Invalid("limit must be between 1 and {maximum}", code="invalid_limit",
                      field="limit", maximum=maximum)
    return limit
