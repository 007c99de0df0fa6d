"""Indicators computed in SQL over any unit subtree and any week / month / quarter, compared
with targets (inherited) and last period's values; the tables and rankings built from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import kpi as repo
from db.repositories.kpi.base import Measures, UnitRow
from services.access import Action, Actor
from services.kpi import targets
from services.kpi.periods import Period, local_day, make_span, period_of
from services.kpi.scope import resolve_unit
from services.kpi.settings import TZ, IndicatorDef, KpiSettings

DOSSIER_SOURCED = {
    "received",
    "received_online",
    "received_full_online",
    "resolved",
    "resolved_on_time",
    "overdue_open",
    "services_with_online",
    "resolved_and_overdue",
    "resolved_with_due",
    "open_in_time",
    "on_time_766",
    "received_listed",
    "received_online_listed",
}
SOURCE_OF = {
    "help_sessions": "sessions",
    "citizens_helped": "sessions",
    "active_volunteers": "sessions",
    "volunteers": "sessions",
    "reports_on_time": "weekly",
    "reports_expected": "weekly",
    "rating_sum": "ratings",
    "rating_count": "ratings",
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One indicator for one unit and period: the value (None = no data), its parts, the source
    used ("dossiers", "weekly", "mixed", "sessions", "ratings" or "none") and the target."""

    indicator: str
    value: float | None
    numerator: float
    denominator: float | None
    source: str
    target: float | None = None
    previous: float | None = None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True, slots=True)
class UnitFigures:
    unit: UnitRow
    period: Period
    measures: Measures
    figures: dict[str, Figure] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        m = self.measures
        return any(m.get(k, 0) for k in ("received", "resolved", "n_weekly_units", "help_sessions"))


def _source(ind: IndicatorDef, m: Measures) -> str:
    if ind.numerator in DOSSIER_SOURCED:
        nd, nw = m.get("n_dossier_units", 0), m.get("n_weekly_units", 0)
        if nd and nw:
            return "mixed"
        return "dossiers" if nd else "weekly" if nw else "none"
    if ind.numerator == "rating_sum" and "rating_count" not in m:
        return "none"
    return SOURCE_OF.get(ind.numerator, "none")


def figure(ind: IndicatorDef, m: Measures, settings: KpiSettings) -> Figure:
    num = m.get(ind.numerator, 0.0)
    if ind.denominator == "on_time_denominator" and settings.on_time_denominator == "decision_766":
        num = m.get("on_time_766", 0.0)
    den_name = ind.denominator or ""
    if (ind.numerator, ind.denominator) == ("received_online", "received") and (
        settings.online_rate_scope == "online_procedures"
    ):
        num, den_name = m.get("received_online_listed", 0.0), "received_listed"
    source = _source(ind, m)
    if ind.denominator is None:
        return Figure(ind.id, num, num, None, source)
    if ind.denominator == "on_time_denominator":
        # Dossiers without a due date are neither on time nor late: left out.
        den_name = {"resolved": "resolved_with_due"}.get(
            settings.on_time_denominator, settings.on_time_denominator
        )
    den = m.get(den_name, 0.0)
    if not den:
        return Figure(ind.id, None, num, den, source)
    ratio = num / den
    return Figure(ind.id, ratio * 100 if ind.unit == "percent" else ratio, num, den, source)


def _derive(m: Measures) -> Measures:
    m = dict(m)
    with_due = m.get("resolved_with_due", m.get("resolved", 0))
    m["resolved_and_overdue"] = with_due + m.get("overdue_open", 0)
    # Decision 766: (resolved on time + open and not yet due) ÷ (resolved + open), due dates known.
    m["on_time_766"] = m.get("resolved_on_time", 0) + m.get("open_in_time", 0)
    m["decision_766"] = with_due + m.get("overdue_open", 0) + m.get("open_in_time", 0)
    # The reports the communes owe (weeks whose deadline has passed and that began after the
    # commune was created), and the reports filed on time without being owed (sent early, or for a
    # week before the commune existed): those count as expected too, never lowering the rate.
    m["reports_expected"] = m.get("reports_due", 0) + m.get("reports_not_owed", 0)
    return m


