"""Citizens' Q&A: hand-off tickets with their relay log, answer feedback and the question log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from db.models.core import BigId


class Ticket(Base):
    """A citizen's request for a human: one commune, claimed by one volunteer, rated 1-5 at the end.

    The KPI engine reads `rating` joined on `unit_id` (the commune) for citizen satisfaction."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_unit_status", "unit_id", "status"),
        Index("ix_tickets_citizen_status", "citizen_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")  # services.handoff.Status
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TicketMessage(Base):
    """One relayed message (the citizen's own words, or the volunteer's answer); never logged."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(10))  # citizen | helper
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=True)  # False: queued until claimed
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaqFeedback(Base):
    """👍/👎 on an answer: one vote per person per entry, changeable."""

    __tablename__ = "faq_feedback"
    __table_args__ = (UniqueConstraint("entry_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(80), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    vote: Mapped[int] = mapped_column(SmallInteger)  # +1 or -1
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaqQuestion(Base):
    """A question as normalised by the matcher (long numbers masked), counted; never who asked."""

    __tablename__ = "faq_questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    normalized: Mapped[str] = mapped_column(String(400), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    verdict: Mapped[str] = mapped_column(String(12))  # services.faq.index.Verdict of the last time
    answered_entry: Mapped[str | None] = mapped_column(String(80))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
