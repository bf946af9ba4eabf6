"""One error shape: problem+json (RFC 9457) for API callers, an HTML page for browsers.

Every response of this kind carries a stable `code`, a message in the caller's language and,
for bad input, the `field` at fault. Unexpected exceptions become a 500 with a request id and
no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.errors import HubError
from ..core.i18n import translate
from .allow import allowed_methods
from .context import language
from .headers import HEADERS as SECURITY_HEADERS
from .headers import PORTAL_POLICY

log = logging.getLogger("dpghub.web")
PROBLEM = "application/problem+json"
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
TRANSLATED = {0: "Request failed", 404: "Not found", 405: "Method not allowed"}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/openapi", "/gw/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def problem(
    request: Request, *, status: int, code: str, title: str, detail: str,
    field: str | None = None, extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:dpghub:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    if field:
        body["field"] = field
    if extra:
        body.update(extra)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if wants_html(request):
        from .templating import render_error

        return render_error(request, status=status, detail=detail, code=code, headers=headers)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _hub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubError)
    lang = language(request)
    return problem(
        request, status=exc.status, code=exc.code, title=translate(exc.title, lang),
        detail=translate(exc.message, lang, **exc.params), field=exc.field,
        headers=exc.headers or None,
    )


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lang = language(request)
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        errors.append({"field": ".".join(location[1:] if location[:1] in (["query"], ["path"],
                                                                         ["header"]) else location)
                       or "body", "message": error.get("msg", "invalid")})
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    detail = translate("{field}: {message}", lang, field=first["field"], message=first["message"])
    return problem(request, status=422, code="invalid", title=translate(
        "The input is not valid", lang), detail=detail, field=first["field"],
        extra={"errors": errors})


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    lang = language(request)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    title = TRANSLATED.get(exc.status_code, TRANSLATED[0])
    detail = translate(title, lang) if exc.status_code in HTTP_CODES else str(exc.detail)
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:        # every method the path answers, not one route's
        headers = {**(headers or {}),
                   "Allow": ", ".join(allowed_methods(request.app, request.url.path))}
    return problem(request, status=exc.status_code, code=code, title=translate(title, lang),
                   detail=detail, headers=headers)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s (request %s)", request.method, request.url.path,
              getattr(request.state, "request_id", "-"), exc_info=exc)
    lang = language(request)
    # Starlette answers a 500 from its outermost middleware, outside RequestIdMiddleware and
    # SecurityHeaders: this answer carries their headers itself
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    headers["Content-Security-Policy"] = PORTAL_POLICY
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        headers["X-Request-Id"] = request_id
    return problem(request, status=500, code="internal_error",
                   title=translate("Internal error", lang),
                   detail=translate("Something went wrong on the hub; the error was logged with "
                                    "the request id", lang), headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
