"""Privacy tables: personal data found in each dataset version, pseudonymisation records,
linkage salts and combinations, safe zones with their sources, analysts and query log, and
export requests with their reviews."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class Finding(Base):
    """Personal data of one kind found in one column of a dataset version (every value read)."""

    __tablename__ = "privacy_finding"
    __table_args__ = (Index("ix_privacy_finding_version", "dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    share: Mapped[float] = mapped_column(Float)
    matched: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    direct: Mapped[bool] = mapped_column(Boolean)
    example: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetSetting(Base):
    """A dataset's own privacy settings: the smallest cell a safe-zone answer may show."""

    __tablename__ = "privacy_dataset_setting"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                            primary_key=True)
    min_cell: Mapped[int] = mapped_column(Integer, default=5)


class Pseudonymisation(Base):
    """How a pseudonymised dataset was made: from which version, by which plan, what was done
    per column (the 가명처리 record kept with the dataset)."""

    __tablename__ = "privacy_pseudonymisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"),
                                        index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                           index=True)
    source_version: Mapped[int | None] = mapped_column(Integer)
    target_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                           unique=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    record: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    token_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    job_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Salt(Base):
    """A key manager's linkage salt, sealed with a key derived from the hub's secret: nobody
    reads it back, not even its holder; the combination job unseals it inside the hub."""

    __tablename__ = "privacy_salt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id", ondelete="RESTRICT"),
                                           index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CombinationState(StrEnum):
    requested = "requested"    # waiting for the owners' and a key manager's approvals
    approved = "approved"      # every approval given; the job runs
    done = "done"
    rejected = "rejected"
    failed = "failed"


class Combination(Base):
    """A request to combine datasets of several organizations (결합) for a purpose; the joined
    result, without identifiers or linkage keys, becomes a source of the requester's zone."""

    __tablename__ = "privacy_combination"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("privacy_zone.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(63))
    purpose: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=CombinationState.requested)
    salt_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_salt.id"))
    key_manager_id: Mapped[int | None] = mapped_column(Integer)
    key_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # the zone's analysts when the last approval was given: the result is open to them only
    analysts: Mapped[list[int]] = mapped_column(JSON, default=list)
    requested_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship()
    parts: Mapped[list[CombinationPart]] = relationship(
        back_populates="combination", cascade="all, delete-orphan",
        order_by="CombinationPart.position")


class CombinationPart(Base):
    """One dataset in a combination: its identifier columns, its owner's decision, and how
    many of its rows found a partner."""

    __tablename__ = "privacy_combination_part"
    __table_args__ = (UniqueConstraint("combination_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    combination_id: Mapped[int] = mapped_column(
        ForeignKey("privacy_combination.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[str]] = mapped_column(JSON)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    decision: Mapped[str | None] = mapped_column(String(10))   # approve | reject
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int | None] = mapped_column(Integer)
    matched: Mapped[int | None] = mapped_column(Integer)

    combination: Mapped[Combination] = relationship(back_populates="parts")

    @property
    def match_rate(self) -> float | None:
        if not self.rows or self.matched is None:
            return None
        return round(self.matched / self.rows, 4)


class Zone(Base):
    """A safe analysis zone (데이터안심구역) of an organization: analysts work on sensitive data
    and combined results there, and only checked aggregates leave a query."""

    __tablename__ = "privacy_zone"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)
    name: Mapped[str] = mapped_column(String(63))
    purpose: Mapped[str] = mapped_column(Text, default="")
    k: Mapped[int] = mapped_column(Integer, default=5)
    epsilon_total: Mapped[float | None] = mapped_column(Float)   # differential privacy budget
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()
    analysts: Mapped[list[ZoneAnalyst]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", order_by="ZoneAnalyst.id")
    sources: Mapped[list[ZoneSource]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", order_by="ZoneSource.id")

    @property
    def participant_ids(self) -> frozenset[int]:
        """The zone's analysts (the policy's `participant` rule: they and the organization's
        members may see the zone; only approved analysts query it)."""
        return frozenset(a.user_id for a in self.analysts)


class ZoneAnalyst(Base):
    __tablename__ = "privacy_zone_analyst"
    __table_args__ = (UniqueConstraint("zone_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("privacy_zone.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id", ondelete="CASCADE"))
    added_by: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    zone: Mapped[Zone] = relationship(back_populates="analysts")


class ZoneSource(Base):
    """A table a zone may query: a dataset (approved by its owner for the analysts named at
    approval) or a combination's result (approved through the combination)."""

    __tablename__ = "privacy_zone_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("privacy_zone.id", ondelete="CASCADE"),
                                         index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id",
                                                              ondelete="CASCADE"))
    combination_id: Mapped[int | None] = mapped_column(
        ForeignKey("privacy_combination.id", ondelete="CASCADE"))
    owner_org_id: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(10))   # approve | reject
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_analysts: Mapped[list[int]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")

    zone: Mapped[Zone] = relationship(back_populates="sources")


class ZoneQuery(Base):
    """Every query asked in a zone, answered or refused, with what was suppressed."""

    __tablename__ = "privacy_zone_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("privacy_zone.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    sql: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rows: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    suppressed: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    epsilon: Mapped[float] = mapped_column(Float, default=0.0)
    refused: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExportState(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    downloaded = "downloaded"


class ExportRequest(Base):
    """A result asking to leave a safe zone (반출): what, why, its re-identification report,
    the committee's reviews, and its one download."""

    __tablename__ = "privacy_export"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("privacy_zone.id", ondelete="CASCADE"),
                                         index=True)
    org_id: Mapped[int] = mapped_column(Integer)      # the applicant's organization
    query_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_zone_query.id"))
    purpose: Mapped[str] = mapped_column(Text)
    contents: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    quasi: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default=ExportState.pending)
    reviewers_needed: Mapped[int] = mapped_column(Integer, default=3)
    requested_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reviews: Mapped[list[ExportReview]] = relationship(
        back_populates="export", cascade="all, delete-orphan", order_by="ExportReview.id")


class ExportReview(Base):
    __tablename__ = "privacy_export_review"
    __table_args__ = (UniqueConstraint("export_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("privacy_export.id", ondelete="CASCADE"),
                                           index=True)
    reviewer_id: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(10))   # approve | reject
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    export: Mapped[ExportRequest] = relationship(back_populates="reviews")
