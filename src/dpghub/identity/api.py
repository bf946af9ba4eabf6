"""Identity JSON routes under /api/v1: thin, each calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from ..web.context import DbSession, HubSettings
from ..web.params import MAX_ID, Id
from ..web.problems import responses
from . import schemas, service
from .dependencies import ApiActor, current_user
from .models import Organization

router = APIRouter(prefix="/api/v1", tags=["identity"])


def load_org(slug: str, session: DbSession) -> Organization:
    return service.get_org_by_slug(session, slug)


CurrentOrg = Annotated[Organization, Depends(load_org)]


@router.get("/me", response_model=schemas.UserRead, responses=responses(401))
def me(session: DbSession, actor: ApiActor) -> schemas.UserRead:
    """The signed-in user or the token's owner, with their organizations."""
    return service.user_read(session, current_user(session, actor))


@router.patch("/me", response_model=schemas.UserRead, responses=responses(401, 403, 422))
def update_me(data: schemas.UserUpdate, session: DbSession, actor: ApiActor) -> schemas.UserRead:
    user = service.update_user(session, actor=actor, user=current_user(session, actor), data=data)
    return service.user_read(session, user)


@router.post("/me/password", status_code=204, responses=responses(401, 403, 422))
def change_password(data: schemas.PasswordChange, session: DbSession, actor: ApiActor) -> Response:
    """Change the password; every web sign-in of the account ends."""
    service.change_password(session, actor=actor, user=current_user(session, actor), data=data)
    return Response(status_code=204)


@router.get("/orgs", response_model=schemas.OrganizationPage, responses=responses(422))
def list_orgs(
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
    verified: bool | None = None,
) -> schemas.OrganizationPage:
    """Every organization, by slug; pass `next_cursor` back as `cursor` for the next page."""
    items, next_cursor = service.list_orgs(session, limit=limit, cursor=cursor,
                                           verified=verified)
    return schemas.OrganizationPage(
        items=[schemas.OrganizationRead.model_validate(o) for o in items],
        next_cursor=next_cursor)


@router.post("/orgs", status_code=201, response_model=schemas.OrganizationRead,
             responses=responses(401, 403, 409, 422))
def create_org(
    data: schemas.OrganizationCreate, session: DbSession, actor: ApiActor
) -> schemas.OrganizationRead:
    """Create an organization; the caller becomes its admin. Public agencies start unverified."""
    return schemas.OrganizationRead.model_validate(
        service.create_org(session, actor=actor, data=data))


@router.get("/orgs/{slug}", response_model=schemas.OrganizationRead, responses=responses(404))
def get_org(org: CurrentOrg) -> schemas.OrganizationRead:
    return schemas.OrganizationRead.model_validate(org)


@router.patch("/orgs/{slug}", response_model=schemas.OrganizationRead,
              responses=responses(401, 403, 404, 422))
def update_org(
    data: schemas.OrganizationUpdate, org: CurrentOrg, session: DbSession, actor: ApiActor
) -> schemas.OrganizationRead:
    return schemas.OrganizationRead.model_validate(
        service.update_org(session, actor=actor, org=org, data=data))


@router.post("/orgs/{slug}/verify", response_model=schemas.OrganizationRead,
             responses=responses(401, 403, 404))
def verify_org(
    org: CurrentOrg, session: DbSession, actor: ApiActor,
    body: schemas.OrganizationVerify | None = None,
) -> schemas.OrganizationRead:
    """Operators only: mark an organization (typically a public agency) as verified."""
    verified = body.verified if body else True
    return schemas.OrganizationRead.model_validate(
        service.verify_org(session, actor=actor, org=org, verified=verified))


@router.get("/orgs/{slug}/members", response_model=list[schemas.MembershipRead],
            responses=responses(401, 403, 404))
def list_members(org: CurrentOrg, session: DbSession, actor: ApiActor) -> list[schemas.MembershipRead]:
    return service.membership_reads(service.list_members(session, actor=actor, org=org))


@router.post("/orgs/{slug}/members", status_code=201, response_model=schemas.MembershipRead,
             responses=responses(401, 403, 404, 409, 422))
def add_member(
    data: schemas.MembershipCreate, org: CurrentOrg, session: DbSession, actor: ApiActor
) -> schemas.MembershipRead:
    """Add an existing account as a member. For an address without an account, invite it."""
    membership = service.add_member(session, actor=actor, org=org, data=data)
    return service.membership_reads([membership])[0]


@router.patch("/orgs/{slug}/members/{user_id}", response_model=schemas.MembershipRead,
              responses=responses(401, 403, 404, 409, 422))
def update_member(
    user_id: Id, data: schemas.MembershipUpdate, org: CurrentOrg, session: DbSession,
    actor: ApiActor,
) -> schemas.MembershipRead:
    """Change a member's role. The last admin cannot be demoted."""
    membership = service.update_member(session, actor=actor, org=org, user_id=user_id, data=data)
    return service.membership_reads([membership])[0]


@router.delete("/orgs/{slug}/members/{user_id}", status_code=204,
               responses=responses(401, 403, 404, 409))
