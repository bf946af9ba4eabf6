"""Programme input and output shapes. Times are ISO 8601; one written without an offset is
read as Asia/Seoul time (the calls are announced in it) and kept in UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, StringConstraints

from ..core.types import Email, IsoDate, IsoDateTime, Schema, Slug

SEOUL = ZoneInfo("Asia/Seoul")
ProgrammeName = Literal["agile", "ai_support", "testbed", "data_lake"]
Key = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


def _seoul_when_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=SEOUL) if value.tzinfo is None else value


SeoulDateTime = Annotated[IsoDateTime, AfterValidator(_seoul_when_naive)]


class Question(Schema):
    id: Key = Field(examples=["plan"])
    text: Title = Field(examples=["추진 계획 / Delivery plan"])
    required: bool = True


class Criterion(Schema):
    id: Key = Field(examples=["feasibility"])
    name: Title = Field(examples=["실현 가능성 / Feasibility"])
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False, examples=[40],
                          description="Relative weight; the total is on 100 whatever they sum to")
    max_score: float = Field(gt=0, le=1000, allow_inf_nan=False, examples=[10],
                             description="Scores of this criterion run from 0 to this")


class CallCreate(Schema):
    programme: ProgrammeName = Field(examples=["agile"])
    title: Title = Field(examples=["2026 애자일 혁신 서비스 공모"])
    description: Text = ""
    eligibility: Text = Field(default="", examples=["공공기관이 주관하고 기업이 참여하는 컨소시엄"])
    opens_at: SeoulDateTime = Field(examples=["2026-03-02T09:00:00+09:00"])
    closes_at: SeoulDateTime = Field(examples=["2026-03-31T18:00:00+09:00"])
    questions: list[Question] = Field(default_factory=list, max_length=50)
    criteria: list[Criterion] = Field(min_length=1, max_length=30)
    select_count: int = Field(ge=1, le=10000, examples=[7])
    budget_krw: int = Field(ge=0, le=10**13, examples=[400_000_000],
                            description="Budget per selected participant, in KRW")


class CallRead(Schema):
    id: int
    programme: str
    title: str
    description: str
    eligibility: str
    opens_at: datetime
    closes_at: datetime
    state: Literal["upcoming", "open", "closed", "decided"]
    questions: list[Question]
    criteria: list[Criterion]
    select_count: int
    budget_krw: int
    created_at: datetime
    decided_at: datetime | None


class OrgRef(Schema):
    slug: str
    name_ko: str
    name_en: str


class ApplicationCreate(Schema):
    org: Slug = Field(examples=["mois"], description="The lead organization (one's own)")
    title: Title = Field(examples=["민원 챗봇 공동 개발"])
    answers: dict[Key, Text] = Field(default_factory=dict, max_length=50,
                                     examples=[{"plan": "3개월 단위로 배포합니다"}])
    members: list[Slug] = Field(default_factory=list, max_length=20, examples=[["startup-a"]],
                                description="Consortium member organizations (slugs)")


class ApplicationUpdate(Schema):
    title: Title | None = None
    answers: dict[Key, Text] | None = Field(default=None, max_length=50,
                                            description="Replaces the answers given")
    members: list[Slug] | None = Field(default=None, max_length=20,
                                       description="Replaces the consortium")


class ApplicationRead(Schema):
    id: int
    call: int
    call_title: str
    programme: str
    lead: OrgRef
    members: list[OrgRef]
    title: str
    answers: dict[str, str]
    state: Literal["draft", "submitted", "selected", "declined"]
    reason: str | None = Field(description="Why it was selected or not (once decided)")
    agreement: int | None
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None


class ReviewerAssign(Schema):
    email: Email = Field(examples=["reviewer@nia.or.kr"])


class ReviewerRead(Schema):
    user: int
    email: str
    name: str
    conflicts: list[int] = Field(description="Applications of the call this reviewer may not "
                                 "score: they are a member of an applying organization")


class ScoreEntry(Schema):
    score: float = Field(allow_inf_nan=False, examples=[8])
    comment: Text = Field(default="", examples=["명확한 추진 계획"])


class ReviewRead(Schema):
    application: int
    reviewer: int
    scores: dict[str, ScoreEntry]
    total: float = Field(description="Σ weight·score/max ÷ Σ weight × 100")


class RankingRow(Schema):
    rank: int
    application: int
    title: str
    lead: OrgRef
    members: list[OrgRef]
    state: str
    reviews: int = Field(description="Complete reviews (every criterion scored)")
    score: float | None = Field(description="Mean over reviewers of the weighted total, on 100")
    criteria: dict[str, float] = Field(description="Mean score per criterion")


class Ranking(Schema):
    call: int
    select_count: int
    rows: list[RankingRow]


class Decision(Schema):
    application: int = Field(ge=1, examples=[12])
    reason: Reason = Field(examples=["평가 점수 1위, 실현 가능성 우수"])


class SelectionCreate(Schema):
    selected: list[Decision] = Field(max_length=10000)
    declined: list[Decision] = Field(default_factory=list, max_length=10000,
                                     description="Reasons for applications not selected")
    declined_reason: Reason | None = Field(
        default=None, description="The reason told to every submitted application neither "
        "selected nor listed in `declined`", examples=["평가 점수가 선정 기준에 미달했습니다"])
    starts_on: IsoDate = Field(examples=["2026-05-01"], description="The agreements' period")
    ends_on: IsoDate = Field(examples=["2026-12-31"])
    deliverables: list[Title] = Field(default_factory=list, max_length=100,
                                      examples=[["서비스 1차 배포", "사용자 피드백 보고서"]])


class SelectionRead(Schema):
    call: int
    selected: list[int]
    declined: list[int]
    agreements: list[int]


class ReportCreate(Schema):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=20000)] = Field(
        examples=["1차 배포 완료, 사용자 320명"])
    figures: dict[Key, float] = Field(default_factory=dict, max_length=50,
                                      examples=[{"users": 320, "releases": 2}])


class ReportRead(Schema):
    id: int
    text: str
    figures: dict[str, float]
    submitted_by: int | None
    created_at: datetime


class AgreementRead(Schema):
    id: int
    application: int
    call: int
    call_title: str
    programme: str
    lead: OrgRef
    members: list[OrgRef]
    budget_krw: int
    starts_on: date
    ends_on: date
    deliverables: list[str]
    reports: list[ReportRead]
    created_at: datetime


class CallFigures(Schema):
    id: int
    title: str
    state: str
    closes_at: datetime
    applicants: int = Field(description="Applications submitted")
    selected: list[OrgRef] = Field(description="The selected leads (announced results)")
    budget_granted_krw: int
    ranking: list[RankingRow] | None = Field(
        default=None, description="Applicants' names and scores: operators only")


class ProgrammeFigures(Schema):
    programme: str
    calls: int
    open_calls: int
    applicants: int
    selected: int
    budget_granted_krw: int
    call_figures: list[CallFigures]


class MonthlySeries(Schema):
    key: str = Field(examples=["gateway_calls"])
    label: str = Field(description="Its name in the reader's language", examples=["게이트웨이 호출"])
    public: bool = Field(description="Shown to everyone (else to operators only)")
    stock: bool = Field(description="A count at each month's end (else: within the month)")
    values: list[float] = Field(description="One value per month of `months`, in order")
    available: bool = Field(default=True, description=(
        "False while the domain that counts it is not installed (values are then zeros)"))


class HubFigures(Schema):
    months: list[str] = Field(examples=[["2026-05", "2026-06"]],
                              description="Calendar months in Asia/Seoul, oldest first")
    series: list[MonthlySeries]


class Dashboard(Schema):
    as_of: datetime
    programmes: list[ProgrammeFigures]
    hub: HubFigures = Field(description=(
        "The hub's figures per month: the public ones for everyone, the rest for operators"))
