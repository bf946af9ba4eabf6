"""Per-request dependencies that know no domain: database session, settings, language.

`DbSession` commits once when the route returns without error and rolls back otherwise. Who
is calling is identity's business (`identity.dependencies`); `language` reads the actor that
identity's dependency left on the request, if any.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ..config import Settings
from ..core.db import write_kept
from ..core.i18n import pick_language

SESSION_COOKIE = "dpghub_session"      # the web sign-in (identity sets and reads it)
LANG_COOKIE = "dpghub_lang"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its
# thread pool, a hop that costs more than the work.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Making one does no I/O, so it is made on the event loop;
    its commit (or rollback) runs in the thread pool, one hop where a plain generator
    dependency costs two (≈ 0.13 ms each on the reference machine)."""
    factory = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        await _unblocked(_abandon, session, factory)
        raise
    await _unblocked(_finish, session, factory)


async def _unblocked(end: Callable[[Session, Callable[[], Session]], None], session: Session,
                     factory: Callable[[], Session]) -> None:
    """Run a session's end in a thread, as FastAPI ends a plain generator dependency: never
    cancelled half-way (a client that went away still gets its connection returned), and not
    queued behind the thread pool's limit (the threads holding it may be waiting for the
    very connection this end gives back)."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(end, session, factory, limiter=anyio.CapacityLimiter(1))


def _finish(session: Session, factory: Callable[[], Session]) -> None:
    try:
        session.commit()
    except BaseException:
        _abandon(session, factory)
        raise
    session.close()


def _abandon(session: Session, factory: Callable[[], Session]) -> None:
    try:
        session.rollback()
        write_kept(session, factory)
    finally:
        session.close()


# scope="function": the commit happens when the route returns, before the response is built,
# so a failed commit is an error answer and never a success that was not stored.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
HubSettings = Annotated[Settings, Depends(get_settings)]


def language(request: Request) -> str:
    actor = getattr(request.state, "actor", None)
    return pick_language(
        explicit=request.cookies.get(LANG_COOKIE),
        user_setting=getattr(actor, "language", None),
        accept_language=request.headers.get("accept-language"),
        default=request.app.state.settings.default_language,
    )


async def _language(request: Request) -> str:
    return language(request)


Lang = Annotated[str, Depends(_language)]


def wake_jobs(request: Request) -> None:
    """A job was queued and committed: the in-process workers look now, not at their next
    poll (run as a background task, so after the request's commit)."""
    runner = getattr(request.app.state, "job_runner", None)
    if runner is not None:
        runner.wake()
