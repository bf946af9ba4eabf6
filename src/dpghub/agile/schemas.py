"""Agile input and output shapes. Times are ISO 8601; one written without an offset is read as
Asia/Seoul time (the teams work in it) and kept in UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from ..core.types import IsoDate, IsoDateTime, Schema, Slug

SEOUL = ZoneInfo("Asia/Seoul")
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Version = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ItemStateName = Literal["backlog", "selected", "in_progress", "done"]
ReleaseStatusName = Literal["succeeded", "failed", "rolled_back"]
DeploymentStatusName = Literal["success", "failure", "rolled_back"]
FeedbackKindName = Literal["bug", "idea", "praise", "question"]
FeedbackStatusName = Literal["open", "planned", "started", "completed", "declined",
                             "duplicate"]


def _seoul_when_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=SEOUL) if value.tzinfo is None else value


SeoulDateTime = Annotated[IsoDateTime, AfterValidator(_seoul_when_naive)]


class OrgRef(Schema):
    slug: str
    name_ko: str
    name_en: str


# --- projects ------------------------------------------------------------------------------


class ProjectCreate(Schema):
    org: Slug = Field(examples=["mois"], description="The lead organization")
    name: Title = Field(examples=["민원 안내 챗봇"])
    goal: Text = Field(default="", examples=["민원 처리 시간을 절반으로"])
    members: list[Slug] = Field(default_factory=list, max_length=50,
                                examples=[["alpha", "beta"]],
                                description="The consortium's member organizations")
    service: str | None = Field(default=None, examples=["mois/minwon-guide"],
                                description="The registry service it builds, as org/slug")
    datasets: list[str] = Field(default_factory=list, max_length=50,
                                examples=[["mois/minwon-stats"]],
                                description="Datasets it uses, as org/slug")
    testbed_project: int | None = Field(default=None, ge=1,
                                        description="Its sandbox project in the testbed")
    agreement: int | None = Field(default=None, ge=1, description=(
        "The agreement of an `agile` programme selection `org` won as lead: the members "
        "and period come from it when not given, and given ones must keep within it"))
    starts_on: IsoDate | None = Field(default=None, examples=["2026-05-01"])
    ends_on: IsoDate | None = Field(default=None, examples=["2026-12-31"])


class AlertSettings(Schema):
    error_rate: float | None = Field(gt=0, le=1, examples=[0.05], description=(
        "Open an incident when more than this share of the service's calls over 5 minutes "
        "fail (upstream errors, timeouts, 5xx); null: never"))
    min_calls: int = Field(default=20, ge=1, le=1_000_000, description=(
        "Only with at least this many calls in those 5 minutes"))


class ProjectRead(Schema):
    id: int
    name: str
    goal: str
    lead: OrgRef
    members: list[OrgRef]
    service: str | None
    datasets: list[str]
    testbed_project: int | None
    agreement: int | None
    starts_on: date
    ends_on: date
    alert: AlertSettings = Field(description="When the gateway opens an incident")
    created_at: datetime


class TokenCreate(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=100)] = Field(default="ci",
                                                                    examples=["github-actions"])


class TokenRead(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret, shown this once only",
                       examples=["dat_3q2…"])


# --- backlog, iterations ---------------------------------------------------------------------


Criterion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=2000)]


class ItemCreate(Schema):
    title: Title = Field(examples=["민원 진행 상황을 알림으로 받기"])
    story: Text = Field(default="", examples=["민원인으로서 처리 상황을 알림으로 받고 싶다"])
    acceptance: list[Criterion] = Field(
        default_factory=list, max_length=50, examples=[["상태가 바뀌면 1분 안에 알림"]])
    priority: int = Field(default=3, ge=1, le=5, description="1 highest … 5 lowest")
    estimate: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False,
                                   description="Story points")
    labels: list[Label] = Field(default_factory=list, max_length=20)
    feedback: list[int] = Field(default_factory=list, max_length=100,
                                description="Feedback this item answers (triage)")


class ItemUpdate(Schema):
    """Only the fields given change; `estimate: null` clears the estimate, any other field
    given as null is refused (an item always has a title, a priority, a state …)."""

    title: Title | None = None
    story: Text | None = None
    acceptance: list[Criterion] | None = Field(default=None, max_length=50)
    priority: int | None = Field(default=None, ge=1, le=5)
    estimate: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    labels: list[Label] | None = Field(default=None, max_length=20)
    state: ItemStateName | None = Field(default=None, examples=["in_progress"])

    @field_validator("title", "story", "acceptance", "priority", "labels", "state",
                     mode="before")
    @classmethod
    def _given_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value


class ItemRead(Schema):
    id: int
    project: int
    title: str
    story: str
    acceptance: list[str]
    priority: int
    estimate: float | None
    labels: list[str]
    state: str
    iteration: int | None
    feedback: list[int]
    created_at: datetime
    done_at: datetime | None


class IterationCreate(Schema):
    name: Title = Field(examples=["스프린트 1"])
    goal: Text = ""
    starts_on: IsoDate = Field(examples=["2026-05-04"])
    ends_on: IsoDate = Field(examples=["2026-05-15"])
    items: list[int] = Field(default_factory=list, max_length=500,
                             description="Backlog items committed (they move to `selected`)")


class IterationRead(Schema):
    id: int
    project: int
    name: str
    goal: str
    starts_on: date
    ends_on: date
    committed: list[int]
    done: list[int]
    committed_points: float
    velocity: float = Field(description="Story points of committed items done by the end")


# --- releases, deployments, incidents --------------------------------------------------------


class ReleaseCreate(Schema):
    version: Version = Field(examples=["1.2.0"])
    released_at: SeoulDateTime = Field(examples=["2026-05-15T17:00:00+09:00"])
    notes: Text = ""
    status: ReleaseStatusName = "succeeded"
    items: list[int] = Field(default_factory=list, max_length=500)
    feedback: list[int] = Field(default_factory=list, max_length=500, description=(
        "Feedback it answers; a succeeded release marks them completed"))


class ReleaseRead(Schema):
    id: int
    project: int
    version: str
    released_at: datetime
    notes: str
    status: str
    items: list[int]
    feedback: list[int]


class Commit(Schema):
    sha: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{7,64}$")] = Field(
        examples=["9fceb02d0ae598e95dc970b74767f19372d61af8"])
    committed_at: SeoulDateTime = Field(examples=["2026-05-14T10:00:00+09:00"])


class DeploymentCreate(Schema):
    version: Version = Field(examples=["1.2.0"])
    commits: list[Commit] = Field(min_length=1, max_length=1000)
    deployed_at: SeoulDateTime = Field(examples=["2026-05-15T17:00:00+09:00"])
    status: DeploymentStatusName = "success"


class DeploymentRead(Schema):
    id: int
    project: int
    version: str
    commits: list[Commit]
    deployed_at: datetime
    status: str
    lead_time_hours: float | None


class IncidentCreate(Schema):
    title: Title = Field(examples=["로그인 실패 급증"])
    opened_at: SeoulDateTime
    resolved_at: SeoulDateTime | None = None


class IncidentUpdate(Schema):
    resolved_at: SeoulDateTime


class IncidentRead(Schema):
    id: int
    project: int
    title: str
    source: str = Field(description="Who opened it: `team`, `ci` (a project token) or "
                        "`gateway` (the error watch)")
    opened_at: datetime
    resolved_at: datetime | None


# --- metrics ---------------------------------------------------------------------------------


class MetricValues(Schema):
    deployment_frequency: float = Field(description="Successful deployments per week")
    lead_time_median_hours: float | None
    change_failure_rate: float | None
    time_to_restore_median_hours: float | None
    feedback_lead_time_median_hours: float | None
    feedback_response_median_hours: float | None
    deployments: int
    successful_deployments: int


class WeekMetrics(MetricValues):
    week: date = Field(description="The Monday (Asia/Seoul) the week starts")


class Metrics(MetricValues):
    project: int
    from_: datetime = Field(alias="from")
    to: datetime
    weeks: list[WeekMetrics]

    model_config = {"populate_by_name": True, "from_attributes": True, "extra": "forbid"}


# --- feedback --------------------------------------------------------------------------------


class FeedbackCreate(Schema):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=5000)] = Field(
        examples=["민원 신청 후 진행 상황을 알 수 없어요"])
    kind: FeedbackKindName = Field(examples=["idea"])
    rating: int | None = Field(default=None, ge=1, le=5)


class FeedbackUpdate(Schema):
    status: FeedbackStatusName | None = Field(default=None, examples=["planned"])
    merge_into: int | None = Field(default=None, ge=1, description=(
        "Merge into this feedback: the status becomes `duplicate` and the votes move there"))
    item: int | None = Field(default=None, ge=1, description="Triage into this backlog item")


class CommentCreate(Schema):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=5000)]


class CommentRead(Schema):
    id: int
    author: str
    text: str
    created_at: datetime


class FeedbackRead(Schema):
    id: int
    service: str
    kind: str
    text: str
    rating: int | None
    status: str
    votes: int
    author: str | None = Field(description="The author's display name; None when anonymous")
    merged_into: int | None
    item: int | None
    release: int | None
    created_at: datetime
    first_response_at: datetime | None
    comments: list[CommentRead]


class SettingUpdate(Schema):
    anonymous_feedback: bool


class SettingRead(Schema):
    service: str
    anonymous_feedback: bool


class NoticeRead(Schema):
    id: int
    text: str
    link: str
    created_at: datetime
    read: bool


class ChangelogEntry(Schema):
    version: str
    released_at: datetime
    notes: str
    status: str
    items: list[str]
    feedback: list[FeedbackRead]
