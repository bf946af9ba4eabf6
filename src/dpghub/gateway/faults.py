"""The gateway's refusals: one table of faults, and their two renderings — problem+json, or
data.go.kr's envelope with its result code when the caller speaks data.go.kr.

Each fault has its HTTP status, our stable code, data.go.kr's result code and a message
(translated at rendering). A refusal's words here are HTTP's ("the X-API-Key header"): the
service below says the same in the domain's terms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.i18n import translate
from ..web import datagokr


@dataclass(frozen=True)
class Fault:
    status: int
    code: str              # our stable code
    datagokr: datagokr.Result
    message: str


FAULTS = {
    "no_key": Fault(401, "key_missing", datagokr.KEY_NOT_REGISTERED,
                    "Send an API key: the X-API-Key header or the serviceKey parameter"),
    "bad_key": Fault(401, "key_not_registered", datagokr.KEY_NOT_REGISTERED,
                     "This API key is not registered, or was revoked"),
    "sandbox_key": Fault(403, "sandbox_key_on_gateway", datagokr.ACCESS_DENIED,
                         "This is a sandbox key: it works only on /sandbox/…; calls through "
                         "the gateway need an app's key"),
    "personal_token": Fault(401, "personal_token_on_gateway", datagokr.KEY_NOT_REGISTERED,
                            "This is a person's access token (dpg_…); an app's API key or "
                            "OAuth token is needed here"),
    "key_expired": Fault(401, "key_expired", datagokr.DEADLINE_EXPIRED,
                         "This API key or token has expired"),
    "no_service": Fault(404, "service_not_found", datagokr.NO_SERVICE,
                        "There is no such service"),
    "denied": Fault(403, "subscription_required", datagokr.ACCESS_DENIED,
                    "This app has no approved subscription to this service"),
    "sub_expired": Fault(403, "subscription_expired", datagokr.DEADLINE_EXPIRED,
                         "This app's subscription to this service has expired"),
    "quota": Fault(429, "daily_quota_exceeded", datagokr.DAILY_LIMIT,
                   "The daily quota of this subscription is used up"),
    "rate": Fault(429, "rate_limited", datagokr.RATE_LIMIT,
                  "Too many requests per second for this subscription"),
    "limits_unavailable": Fault(503, "limits_unavailable", datagokr.HTTP_ERROR,
                                "Rate limits cannot be checked right now; try again"),
    "too_large": Fault(413, "request_too_large", datagokr.HTTP_ERROR,
                       "The request body is larger than this gateway accepts"),
    "too_many_headers": Fault(431, "request_headers_too_large", datagokr.HTTP_ERROR,
                              "The request's header fields are too many or too large"),
    "upstream": Fault(502, "upstream_unreachable", datagokr.HTTP_ERROR,
                      "The provider's system did not answer"),
    "address_refused": Fault(502, "upstream_address_refused", datagokr.HTTP_ERROR,
                             "The provider's system is at an address this gateway may not "
                             "reach"),
    "circuit_open": Fault(503, "upstream_circuit_open", datagokr.HTTP_ERROR,
                          "The provider's system is failing; calls pause briefly"),
    "timeout": Fault(504, "upstream_timeout", datagokr.SERVICE_TIMEOUT,
                     "The provider's system did not answer in time"),
}


def style_of(params: list[tuple[str, str]]) -> str:
    """How refusals are written: data.go.kr's envelope (XML unless JSON is asked for) when
    the caller speaks data.go.kr (serviceKey, type or _type), else problem+json."""
    names = {k.lower(): v.lower() for k, v in params}
    asked = names.get("type") or names.get("_type")
    if asked == "json":
        return "datagokr-json"
    if asked == "xml" or "servicekey" in names:
        return "datagokr-xml"
    return "problem"


def render(fault: Fault, style: str, lang: str, request_id: str,
           path: str) -> tuple[bytes, str]:
    """(the body, its media type) of a refusal in the caller's style and language."""
    if style == "datagokr-json":
        return datagokr.json_answer(fault.datagokr).encode(), datagokr.JSON_MEDIA
    if style == "datagokr-xml":
        return datagokr.xml_refusal(fault.datagokr).encode(), datagokr.XML_MEDIA
    message = translate(fault.message, lang)
    problem = {"type": f"urn:dpghub:problem:{fault.code}", "status": fault.status,
               "title": message, "detail": message, "code": fault.code, "instance": path,
               "request_id": request_id, "datagokr_code": fault.datagokr[0]}
    return json.dumps(problem, ensure_ascii=False).encode(), "application/problem+json"
