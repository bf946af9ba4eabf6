"""AI tables: providers (an OpenAI-compatible endpoint with its sealed secret) and the models
they serve under aliases, monthly token budgets of organizations, the usage ledger (one
row per call through the AI gateway), and the AI-support programme's consulting and education
sessions and public lead cases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class ModelKind(StrEnum):
    chat = "chat"
    embedding = "embedding"


class Provider(Base):
    """An OpenAI-compatible endpoint (CLOVA Studio, Mi:dm, EXAONE, vLLM, llama.cpp …). Its
    secret is sealed with a key derived from the hub's secret and never shown again."""

    __tablename__ = "ai_provider"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_url: Mapped[str] = mapped_column(String(1000))
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    models: Mapped[list[ProviderModel]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="ProviderModel.id")


class ProviderModel(Base):
    """A model a provider serves, known to callers by its alias. Several providers may serve
    one alias: `position` orders them (the first answers, the next ones are the fallbacks)."""

    __tablename__ = "ai_model"
    __table_args__ = (UniqueConstraint("provider_id", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("ai_provider.id", ondelete="CASCADE"),
                                             index=True)
    alias: Mapped[str] = mapped_column(String(100), index=True)
    model: Mapped[str] = mapped_column(String(200))         # the provider's own name
    kind: Mapped[str] = mapped_column(String(20), default=ModelKind.chat)
    context: Mapped[int] = mapped_column(Integer)            # tokens, prompt and answer
    price_in: Mapped[float] = mapped_column(Numeric(12, 4))  # KRW per 1,000 input tokens
    price_out: Mapped[float] = mapped_column(Numeric(12, 4))
    position: Mapped[int] = mapped_column(Integer, default=0)

    provider: Mapped[Provider] = relationship(back_populates="models")


class Budget(Base):
    """An organization's AI credit for one month (Asia/Seoul): tokens granted."""

    __tablename__ = "ai_budget"
    __table_args__ = (UniqueConstraint("org_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"),
                                        index=True)
    month: Mapped[str] = mapped_column(String(7))            # YYYY-MM
    tokens: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(100), default="operator")
    granted_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrgSetting(Base):
    """An organization's choices for its AI calls: whether personal data in prompts is masked
    before they leave the hub."""

    __tablename__ = "ai_org_setting"

    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"),
                                        primary_key=True)
    mask_prompts: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Base):
    """One call through the AI gateway: who, which model where, the provider's own token
    counts, its cost, how long it took, how it ended."""

    __tablename__ = "ai_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)   # Seoul, for budgets
    request_id: Mapped[str] = mapped_column(String(64))
    app_id: Mapped[int | None] = mapped_column(Integer, index=True)
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    provider_id: Mapped[int | None] = mapped_column(Integer)
    alias: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), default=ModelKind.chat)
    stream: Mapped[bool] = mapped_column(Boolean, default=False)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_krw: Mapped[float] = mapped_column(Numeric(16, 4), default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(30))  # ok | refused | provider_error | client_gone
    fault: Mapped[str] = mapped_column(String(100), default="")



class UsageMonth(Base):
    """An organization's tokens in a (Seoul) month as the ledger holds them, kept beside it by
    the ledger's writer in the same transaction: the credit check reads one row, not a sum
    over a month of calls that grows with every call."""

    __tablename__ = "ai_usage_month"

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)

# --- the AI-support programme: consulting and education, public lead cases ------------------


class SessionKind(StrEnum):
    consulting = "consulting"
    education = "education"


class LeadCaseStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    completed = "completed"
    stopped = "stopped"


class SupportSession(Base):
    """A consulting or education session of the AI-support programme: when, how long, on
    what, for which companies, how many people came, and its materials (links)."""

    __tablename__ = "ai_support_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    attendees: Mapped[int] = mapped_column(Integer, default=0)        # people
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)  # http(s) links
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attendance: Mapped[list[SessionAttendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan",
        order_by="SessionAttendance.id")

    @property
    def org_ids(self) -> list[int]:
        """The organizations that attended (their members read the record)."""
        return [a.org_id for a in self.attendance]


class SessionAttendance(Base):
    """An organization (a supported company) that attended a support session."""

    __tablename__ = "ai_support_attendance"
    __table_args__ = (UniqueConstraint("session_id", "org_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("ai_support_session.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)

    session: Mapped[SupportSession] = relationship(back_populates="attendance")
    organization: Mapped[Organization] = relationship()


class LeadCase(Base):
    """A public lead case (공공 선도 적용): an agency using a supplier's AI service, how far it
    has come and what came of it. Everyone reads it once it is `public`."""

    __tablename__ = "ai_lead_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                           index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                             index=True)
    title: Mapped[str] = mapped_column(String(300))          # the AI service
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=LeadCaseStatus.planned)
    outcome: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Organization] = relationship(foreign_keys=[agency_id])
    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id])

    @property
    def org_ids(self) -> list[int]:
        """The agency and the supplier (their members read the case before it is public)."""
        return [self.agency_id, self.supplier_id]
