"""Lake tables: datasets, their versions, and the raw files they were built from."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class AccessLevel(StrEnum):
    open = "open"              # anyone may read rows
    restricted = "restricted"  # members of the owner, apps with an approved subscription
    sensitive = "sensitive"    # members of the owner only


class WriteMode(StrEnum):
    append = "append"
    replace = "replace"
    upsert = "upsert"


class Dataset(Base):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("org_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)
    slug: Mapped[str] = mapped_column(String(64))
    title_ko: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description_ko: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    license: Mapped[str] = mapped_column(String(100), default="")  # catalog.vocabulary code
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.open)
    # DCAT metadata the registry shows and exports (catalog.vocabulary holds the lists)
    theme: Mapped[str] = mapped_column(String(30), default="", index=True)
    update_frequency: Mapped[str] = mapped_column(String(20), default="")
    spatial: Mapped[str] = mapped_column(String(200), default="")
    temporal_start: Mapped[date | None] = mapped_column(Date)
    temporal_end: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    current_version: Mapped[int | None] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the catalogue's freshness check before each search reads max(updated_at).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    organization: Mapped[Organization] = relationship()

    @property
    def table_name(self) -> str:
        """SQL name: dataset `seoul-libraries` of org `mois` is `mois.seoul_libraries`."""
        return f"{self.organization.slug.replace('-', '_')}.{self.slug.replace('-', '_')}"


class DatasetVersion(Base):
    """One atomic table version: who, when, how, from which files, with what result."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                            index=True)
    version: Mapped[int] = mapped_column(Integer)          # 1, 2, 3 … as users see them
    delta_version: Mapped[int] = mapped_column(Integer)    # the Delta log's own number
    operation: Mapped[str] = mapped_column(String(20))     # append | replace | upsert | restore
    row_count: Mapped[int] = mapped_column(BigInteger)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    schema_changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RawFile(Base):
    """A received file, kept byte for byte under its SHA-256 (stored once however often sent)."""

    __tablename__ = "raw_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(500))
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    uploaded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
