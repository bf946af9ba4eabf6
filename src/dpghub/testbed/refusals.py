"""The sandbox's refusals: one table of faults (status, stable code, data.go.kr result code,
message), rendered as problem+json or in data.go.kr's envelope as the caller speaks. Refusals
of a request the contract does not allow come from the mock (mock.render_match and
mock.render_violations); these are the sandbox's own: keys, projects, limits, the proxy."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.i18n import translate
from ..web import datagokr


@dataclass(frozen=True)
class Fault:
    status: int
    code: str
    datagokr: datagokr.Result
    message: str


FAULTS = {
    "no_key": Fault(401, "sandbox_key_missing", datagokr.KEY_NOT_REGISTERED,
                    "Send a sandbox key: the X-API-Key header or the serviceKey parameter"),
    "production_key": Fault(403, "production_key_on_sandbox", datagokr.ACCESS_DENIED,
                            "This is an app's production key; the sandbox takes only a "
                            "sandbox project's key (dsk_…)"),
    "bad_key": Fault(401, "sandbox_key_not_registered", datagokr.KEY_NOT_REGISTERED,
                     "This sandbox key is not registered"),
    "revoked": Fault(401, "sandbox_key_revoked", datagokr.KEY_NOT_REGISTERED,
                     "This sandbox key was revoked"),
    "expired": Fault(401, "project_expired", datagokr.DEADLINE_EXPIRED,
                     "This sandbox project has expired; its keys work again when it is "
                     "extended"),
    "no_service": Fault(404, "service_not_found", datagokr.NO_SERVICE,
                        "There is no such service"),
    "no_operation": Fault(404, "operation_not_found", datagokr.NO_SERVICE,
                          "The service's contract has no such path"),
    "method": Fault(405, "method_not_allowed", datagokr.HTTP_ERROR,
                    "The service's contract does not allow this method on this path"),
    "broken": Fault(501, "mock_unavailable", datagokr.HTTP_ERROR,
                    "The mock cannot serve this operation: {reason}"),
    "rate": Fault(429, "rate_limited", datagokr.RATE_LIMIT,
                  "Too many requests per second for this sandbox project"),
    "quota": Fault(429, "daily_quota_exceeded", datagokr.DAILY_LIMIT,
                   "The daily quota of this sandbox project is used up"),
    "limits_unavailable": Fault(503, "limits_unavailable", datagokr.HTTP_ERROR,
                                "Rate limits cannot be checked right now; try again"),
    "too_large": Fault(413, "request_too_large", datagokr.HTTP_ERROR,
                       "The request body is larger than the sandbox accepts"),
    "upstream": Fault(502, "dev_server_unreachable", datagokr.HTTP_ERROR,
                      "The project's server for this service did not answer: {reason}"),
    "address_refused": Fault(502, "upstream_address_refused", datagokr.HTTP_ERROR,
                             "The project's server is at an address the hub may not reach"),
    "timeout": Fault(504, "dev_server_timeout", datagokr.SERVICE_TIMEOUT,
                     "The project's server did not answer in time"),
}


def render(fault: Fault, style: str, lang: str, request_id: str, path: str,
            values: dict[str, str]) -> tuple[bytes, str]:
    if style == "datagokr-json":
        return datagokr.json_answer(fault.datagokr).encode(), datagokr.JSON_MEDIA
    if style == "datagokr-xml":
        return datagokr.xml_refusal(fault.datagokr).encode(), datagokr.XML_MEDIA
    message = translate(fault.message, lang).format(**values) if values else \
        translate(fault.message, lang)
    problem = {"type": f"urn:dpghub:problem:{fault.code}", "status": fault.status,
               "title": message, "detail": message, "code": fault.code, "instance": path,
               "request_id": request_id}
    return json.dumps(problem, ensure_ascii=False).encode(), "application/problem+json"
