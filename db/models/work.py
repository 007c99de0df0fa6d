"""The work that is logged: help sessions, dossiers (with history and subscriptions), weekly reports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from db.models.core import BigId


class HelpSession(Base):
    """One time a volunteer helped one or more citizens (never the citizens' identities)."""

    __tablename__ = "help_sessions"
    __table_args__ = (Index("ix_help_sessions_unit_time", "unit_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the volunteer's team
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activity: Mapped[str] = mapped_column(String(20))  # services.sessions.Activity
    place: Mapped[str] = mapped_column(String(20))  # services.sessions.Place
    citizens: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(20))  # services.sessions.Outcome
    dossier_code: Mapped[str | None] = mapped_column(String(60))
    procedure: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Dossier(Base):
    """A citizen's administrative dossier, recorded by a volunteer/officer or imported."""

    __tablename__ = "dossiers"
    __table_args__ = (Index("ix_dossiers_unit_received", "unit_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # normalised dossier code
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the commune that receives it
    procedure_code: Mapped[str | None] = mapped_column(String(60))
    procedure_name: Mapped[str] = mapped_column(String(300))
    mode: Mapped[str] = mapped_column(String(20))  # full_online | partial_online | counter
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # result ready / refused
    post_return: Mapped[bool] = mapped_column(Boolean, default=False)  # result by public post
    status: Mapped[str] = mapped_column(String(20))  # services.dossiers.Status
    source: Mapped[str] = mapped_column(String(20), default="bot")  # bot | import
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DossierEvent(Base):
    """Every status change of a dossier, kept for history."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)


class DossierSubscription(Base):
    """A person who asked to be told when a dossier's status changes."""

    __tablename__ = "dossier_subscriptions"
    __table_args__ = (UniqueConstraint("dossier_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WeeklyReport(Base):
    """A commune's weekly counts (the KPI fallback when dossier-level data is missing)."""

    __tablename__ = "weekly_reports"
    __table_args__ = (UniqueConstraint("unit_id", "week_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    week_start: Mapped[date] = mapped_column(Date)  # Monday, Asia/Ho_Chi_Minh
    received: Mapped[int] = mapped_column(Integer)
    received_online: Mapped[int] = mapped_column(Integer)
    received_full_online: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)
    resolved_on_time: Mapped[int] = mapped_column(Integer)
    overdue_open: Mapped[int] = mapped_column(Integer)
    services_offered: Mapped[int] = mapped_column(Integer)
    services_with_online: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="final")  # draft | final
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
