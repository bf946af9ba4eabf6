"""Gateway tables: consumer apps, their keys, and subscriptions to services and datasets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class Plan(StrEnum):
    development = "development"   # low limits; services approved at once, restricted data
    #                               waits for its owner and then reads a sample
    production = "production"     # approved by the provider's admins, limits set then


class SubscriptionStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    revoked = "revoked"
    expired = "expired"


class App(Base):
    """A consumer's application, owned by an organization."""

    __tablename__ = "app"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()


class AppKey(Base):
    """An API key of an app: shown once, kept as its SHA-256 (keys are 256-bit random, so a
    fast hash is safe and keeps the gateway's hot path short)."""

    __tablename__ = "app_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("app.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50), default="primary")
    prefix: Mapped[str] = mapped_column(String(16))        # shown in lists to tell keys apart
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscription(Base):
    """An app's access to one service or dataset. Access is denied unless it is approved."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("app.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"),
                                                   index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                                   index=True)
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    plan: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=SubscriptionStatus.pending)
    reason: Mapped[str] = mapped_column(Text, default="")
    rate_per_second: Mapped[float] = mapped_column(Float, default=5.0)
    daily_quota: Mapped[int] = mapped_column(BigInteger, default=1000)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    app: Mapped[App] = relationship()

    @property
    def org_id(self) -> int:
        """The provider's organization: the one that decides (for the policy)."""
        return self.provider_org_id


class CallRecord(Base):
    """One call through the gateway: who, what, how it went, and hashes of both bodies.
    Each is also an event of the hash-chained audit log (`audit_seq`)."""

    __tablename__ = "call_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    app_id: Mapped[int | None] = mapped_column(Integer, index=True)
    consumer_org_id: Mapped[int | None] = mapped_column(Integer)
    service_id: Mapped[int | None] = mapped_column(Integer, index=True)
    provider_org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    status: Mapped[int] = mapped_column(Integer)
    request_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    response_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    upstream_ms: Mapped[float] = mapped_column(Float, default=0.0)
    hub_ms: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(30))   # ok | upstream_error | timeout | refused
    fault: Mapped[str] = mapped_column(String(100), default="")
    request_sha256: Mapped[str] = mapped_column(String(64), default="")
    response_sha256: Mapped[str] = mapped_column(String(64), default="")
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)


class GatewayState(Base):
    """One row whose `generation` grows with every change that can turn a gateway answer
    around (a key revoked, a subscription decided). Each process reads it before a call
    and drops its cached lookups when it moved — so a revocation holds from the next call
    in every process. With SQLite the read waits for the bell beside the database
    (bell.py); otherwise it is one primary-key read per call."""

    __tablename__ = "gateway_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
