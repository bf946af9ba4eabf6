"""Gateway input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from ..core.types import IsoDateTime, Schema
from .models import Plan, SubscriptionStatus

AppName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")]


class AppCreate(Schema):
    name: AppName = Field(examples=["우리동네 충전소 찾기"])
    description: str = Field(default="", max_length=2000)


class KeyCreate(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=50)] = "secondary"
    expires_at: IsoDateTime | None = Field(default=None, description="UTC; none: no expiry")


class KeyRead(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class KeyCreated(KeyRead):
    key: str = Field(description="The key itself: shown this once, store it now")


class AppRead(Schema):
    id: int
    org: str
    name: str
    description: str
    keys: list[KeyRead]
    created_at: datetime


class AppCreated(AppRead):
    key: str = Field(description="The first API key: shown this once, store it now")


class SubscriptionCreate(Schema):
    service: Ref | None = Field(default=None, examples=["nts/nts-businessman"],
                                description='"org/slug" of a service')
    dataset: Ref | None = Field(default=None, description='"org/name" of a dataset')
    plan: Plan = Plan.development
    purpose: str = Field(min_length=1, max_length=2000,
                         examples=["사업자 상태 확인 기능 개발"])

    @model_validator(mode="after")
    def _one_target(self) -> SubscriptionCreate:
        if (self.service is None) == (self.dataset is None):
            raise ValueError("give either service or dataset")
        return self


class Decision(Schema):
    reason: str = Field(default="", max_length=2000)
    rate_per_second: float | None = Field(default=None, gt=0, le=10_000)
    daily_quota: int | None = Field(default=None, gt=0, le=1_000_000_000)
    expires_at: IsoDateTime | None = None


class SubscriptionRead(Schema):
    id: int
    app_id: int
    app: str
    consumer_org: str
    service: str | None
    dataset: str | None
    plan: Plan
    purpose: str
    status: SubscriptionStatus
    reason: str
    rate_per_second: float
    daily_quota: int
    expires_at: datetime | None
    decided_at: datetime | None
    created_at: datetime


class DiscoveredService(Schema):
    org: str
    slug: str
    title_ko: str
    title_en: str
    access: str
    gateway_url: str = Field(examples=["http://127.0.0.1:8000/gw/nts/nts-businessman"])
    openapi_url: str


class AllowedService(Schema):
    org: str
    slug: str
    title_ko: str
    gateway_url: str
    subscription_id: int
    plan: Plan
    rate_per_second: float
    daily_quota: int
    expires_at: datetime | None


class UsageDay(Schema):
    day: str = Field(examples=["2026-11-26"], description="Asia/Seoul date")
    calls: int
    errors: int


class Usage(Schema):
    calls: int
    errors: int = Field(description="Calls that were refused, failed upstream or timed out")
    p50_ms: float | None = Field(description="Median latency of successful calls")
    p95_ms: float | None
    days: list[UsageDay]
    quota: int | None
    used_today: int


class TokenIssued(Schema):
    """The token endpoint's answer (RFC 6749 §5.1)."""

    access_token: str = Field(examples=["eyJ…"], description="A JWT signed with the hub's "
                              "Ed25519 key (EdDSA); check it with /.well-known/jwks.json")
    token_type: Literal["Bearer"]
    expires_in: int = Field(examples=[600], description="Seconds the token stays valid")


class TokenError(Schema):
    """The token endpoint's refusal as RFC 6749 §5.2 shapes it, not problem+json: OAuth
    client libraries look for `error` in a plain JSON object."""

    error: str = Field(examples=["invalid_client"], description="RFC 6749's code: "
                       "`unsupported_grant_type` (400) or `invalid_client` (401)")
    error_description: str = Field(examples=["client authentication failed"])
