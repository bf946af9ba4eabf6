"""Catalog input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from ..core.types import Schema, Slug
from ..lake.schemas import Title


class ServiceCreate(Schema):
    slug: Slug = Field(examples=["nts-businessman"])
    title_ko: Title = Field(examples=["국세청 사업자등록정보 진위확인 및 상태조회"])
    title_en: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=10000)
    upstream_url: str = Field(examples=["https://api.odcloud.kr/api/nts-businessman/v1"])
    openapi: dict[str, Any] = Field(description="The OpenAPI 3.x or Swagger 2.0 document")

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
