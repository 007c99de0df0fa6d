"""KPI jobs: per-(job, period) bookkeeping, and who receives what (leaders, unit staff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import kpi as repo
from db.repositories.kpi.base import UnitRow
from services.kpi.periods import Period, local_day, local_to_utc
from services.kpi.settings import TZ, KpiSettings


async def lock_job(session: AsyncSession, job: str, period: str) -> None:
    """Hold a per-(job, period) lock until the transaction ends (two bot processes, one run)."""
    await repo.lock_job(session, job, period)


async def job_done(session: AsyncSession, job: str, period: str) -> bool:
    row = await repo.job_run(session, job, period)
    return row is not None and row.finished_at is not None


async def record_job(
    session: AsyncSession, job: str, period: str, started: datetime, finished: datetime, messages: int
) -> None:
    await repo.finish_job_run(session, job, period, started, finished, messages)


async def last_runs(session: AsyncSession) -> dict[str, tuple[str, datetime | None]]:
    return await repo.last_job_runs(session)


async def leaders(session: AsyncSession) -> list[tuple[int, UnitRow]]:
    """(person, unit) for every leader membership: who receives a digest, about what."""
    pairs = await repo.role_holders_anywhere(session, ("leader",))
    units = await repo.units_by_ids(session, sorted({u for _, u in pairs}))
    return [(p, units[u]) for p, u in pairs if u in units]


async def unit_staff(session: AsyncSession, unit: UnitRow) -> list[int]:
    """Officers of the unit and team leaders under it (who is reminded when it lags)."""
    people = {p for p, _u, _r in await repo.holders(session, [unit.id], ("officer",))}
    people |= {p for p, _path in await repo.team_leaders_under(session, [unit.path])}
    return sorted(people)


async def holders_of(session: AsyncSession, unit_ids: list[int], role: str) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for person, unit_id, _r in await repo.holders(session, unit_ids, (role,)):
        out.setdefault(unit_id, []).append(person)
    return out


async def units_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, UnitRow]:
    return await repo.units_by_ids(session, ids)


async def communes(session: AsyncSession) -> list[UnitRow]:
    out: list[UnitRow] = []
    for root in await repo.roots(session):
        out += await repo.units_of_kind(session, root.path, "commune")
    return out


async def communes_reported(session: AsyncSession, week: Period) -> set[int]:
    out: set[int] = set()
    for root in await repo.roots(session):
        out |= set(await repo.communes_with_report(session, root.path, week.start))
    return out


@dataclass(frozen=True, slots=True)
class DueDossiers:
    """A commune's open dossiers: overdue, due later today, due tomorrow, the first few codes."""

    overdue: int
    today: int
    tomorrow: int
    codes: list[str]

    @property
    def total(self) -> int:
        return self.overdue + self.today + self.tomorrow


async def due_dossiers(
    session: AsyncSession, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ
) -> dict[int, DueDossiers]:
    """Per commune: open dossiers overdue, due today, due tomorrow (local days), a few codes."""
    today = local_day(now, tz)
    rows = await repo.due_dossiers(
        session,
        now,
        local_to_utc(today + timedelta(days=1), tz),
        local_to_utc(today + timedelta(days=2), tz),
        settings.due_alert_codes,
    )
    return {u: DueDossiers(*r) for u, r in rows.items()}