def remove_member(user_id: Id, org: CurrentOrg, session: DbSession, actor: ApiActor) -> Response:
    """Remove a member (or leave, when it is yourself). The last admin cannot be removed."""
    service.remove_member(session, actor=actor, org=org, user_id=user_id)
    return Response(status_code=204)


@router.post("/orgs/{slug}/invitations", status_code=201,
             response_model=schemas.InvitationCreated, responses=responses(401, 403, 404, 409, 422))
def invite(
    data: schemas.MembershipCreate, org: CurrentOrg, session: DbSession, actor: ApiActor,
    settings: HubSettings,
) -> schemas.InvitationCreated:
    """Invite an address that has no account; the answer holds the link to send (shown once)."""
    invitation, secret = service.invite(session, actor=actor, org=org, data=data)
    return schemas.InvitationCreated(**service.invitation_read(invitation),
                                     url=f"{settings.base_url.rstrip('/')}/invite/{secret}")


@router.post("/invitations/accept", response_model=schemas.MembershipRead,
             responses=responses(401, 403, 404, 409))
def accept_invitation(body: schemas.InvitationAccept, session: DbSession, actor: ApiActor) -> schemas.MembershipRead:
    membership = service.accept_invitation(session, actor=actor, secret=body.token)
    session.refresh(membership)
    return service.membership_reads([membership])[0]


@router.get("/tokens", response_model=list[schemas.TokenRead], responses=responses(401))
def list_tokens(session: DbSession, actor: ApiActor) -> list[schemas.TokenRead]:
    user = current_user(session, actor)
    return [schemas.TokenRead.model_validate(t)
            for t in service.list_tokens(session, actor=actor, user=user)]


@router.post("/tokens", status_code=201, response_model=schemas.TokenCreated,
             responses=responses(401, 403, 422))
def create_token(data: schemas.TokenCreate, session: DbSession, actor: ApiActor) -> schemas.TokenCreated:
    """Create a personal API token. The `token` value is shown only in this answer."""
    user = current_user(session, actor)
    token, secret = service.create_token(session, actor=actor, user=user, data=data)
    return schemas.TokenCreated(**schemas.TokenRead.model_validate(token).model_dump(),
                                token=secret)


@router.delete("/tokens/{token_id}", response_model=schemas.TokenRead,
               responses=responses(401, 403, 404))
def revoke_token(token_id: Id, session: DbSession, actor: ApiActor) -> schemas.TokenRead:
    """Revoke a token; it stops working on its next use."""
    user = current_user(session, actor)
    return schemas.TokenRead.model_validate(
        service.revoke_token(session, actor=actor, user=user, token_id=token_id))


class PlatformRolesRead(BaseModel):
    id: int
    email: str
    platform_roles: list[str]


@router.post("/users/{user_id}/roles/{role}", response_model=PlatformRolesRead,
             tags=["operator"], responses=responses(401, 403, 404, 422))
def grant_role(user_id: Id, role: str, session: DbSession, actor: ApiActor) -> PlatformRolesRead:
    """Operators only: grant a platform role — `supporter` (the testbed's support desk),
    `key_manager` (linkage salts for combinations) or `reviewer` (export review committees)."""
    return _roles(service.set_platform_role(session, actor=actor,
                                            user=service.get_user(session, user_id),
                                            role=role, granted=True))


@router.delete("/users/{user_id}/roles/{role}", response_model=PlatformRolesRead,
               tags=["operator"], responses=responses(401, 403, 404, 422))
def revoke_role(user_id: Id, role: str, session: DbSession,
                actor: ApiActor) -> PlatformRolesRead:
    """Operators only: take a platform role back."""
    return _roles(service.set_platform_role(session, actor=actor,
                                            user=service.get_user(session, user_id),
                                            role=role, granted=False))


def _roles(user: object) -> PlatformRolesRead:
    return PlatformRolesRead(id=user.id, email=user.email,  # type: ignore[attr-defined]
                             platform_roles=(user.platform_roles or "").split())  # type: ignore


class AuditEventRead(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    target_type: str
    target_id: str
    org_id: int | None
    details: dict
    hash: str


class AuditVerifyRead(BaseModel):
    ok: bool
    events: int
    checkpoints: int
    broken_seq: int | None
    reason: str | None


@router.get("/audit", response_model=list[AuditEventRead], tags=["operator"],
            responses=responses(401, 403, 422))
def audit_log(
    session: DbSession, actor: ApiActor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                        description="Show events older than this seq")] = None,
    action: str | None = None,
) -> list[AuditEventRead]:
    """Operators only: the audit log, newest first."""
    events = service.audit_events(session, actor=actor, limit=limit, before=before, action=action)
    return [AuditEventRead(seq=e.seq, at=e.at.isoformat(), actor=e.actor, action=e.action,
                           target_type=e.target_type, target_id=e.target_id, org_id=e.org_id,
                           details=e.details, hash=e.hash) for e in events]


@router.get("/audit/verify", response_model=AuditVerifyRead, tags=["operator"],
            responses=responses(401, 403))
def audit_verify(session: DbSession, actor: ApiActor, request: Request) -> AuditVerifyRead:
    """Operators only: walk the hash chain and the signed checkpoints."""
    key = request.app.state.signing_key.public_key()
    return AuditVerifyRead(**service.audit_verify(session, actor=actor, trusted_key=key).as_dict())


