"""Operations: incidents the admins were told about, and every attempt at a scheduled job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from db.models.core import BigId


class Incident(Base):
    """Something that stopped working; admins get one message when it opens and one when it clears."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "key", "resolved_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))  # e.g. "job.missed:weekly_digest"
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class JobAttempt(Base):
    """One attempt at a job for a period, written in its own short transaction when it starts and
    when it ends — so an attempt cut short (process killed, error) stays visible as `running`/`failed`."""

    __tablename__ = "job_attempts"
    __table_args__ = (Index("ix_job_attempts_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(40))
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running | done | failed
    error: Mapped[str | None] = mapped_column(Text)
