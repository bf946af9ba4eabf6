"""One error hierarchy. Each error has an HTTP status, a stable machine `code`, and a message
whose English text is also its gettext id, so the caller gets it in Korean or English.

Services raise these; the web layer renders them as problem+json (RFC 9457) or an HTML page.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        /,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        self.message = message or self.title
        if code:
            self.code = code
        self.field = field
        if field is not None:
            params.setdefault("field", field)  # messages may name the field: "{field}: …"
        self.params = params
        self.headers = headers or {}
        super().__init__(self.message.format(**params) if params else self.message)


class Invalid(HubError):
    status = 422
    code = "invalid"
    title = "The input is not valid"


class Unauthenticated(HubError):
    status = 401
    code = "unauthenticated"
    title = "Sign-in or a valid token is required"


class Forbidden(HubError):
    status = 403
    code = "forbidden"
    title = "You are not allowed to do this"


class NotFound(HubError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(HubError):
    status = 409
    code = "conflict"
    title = "This conflicts with what is already stored"


class TooLarge(HubError):
    status = 413
    code = "too_large"
    title = "The request is too large"


class TooManyRequests(HubError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"


class Unavailable(HubError):
    status = 503
    code = "unavailable"
    title = "A service the hub needs is not available"
