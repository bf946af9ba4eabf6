"""Testbed tables: sandbox projects with their members, keys and services, the inspector's
request log, synthetic copies, contract validations, and the support desk's tickets."""

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class Stage(StrEnum):
    development = "development"
    testing = "testing"
    validated = "validated"     # only with a passing, signed validation report


class Project(Base):
    """A sandbox project of an organization: what it builds on, who works in it, until when."""

    __tablename__ = "testbed_project"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)
    name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(20), default=Stage.development)
    validation_id: Mapped[int | None] = mapped_column(Integer)   # the report that validated it
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rate_per_second: Mapped[float] = mapped_column(Float, default=10.0)
    daily_quota: Mapped[int] = mapped_column(Integer, default=10_000)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()
    members: Mapped[list[ProjectMember]] = relationship(back_populates="project",
                                                        cascade="all, delete-orphan")
    resources: Mapped[list[ProjectResource]] = relationship(back_populates="project",
                                                            cascade="all, delete-orphan")

    @property
    def participant_ids(self) -> frozenset[int]:
        """Who works in it besides the organization's members: accepted collaborators (the
        policy's `participant` rule reads this)."""
        return frozenset(m.user_id for m in self.members if m.accepted_at is not None)


class ProjectMember(Base):
    """A person in a project: members of the organization join at once; anyone else is an
    outside collaborator, invited, who joins by accepting."""

    __tablename__ = "testbed_member"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("testbed_project.id",
                                                       ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id", ondelete="CASCADE"),
                                         index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")   # member | collaborator
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="members")


class ProjectResource(Base):
    """A service or dataset the project builds on; a service may point at the developer's
    own server (`upstream_url`), which turns its sandbox calls into the validation proxy."""

    __tablename__ = "testbed_resource"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("testbed_project.id",
                                                       ondelete="CASCADE"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    upstream_url: Mapped[str | None] = mapped_column(String(500))

    project: Mapped[Project] = relationship(back_populates="resources")


class SandboxKey(Base):
    """A key that works only on sandbox endpoints; stored as its SHA-256, shown once."""

    __tablename__ = "testbed_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("testbed_project.id",
                                                       ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50), default="sandbox")
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SandboxRequest(Base):
    """One sandbox call as the inspector shows it: what came, whether it kept the contract,
    what was answered (excerpts, bounded)."""

    __tablename__ = "testbed_request"
    __table_args__ = (Index("ix_testbed_request_project_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("testbed_project.id",
                                                       ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    service_ref: Mapped[str] = mapped_column(String(200))      # org/slug
    mode: Mapped[str] = mapped_column(String(10))               # mock | proxy
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    operation: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[int] = mapped_column(Integer)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    request_body: Mapped[str] = mapped_column(Text, default="")
    answer_body: Mapped[str] = mapped_column(Text, default="")
    elapsed_ms: Mapped[float] = mapped_column(Float, default=0.0)


class SyntheticCopy(Base):
    """A synthetic copy of a dataset version, made in a project, with its reports."""

    __tablename__ = "testbed_synthetic"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("testbed_project.id",
                                                       ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    source_version: Mapped[int | None] = mapped_column(Integer)
    rows_asked: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="queued")   # queued|ready|failed
    error: Mapped[str] = mapped_column(Text, default="")
    job_id: Mapped[int | None] = mapped_column(Integer)
    delta_version: Mapped[int | None] = mapped_column(Integer)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    privacy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Validation(Base):
    """A contract validation run and, when finished, its signed report."""

    __tablename__ = "testbed_validation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("testbed_project.id",
                                                       ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    max_cases: Mapped[int] = mapped_column(Integer, default=20)
    state: Mapped[str] = mapped_column(String(20), default="queued")   # queued|done|failed
    passed: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str] = mapped_column(Text, default="")
    job_id: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)   # the signed envelope
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TicketState(StrEnum):
    open = "open"
    answered = "answered"
    closed = "closed"


class Ticket(Base):
    """A question to the support desk about a project."""

    __tablename__ = "testbed_ticket"
    # The catalogue's freshness check reads max(updated_at) of the published ones (the FAQ).
    __table_args__ = (Index("ix_testbed_ticket_published_updated_at", "published", "updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("testbed_project.id",
                                                       ondelete="CASCADE"), index=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id"))
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(20))       # api|data|infrastructure|ai|other
    priority: Mapped[str] = mapped_column(String(10), default="normal")   # low|normal|high
    state: Mapped[str] = mapped_column(String(20), default=TicketState.open)
    request_id: Mapped[int | None] = mapped_column(Integer)   # an inspector entry
    link: Mapped[str] = mapped_column(String(500), default="")
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    consent_to_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answers: Mapped[list[TicketAnswer]] = relationship(back_populates="ticket",
                                                       cascade="all, delete-orphan",
                                                       order_by="TicketAnswer.id")


class TicketAnswer(Base):
    __tablename__ = "testbed_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("testbed_ticket.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id"))
    body: Mapped[str] = mapped_column(Text)
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="answers")
