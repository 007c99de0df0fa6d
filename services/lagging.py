"""One source of a week's findings (why a commune lags) for the digest, the Monday reminders and
the escalations: the same rules (kpi.evaluate), the same figures, the same reporting calendar —
so a leader's digest and a commune's reminder can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import kpi as repo
from db.repositories.kpi import UnitRow
from services import kpi
from services.kpi import TZ, Finding, KpiSettings, Period


@dataclass(frozen=True, slots=True)
class Lagging:
    """A commune with this week's findings."""

    unit: UnitRow
    findings: tuple[Finding, ...]


async def for_week(
    session: AsyncSession, week: Period, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ
) -> dict[int, list[Finding]]:
    """Findings of every commune of the installation for one week (commune id → findings)."""
    return await kpi.commune_findings(session, week, now, settings, tz)


async def under(
    session: AsyncSession,
    unit: UnitRow,
    week: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    *,
    everywhere: dict[int, list[Finding]] | None = None,
) -> list[Lagging]:
    """The lagging communes in `unit`'s subtree (the unit itself when it is a commune), by name;
    from `everywhere` (for_week's answer) when given, else computed for the subtree only."""
    communes = [unit] if unit.kind == "commune" else await repo.units_of_kind(session, unit.path, "commune")
    if everywhere is None:
        everywhere = await _subtree(session, unit, communes, week, now, settings, tz)
    out = [Lagging(c, tuple(everywhere[c.id])) for c in communes if everywhere.get(c.id)]
    return sorted(out, key=lambda lg: lg.unit.name)


async def _subtree(
    session: AsyncSession,
    base: UnitRow,
    communes: list[UnitRow],
    week: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo,
) -> dict[int, list[Finding]]:
    """kpi.commune_findings restricted to one subtree (same rules, same figures)."""
    deadline = kpi.report_deadline(week.start, settings, tz)
    filed = await repo.communes_with_report(session, base.path, week.start, now) if deadline <= now else {}
    by_depth: dict[int, list[UnitRow]] = {}
    for c in communes:
        by_depth.setdefault(c.path.count("/") - base.path.count("/"), []).append(c)
    out: dict[int, list[Finding]] = {}
    for levels, group in by_depth.items():
        table = await kpi.figures_for(
            session, base, group, levels, week, now, settings, tz, with_previous=False
        )
        for uf in table:
            missing, late = kpi.report_status(filed, uf.unit.id, deadline, now)
            found = kpi.evaluate(uf, settings, report_missing=missing, filed_late=late)
            if found:
                out[uf.unit.id] = found
    return out
