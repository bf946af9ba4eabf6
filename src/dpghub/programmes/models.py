"""Programme tables: calls (공모) with their assigned reviewers, applications (a lead
organization and its consortium members) with their reviewers' scores, the agreements of the
selected participants with their progress reports. (Portal notices are identity's `Notice`,
with domain "programmes".)"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class Programme(StrEnum):
    agile = "agile"              # agile innovation projects (consortia of agencies and companies)
    ai_support = "ai_support"    # AI-support credits
    testbed = "testbed"          # testbed users
    data_lake = "data_lake"      # data-lake providers


class ApplicationState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    selected = "selected"
    declined = "declined"        # submitted, not selected (told why)


class Call(Base):
    """A call for participants: its period, the form's questions and the criteria reviewers
    score. `decided_at` is set once operators have selected: the call takes no more work."""

    __tablename__ = "programmes_call"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    select_count: Mapped[int] = mapped_column(Integer)
    budget_krw: Mapped[int] = mapped_column(BigInteger)       # per selected participant
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reviewers: Mapped[list[Reviewer]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="Reviewer.id")


class Reviewer(Base):
    """A person an operator assigned to review the applications of one call."""

    __tablename__ = "programmes_reviewer"
    __table_args__ = (UniqueConstraint("call_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("programmes_call.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id", ondelete="CASCADE"),
                                         index=True)
    assigned_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship(back_populates="reviewers")


class Application(Base):
    """An organization's application to a call, alone or leading a consortium (`members`).
    The lead's editors write it; the outcome and its reason are kept here."""

    __tablename__ = "programmes_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("programmes_call.id", ondelete="CASCADE"),
                                         index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)                  # the lead
    title: Mapped[str] = mapped_column(String(300))
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=ApplicationState.draft)
    reason: Mapped[str | None] = mapped_column(Text)               # the outcome's reason
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call] = relationship()
    organization: Mapped[Organization] = relationship()
    members: Mapped[list[ApplicationMember]] = relationship(
        back_populates="application", cascade="all, delete-orphan",
        order_by="ApplicationMember.id")
    scores: Mapped[list[Score]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Score.id")

    @property
    def org_ids(self) -> list[int]:
        """The lead and every consortium member: the organizations that apply."""
        return [self.org_id, *(m.org_id for m in self.members)]

    @property
    def reviewer_ids(self) -> list[int]:
        """The people assigned to review this call's applications."""
        return [r.user_id for r in self.call.reviewers] if self.call is not None else []


class ApplicationMember(Base):
    """A consortium member organization named by the lead."""

    __tablename__ = "programmes_application_member"
    __table_args__ = (UniqueConstraint("application_id", "org_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("programmes_application.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))

    application: Mapped[Application] = relationship(back_populates="members")
    organization: Mapped[Organization] = relationship()


class Score(Base):
    """One reviewer's score of one criterion of one application, with the comment."""

    __tablename__ = "programmes_score"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id", "criterion"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("programmes_application.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id", ondelete="RESTRICT"))
    criterion: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="scores")


class Agreement(Base):
    """The agreement (협약) of a selected application: budget, period, deliverables."""

    __tablename__ = "programmes_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("programmes_application.id", ondelete="CASCADE"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("programmes_call.id", ondelete="CASCADE"),
                                         index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)                  # the lead
    budget_krw: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    deliverables: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship()
    reports: Mapped[list[Report]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="Report.id")

    @property
    def org_ids(self) -> list[int]:
        return self.application.org_ids if self.application is not None else [self.org_id]


class Report(Base):
    """A progress report of a participant: text and optional figures (name → number)."""

    __tablename__ = "programmes_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("programmes_agreement.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    submitted_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="reports")
