"""Server-rendered pages: one Jinja2 environment, one `render()` used by every domain.

Templates auto-escape. Each page gets the translation function `_`, the language, the actor,
a CSRF token for its forms, and a one-time flash message. Times are shown in Asia/Seoul.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.background import BackgroundTask

from ..core.i18n import translate
from ..core.security import same, sign
from . import csrf
from .context import LANG_COOKIE, language, wake_jobs

TEMPLATES = Path(__file__).resolve().parent / "templates"
SEOUL = ZoneInfo("Asia/Seoul")
FLASH_COOKIE = "dpghub_flash"
REVEAL_COOKIE = "dpghub_reveal"  # a secret shown once after a redirect (new token, invite link)


Permission = Callable[[Any, str, Any], bool]


def make_environment(*, can: Permission, anonymous: Any, **globals_: Any) -> Environment:
    """The templates, with the one permission check pages ask (`can(action, resource)` in a
    template) and the actor of a page nobody signed in to, both given by the app from
    identity's policy, and any other globals the app adds (the registry's vocabulary)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["seoul"] = _seoul
    env.globals.update(globals_)
    env.globals["_permission"] = can
    env.globals["_anonymous"] = anonymous
    return env


def _seoul(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return "—"
    local = value.astimezone(SEOUL)
    return local.strftime("%Y-%m-%d %H:%M") if with_time else local.strftime("%Y-%m-%d")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *,
    status: int = 200, headers: dict[str, str] | None = None,
) -> HTMLResponse:
    lang = language(request)
    env: Environment = request.app.state.templates
    actor = getattr(request.state, "actor", None) or env.globals["_anonymous"]
    permission: Permission = env.globals["_permission"]  # type: ignore[assignment]
    values = {
        "request": request,
        "lang": lang,
        "actor": actor,
        "_": lambda msgid, **params: translate(msgid, lang, **params),
        "can": lambda action, resource=None: permission(actor, action, resource),
        "csrf_token": csrf.token_for(request),
        "flash": read_flash(request),
        "reveal": _read_signed(request, REVEAL_COOKIE) or {},
    }
    values.update(context or {})
    # where the language switch returns to: a page that answers GET
    values["path"] = values.get("canonical") or (
        request.url.path if request.method == "GET" else "/")
    html = env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=headers)
    finish(request, response)
    return response


def finish(request: Request, response: Response) -> None:
    """Set the cookies a rendered page needs (new anonymous binding, spent flash)."""
    settings = request.app.state.settings
    new_anon = getattr(request.state, "new_anon_cookie", None)
    if new_anon:
        response.set_cookie(csrf.ANON_COOKIE, new_anon, httponly=True, samesite="lax",
                            secure=settings.secure_cookies, max_age=60 * 60 * 24 * 30)
    for spent in (FLASH_COOKIE, REVEAL_COOKIE):
        if request.cookies.get(spent):
            response.delete_cookie(spent)


def redirect(
    request: Request, url: str, flash: str | None = None, *,
    reveal: dict[str, Any] | None = None, **params: Any,
) -> Response:
    """Post/redirect/get, with an optional one-time message (translated when shown) and an
    optional one-time `reveal` (a secret the next page shows once)."""
    response = RedirectResponse(url, status_code=303)
    secure = request.app.state.settings.secure_cookies
    if flash:
        response.set_cookie(FLASH_COOKIE, _signed(request, [flash, params]), httponly=True,
                            samesite="lax", secure=secure, max_age=60)
    if reveal:
        response.set_cookie(REVEAL_COOKIE, _signed(request, reveal), httponly=True,
                            samesite="strict", secure=secure, max_age=60)
    return response


def _signed(request: Request, value: Any) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).decode()
    return payload + "." + sign(request.app.state.settings.secret, payload)


def _read_signed(request: Request, cookie: str) -> Any:
    raw = request.cookies.get(cookie)
    if not raw or "." not in raw:
        return None
    payload, _, signature = raw.rpartition(".")
    if not same(signature, sign(request.app.state.settings.secret, payload)):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None


def follow_job(request: Request, job: Any) -> Response:
    """After a form starts a job: show the job's page; the workers are woken once the
    request's transaction (which queued the job) has committed."""
    response = redirect(request, f"/jobs/{job.id}")
    response.background = BackgroundTask(wake_jobs, request)
    return response


def read_flash(request: Request) -> str | None:
    value = _read_signed(request, FLASH_COOKIE)
    if not isinstance(value, list) or len(value) != 2:
        return None
    message, params = value
    return translate(message, language(request), **params)


def render_error(
    request: Request, *, status: int, detail: str, code: str,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(request, "core/error.html", {"status": status, "detail": detail,
                                                "code": code}, status=status, headers=headers)


def set_language_cookie(response: Response, lang: str) -> None:
    response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="lax",
                        max_age=60 * 60 * 24 * 365)
