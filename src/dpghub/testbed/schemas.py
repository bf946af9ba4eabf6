"""Testbed input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ..core.types import Email, Schema
from ..web.params import MAX_ID
from .models import Stage

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")]
Category = Literal["api", "data", "infrastructure", "ai", "other"]
Priority = Literal["low", "normal", "high"]


class ProjectCreate(Schema):
    name: Name = Field(examples=["사업자 상태 조회 앱"])
    purpose: str = Field(default="", max_length=4000,
                         examples=["국세청 사업자등록 상태조회 API로 거래처 확인 서비스를 만든다"])
    services: list[Ref] = Field(default_factory=list, max_length=50,
                                examples=[["nts/nts-businessman"]],
                                description='"org/slug" of the services it builds on')
    datasets: list[Ref] = Field(default_factory=list, max_length=50,
                                examples=[["mois/libraries"]])
    days: int = Field(default=90, ge=1, le=365, description="Days until the project expires")


class ProjectUpdate(Schema):
    purpose: str | None = Field(default=None, max_length=4000)
    extend_days: int | None = Field(default=None, ge=1, le=365,
                                    description="Move the expiry this many days on")
    rate_per_second: float | None = Field(default=None, gt=0, le=1000)
    daily_quota: int | None = Field(default=None, ge=1, le=10_000_000)


class MemberAdd(Schema):
    email: Email = Field(examples=["dev@startup.kr"])


class MemberRead(Schema):
    user_id: int
    email: str
    display_name: str
    role: str = Field(description="member (of the organization) or collaborator (invited)")
    accepted: bool


class ResourceRead(Schema):
    kind: Literal["service", "dataset"]
    ref: str
    upstream_url: str | None = Field(default=None, description="The developer's own server: "
                                     "sandbox calls are forwarded and checked (proxy mode)")
    mock: str | None = Field(default=None, description="Path of the service's mock")


class ProjectRead(Schema):
    id: int
    org: str
    name: str
    purpose: str
    stage: Stage
    validation_id: int | None
    expires_at: datetime
    expired: bool
    rate_per_second: float
    daily_quota: int
    members: list[MemberRead]
    resources: list[ResourceRead]
    created_at: datetime


class UpstreamSet(Schema):
    upstream_url: str | None = Field(
        default=None, max_length=500, examples=["http://127.0.0.1:9000/api"],
        description="Where the developer's server answers; null turns the mock back on")


class SandboxKeyCreate(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=50)] = "sandbox"


class SandboxKeyRead(Schema):
    id: int
    name: str
    prefix: str
    revoked_at: datetime | None
    created_at: datetime


class SandboxKeyCreated(SandboxKeyRead):
    key: str = Field(description="The sandbox key: shown this once. It works only on "
                     "/sandbox/… and the project's synthetic data, never on /gw/…")


class StageChange(Schema):
    stage: Stage
    validation: int | None = Field(default=None, ge=1, le=MAX_ID,
                                   description="The passing validation report that lets the "
                                   "project be `validated`")


class RequestRead(Schema):
    id: int
    at: datetime
    request_id: str
    service: str
    mode: str
    method: str
    path: str
    operation: str
    status: int
    valid: bool
    violations: list[dict[str, Any]]
    request_body: str
    answer_body: str
    elapsed_ms: float


class RequestPage(Schema):
    items: list[RequestRead]
    next_cursor: str | None


class SyntheticCreate(Schema):
    dataset: Ref = Field(examples=["mois/libraries"])
    rows: int | None = Field(default=None, ge=1, le=5_000_000,
                             description="How many rows (default: as many as the real one)")


class SyntheticRead(Schema):
    id: int
    dataset: str
    table: str = Field(description="Its name in the project's SQL: sandbox.<org>_<dataset>")
    source_version: int | None
    rows: int | None
    state: str
    error: str
    job_id: int | None
    quality: dict[str, Any]
    privacy: dict[str, Any]
    created_at: datetime


class SandboxQuery(Schema):
    sql: str = Field(min_length=1, max_length=100_000,
                     examples=["SELECT count(*) FROM sandbox.mois_libraries"])
    limit: int = Field(default=1000, ge=1, le=100_000)


class ValidationCreate(Schema):
    service: Ref = Field(examples=["nts/nts-businessman"])
    url: str | None = Field(default=None, max_length=500,
                            description="The server to check (default: the project's "
                            "upstream_url for the service, else the service's upstream)")
    max_cases: int = Field(default=20, ge=1, le=200, description="Cases per operation")
    response_time_limit_ms: int = Field(default=2000, ge=50, le=60_000,
                                        description="An answer slower than this fails")
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=5, examples=[{"X-API-Key": "dev-only-key"}],
        description="Sent with every case (the dev server's own test credential; use one "
        "for development only; the run uses it, the hub does not keep it). With them, calls "
        "without credentials are also tried and must be refused")


class FailureRead(Schema):
    operation: str
    check: str
    message: str
    curl: str
    status: int | None
    response_excerpt: str = ""


class ValidationRead(Schema):
    id: int
    project_id: int
    service: str
    url: str
    max_cases: int
    state: str
    passed: bool | None
    error: str
    job_id: int | None
    operations: list[dict[str, Any]] = Field(default_factory=list)
    failures: list[FailureRead] = Field(default_factory=list)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    signature: dict[str, Any] | None = None
    created_at: datetime
    finished_at: datetime | None


class TicketCreate(Schema):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=200)] = Field(
        examples=["사업자 상태조회 목업이 400을 줍니다"])
    question: str = Field(min_length=1, max_length=20_000)
    category: Category = "api"
    priority: Priority = "normal"
    request: int | None = Field(default=None, ge=1, le=MAX_ID,
                                description="An inspector entry to attach")
    link: str = Field(default="", max_length=500)
    consent_to_publish: bool = Field(default=False, description="The answer may become a "
                                     "public FAQ entry (without names)")


class AnswerCreate(Schema):
    body: str = Field(min_length=1, max_length=20_000)
    close: bool = False


class TicketAction(Schema):
    action: Literal["close", "reopen", "assign", "publish"]
    assignee: Email | None = None


class AnswerRead(Schema):
    id: int
    author: str
    body: str
    by_staff: bool
    created_at: datetime


class TicketRead(Schema):
    id: int
    project_id: int
    project: str
    title: str
    question: str
    category: str
    priority: str
    state: str
    asker: str
    assignee: str | None
    request: int | None
    link: str
    consent_to_publish: bool
    published: bool
    answers: list[AnswerRead]
    created_at: datetime
    first_answer_at: datetime | None
    closed_at: datetime | None
    first_answer_minutes: float | None
    resolution_minutes: float | None


class FaqRead(Schema):
    id: int
    title: str
    question: str
    answer: str
    category: str


class SupportStats(Schema):
    tickets: int
    open: int
    answered: int
    closed: int
    median_first_answer_minutes: float | None
    median_resolution_minutes: float | None
