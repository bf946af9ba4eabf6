"""Analysis input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from ..core.types import Schema, Slug
from ..lake.schemas import AccessLevel, Title


class QueryRequest(Schema):
    sql: str = Field(examples=["SELECT 시도명, count(*) AS 도서관수 FROM mcst.libraries "
                               "GROUP BY 1 ORDER BY 2 DESC"],
                     description="One SELECT over `org.dataset` tables; `org.dataset@3` reads "
                     "version 3. Region functions: sigungu_code, sido_code, region_name.")
    params: list[Any] | dict[str, Any] | None = Field(
        default=None, description="Values for `?` or `$name` placeholders")
    limit: int = Field(default=1000, ge=1, le=1_000_000,
                       description="Most rows returned; `truncated` says when there were more")
    timeout_ms: int = Field(default=30_000, ge=1, le=600_000)
    format: str = Field(default="json", pattern="^(json|csv|ndjson|parquet)$")
    engine: str = Field(default="duckdb", pattern="^(duckdb|spark)$",
                        description="duckdb (embedded sandbox) or spark (DPGHUB_SPARK_MASTER, "
                        "or local mode); spark answers json only")


class ColumnInfo(Schema):
    name: str
    type: str


class DatasetUsed(Schema):
    org: str
    name: str
    version: int


class QueryResult(Schema):
    columns: list[ColumnInfo]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float
    datasets: list[DatasetUsed]


class SavedQueryCreate(Schema):
    name: Title
    sql: str = Field(min_length=1, max_length=100_000)


class SavedQueryRead(Schema):
    id: int
    name: str
    sql: str
    created_at: datetime


class QueryRecordRead(Schema):
    id: int
    sql: str
    datasets: list[dict[str, Any]]
    rows: int
    elapsed_ms: float
    error: str | None
    created_at: datetime


class DerivedCreate(Schema):
    slug: Slug = Field(examples=["facilities-per-100k"])
    title_ko: Title = Field(examples=["시군구별 인구 10만 명당 도서관·충전소"])
    title_en: str = Field(default="", max_length=300)
    description_ko: str = Field(default="", max_length=10000)
    sql: str = Field(min_length=1, max_length=100_000)
    access: AccessLevel | None = Field(
        default=None, description="Who may read the rows; by default the strictest level of "
        "the inputs. Opening it further needs the right to publish every stricter input so.")


class LineageNode(Schema):
    org: str
    name: str
    title: str
    version: int | None
    derived: bool
    stale: bool


class LineageEdge(Schema):
    source: str
    target: str
    version: int


class Lineage(Schema):
    nodes: list[LineageNode]
    edges: list[LineageEdge]
