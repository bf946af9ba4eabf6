"""The problem+json shape, declared for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str = Field(examples=["slug"])
    message: str = Field(examples=["String should have at most 64 characters"])


class Problem(BaseModel):
    type: str = Field(examples=["urn:dpghub:problem:slug_taken"])
    title: str = Field(examples=["이미 저장된 내용과 충돌합니다"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["슬러그 mois 은(는) 이미 사용 중입니다"])
    code: str = Field(examples=["slug_taken"], description="Stable machine-readable code")
    instance: str = Field(examples=["/api/v1/orgs"])
    field: str | None = Field(default=None, examples=["slug"],
                              description="The input field at fault, when there is one")
    request_id: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="Every input field at fault (answers of status 422 to input "
        "the schema refuses)")


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem statuses a route can answer."""
    described = {400: "Bad request", 401: "Sign-in or token required", 403: "Not allowed",
                 404: "Not found", 409: "Conflict", 422: "Invalid input",
                 429: "Too many requests", 503: "Unavailable"}
    return {s: {"model": Problem, "description": described.get(s, "Error"),
                "content": {"application/problem+json": {}}} for s in statuses}
