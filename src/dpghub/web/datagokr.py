"""data.go.kr's conventions, for every front that speaks them (the gateway, the lake's
`/openapi/…`): the result codes, the `serviceKey` as clients send it, and the envelopes.

The national portal answers in two shapes: its gateway refuses a call in an
`OpenAPI_ServiceResponse` (`cmmMsgHeader`, `returnReasonCode`), and a service answers in
`response/header[/body]` with a `resultCode`. Clients written for the portal read both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

Result = tuple[str, str]          # (resultCode, resultMsg)

NORMAL: Result = ("00", "NORMAL SERVICE.")
NO_DATA: Result = ("03", "NODATA_ERROR")
HTTP_ERROR: Result = ("04", "HTTP_ERROR")
SERVICE_TIMEOUT: Result = ("05", "SERVICETIMEOUT_ERROR")
INVALID_PARAMETER: Result = ("10", "INVALID_REQUEST_PARAMETER_ERROR")
NO_SERVICE: Result = ("12", "NO_OPENAPI_SERVICE_ERROR")
ACCESS_DENIED: Result = ("20", "SERVICE_ACCESS_DENIED_ERROR")
DAILY_LIMIT: Result = ("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR")
RATE_LIMIT: Result = ("23", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_PER_SECOND_EXCEEDS_ERROR")
KEY_NOT_REGISTERED: Result = ("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR")
DEADLINE_EXPIRED: Result = ("31", "DEADLINE_HAS_EXPIRED_ERROR")
UNKNOWN: Result = ("99", "UNKNOWN_ERROR")

JSON_MEDIA = "application/json;charset=UTF-8"
XML_MEDIA = "application/xml;charset=UTF-8"


def service_key(value: str) -> str:
    """The key in a `serviceKey` parameter (already %-decoded once, as every query is): a
    key encoded twice, as many data.go.kr clients send it, is still recognised."""
    key = value.strip()
    for _ in range(2):
        if "%" in key:
            key = unquote(key)
    return key


@dataclass(frozen=True)
class Page:
    """One page of a service's answer: its rows and where they lie in the whole."""

    items: list[dict[str, Any]]
    num_of_rows: int
    page_no: int
    total_count: int


def json_answer(result: Result, page: Page | None = None) -> str:
    """`{"response": {"header": …, "body": …}}`; the body only with a page."""
    envelope: dict[str, Any] = {"header": {"resultCode": result[0], "resultMsg": result[1]}}
    if page is not None:
        envelope["body"] = {"items": {"item": page.items}, "numOfRows": page.num_of_rows,
                            "pageNo": page.page_no, "totalCount": page.total_count}
    return json.dumps({"response": envelope}, ensure_ascii=False, default=str)


def xml_answer(result: Result, page: Page | None = None, *,
               item_xml: Callable[[dict[str, Any]], str] | None = None) -> str:
    """`<response><header>…</header><body>…</body></response>`; `item_xml` writes the
    elements inside one row's `<item>`."""
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?><response><header>',
             f"<resultCode>{result[0]}</resultCode><resultMsg>{escape(result[1])}</resultMsg>",
             "</header>"]
    if page is not None:
        assert item_xml is not None
        parts.append("<body><items>")
        parts.extend(f"<item>{item_xml(item)}</item>" for item in page.items)
        parts.append(f"</items><numOfRows>{page.num_of_rows}</numOfRows>"
                     f"<pageNo>{page.page_no}</pageNo>"
                     f"<totalCount>{page.total_count}</totalCount></body>")
    parts.append("</response>")
    return "".join(parts)


def xml_refusal(result: Result) -> str:
    """A call refused before it reached the service, as the portal's gateway writes it."""
    code, name = result
    return ('<?xml version="1.0" encoding="UTF-8"?><OpenAPI_ServiceResponse><cmmMsgHeader>'
            f"<errMsg>SERVICE ERROR</errMsg><returnAuthMsg>{name}</returnAuthMsg>"
            f"<returnReasonCode>{code}</returnReasonCode></cmmMsgHeader>"
            "</OpenAPI_ServiceResponse>")
