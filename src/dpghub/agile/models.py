"""Agile tables: service projects (a consortium building a public service), their CI tokens,
backlog items, iterations, releases, deployment events and incidents; citizens' feedback on
registered services with votes and comments; per-service feedback settings. (Portal notices
are identity's `Notice`, with domain "agile".)"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class ItemState(StrEnum):
    backlog = "backlog"
    selected = "selected"
    in_progress = "in_progress"
    done = "done"


class ReleaseStatus(StrEnum):
    succeeded = "succeeded"
    failed = "failed"
    rolled_back = "rolled_back"


class DeploymentStatus(StrEnum):
    success = "success"
    failure = "failure"
    rolled_back = "rolled_back"


class FeedbackKind(StrEnum):
    bug = "bug"
    idea = "idea"
    praise = "praise"
    question = "question"


class FeedbackStatus(StrEnum):
    open = "open"
    planned = "planned"
    started = "started"
    completed = "completed"
    declined = "declined"
    duplicate = "duplicate"     # merged into another feedback (`merged_into_id`)


class AgileProject(Base):
    """An agile service project: a lead organization and its consortium building one public
    service (a registry service, optionally datasets and a testbed project)."""

    __tablename__ = "agile_project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)                  # the lead
    name: Mapped[str] = mapped_column(String(300))
    goal: Mapped[str] = mapped_column(Text, default="")
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL"), unique=True)
    dataset_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    testbed_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("testbed_project.id", ondelete="SET NULL"))
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes_agreement.id", ondelete="SET NULL"), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # the gateway opens an incident when the service's error rate over 5 minutes passes this
    # share (None: never) on at least `alert_min_calls` calls (watch.py)
    alert_error_rate: Mapped[float | None] = mapped_column(Float, default=0.05)
    alert_min_calls: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()
    members: Mapped[list[ConsortiumMember]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ConsortiumMember.id")

    @property
    def org_ids(self) -> list[int]:
        """The lead and every consortium member: the project's team."""
        return [self.org_id, *(m.org_id for m in self.members)]


class ConsortiumMember(Base):
    """A consortium member organization of a project (besides the lead)."""

    __tablename__ = "agile_project_member"
    __table_args__ = (UniqueConstraint("project_id", "org_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("agile_project.id", ondelete="CASCADE"),
                                            index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))

    project: Mapped[AgileProject] = relationship(back_populates="members")
    organization: Mapped[Organization] = relationship()


class ProjectToken(Base):
    """A project token for the service's CI: only its SHA-256 digest is kept."""

    __tablename__ = "agile_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("agile_project.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))           # shown to tell tokens apart
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Iteration(Base):
    """A time box with a goal; the items committed at planning are kept in
    `IterationItem`, so moving an item later does not rewrite what was committed."""

    __tablename__ = "agile_iteration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("agile_project.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    committed: Mapped[list[IterationItem]] = relationship(
        back_populates="iteration", cascade="all, delete-orphan", order_by="IterationItem.id")


class Item(Base):
    """A backlog item (a user story) and where it stands on the board."""

    __tablename__ = "agile_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("agile_project.id", ondelete="CASCADE"),
                                            index=True)
    title: Mapped[str] = mapped_column(String(300))
    story: Mapped[str] = mapped_column(Text, default="")
    acceptance: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=3)        # 1 highest … 5 lowest
    estimate: Mapped[float | None] = mapped_column(Float)            # story points
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default=ItemState.backlog)
    iteration_id: Mapped[int | None] = mapped_column(
        ForeignKey("agile_iteration.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IterationItem(Base):
    """An item committed to an iteration at planning, with its estimate then."""

    __tablename__ = "agile_iteration_item"
    __table_args__ = (UniqueConstraint("iteration_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iteration_id: Mapped[int] = mapped_column(
        ForeignKey("agile_iteration.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agile_item.id", ondelete="CASCADE"))
    estimate: Mapped[float | None] = mapped_column(Float)

    iteration: Mapped[Iteration] = relationship(back_populates="committed")
    item: Mapped[Item] = relationship()


class Release(Base):
    """A release of the service: what it delivered (items, feedback) and how it went."""

    __tablename__ = "agile_release"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("agile_project.id", ondelete="CASCADE"),
                                            index=True)
    version: Mapped[str] = mapped_column(String(100))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ReleaseStatus.succeeded)
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    feedback_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deployment(Base):
    """A deployment event sent by the service's CI with a project token."""

    __tablename__ = "agile_deployment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("agile_project.id", ondelete="CASCADE"),
                                            index=True)
    version: Mapped[str] = mapped_column(String(100))
    commits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    first_commit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20))
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("agile_token.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Incident(Base):
    """A time the service was broken for its users, from opening to restoring."""

    __tablename__ = "agile_incident"
    __table_args__ = (   # one open incident from the gateway per project, however many watch
        Index("uq_agile_incident_gateway_open", "project_id", unique=True,
              sqlite_where=text("source = 'gateway' AND resolved_at IS NULL"),
              postgresql_where=text("source = 'gateway' AND resolved_at IS NULL")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("agile_project.id", ondelete="CASCADE"),
                                            index=True)
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20), default="team",
                                        server_default="team")   # team | ci | gateway
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(Base):
    """A citizen's or staff member's feedback on a registered service."""

    __tablename__ = "agile_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"),
                                            index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("hub_user.id", ondelete="SET NULL"), index=True)     # None: anonymous
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=FeedbackStatus.open)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("agile_feedback.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agile_item.id", ondelete="SET NULL"))
    release_id: Mapped[int | None] = mapped_column(
        ForeignKey("agile_release.id", ondelete="SET NULL"))          # the one completing it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Vote(Base):
    """One person's vote on one feedback."""

    __tablename__ = "agile_vote"
    __table_args__ = (UniqueConstraint("feedback_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("agile_feedback.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "agile_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("agile_feedback.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceSetting(Base):
    """Feedback settings of one registered service, set by its organization's editors."""

    __tablename__ = "agile_service_setting"

    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"),
                                            primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)           # the service's organization
    anonymous_feedback: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
