"""AI input and output: providers with their models (the secret goes in, never out), monthly
budgets, usage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, StringConstraints

from ..core.types import Schema, Slug

Alias = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                         pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=1000,
                                       pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")]


class ModelSpec(Schema):
    alias: Alias = Field(examples=["hcx-dash"], description="The name callers use")
    model: Name = Field(examples=["HCX-DASH-002"], description="The provider's own name")
    kind: Literal["chat", "embedding"] = "chat"
    context: int = Field(ge=1, le=10_000_000, examples=[32768],
                         description="Tokens of prompt and answer together")
    price_in: float = Field(ge=0, le=1_000_000, allow_inf_nan=False, examples=[0.5],
                            description="KRW per 1,000 input tokens")
    price_out: float = Field(ge=0, le=1_000_000, allow_inf_nan=False, examples=[2.0],
                             description="KRW per 1,000 output tokens")


class ProviderCreate(Schema):
    name: Slug = Field(examples=["clova-studio"])
    base_url: Url = Field(examples=["https://clovastudio.stream.ntruss.com/v1/openai"],
                          description="Its OpenAI-compatible base URL (…/v1)")
    api_key: SecretStr | None = Field(default=None, description=(
        "The provider's own secret: stored sealed, never shown or logged again"))
    models: list[ModelSpec] = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=0, le=1000, description=(
        "Where its models stand among the providers of the same alias: lower answers first, "
        "the others are fallbacks in order"))


class ProviderModelRead(ModelSpec):
    position: int


class ProviderRead(Schema):
    id: int
    name: str
    base_url: str
    has_secret: bool
    enabled: bool
    models: list[ProviderModelRead]
    created_at: datetime


class BudgetSet(Schema):
    tokens: int = Field(ge=0, le=10**13, examples=[1_000_000],
                        description="Tokens (input and output) for the month")
    month: str | None = Field(default=None, examples=["2026-05"], description=(
        "YYYY-MM in Asia/Seoul; the current month when left out"))
    agreement: int | None = Field(default=None, ge=1, examples=[12], description=(
        "The agreement of the organization's selection in an `ai_support` programme call "
        "this credit is granted under (recorded as the budget's source)"))


class BudgetRead(Schema):
    org: str
    month: str
    granted: int
    used: int
    left: int
    source: str | None


class SettingsUpdate(Schema):
    mask_prompts: bool = Field(examples=[True], description=(
        "Mask 주민등록번호, phone numbers, e-mail addresses and card numbers in prompts and "
        "embedding inputs before they leave the hub"))


class SettingsRead(SettingsUpdate):
    org: str


class UsageRow(Schema):
    day: str = Field(examples=["2026-05-04"], description="Asia/Seoul")
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_krw: float


class UsageRead(Schema):
    calls: int
    input_tokens: int
    output_tokens: int
    cost_krw: float
    rows: list[UsageRow]


# --- the hub's own AI features -----------------------------------------------------------

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=2000)]


class AskDataRequest(Schema):
    question: Question = Field(examples=["구별 도서관 수와 인구 10만 명당 도서관 수"],
                               description="A question in Korean or English")
    model: str | None = Field(default=None, max_length=100, description=(
        "Ignored: the hub answers with the model its operator configured "
        "(DPGHUB_AI_ASSIST_MODEL)"))


class ColumnRead(Schema):
    name: str
    type: str


class ChartSpec(Schema):
    type: Literal["bar", "line"]
    x: str = Field(description="The column along the axis (text, or a date for a line)")
    y: str = Field(description="The numeric column")


class AskDataRead(Schema):
    question: str
    sql: str | None = Field(description="The statement the model wrote (the repaired one "
                            "after a repair); null when it wrote none")
    columns: list[ColumnRead]
    rows: list[list[Any]]
    truncated: bool = Field(description="More rows exist than were returned")
    refused: str | None = Field(description=(
        "Why the statement was not run or failed: the SQL guard's, the permission check's or "
        "the engine's words (null when it ran)"))
    refused_code: str | None = None
    repaired: bool = Field(description="The model's first statement failed and the model "
                           "was asked once more, with the error")
    chart: ChartSpec | None = Field(description="A chart that fits the result, when one does")


class AskRequest(Schema):
    question: Question = Field(examples=["전기차 충전소 위치 데이터는 어디 있나요?"],
                               description="A question in Korean or English")


class Citation(Schema):
    kind: Literal["dataset", "service", "faq"]
    ref: str = Field(examples=["me/ev-chargers"], description="org/slug (faq: faq-ID)")
    title: str
    url: str


class AskRead(Schema):
    answer: str
    citations: list[Citation] = Field(description="The records the answer used, as the "
                                      "model cited them (only records it was shown)")
