"""AI-support programme input and output: consulting and education sessions, public lead cases
(공공 선도 적용) and the programme's figures. (Applications, reviews and selection are the
`programmes` calls of programme `ai_support`; progress reports are their agreements'.)"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator

from ..core.types import IsoDate, JsonBool, Schema, Slug

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str) -> str:
    # PostgreSQL keeps no NUL in text: refused here, naming the field, instead of a 500 there
    if CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


Printable = AfterValidator(_printable)
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                  Printable]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                  Printable]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000), Printable]
ServiceRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Printable]
SessionKindName = Literal["consulting", "education"]
LeadCaseStatusName = Literal["planned", "in_progress", "completed", "stopped"]


def _link(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(
            c.isspace() for c in value):
        raise ValueError("a link is an http:// or https:// address")
    return value


Link = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
                 Printable, AfterValidator(_link)]


class OrgRef(Schema):
    slug: str
    name_ko: str
    name_en: str


# --- consulting and education sessions ----------------------------------------------------


class SupportSessionCreate(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "education", "title": "초거대 AI 프롬프트 설계 실습",
        "topics": ["프롬프트 설계", "RAG"], "held_on": "2026-05-12", "hours": 3.5,
        "orgs": ["alpha", "beta"], "attendees": 14,
        "materials": ["https://hub.example.kr/files/prompt-101.pdf"],
        "notes": "실습 환경은 허브 샌드박스"}]})

    kind: SessionKindName = Field(examples=["consulting"],
                                  description="`consulting` (one company's questions) or "
                                  "`education` (a course, often for several)")
    title: Title = Field(examples=["RAG 구성 컨설팅"])
    topics: list[Topic] = Field(default_factory=list, max_length=20,
                                examples=[["RAG", "평가"]])
    held_on: IsoDate = Field(examples=["2026-05-12"], description="The day, in Korea")
    hours: float = Field(gt=0, le=1000, allow_inf_nan=False, examples=[2.5],
                         description="How long it took (kept to two decimals)")
    orgs: list[Slug] = Field(min_length=1, max_length=200, examples=[["alpha"]],
                             description="The organizations (supported companies) that "
                             "attended, by slug")
    attendees: int = Field(default=0, ge=0, le=100_000, examples=[3],
                           description="How many people came")
    materials: list[Link] = Field(default_factory=list, max_length=20, examples=[[
        "https://hub.example.kr/files/rag-checklist.pdf"]], description="Links (http or https)")
    notes: Text = Field(default="", examples=["벡터 검색 인덱스 재구성 권고"])


class SupportSessionRead(Schema):
    id: int
    kind: SessionKindName
    title: str
    topics: list[str]
    held_on: date
    hours: float
    orgs: list[OrgRef]
    attendees: int
    materials: list[str]
    notes: str
    created_by: int | None
    created_at: datetime


# --- public lead cases --------------------------------------------------------------------


class LeadCaseCreate(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "agency": "mois", "supplier": "alpha", "title": "민원 안내 AI 상담원",
        "service": "alpha/minwon-bot", "description": "정부24 민원 안내에 초거대 AI 적용",
        "status": "in_progress", "outcome": "", "public": True}]})

    agency: Slug = Field(examples=["mois"], description="The public agency that applies it")
    supplier: Slug = Field(examples=["alpha"], description="The company that supplies it")
    title: Title = Field(examples=["민원 안내 AI 상담원"], description="The AI service")
    service: ServiceRef | None = Field(default=None, examples=["alpha/minwon-bot"], description=(
        "The service registered in the hub's catalogue, as org/slug (optional)"))
    description: Text = Field(default="", examples=["정부24 민원 안내에 초거대 AI 적용"])
    status: LeadCaseStatusName = Field(default="planned", examples=["in_progress"])
    outcome: Text = Field(default="", examples=["상담 대기 시간 40% 단축"])
    public: JsonBool = Field(default=False, description="Shown to everyone on the programme "
                             "page when true")


class LeadCaseUpdate(Schema):
    """Only the fields given change; `service: null` unlinks the registered service, any
    other field given as null is refused."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "completed", "outcome": "상담 대기 시간 40% 단축", "public": True}]})

    agency: Slug | None = Field(default=None, examples=["mois"])
    supplier: Slug | None = Field(default=None, examples=["alpha"])
    title: Title | None = Field(default=None, examples=["민원 안내 AI 상담원"])
    service: ServiceRef | None = Field(default=None, examples=["alpha/minwon-bot"])
    description: Text | None = None
    status: LeadCaseStatusName | None = Field(default=None, examples=["completed"])
    outcome: Text | None = Field(default=None, examples=["상담 대기 시간 40% 단축"])
    public: JsonBool | None = None

    @field_validator("agency", "supplier", "title", "description", "status", "outcome",
                     "public", mode="before")
    @classmethod
    def _given_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value


class LeadCaseRead(Schema):
    id: int
    agency: OrgRef
    supplier: OrgRef
    title: str
    service: str | None = Field(description="The registered service, as org/slug")
    description: str
    status: LeadCaseStatusName
    outcome: str
    public: bool
    created_at: datetime
    updated_at: datetime


# --- the programme's figures --------------------------------------------------------------


class CallRef(Schema):
    id: int
    title: str


class SupportedCompany(Schema):
    org: OrgRef
    calls: list[CallRef] = Field(description="The `ai_support` calls it was selected in")
    granted_tokens: int | None = Field(description="Credit granted, every month together "
                                       "(operators and support staff; null for others)")
    spent_tokens: int | None = Field(description="Tokens its calls used (as granted_tokens)")
    sessions: int | None = Field(description="Sessions it attended (as granted_tokens)")


class MonthFigures(Schema):
    month: str = Field(examples=["2026-05"], description="Asia/Seoul")
    granted_tokens: int
    spent_tokens: int
    sessions: int
    hours: float


class ProgrammeRead(Schema):
    as_of: datetime
    companies: int = Field(description="Organizations selected in `ai_support` calls")
    granted_tokens: int = Field(description="Credit granted to them, every month together")
    spent_tokens: int = Field(description="Tokens their calls used, every month together")
    sessions: int
    consulting: int
    education: int
    hours: float
    attendees: int
    lead_cases: dict[str, int] = Field(description="Lead cases by status (the public ones; "
                                       "every one for operators and support staff)")
    months: list[MonthFigures]
    supported: list[SupportedCompany]
