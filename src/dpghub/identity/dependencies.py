"""Who is calling, as FastAPI dependencies every domain's routes share.

`ApiActor` accepts `Authorization: Bearer <token>`, or the browser's session cookie for safe
methods (unsafe methods with a cookie would be open to cross-site requests). `ApiActor` must
be identified; `OptionalApiActor` may be anonymous. `PageActor` is the session cookie only.

Credentials other than personal tokens (an app's API key or OAuth token) belong to higher
domains: they register a scheme here at start-up (`register_scheme`, called from
`app.register_hooks`), so identity never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from ..core.errors import Unauthenticated
from ..web.context import SAFE_METHODS, SESSION_COOKIE, DbSession
from . import service
from .models import User
from .policy import ANONYMOUS, Actor


@dataclass(frozen=True)
class Scheme:
    """A kind of credential a higher domain understands: does this text look like one, and
    who is it (the request gives access to app state such as signing keys)."""

    matches: Callable[[str], bool]
    resolve: Callable[[Session, str, Any], Actor]


SCHEMES: list[Scheme] = []


def register_scheme(matches: Callable[[str], bool],
                    resolve: Callable[[Session, str, Any], Actor]) -> None:
    if not any(s.matches is matches and s.resolve is resolve for s in SCHEMES):
        SCHEMES.append(Scheme(matches, resolve))


def actor_for_credential(session: Session, credential: str, request: Any, *,
                         personal: bool = True) -> Actor:
    """A registered scheme's actor when one recognises the credential, else (when `personal`)
    a personal token; a clear refusal when it is none of them, or not valid."""
    for scheme in SCHEMES:
        if scheme.matches(credential):
            return scheme.resolve(session, credential, request)
    if not personal:
        raise Unauthenticated("This API key is not registered, or was revoked",
                              code="key_not_registered")
    return service.actor_from_token(session, credential)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def api_actor(request: Request, session: DbSession) -> Actor:
    """Who calls: an app key, a bearer token, the browser's session (on reads), or nobody.
    Nobody is known without the database, so only a credential costs a thread-pool hop."""
    token = bearer_token(request)
    key = request.headers.get("x-api-key")
    cookie = request.cookies.get(SESSION_COOKIE) if request.method in SAFE_METHODS else None
    if key:      # the header of app keys only
        actor = await run_in_threadpool(actor_for_credential, session, key, request,
                                        personal=False)
    elif token is not None:
        actor = await run_in_threadpool(actor_for_credential, session, token, request)
    elif cookie:
        actor = await run_in_threadpool(service.actor_from_web_session, session, cookie)
    else:
        actor = ANONYMOUS
    request.state.actor = actor
    return actor


def signed_in_api_actor(actor: Annotated[Actor, Depends(api_actor)]) -> Actor:
    """The API caller, who must be identified (401 before any input is validated)."""
    require_user(actor)
    return actor


def page_actor(request: Request, session: DbSession) -> Actor:
    """The person signed in to the browser, or anonymous. On a signed-in GET the page's
    header also shows how many notices are unread: one COUNT, left on the request."""
    actor = service.actor_from_web_session(session, request.cookies.get(SESSION_COOKIE))
    request.state.actor = actor
    if actor.user_id is not None and request.method == "GET":
        request.state.unread_notices = service.unread_count(session, actor=actor)
    return actor


def signed_in_page_actor(request: Request,
                         actor: Annotated[Actor, Depends(page_actor)]) -> Actor:
    """A page for signed-in people: anyone else is sent to sign in, and comes back here."""
    if actor.user_id is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInFirst(target)
    return actor


class SignInFirst(Exception):
    """Raised by `SignedInPageActor`; the app answers with a redirect to the sign-in page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def require_user(actor: Actor) -> None:
    if actor.user_id is None:
        raise Unauthenticated()


async def checked_credentials(actor: Annotated[Actor, Depends(api_actor)]) -> None:
    """On every JSON route, also those anonymous callers may read: a credential that is sent
    must be valid (401 otherwise), so a client with a typo in its token learns it at once
    instead of silently reading as anonymous. The actor is the same one routes depend on
    (FastAPI computes it once per request)."""


OptionalApiActor = Annotated[Actor, Depends(api_actor)]
ApiActor = Annotated[Actor, Depends(signed_in_api_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]
SignedInPageActor = Annotated[Actor, Depends(signed_in_page_actor)]


def current_user(session: Session, actor: Actor) -> User:
    require_user(actor)
    return service.get_user(session, actor.user_id)  # type: ignore[arg-type]