async def measures(
    session: AsyncSession,
    base: UnitRow,
    levels: int,
    period: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    *,
    with_total: bool = False,
) -> dict[str, Measures]:
    """Every measure for the base unit (levels=0, key "") or grouped by the unit `levels` below it
    (keys: unit ids as text); `with_total` adds the base's own total under "" in the same queries."""
    span = make_span(period, now, settings, tz)
    total = with_total and levels > 0
    async with repo.analytics(session):
        parts = [
            await repo.work_measures(
                session,
                base.path,
                levels,
                span,
                total,
                settings.online_procedures,
                settings.services_offered_default,
            ),
            await repo.commune_measures(session, base.path, levels, span, total),
            await repo.help_measures(session, base.path, levels, span, total),
        ]
        ratings = await repo.satisfaction_ratings(session, base.path, levels, span, total)
    if ratings is not None:
        parts.append(ratings)
    out: dict[str, Measures] = {}
    for part in parts:
        for key, m in part.items():
            out.setdefault(key, {}).update(m)
    if ratings is not None:
        for m in out.values():
            m.setdefault("rating_count", 0.0)
    return {("" if k == repo.TOTAL else k): _derive(m) for k, m in out.items() if k != "" or levels == 0}


def _unit_figures(
    unit: UnitRow,
    period: Period,
    m: Measures,
    pm: Measures | None,
    tmap: dict[tuple[int, str], float],
    settings: KpiSettings,
) -> UnitFigures:
    figs: dict[str, Figure] = {}
    for ind in settings.indicators:
        f = figure(ind, m, settings)
        prev = figure(ind, pm, settings).value if pm is not None else None
        figs[ind.id] = Figure(
            f.indicator, f.value, f.numerator, f.denominator, f.source, tmap.get((unit.id, ind.id)), prev
        )
    return UnitFigures(unit, period, m, figs)


async def figures_for(
    session: AsyncSession,
    base: UnitRow,
    units: list[UnitRow],
    levels: int,
    period: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    *,
    with_previous: bool = True,
) -> list[UnitFigures]:
    """Figures for `units` (the base itself when levels=0, else its descendants `levels` below),
    with targets (inherited) and last period's values."""
    current = await measures(session, base, levels, period, now, settings, tz)
    previous = (
        await measures(session, base, levels, period.previous(), now, settings, tz) if with_previous else {}
    )
    tmap = await targets.effective(session, units, period, settings)
    out: list[UnitFigures] = []
    for unit in units:
        key = "" if levels == 0 else str(unit.id)
        out.append(_unit_figures(unit, period, current.get(key, {}), previous.get(key), tmap, settings))
    return out


async def figures_with_total(
    session: AsyncSession,
    base: UnitRow,
    units: list[UnitRow],
    levels: int,
    period: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    *,
    with_previous: bool = True,
) -> tuple[UnitFigures, list[UnitFigures]]:
    """(the base's own figures, figures for `units` `levels` below it), both from one pass per
    period: the same as figures_for(base, [base], 0) and figures_for(base, units, levels)."""
    if levels == 0:
        raise ValueError("levels must be > 0")
    current = await measures(session, base, levels, period, now, settings, tz, with_total=True)
    previous = (
        await measures(session, base, levels, period.previous(), now, settings, tz, with_total=True)
        if with_previous
        else {}
    )
    tmap = await targets.effective(session, [base, *units], period, settings)
    total = _unit_figures(base, period, current.get("", {}), previous.get(""), tmap, settings)
    rows = [
        _unit_figures(u, period, current.get(str(u.id), {}), previous.get(str(u.id)), tmap, settings)
        for u in units
    ]
    return total, rows


async def unit_report(
    session: AsyncSession,
    actor: Actor,
    code: str | None,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    week: Period | None = None,
) -> tuple[UnitFigures, UnitFigures | None]:
    """/kpi: (the period asked — a week by default — with the one before's values, and for a week
    its quarter to date) for one unit. A month, quarter or year asked for has no quarter-to-date
    part: for a quarter it was the same figures twice."""
    unit = await resolve_unit(session, actor, code, Action.VIEW_KPI)
    week = week or period_of("week", local_day(now, tz))
    wk = (await figures_for(session, unit, [unit], 0, week, now, settings, tz))[0]
    if week.kind != "week":
        return wk, None
    quarter = period_of("quarter", week.start)
    q = (await figures_for(session, unit, [unit], 0, quarter, now, settings, tz, with_previous=False))[0]
    return wk, q


