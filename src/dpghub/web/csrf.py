"""CSRF tokens for every HTML form.

A token is an HMAC of the browser's binding cookie: the session cookie when signed in, an
anonymous random cookie otherwise (so the sign-in and sign-up forms are protected too). A
cross-site page can make the browser send the cookie but cannot read it or compute the HMAC.
"""

from __future__ import annotations

import secrets

from fastapi import Request

from ..core.errors import Forbidden
from ..core.security import same, sign
from .context import SAFE_METHODS, SESSION_COOKIE

ANON_COOKIE = "dpghub_anon"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def binding(request: Request) -> str:
    """The cookie value the token is bound to; creates an anonymous one when there is none."""
    value = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
    if value:
        return value
    existing = getattr(request.state, "new_anon_cookie", None)
    if existing:
        return existing
    value = secrets.token_urlsafe(24)
    request.state.new_anon_cookie = value
    return value


def token_for(request: Request, bound_to: str | None = None) -> str:
    secret: bytes = request.app.state.settings.secret
    return sign(secret, "csrf:" + (bound_to or binding(request)))


async def protect(request: Request) -> None:
    """Router dependency: refuse unsafe requests without a matching token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD)
            sent = value if isinstance(value, str) else None
    bound = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
    if not sent or not bound or not same(sent, token_for(request, bound)):
        raise Forbidden("The form has expired or did not come from this site; reload the page "
                        "and try again", code="csrf_failed")
