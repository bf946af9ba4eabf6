"""Privacy input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ..core.types import Email, Schema, Slug
from ..lake.schemas import AccessLevel

Ref = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")]
TableName = Annotated[str, StringConstraints(strip_whitespace=True,
                                             pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Verdict = Literal["approve", "reject"]


class FindingRead(Schema):
    column: str = Field(examples=["주민등록번호"])
    kind: str = Field(examples=["rrn"], description="What the values are (see docs/privacy.md)")
    label_ko: str = Field(examples=["주민등록번호"])
    label_en: str = Field(examples=["Resident registration number"])
    share: float = Field(examples=[0.998], description="Matching values / non-empty values")
    matched: int = Field(examples=[9980])
    total: int = Field(examples=[10000])
    confidence: float = Field(examples=[0.99])
    direct: bool = Field(description="Identifies a person directly: blocks publishing as open")
    example: str | None = Field(default=None, examples=["900101-1******"],
                                description="One value, masked; only for those who may read "
                                "the rows")


class FindingsRead(Schema):
    org: str
    name: str
    version: int | None
    direct_columns: list[str] = Field(examples=[["주민등록번호", "연락처"]])
    findings: list[FindingRead]


class MinCell(Schema):
    k: int = Field(ge=2, le=1000, examples=[5],
                   description="The smallest group a safe-zone answer over this dataset shows")


class PseudonymiseRequest(Schema):
    target: Slug = Field(examples=["patients-pseudonymised"],
                         description="Name of the new dataset of the same organization")
    title_ko: str | None = Field(default=None, max_length=300)
    title_en: str | None = Field(default=None, max_length=300)
    access: AccessLevel | None = Field(default=None, description="Default: the source's level")
    plan: dict[str, dict[str, Any]] = Field(
        max_length=2000,
        examples=[{"주민등록번호": {"action": "generalise", "to": "age_band", "width": 10},
                   "성명": {"action": "drop"},
                   "연락처": {"action": "mask", "keep_start": 3, "keep_end": 4},
                   "주소": {"action": "generalise", "to": "sigungu"},
                   "환자번호": {"action": "token"},
                   "이메일": {"action": "hmac"}}],
        description="Per column: drop, keep, mask, generalise, hmac or token with its options "
        "(docs/privacy.md); columns not named are kept")


class PseudonymisationRead(Schema):
    id: int
    source: str
    source_version: int | None
    target: str
    plan: dict[str, Any]
    record: list[dict[str, Any]] = Field(description="What was done per column")
    token_columns: list[str]
    job_id: int | None
    state: str | None = Field(default=None, description="The job's state")
    error: dict[str, Any] | str | None = None
    created_at: datetime
    done_at: datetime | None


class CombinationPartCreate(Schema):
    dataset: Ref = Field(examples=["hospital/patients"])
    columns: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        min_length=1, max_length=5, examples=[["주민등록번호"]],
        description="The identifier columns that link this dataset to the others")


class CombinationCreate(Schema):
    name: TableName = Field(examples=["patients_welfare"],
                            description="The result's table in the zone: combined.<name>")
    purpose: str = Field(min_length=1, max_length=4000,
                         examples=["만성질환자의 복지 수급 현황 통계 연구"])
    zone: int = Field(ge=1, le=2**31 - 1, description="The requester's safe zone")
    datasets: list[CombinationPartCreate] = Field(min_length=2, max_length=10)


class Decision(Schema):
    dataset: Ref = Field(examples=["hospital/patients"],
                         description="Which of one's organization's datasets is decided on")
    verdict: Verdict
    comment: str = Field(default="", max_length=4000)


class CombinationDecision(Schema):
    dataset: Ref | None = Field(default=None, examples=["hospital/patients"],
                                description="An owner's decision on this dataset; leave it "
                                "out for a key manager's decision")
    verdict: Verdict
    comment: str = Field(default="", max_length=4000)


class CombinationPartRead(Schema):
    dataset: str
    columns: list[str]
    kinds: list[str]
    decision: str | None
    comment: str
    version: int | None
    rows: int | None
    matched: int | None
    match_rate: float | None = Field(description="Rows of this dataset that found a partner "
                                     "in every other one")


class CombinationRead(Schema):
    id: int
    org: str
    zone: int
    name: str
    table: str = Field(examples=["combined.patients_welfare"])
    purpose: str
    state: str
    key_approved: bool
    parts: list[CombinationPartRead]
    rows: int | None
    job_id: int | None
    job_state: str | None
    error: str | None
    created_at: datetime
    done_at: datetime | None


class ZoneCreate(Schema):
    org: Slug = Field(examples=["welfare-institute"], description="The zone's organization")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=63)] = Field(examples=["복지연구"])
    purpose: str = Field(default="", max_length=4000)
    datasets: list[Ref] = Field(default_factory=list, max_length=50,
                                examples=[["hospital/patients"]])
    k: int = Field(default=5, ge=2, le=1000, description="Smallest group an answer shows")
    epsilon: float | None = Field(default=None, gt=0, le=100,
                                  description="A differential-privacy budget: answers get "
                                  "noise and spend it (none: exact answers with suppression)")


class AnalystAdd(Schema):
    email: Email


class SourceAdd(Schema):
    dataset: Ref


class AnalystRead(Schema):
    id: int
    email: str
    name: str | None


class ZoneSourceRead(Schema):
    table: str = Field(examples=["hospital.patients"])
    dataset: str | None
    combination: int | None
    decision: str | None
    comment: str
    approved_for_me: bool


class ZoneRead(Schema):
    id: int
    org: str
    name: str
    purpose: str
    k: int
    epsilon_total: float | None
    epsilon_spent: float
    analysts: list[AnalystRead]
    sources: list[ZoneSourceRead]
    created_at: datetime


class ZoneQueryRequest(Schema):
    sql: str = Field(min_length=1, max_length=100_000, examples=[
        "SELECT 시군구, count(*) AS 환자수, avg(나이) AS 평균나이 FROM combined.patients_welfare "
        "GROUP BY 시군구"])
    dp: bool = Field(default=False, description="Answer with differential-privacy noise "
                     "(spends the zone's budget)")
    epsilon: float | None = Field(default=None, gt=0, le=10,
                                  description="Budget to spend on this answer (dp only)")
    bounds: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="dp only: for each summed or averaged measure, "
        "the range its values are clamped to", examples=[{"평균나이": [0, 120]}])


class SuppressedCell(Schema):
    row: int
    column: str
    reason: str = Field(description="primary (under k), secondary (protects another), "
                        "difference (a filter removed fewer than k records)")


class ZoneAnswer(Schema):
    query_id: int
    columns: list[dict[str, Any]]
    rows: list[list[Any]]
    suppressed: list[SuppressedCell]
    k: int
    epsilon: float = Field(description="Budget this answer spent")
    epsilon_left: float | None
    elapsed_ms: float


class ZoneQueryLog(Schema):
    id: int
    user_id: int | None
    sql: str
    suppressed: int
    refused: str | None
    epsilon: float
    created_at: datetime


class ExportCreate(Schema):
    purpose: str = Field(min_length=1, max_length=4000,
                         examples=["연구 보고서의 시군구별 환자 수 표"])
    contents: str = Field(default="", max_length=4000, examples=["시군구별 환자 수와 평균 나이"])
    query_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                 description="An answered query of the zone")
    quasi: list[str] = Field(default_factory=list, max_length=20, examples=[["시군구"]],
                             description="Quasi-identifiers for the re-identification report")


class ReviewCreate(Schema):
    verdict: Verdict
    comment: str = Field(default="", max_length=4000)


class ReviewRead(Schema):
    reviewer: int
    verdict: str
    comment: str
    created_at: datetime


class ExportRead(Schema):
    id: int
    zone: int
    purpose: str
    contents: str
    filename: str
    sha256: str
    bytes: int
    quasi: list[str]
    risk: dict[str, Any] | None
    state: str
    reviewers_needed: int
    approvals: int
    reviews: list[ReviewRead]
    created_at: datetime
    decided_at: datetime | None
    downloaded_at: datetime | None


class RoleChange(Schema):
    email: Email
