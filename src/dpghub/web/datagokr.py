"""data.go.kr's conventions, for every front that speaks them (the gateway, the lake's
`/openapi/…`): the `serviceKey` as clients send it.
"""

from __future__ import annotations

from urllib.parse import unquote


def service_key(value: str) -> str:
    """The key in a `serviceKey` parameter (already %-decoded once, as every query is): a
    key encoded twice, as many data.go.kr clients send it, is still recognised."""
    key = value.strip()
    for _ in range(2):
        if "%" in key:
            key = unquote(key)
    return key
