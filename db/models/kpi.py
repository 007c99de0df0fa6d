"""KPI tables: targets per unit, indicator and period; job runs (exactly-once scheduling).

Also the indexes the KPI queries need on other features' tables (declared here so the models
and the 0004 migration agree)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from db.models.core import BigId, Unit
from db.models.work import Dossier, HelpSession


class KpiTarget(Base):
    """A target for one unit, one indicator and one period ("2026-Q4" or "2026")."""

    __tablename__ = "kpi_targets"
    __table_args__ = (UniqueConstraint("unit_id", "indicator", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10))
    target: Mapped[float] = mapped_column(Float)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRun(Base):
    """One scheduled job for one period (e.g. weekly_digest 2026-W47): started, then finished."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    messages: Mapped[int] = mapped_column(Integer, default=0)


# Week/quarter scans over the whole country filter by time first.
Index("ix_kpi_dossiers_received_at", Dossier.received_at)
Index("ix_kpi_help_sessions_occurred_at", HelpSession.occurred_at)
# `path LIKE 'prefix%'` uses a b-tree index on PostgreSQL only with the pattern operator class
# (unless the database collation is C); harmless elsewhere.
Index("ix_kpi_units_path_pattern", Unit.path, postgresql_ops={"path": "varchar_pattern_ops"})
# Overdue-at-a-date counts read (unit, finished_at): open dossiers (NULL) and those finished later
# (migration 0008).
Index("ix_kpi_dossiers_unit_finished", Dossier.unit_id, Dossier.finished_at)
# Finished in a period: open rows (NULL) left out (migration 0009), so that `finished_at IS NULL`
# goes to the small per-unit index of open dossiers below and never reads the country's open rows
# when one subtree is asked.
Index(
    "ix_kpi_dossiers_finished",
    Dossier.finished_at,
    postgresql_where=text("finished_at IS NOT NULL"),
    sqlite_where=text("finished_at IS NOT NULL"),
)
Index(
    "ix_kpi_dossiers_open",
    Dossier.unit_id,
    Dossier.due_at,
    postgresql_where=text("finished_at IS NULL"),
    sqlite_where=text("finished_at IS NULL"),
)
