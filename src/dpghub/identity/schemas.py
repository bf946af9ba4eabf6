"""Identity input and output shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..core.types import Email, JsonBool, Language, Name, Password, Schema, ShortName, Slug
from .models import OrgKind, Role, Scope


class OrganizationCreate(Schema):
    slug: Slug = Field(examples=["mois"])
    name_ko: Name = Field(examples=["행정안전부"])
    name_en: Name = Field(examples=["Ministry of the Interior and Safety"])
    kind: OrgKind = Field(examples=["public"])
    description: str = Field(default="", max_length=2000)


class OrganizationUpdate(Schema):
    name_ko: Name | None = None
    name_en: Name | None = None
    description: str | None = Field(default=None, max_length=2000)


class OrganizationRead(Schema):
    slug: str
    name_ko: str
    name_en: str
    kind: OrgKind
    description: str
    verified: bool
    verified_at: datetime | None
    created_at: datetime


class OrganizationPage(Schema):
    items: list[OrganizationRead]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


class SignUp(Schema):
    email: Email = Field(examples=["kim@example.com"])
    display_name: ShortName = Field(examples=["김민지"])
    password: Password
    language: Language = "ko"


class MembershipSummary(Schema):
    org: str
    name_ko: str
    name_en: str
    role: Role


class UserRead(Schema):
    id: int
    email: str
    display_name: str
    language: str
    is_operator: bool
    created_at: datetime
    memberships: list[MembershipSummary] = []


class UserUpdate(Schema):
    display_name: ShortName | None = None
    language: Language | None = None


class PasswordChange(Schema):
    current_password: str
    new_password: Password


class MembershipCreate(Schema):
    email: Email = Field(examples=["lee@example.com"])
    role: Role = Role.member


class MembershipUpdate(Schema):
    role: Role


class MembershipRead(Schema):
    user_id: int
    email: str
    display_name: str
    role: Role
    created_at: datetime


class InvitationRead(Schema):
    id: int
    org: str
    email: str
    role: Role
    expires_at: datetime
    accepted_at: datetime | None


class InvitationCreated(InvitationRead):
    url: str = Field(description="The link to send to the invitee; shown only once")


class TokenCreate(Schema):
    name: ShortName = Field(examples=["my laptop"])
    scopes: list[Scope] = Field(default=[Scope.read], min_length=1, examples=[["read"]])
    expires_in_days: int | None = Field(
        default=90, ge=1, le=3650, description="Days until the token stops working; null: never"
    )


class TokenRead(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class TokenCreated(TokenRead):
    token: str = Field(description="The secret token; shown only this once")


class OrganizationVerify(Schema):
    verified: JsonBool = Field(default=True, description="true to mark verified, false to "
                               "take it back")


class InvitationAccept(Schema):
    token: str = Field(description="The secret from the invitation link")
