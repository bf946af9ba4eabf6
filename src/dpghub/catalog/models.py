"""Catalog tables: services (APIs) registered by organizations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow
from ..identity.models import Organization


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("org_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"),
                                        index=True)
    slug: Mapped[str] = mapped_column(String(64))
    title_ko: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    upstream_url: Mapped[str] = mapped_column(String(1000))
    theme: Mapped[str] = mapped_column(String(30), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    access: Mapped[str] = mapped_column(String(20), default="approval")  # open | approval
    # the gateway's limits for this service; None: the hub's settings
    timeout_seconds: Mapped[float | None] = mapped_column(Float)
    max_body_mb: Mapped[int | None] = mapped_column(Integer)
    openapi: Mapped[dict[str, Any]] = mapped_column(JSON)        # normalised to OpenAPI 3
    original: Mapped[dict[str, Any]] = mapped_column(JSON)       # as it was sent
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the catalogue's freshness check before each search reads max(updated_at).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    organization: Mapped[Organization] = relationship()


class TextVector(Base):
    """A record's search embedding, stored under the hash of the text it was computed from,
    so restarts and other processes reuse it instead of recomputing."""

    __tablename__ = "text_vector"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(model + text)
    vector: Mapped[bytes] = mapped_column(LargeBinary)                  # float16, unit length
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
