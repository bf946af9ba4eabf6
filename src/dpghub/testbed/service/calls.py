"""What a sandbox call needs from the database, and what it leaves there: the project a
sandbox key opens (with the services it points at developers' servers), a service's
contract, and the request inspector's entries, written in batches off the call's path."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from ...catalog import service as catalog
from ...core.errors import Forbidden, NotFound, Unauthenticated
from ...core.pagination import check_limit, decode_cursor, encode_cursor
from ...gateway.credentials import SANDBOX_KEY_PREFIX, key_digest
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Project, ProjectResource, SandboxKey, SandboxRequest

EXCERPT = 4096        # characters of a request's or answer's body the inspector keeps


@dataclass(frozen=True)
class KeyGrant:
    """What a sandbox key opens: its project, until when, at what rate, and the services the
    project points at the developer's own servers (service id → URL)."""

    key_id: int
    project_id: int
    revoked: bool
    expires_at: datetime
    rate: float
    quota: int
    upstreams: dict[int, str] = field(default_factory=dict)


def grant_for(session: Session, credential: str) -> KeyGrant | None:
    row = session.execute(
        select(SandboxKey.id, SandboxKey.revoked_at, Project.id, Project.expires_at,
               Project.rate_per_second, Project.daily_quota)
        .join(Project, Project.id == SandboxKey.project_id)
        .where(SandboxKey.digest == key_digest(credential))).first()
    if row is None:
        return None
    key_id, revoked_at, project_id, expires_at, rate, quota = row
    upstreams = {sid: url for sid, url in session.execute(
        select(ProjectResource.service_id, ProjectResource.upstream_url)
        .where(ProjectResource.project_id == project_id,
               ProjectResource.upstream_url.is_not(None)))}
    return KeyGrant(key_id, project_id, revoked_at is not None, expires_at, rate, quota,
                    upstreams)


@dataclass(frozen=True)
class Contract:
    service_id: int
    updated_at: datetime
    document: dict[str, Any]


def contract_of(session: Session, org: str, slug: str) -> Contract | None:
    try:
        service = catalog.get_service(session, org, slug)
    except NotFound:
        return None
    return Contract(service.id, service.updated_at, service.openapi)


def contract_stamp(session: Session, org: str, slug: str) -> datetime | None:
    """When the service last changed (cheap: to know whether a cached mock is current)."""
    try:
        return catalog.get_service(session, org, slug).updated_at
    except NotFound:
        return None


# --- the inspector -------------------------------------------------------------------------


class Inspector:
    """Sandbox calls' entries, kept in memory and written in one insert per batch (a call
    never waits for the database); `flush()` writes what is waiting, and readers call it
    first so a developer sees the call they just made."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._waiting: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()

    def add(self, entry: dict[str, Any]) -> int:
        with self._lock:
            self._waiting.append(entry)
            return len(self._waiting)

    def flush(self) -> int:
        with self._writing:
            with self._lock:
                batch, self._waiting = self._waiting, []
            if not batch:
                return 0
            with self.factory() as session:
                session.execute(insert(SandboxRequest), batch)
                session.commit()
            return len(batch)


def excerpt(body: bytes) -> str:
    return body[:EXCERPT].decode("utf-8", "replace")


def requests_of(session: Session, *, actor: Actor, project: Project, limit: int = 50,
                cursor: str | None = None, status: int | None = None,
                valid: bool | None = None, service: str | None = None,
                method: str | None = None) -> schemas.RequestPage:
    """Newest first; filter by status, contract kept or not, service (org/slug), method."""
    authorize(actor, "testbed.project.read", project)
    check_limit(limit)
    query = select(SandboxRequest).where(SandboxRequest.project_id == project.id)
    after = decode_cursor(cursor)
    if after:
        query = query.where(SandboxRequest.id < int(after[0]))
    if status is not None:
        query = query.where(SandboxRequest.status == status)
    if valid is not None:
        query = query.where(SandboxRequest.valid.is_(valid))
    if service:
        query = query.where(SandboxRequest.service_ref == service)
    if method:
        query = query.where(SandboxRequest.method == method.upper())
    rows = list(session.scalars(query.order_by(SandboxRequest.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return schemas.RequestPage(
        items=[schemas.RequestRead(
            id=r.id, at=r.at, request_id=r.request_id, service=r.service_ref, mode=r.mode,
            method=r.method, path=r.path, operation=r.operation, status=r.status,
            valid=r.valid, violations=r.violations, request_body=r.request_body,
            answer_body=r.answer_body, elapsed_ms=r.elapsed_ms) for r in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None)


# --- a sandbox key on the JSON API ---------------------------------------------------------


def is_sandbox_key(credential: str | None) -> bool:
    return bool(credential) and str(credential).startswith(SANDBOX_KEY_PREFIX)


def actor_for_key(session: Session, credential: str, path: str, now: datetime) -> Actor:
    """A sandbox key on the JSON API: it reads its own project's synthetic data and nothing
    else (`/api/v1/testbed/projects/{id}/…` of its project); anywhere else it is refused by
    name, so it never reads a real dataset through a side door."""
    grant = grant_for(session, credential)
    if grant is None:
        raise Unauthenticated("This sandbox key is not registered",
                              code="sandbox_key_not_registered")
    if grant.revoked:
        raise Unauthenticated("This sandbox key was revoked", code="sandbox_key_revoked")
    if not path.startswith(f"/api/v1/testbed/projects/{grant.project_id}/"):
        raise Forbidden("A sandbox key works only on sandbox endpoints: /sandbox/… and its "
                        "project's synthetic data", code="sandbox_key_outside_sandbox")
    return Actor(via="sandbox", email=f"project:{grant.project_id}",
                 scopes=frozenset({"read"}), sandbox_project=grant.project_id)
