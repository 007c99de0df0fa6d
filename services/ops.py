"""Incidents and job attempts: what stopped working, told to the admins once when it starts and once
when it clears. The checks themselves live at the edge (bot/watchdog.py); this keeps the record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Incident, JobAttempt, Membership
from services.access import Role


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong now: `key` names the incident (stable while it lasts), `what` the catalog
    key of its sentence and `params` its values."""

    key: str
    what: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    opened: tuple[Problem, ...]
    resolved: tuple[tuple[str, dict[str, Any]], ...]  # (key, details it was opened with)


async def reconcile(
    session: AsyncSession, problems: Iterable[Problem], now: datetime, *, scope: str | None = None
) -> Change:
    """Open an incident for each new problem, resolve open ones no longer found. `scope` limits the
    resolving to incidents whose key starts with it (a check that only sees part of the picture)."""
    found = {p.key: p for p in problems}
    rows = (await session.execute(select(Incident).where(Incident.resolved_at.is_(None)))).scalars().all()
    open_keys = {r.key: r for r in rows}
    opened = []
    for key, problem in found.items():
        if key not in open_keys:
            session.add(Incident(key=key, opened_at=now, details={"what": problem.what, **problem.params}))
            opened.append(problem)
    resolved = []
    for key, row in open_keys.items():
        if key in found or (scope is not None and not key.startswith(scope)):
            continue
        row.resolved_at = now
        resolved.append((key, dict(row.details)))
    return Change(tuple(opened), tuple(resolved))


async def open_incidents(session: AsyncSession) -> list[Incident]:
    stmt = select(Incident).where(Incident.resolved_at.is_(None)).order_by(Incident.opened_at)
    return list((await session.execute(stmt)).scalars())


async def admins(session: AsyncSession) -> list[int]:
    """People who hold the admin role now (they get the alerts)."""
    stmt = (
        select(Membership.person_id)
        .where(Membership.role == Role.ADMIN.value, Membership.active.is_(True))
        .distinct()
        .order_by(Membership.person_id)
    )
    return list((await session.execute(stmt)).scalars())


async def start_attempt(session: AsyncSession, job: str, period: str, worker: str, now: datetime) -> int:
    attempt = JobAttempt(job=job, period=period, worker=worker, started_at=now, status="running")
    session.add(attempt)
    await session.flush()
    return attempt.id


async def finish_attempt(
    session: AsyncSession, attempt_id: int, now: datetime, *, error: str | None = None
) -> None:
    await session.execute(
        update(JobAttempt)
        .where(JobAttempt.id == attempt_id)
        .values(finished_at=now, status="failed" if error else "done", error=(error or None) and error[:500])
    )


async def attempts_since(session: AsyncSession, since: datetime) -> list[JobAttempt]:
    stmt = select(JobAttempt).where(JobAttempt.started_at >= since).order_by(JobAttempt.started_at)
    return list((await session.execute(stmt)).scalars())


async def last_attempts(session: AsyncSession, job: str, limit: int = 1) -> list[JobAttempt]:
    stmt = select(JobAttempt).where(JobAttempt.job == job).order_by(JobAttempt.started_at.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def first_attempt_at(session: AsyncSession) -> datetime | None:
    """When this installation first ran a scheduled job (None: never)."""
    return await session.scalar(select(func.min(JobAttempt.started_at)))
