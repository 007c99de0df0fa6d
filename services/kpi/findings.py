"""The rules that name lagging units: below target, no online dossier at all, weekly report
missing or filed late, and the streaks that escalate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import kpi as repo
from db.repositories.kpi.base import UnitRow
from services.kpi.figures import Figure, UnitFigures, figures_for
from services.kpi.periods import Period, report_deadline
from services.kpi.settings import TZ, IndicatorDef, KpiSettings


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a unit lags: the rule, the indicator, its value and target."""

    unit: UnitRow
    rule: Literal["below_target", "no_online", "report_missing", "report_late", "escalate"]
    indicator: str
    value: float | None
    target: float | None
    weeks: int = 1
    at: datetime | None = None  # report_late: when the report was filed (UTC)


def is_below(f: Figure, ind: IndicatorDef, settings: KpiSettings) -> bool:
    if f.value is None or f.target is None:
        return False
    tol = settings.tolerance if ind.unit == "percent" else settings.tolerance_relative * f.target
    return f.value < f.target - tol if ind.higher_is_better else f.value > f.target + tol


def evaluate(
    uf: UnitFigures,
    settings: KpiSettings,
    *,
    report_missing: bool = False,
    filed_late: datetime | None = None,
) -> list[Finding]:
    """The findings the configured rules produce for one unit and week (pure, no database).
    `report_missing`: no final report by the deadline; `filed_late`: the final report came after
    the deadline, at that moment (both are the `report_missing` rule: not filed on time)."""
    out: list[Finding] = []
    rules = settings.rules
    for ind_id in rules.below_target:
        ind = settings.indicator(ind_id)
        f = uf.figures[ind_id]
        if is_below(f, ind, settings):
            out.append(Finding(uf.unit, "below_target", ind_id, f.value, f.target))
    online = uf.figures.get("online_rate")
    if rules.no_online and online is not None and online.denominator and not online.numerator:
        if not any(x.indicator == "online_rate" for x in out):
            out.append(Finding(uf.unit, "no_online", "online_rate", 0.0, online.target))
        else:
            out = [
                Finding(uf.unit, "no_online", "online_rate", 0.0, online.target)
                if x.indicator == "online_rate"
                else x
                for x in out
            ]
    # Not for a week the commune did not owe (it was created after the week began).
    if rules.report_missing and (report_missing or filed_late) and uf.measures.get("reports_due", 1):
        rep = uf.figures.get("report_on_time")
        target = rep.target if rep else None
        if report_missing:
            out.append(Finding(uf.unit, "report_missing", "report_on_time", None, target))
        else:
            out.append(Finding(uf.unit, "report_late", "report_on_time", None, target, at=filed_late))
    return out


def report_status(
    filed: dict[int, datetime], unit_id: int, deadline: datetime, now: datetime
) -> tuple[bool, datetime | None]:
    """(missing, filed late at) for one commune and week, as «Báo cáo tuần đúng hạn» counts: once
    the deadline has passed (at `now`), no final report filed by `now` is missing, one filed after
    the deadline (a correction after the window is dated when sent) is late."""
    if deadline > now:
        return False, None
    at = filed.get(unit_id)
    if at is None:
        return True, None
    return False, (at if at > deadline else None)


async def commune_findings(
    session: AsyncSession, week: Period, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ
) -> dict[int, list[Finding]]:
    """Findings for every commune of the installation in one week: one grouped SQL pass over all
    roots (per commune depth, usually one), not one per root."""
    deadline = report_deadline(week.start, settings, tz)
    roots = await repo.roots(session)
    everything = UnitRow(0, "", "", "installation", repo.ALL, None)
    active = await repo.units_of_kind(session, repo.ALL, "commune")
    # Same communes and order as one pass per active root (communes by id within a root).
    in_root: list[tuple[UnitRow, list[UnitRow]]] = [
        (root, [c for c in active if c.path.startswith(root.path)]) for root in roots
    ]
    by_depth: dict[int, list[UnitRow]] = {}
    for _root, communes in in_root:
        for c in communes:
            by_depth.setdefault(c.path.count("/") - 1, []).append(c)
    filed = await repo.communes_with_report(session, repo.ALL, week.start, now) if deadline <= now else {}
    found: dict[int, list[Finding]] = {}
    for levels, group in by_depth.items():
        table = await figures_for(
            session, everything, group, levels, week, now, settings, tz, with_previous=False
        )
        for uf in table:
            missing, late = report_status(filed, uf.unit.id, deadline, now)
            f = evaluate(uf, settings, report_missing=missing, filed_late=late)
            if f:
                found[uf.unit.id] = f
    out: dict[int, list[Finding]] = {}
    for root, communes in in_root:
        depths: dict[int, list[UnitRow]] = {}
        for c in communes:
            depths.setdefault(c.path.count("/") - root.path.count("/"), []).append(c)
        for group in depths.values():
            for c in group:
                if c.id in found:
                    out[c.id] = found[c.id]
    return out


async def lagging_streaks(
    session: AsyncSession, week: Period, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ
) -> tuple[dict[int, list[Finding]], dict[int, int]]:
    """This week's findings per commune and, for communes lagging every one of the last
    `escalate_after_weeks` weeks, that number of weeks."""
    current = await commune_findings(session, week, now, settings, tz)
    n = settings.rules.escalate_after_weeks
    streak = {uid: 1 for uid in current}
    if n <= 1:
        return current, ({uid: 1 for uid in current} if n == 1 else {})
    still = set(current)
    wk = week
    for _ in range(n - 1):
        wk = wk.previous()
        if not still:
            break
        earlier = await commune_findings(session, wk, now, settings, tz)
        still &= set(earlier)
        for uid in still:
            streak[uid] += 1
    return current, {uid: streak[uid] for uid in still if streak[uid] >= n}
