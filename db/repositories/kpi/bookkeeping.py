"""Weekly reports filed and dossiers falling due (what reminders are about), targets, and the
job-run bookkeeping that makes a scheduled job run once per period."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    and_,
    case,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import (
    Dossier,
    JobRun,
    KpiTarget,
    Unit,
    WeeklyReport,
)
from db.repositories.core import _insert
from db.repositories.kpi.base import dialect_name, subtree

# --- weekly reports and dossiers due ------------------------------------------------------------


async def communes_with_report(
    session: AsyncSession, base_path: str, week: date, now: datetime | None = None
) -> dict[int, datetime]:
    """The communes of the subtree with a final report of `week` — filed by `now` when given (a
    report dated after the caller's clock is not filed yet at that moment) — each with when it was
    filed (UTC)."""
    r = WeeklyReport
    stmt = (
        select(r.unit_id, r.submitted_at)
        .join(Unit, Unit.id == r.unit_id)
        .where(
            subtree(session, base_path),
            r.week_start == week,
            r.status == "final",
        )
    )
    if now is not None:
        stmt = stmt.where(r.submitted_at <= now)
    return {
        int(uid): at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        for uid, at in (await session.execute(stmt)).all()
    }


async def due_dossiers(
    session: AsyncSession, now: datetime, today_end: datetime, until: datetime, limit_codes: int
) -> dict[int, tuple[int, int, int, list[str]]]:
    """Per commune, open dossiers: (overdue at `now`, due later today, due by `until` (end of
    tomorrow), the first `limit_codes` codes by due time)."""
    d = Dossier
    open_ = and_(d.finished_at.is_(None), d.status.not_in(("withdrawn", "rejected", "returned")))
    stmt = (
        select(
            d.unit_id,
            func.sum(case((d.due_at < now, 1), else_=0)),
            func.sum(case((and_(d.due_at >= now, d.due_at < today_end), 1), else_=0)),
            func.sum(case((d.due_at >= today_end, 1), else_=0)),
        )
        .where(open_, d.due_at < until)
        .group_by(d.unit_id)
    )
    out: dict[int, tuple[int, int, int, list[str]]] = {}
    for unit_id, late, today, tomorrow in (await session.execute(stmt)).all():
        codes_stmt = (
            select(d.code)
            .where(open_, d.due_at < until, d.unit_id == unit_id)
            .order_by(d.due_at, d.code)
            .limit(limit_codes)
        )
        codes = [str(c) for c in (await session.execute(codes_stmt)).scalars()]
        out[int(unit_id)] = (int(late or 0), int(today or 0), int(tomorrow or 0), codes)
    return out


# --- targets -----------------------------------------------------------------------------------


async def upsert_target(
    session: AsyncSession, unit_id: int, indicator: str, period: str, value: float, set_by: int | None
) -> None:
    stmt = _insert(session, KpiTarget).values(
        unit_id=unit_id, indicator=indicator, period=period, target=value, set_by=set_by, set_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["unit_id", "indicator", "period"],
        set_={"target": value, "set_by": set_by, "set_at": utcnow()},
    )
    await session.execute(stmt)


async def targets_for(
    session: AsyncSession, unit_ids: list[int], periods: list[str]
) -> list[tuple[int, str, str, float]]:
    """(unit_id, indicator, period, target) rows for these units and periods."""
    if not unit_ids:
        return []
    stmt = select(KpiTarget.unit_id, KpiTarget.indicator, KpiTarget.period, KpiTarget.target).where(
        KpiTarget.unit_id.in_(unit_ids), KpiTarget.period.in_(periods)
    )
    return [(int(u), str(i), str(p), float(t)) for u, i, p, t in (await session.execute(stmt)).all()]


# --- job runs ---------------------------------------------------------------------------------


async def lock_job(session: AsyncSession, job: str, period: str) -> None:
    """Serialise two workers on the same job period (PostgreSQL; SQLite's BEGIN IMMEDIATE does it)."""
    if dialect_name(session) == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"job:{job}:{period}"}
        )


async def job_run(session: AsyncSession, job: str, period: str) -> JobRun | None:
    stmt = select(JobRun).where(JobRun.job == job, JobRun.period == period)
    return (await session.execute(stmt)).scalar_one_or_none()


async def finish_job_run(
    session: AsyncSession, job: str, period: str, started: datetime, finished: datetime, messages: int
) -> None:
    row = await job_run(session, job, period)
    if row is None:
        row = JobRun(job=job, period=period, started_at=started, messages=0)
        session.add(row)
    row.finished_at = finished
    row.messages = (row.messages or 0) + messages
    await session.flush()


async def last_job_runs(session: AsyncSession) -> dict[str, tuple[str, datetime | None]]:
    stmt = select(JobRun).order_by(JobRun.started_at)
    return {r.job: (r.period, r.finished_at) for r in (await session.execute(stmt)).scalars()}
