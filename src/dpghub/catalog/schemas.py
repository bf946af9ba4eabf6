"""Catalog input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from ..core.types import Schema, Slug
from ..lake.schemas import Keyword, Theme, Title


class ServiceCreate(Schema):
    slug: Slug = Field(examples=["nts-businessman"])
    title_ko: Title = Field(examples=["국세청 사업자등록정보 진위확인 및 상태조회"])
    title_en: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=10000)
    upstream_url: str = Field(examples=["https://api.odcloud.kr/api/nts-businessman/v1"])
    openapi: dict[str, Any] = Field(description="The OpenAPI 3.x or Swagger 2.0 document")
    theme: Theme = Field(default="", examples=["finance"])
    keywords: list[Keyword] = Field(default=[], max_length=30)
    access: Literal["open", "approval"] = Field(
        default="approval", description="open: every subscription request is approved at once, "
        "whatever the plan (automatic approval, 자동승인); approval: a production "
        "subscription waits for the provider's admins. Either way the gateway lets only apps "
        "with an approved subscription call it")
    timeout_seconds: float | None = Field(
        default=None, gt=0, le=600, description="How long the gateway waits for this "
        "upstream (default: DPGHUB_GATEWAY_TIMEOUT_SECONDS)")
    max_body_mb: int | None = Field(
        default=None, ge=1, le=1024, description="Largest request body the gateway forwards "
        "to it (default: DPGHUB_GATEWAY_MAX_BODY_MB)")

    @field_validator("upstream_url")
    @classmethod
    def _http(cls, value: str) -> str:
        from urllib.parse import urlparse

        parts = urlparse(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("the upstream URL must be an http(s) URL with a host")
        return value.strip().rstrip("/")


class ServiceRead(Schema):
    org: str
    slug: str
    title_ko: str
    title_en: str
    description: str
    upstream_url: str
    theme: str
    keywords: list[str]
    access: str
    timeout_seconds: float | None
    max_body_mb: int | None
    servers: list[str]
    operations: int
    created_at: datetime


class OperationRead(Schema):
    method: str
    path: str
    operation_id: str | None
    summary: str
    parameters: list[dict[str, Any]]
    request_body: dict[str, Any] | None
    responses: dict[str, Any]


class FacetValue(Schema):
    value: str
    count: int
    label: str = Field(description="What the portal shows for the value (Korean or English)")


class SearchHit(Schema):
    kind: str = Field(examples=["dataset"], description="dataset, service, or faq (a "
                      "published answer of the testbed's support desk)")
    org: str
    slug: str
    title_ko: str
    title_en: str
    description: str
    theme: str
    access: str
    keywords: list[str]
    formats: list[str]
    modified_at: datetime
    uses: int = Field(description="Rows reads, queries and calls counted so far")
    score: float = Field(description="Relevance from 0 to 1 (keyword and meaning combined)")
    url: str = Field(description="The record's page in the portal")
    title_html: str = Field(description="The title, HTML-escaped, matches in <mark>")
    snippet_html: str = Field(description="A piece of the description, matches in <mark>")
    matches_html: list[str] = Field(description="Column names or operations that match")


class SearchPage(Schema):
    total: int
    sort: str = Field(examples=["relevance"])
    items: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
