"""Per-request dependencies: database session, acting user, language.

`DbSession` commits once when the route returns without error and rolls back otherwise.
`ApiActor` accepts `Authorization: Bearer <token>`, or the browser's session cookie for safe
methods (unsafe methods with a cookie would be open to cross-site requests).
`ApiActor` must be identified; `OptionalApiActor` may be anonymous. `PageActor` is the
session cookie only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ..config import Settings
from ..core.errors import Unauthenticated
from ..core.i18n import pick_language
from ..identity import service as identity
from ..identity.models import User
from ..identity.policy import ANONYMOUS, Actor

SESSION_COOKIE = "dpghub_session"
LANG_COOKIE = "dpghub_lang"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its
# thread pool, a hop that costs more than the work.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the commit happens when the route returns, before the response is built,
# so a failed commit is an error answer and never a success that was not stored.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
HubSettings = Annotated[Settings, Depends(get_settings)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def api_actor(request: Request, session: DbSession) -> Actor:
    token = bearer_token(request)
    app_key = request.headers.get("x-api-key")
    if app_key or (token is not None and _is_app_credential(token)):
        # an app's key or OAuth token: reads what its approved dataset subscriptions allow
        from ..gateway import service as gateway

        actor = gateway.actor_for_credential(session, app_key or token,
                                             request.app.state.signing_key)
    elif token is not None:
        actor = identity.actor_from_token(session, token)
    elif request.method in SAFE_METHODS:
        actor = identity.actor_from_web_session(session, request.cookies.get(SESSION_COOKIE))
    else:
        actor = ANONYMOUS
    request.state.actor = actor
    return actor


def _is_app_credential(token: str) -> bool:
    from ..gateway import service as gateway

    return gateway.is_app_credential(token)


def signed_in_api_actor(actor: Annotated[Actor, Depends(api_actor)]) -> Actor:
    """The API caller, who must be identified (401 before any input is validated)."""
    require_user(actor)
    return actor


def page_actor(request: Request, session: DbSession) -> Actor:
    actor = identity.actor_from_web_session(session, request.cookies.get(SESSION_COOKIE))
    request.state.actor = actor
    return actor


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


def current_user(session: Session, actor: Actor) -> User:
    require_user(actor)
    return identity.get_user(session, actor.user_id)  # type: ignore[arg-type]


def language(request: Request) -> str:
    actor: Actor = getattr(request.state, "actor", ANONYMOUS)
    return pick_language(
        explicit=request.cookies.get(LANG_COOKIE),
        user_setting=actor.language,
        accept_language=request.headers.get("accept-language"),
        default=request.app.state.settings.default_language,
    )


async def _language(request: Request) -> str:
    return language(request)


Lang = Annotated[str, Depends(_language)]