async def child_table(
    session: AsyncSession,
    actor: Actor | None,
    unit: UnitRow,
    period: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    *,
    with_closed: bool = True,
) -> list[UnitFigures]:
    """Figures for each child unit (one SQL pass per measure family, grouped by child); closed
    children only when they had work in the period (`with_closed`, see `_kept`)."""
    if actor is not None:
        actor.require(Action.VIEW_KPI, unit.path)
    kids = await repo.children(session, unit.id, with_closed=with_closed)
    return _kept(await figures_for(session, unit, kids, 1, period, now, settings, tz))


async def child_table_with_total(
    session: AsyncSession,
    actor: Actor | None,
    unit: UnitRow,
    period: Period,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
) -> tuple[UnitFigures, list[UnitFigures]]:
    """(the unit's own figures, child_table): one SQL pass per measure family and period."""
    if actor is not None:
        actor.require(Action.VIEW_KPI, unit.path)
    kids = await repo.children(session, unit.id, with_closed=True)
    total, rows = await figures_with_total(session, unit, kids, 1, period, now, settings, tz)
    return total, _kept(rows)


def _kept(rows: list[UnitFigures]) -> list[UnitFigures]:
    """Open children, and closed ones that had work in the period: the work of a team closed
    later stays in the unit's total, so its row stays too and the rows add up to the total."""
    return [uf for uf in rows if not uf.unit.closed or uf.has_data]


def rank(
    table: list[UnitFigures], indicator: IndicatorDef, settings: KpiSettings | None = None
) -> list[tuple[int | None, UnitFigures]]:
    """Best first; equal values share a rank (1, 1, 3); units with no data, or too small a
    denominator to rank a rate on, last with rank None (by name)."""
    with_value = [u for u in table if rankable(u.figures[indicator.id], settings)]
    without = [u for u in table if not rankable(u.figures[indicator.id], settings)]
    sign = -1 if indicator.higher_is_better else 1

    def value(u: UnitFigures) -> float:
        return round((u.figures[indicator.id].value or 0.0) * sign, 6)

    with_value.sort(key=lambda u: (value(u), u.unit.name))
    ranked: list[tuple[int | None, UnitFigures]] = []
    for i, u in enumerate(with_value):
        same = i > 0 and value(u) == value(with_value[i - 1])
        ranked.append((ranked[-1][0] if same else i + 1, u))
    return ranked + [(None, u) for u in sorted(without, key=lambda u: u.unit.name)]


def rankable(f: Figure, settings: KpiSettings | None) -> bool:
    """A value, and for a rate or score at least `rank_min_denominator` in its denominator."""
    if f.value is None:
        return False
    least = settings.rank_min_denominator if settings is not None else 0
    return f.denominator is None or f.denominator >= least


@dataclass(frozen=True, slots=True)
class DossierSourced:
    """An indicator /kpi takes from the unit's imported dossiers for a week, not from its weekly
    report: the dossiers' figure and the report's own (None when the report cannot give it)."""

    indicator: IndicatorDef
    dossiers: Figure
    reported: Figure | None


async def dossier_sourced(
    session: AsyncSession,
    unit_id: int,
    week_start: date,
    counts: Mapping[str, float],
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
) -> list[DossierSourced]:
    """After /baocao: the indicators for which /kpi uses the commune's dossiers for that week
    (a commune with any dossier in a week is measured on its dossiers), with both figures."""
    unit = await repo.unit_by_id(session, unit_id)
    if unit is None:
        return []
    week = Period("week", week_start, week_start + timedelta(days=7))
    uf = (await figures_for(session, unit, [unit], 0, week, now, settings, tz, with_previous=False))[0]
    own = _derive({**counts, "resolved_with_due": counts.get("resolved", 0.0), "n_weekly_units": 1.0})
    return [
        DossierSourced(ind, uf.figures[ind.id], figure(ind, own, settings))
        for ind in settings.indicators
        if ind.numerator in DOSSIER_SOURCED and uf.figures[ind.id].source == "dossiers"
    ]
