"""Lake input and output shapes."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from ..core.errors import Invalid
from ..core.types import Email, IsoDate, Schema, Slug
from . import vocabulary
from .infer import TYPES
from .models import AccessLevel, WriteMode

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def _theme(value: str) -> str:
    if value and value not in vocabulary.THEMES:
        raise ValueError(f"unknown theme; use one of {', '.join(vocabulary.THEMES)}")
    return value


def _licence(value: str) -> str:
    code = vocabulary.licence_code(value)
    if value.strip() and not code:
        raise ValueError(f"unknown licence; use one of {', '.join(vocabulary.LICENCES)}")
    return code


Theme = Annotated[str, AfterValidator(_theme)]
Licence = Annotated[str, StringConstraints(max_length=100), AfterValidator(_licence)]
def _frequency(value: str) -> str:
    if value and value not in vocabulary.FREQUENCIES:
        raise ValueError("unknown update frequency; use one of "
                         + ", ".join(vocabulary.FREQUENCIES))
    return value


Frequency = Annotated[str, AfterValidator(_frequency)]


class _Coverage(Schema):
    """DCAT metadata shared by create and update: the later check needs both dates."""

    @model_validator(mode="after")
    def _period(self) -> Any:
        start, end = getattr(self, "temporal_start", None), getattr(self, "temporal_end", None)
        if start and end and start > end:
            raise ValueError("temporal_start is after temporal_end")
        return self


class DatasetCreate(_Coverage):
    slug: Slug = Field(examples=["bjd-codes"])
    title_ko: Title = Field(examples=["법정동코드 전체자료"])
    title_en: str = Field(default="", max_length=300, examples=["Legal district codes"])
    description_ko: str = Field(default="", max_length=10000)
    description_en: str = Field(default="", max_length=10000)
    keywords: list[Keyword] = Field(default=[], max_length=30, examples=[["법정동", "행정구역"]])
    license: Licence = Field(default="", examples=["KOGL-1"], description="A licence code "
                             "(KOGL-1…4 for 공공누리 types, CC-BY-4.0, CC0-1.0, …) or its "
                             "Korean label")
    access: AccessLevel = AccessLevel.open
    theme: Theme = Field(default="", examples=["administration"])
    update_frequency: Frequency = Field(default="", examples=["annual"])
    spatial: str = Field(default="", max_length=200, examples=["전국"])
    temporal_start: IsoDate | None = None
    temporal_end: IsoDate | None = None
    contact_name: str = Field(default="", max_length=200, examples=["행정안전부 데이터팀"])
    contact_email: Email | None = None


class DatasetUpdate(_Coverage):
    title_ko: Title | None = None
    title_en: str | None = Field(default=None, max_length=300)
    description_ko: str | None = Field(default=None, max_length=10000)
    description_en: str | None = Field(default=None, max_length=10000)
    keywords: list[Keyword] | None = Field(default=None, max_length=30)
    license: Licence | None = None
    access: AccessLevel | None = None
    theme: Theme | None = None
    update_frequency: Frequency | None = None
    spatial: str | None = Field(default=None, max_length=200)
    temporal_start: IsoDate | None = None
    temporal_end: IsoDate | None = None
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: Email | None = None


class ColumnRead(Schema):
    name: str
    type: str = Field(examples=["integer"], description="text, integer, decimal, date, "
                      "timestamp, time or boolean")


class DatasetRead(Schema):
    org: str
    slug: str
    table: str = Field(description="The name to use in SQL", examples=["molit.bjd_codes"])
    title_ko: str
    title_en: str
    description_ko: str
    description_en: str
    keywords: list[str]
    license: str
    access: AccessLevel
    theme: str
    update_frequency: str
    spatial: str
    temporal_start: date | None
    temporal_end: date | None
    contact_name: str
    contact_email: str
    current_version: int | None
    row_count: int
    schema_: list[ColumnRead] = Field(alias="schema", serialization_alias="schema")
    created_at: datetime
    updated_at: datetime


class DatasetPage(Schema):
    items: list[DatasetRead]
    next_cursor: str | None


class SourceFileRead(Schema):
    name: str
    sha256: str
    size: int
    format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    rows: int | None = None


class VersionRead(Schema):
    version: int
    operation: str
    row_count: int
    rows_written: int
    schema_: list[ColumnRead] = Field(alias="schema", serialization_alias="schema")
    schema_changes: dict[str, Any]
    source_files: list[SourceFileRead]
    created_by: int | None
    created_at: datetime


class IngestOptions(Schema):
    """How files become a version. Sent as form fields next to the files."""

    mode: WriteMode = WriteMode.append
    key: list[str] = Field(default=[], description="Key columns for upsert")
    encoding: str = Field(default="auto", examples=["auto"], description="auto, utf-8 or cp949")
    sheet: str | None = Field(default=None, description="Excel sheet name or 1-based number")
    delimiter: str | None = Field(default=None, description="CSV delimiter; detected when absent")
    types: dict[str, str] = Field(default={}, description="Column type overrides",
                                  examples=[{"법정동코드": "text"}])

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        if value.lower() not in ("auto", "utf-8", "utf8", "cp949", "euc-kr", "euckr", "utf-16"):
            raise ValueError("encoding must be auto, utf-8 or cp949")
        return value.lower()

    @field_validator("types")
    @classmethod
    def _types(cls, value: dict[str, str]) -> dict[str, str]:
        for column, kind in value.items():
            if kind not in TYPES:
                raise ValueError(f"type of {column} must be one of {', '.join(TYPES)}")
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value in ("\\t", "tab"):
            return "\t"
        if len(value) != 1:
            raise ValueError("delimiter must be one character")
        return value


class JobRead(Schema):
    id: int
    kind: str
    state: str
    message: str
    progress_bytes: int
    total_bytes: int
    progress_rows: int
    attempts: int
    error: dict[str, Any] | None
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ProfileRead(Schema):
    version: int
    rows: int
    columns: list[dict[str, Any]]
    values_hidden: bool = Field(default=False, description="True when min/max/top values are "
                                "withheld because the caller may not read the rows")


def ingest_options(mode: WriteMode | str, key: list[str], encoding: str, sheet: str | None,
                   delimiter: str | None, types: str | None) -> IngestOptions:
    """The options of an upload form (API or portal) as one checked value; a fault names its
    field."""
    keys = [k.strip() for item in key for k in item.split(",") if k.strip()]
    try:
        overrides = json.loads(types) if types else {}
    except json.JSONDecodeError as exc:
        raise Invalid("types must be a JSON object: {reason}", code="invalid", field="types",
                      reason=str(exc)) from None
    try:
        return IngestOptions(mode=mode, key=keys, encoding=encoding, sheet=sheet or None,
                             delimiter=delimiter, types=overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid("{field}: {message}", code="invalid",
                      field=".".join(str(p) for p in first["loc"]),
                      message=first["msg"]) from None
