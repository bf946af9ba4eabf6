"""How the mock refuses: in data.go.kr's envelope (result code 10,
INVALID_REQUEST_PARAMETER_ERROR) when the document is a data.go.kr one, else RFC 9457
problem+json with every violation listed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from ...web import datagokr
from .model import Match, Violation, phrase

DATAGOKR_HOSTS = ("apis.data.go.kr", "api.odcloud.kr", "odcloud.kr", "data.go.kr")
PROBLEM = "application/problem+json"
STYLES = ("problem", "datagokr-json", "datagokr-xml")
Rendered = tuple[int, str, bytes]


def is_datagokr(document: dict[str, Any]) -> bool:
    """A data.go.kr document: served from its hosts, or keyed by a `serviceKey`."""
    for server in document.get("servers") or []:
        host = urlsplit(str((server or {}).get("url") or "")).hostname or ""
        if any(host == h or host.endswith("." + h) for h in DATAGOKR_HOSTS):
            return True
    schemes = ((document.get("components") or {}).get("securitySchemes") or {}).values()
    if any(str((s or {}).get("name", "")).lower() == "servicekey" for s in schemes):
        return True
    for item in (document.get("paths") or {}).values():
        for op in (item or {}).values():
            params = [*(item.get("parameters") or []),
                      *((op.get("parameters") or []) if isinstance(op, dict) else [])]
            if any(isinstance(p, dict) and str(p.get("name", "")).lower() == "servicekey"
                   for p in params):
                return True
    return False


def fault_style(datagokr_document: bool, query: Sequence[tuple[str, str]],
                default_xml: bool = False) -> str:
    """problem for other documents; for data.go.kr ones JSON or XML as the caller asks
    (`returnType`, `_type` or `type`), else as the document answers by default."""
    if not datagokr_document:
        return "problem"
    for name, value in query:
        if name.lower() in ("returntype", "_type", "type") and value.lower() in ("json", "xml"):
            return f"datagokr-{value.lower()}"
    return "datagokr-xml" if default_xml else "datagokr-json"


def render_violations(violations: Sequence[Violation], style: str, lang: str = "en",
                      status: int = 400) -> Rendered:
    """(status, media type, body) of a refusal listing `violations` (at least one)."""
    if not violations:
        raise ValueError("a refusal lists at least one violation")
    errors = [v.as_dict(lang) for v in violations]
    if style == "datagokr-json":
        answer = json.loads(datagokr.json_answer(datagokr.INVALID_PARAMETER))
        answer["response"]["errors"] = errors
        return status, datagokr.JSON_MEDIA, json.dumps(answer, ensure_ascii=False).encode()
    if style == "datagokr-xml":
        listed = "".join("<error>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in e.items())
                         + "</error>" for e in errors)
        body = datagokr.xml_answer(datagokr.INVALID_PARAMETER).replace(
            "</response>", f"<errors>{listed}</errors></response>")
        return status, datagokr.XML_MEDIA, body.encode()
    first = violations[0]
    title = phrase("title", field=first.field, rule=first.rule).text(lang)
    detail = first.text(lang)
    if len(violations) > 1:
        detail += " " + phrase("more", count=len(violations) - 1).text(lang)
    return status, PROBLEM, _problem(status, "request_invalid", title, detail, errors=errors)


def render_match(match: Match, style: str, lang: str = "en") -> tuple[int, str, bytes,
                                                                     list[tuple[bytes, bytes]]]:
    """(status, media type, body, headers) for a request the mock does not serve: an unknown
    path (404), a method the path does not have (405, with Allow), a broken operation (501)."""
    headers: list[tuple[bytes, bytes]] = []
    if match.kind == "not_allowed":
        headers.append((b"allow", ", ".join(match.allowed).encode()))
        message = phrase("not allowed", allowed=", ".join(match.allowed)).text(lang)
        code, result = "method_not_allowed", datagokr.HTTP_ERROR
    elif match.kind == "broken":   # the reason is the spec's English sentence
        message = phrase("broken", reason=match.reason).text(lang)
        code, result = "mock_operation_broken", datagokr.UNKNOWN
        return (*render_plain(501, code, result, message, style, title=phrase(
            "broken title").text(lang), detail=match.reason), headers)
    else:
        message = phrase("unknown path").text(lang)
        code, result = "mock_path_unknown", datagokr.NO_SERVICE
    return (*render_plain(match.status, code, result, message, style), headers)


def render_plain(status: int, code: str, result: datagokr.Result, message: str,
                 style: str, title: str | None = None, detail: str | None = None) -> Rendered:
    """(status, media type, body) of a refusal with one message (data.go.kr's envelope gets
    it in a `detail` beside its header, which the portal's clients read first)."""
    if style == "datagokr-json":
        answer = json.loads(datagokr.json_answer(result))
        answer["response"]["detail"] = message
        return status, datagokr.JSON_MEDIA, json.dumps(answer, ensure_ascii=False).encode()
    if style == "datagokr-xml":
        body = datagokr.xml_answer(result).replace(
            "</response>", f"<detail>{escape(message)}</detail></response>")
        return status, datagokr.XML_MEDIA, body.encode()
    return status, PROBLEM, _problem(status, code, title or message, detail or message)


def _problem(status: int, code: str, title: str, detail: str, **extra: Any) -> bytes:
    problem = {"type": f"urn:dpghub:problem:{code}", "status": status, "title": title,
               "detail": detail, "code": code, **extra}
    return json.dumps(problem, ensure_ascii=False).encode()
