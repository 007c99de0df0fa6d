"""Indicators: declared in config (`kpi:` section), computed in SQL over any unit subtree and
any week / month / quarter, compared with targets; and the rules that name lagging units."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import kpi as repo
from db.repositories.kpi import Measures, Span, UnitRow
from services.access import Action, Actor
from services.calendar import Calendar, Convention, Week, parse_weekday
from services.calendar import parse_deadline as parse_deadline
from services.errors import InvalidInput, NotFound

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# --- configuration ---------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorDef(_Model):
    """One indicator: numerator ÷ denominator over named measures (see docs/kpi.md)."""

    id: str
    name_vi: str
    name_en: str
    numerator: str
    denominator: str | None = None  # a measure, or "on_time_denominator" (the setting decides)
    higher_is_better: bool = True
    unit: Literal["percent", "count", "score"] = "percent"

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi


DEFAULT_INDICATORS: tuple[IndicatorDef, ...] = (
    IndicatorDef(
        id="online_rate",
        name_vi="Tỷ lệ hồ sơ trực tuyến",
        name_en="Online dossier rate",
        numerator="received_online",
        denominator="received",
    ),
    IndicatorDef(
        id="full_online_rate",
        name_vi="Tỷ lệ hồ sơ toàn trình",
        name_en="Fully-online rate",
        numerator="received_full_online",
        denominator="received",
    ),
    IndicatorDef(
        id="on_time_rate",
        name_vi="Tỷ lệ giải quyết đúng hạn",
        name_en="On-time resolution rate",
        numerator="resolved_on_time",
        denominator="on_time_denominator",
    ),
    IndicatorDef(
        id="service_coverage",
        name_vi="Tỷ lệ dịch vụ có phát sinh hồ sơ trực tuyến",
        name_en="Online-service coverage",
        numerator="services_with_online",
        denominator="services_offered",
    ),
    IndicatorDef(
        id="help_sessions",
        name_vi="Số buổi hỗ trợ",
        name_en="Help sessions",
        numerator="help_sessions",
        unit="count",
    ),
    IndicatorDef(
        id="citizens_helped",
        name_vi="Số lượt người dân được hỗ trợ",
        name_en="Citizens helped",
        numerator="citizens_helped",
        unit="count",
    ),
    IndicatorDef(
        id="active_volunteers",
        name_vi="Tỷ lệ thành viên tổ hoạt động",
        name_en="Active volunteers",
        numerator="active_volunteers",
        denominator="volunteers",
    ),
    IndicatorDef(
        id="report_on_time",
        name_vi="Báo cáo tuần đúng hạn",
        name_en="Weekly reports on time",
        numerator="reports_on_time",
        denominator="reports_expected",
    ),
    IndicatorDef(
        id="satisfaction",
        # The 1–5 stars citizens give the team's help (/hotro) — not Decision 766's satisfaction.
        name_vi="Mức hài lòng với hỗ trợ của Tổ (1–5 sao)",
        name_en="Satisfaction with the team's help (1–5 stars)",
        numerator="rating_sum",
        denominator="rating_count",
        unit="score",
    ),
)

DEFAULT_SCHEDULES = {
    "weekly_digest": "30 7 * * mon",
    "lagging_reminders": "0 8 * * mon",
    "report_reminder": "0 15 * * fri",
    "due_alert": "0 7 * * *",
    "quarter_end": "30 8 * * *",
}


class Rules(_Model):
    below_target: list[str] = Field(
        default_factory=lambda: ["online_rate", "full_online_rate", "on_time_rate"]
    )
    no_online: bool = True
    report_missing: bool = True
    escalate_after_weeks: int = Field(3, ge=0)  # 0 = never escalate


class KpiSettings(_Model):
    indicators: tuple[IndicatorDef, ...] = DEFAULT_INDICATORS
    # On-time rate: resolved on time ÷ resolved (with a due date) | ÷ (resolved + overdue open) |
    # decision_766: (resolved on time + open and still in time) ÷ (resolved + open), docs/kpi.md.
    on_time_denominator: Literal["resolved", "resolved_and_overdue", "decision_766"] = "resolved"
    # Online rate over every dossier received, or only over dossiers of the procedures the province
    # offers online (`online_procedures`: procedure codes or names as recorded).
    online_rate_scope: Literal["all_dossiers", "online_procedures"] = "all_dossiers"
    online_procedures: tuple[str, ...] = ()
    tolerance: float = Field(5.0, ge=0)  # percentage points (percent indicators)
    tolerance_relative: float = Field(0.1, ge=0)  # share of the target (count / score indicators)
    # Online services a commune offers when it has never reported the number; none by default (the
    # commune's coverage is then "chưa có số liệu").
    services_offered_default: int | None = Field(None, ge=1)
    # The reporting calendar (services/calendar.py, docs/kpi.md): which week a commune reports,
    # the week's last day, and the deadline (weekday and local time; in the reported week for
    # current_week, in the following week for previous_week).
    report_convention: Convention = "current_week"
    week_ends: str = "sun"
    report_deadline: str = "fri 17:00"
    rules: Rules = Rules()
    # Suggestion text per rule or indicator, overriding the catalog: {"online_rate": {"vi": …, "en": …}}
    suggestions: dict[str, dict[str, str]] = Field(default_factory=dict)
    schedules: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SCHEDULES))
    grace_minutes: int = Field(12 * 60, ge=0)  # a missed run is made up at start-up within this window
    quarter_end_days_before: int = Field(14, ge=1)
    top: int = Field(3, ge=1)
    # A rate is ranked (/xephang, the digest) only on at least this many dossiers (its denominator).
    rank_min_denominator: int = Field(5, ge=0)
    due_alert_codes: int = Field(5, ge=0)
    chart_indicator: str = "online_rate"

    @field_validator("report_deadline")
    @classmethod
    def _deadline(cls, value: str) -> str:
        parse_deadline(value)
        return value

    @model_validator(mode="after")
    def _scope(self) -> KpiSettings:
        if self.online_rate_scope == "online_procedures" and not self.online_procedures:
            raise ValueError("online_rate_scope: online_procedures needs the list `online_procedures`")
        return self

    @field_validator("week_ends")
    @classmethod
    def _week_ends(cls, value: str) -> str:
        parse_weekday(value)
        return value

    def calendar(self, tz: ZoneInfo | None = None) -> Calendar:
        return Calendar.make(self.report_convention, self.week_ends, self.report_deadline, tz or TZ)

    @property
    def week_starts(self) -> int:
        return (parse_weekday(self.week_ends) + 1) % 7

    def indicator(self, indicator_id: str) -> IndicatorDef:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise InvalidInput("kpi.errors.unknown_indicator", indicator=indicator_id)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]


def settings_from(config: dict[str, Any] | None) -> KpiSettings:
    """The `kpi:` section of config.yaml (defaults when absent); raises ValueError naming the key."""
    raw = (config or {}).get("kpi") or {}
    schedules = {**DEFAULT_SCHEDULES, **(raw.get("schedules") or {})}
    return KpiSettings.model_validate({**raw, "schedules": schedules})


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting week (services/calendar.py), month, quarter or year in local time; `end` is
    exclusive. A week is named by the ISO week of its Thursday."""

    kind: Literal["week", "month", "quarter", "year"]
    start: date
    end: date

    @property
    def key(self) -> str:
        if self.kind == "week":
            y, w, _ = (self.start + timedelta(days=(3 - self.start.weekday()) % 7)).isocalendar()
            return f"{y}-W{w:02d}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        if self.kind == "week":
            return Period("week", self.start - timedelta(days=7), self.start)
        return period_of(self.kind, self.start - timedelta(days=1))


def period_of(kind: str, day: date, week_starts: int = 0) -> Period:
    """The period of `kind` containing `day`; weeks begin on `week_starts` (0 = Monday)."""
    if kind == "week":
        start = day - timedelta(days=(day.weekday() - week_starts) % 7)
        return Period("week", start, start + timedelta(days=7))
    if kind == "month":
        start = day.replace(day=1)
        nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return Period("month", start, nxt)
    if kind == "quarter":
        q = (day.month - 1) // 3
        start = date(day.year, q * 3 + 1, 1)
        nxt = date(day.year + 1, 1, 1) if q == 3 else date(day.year, q * 3 + 4, 1)
        return Period("quarter", start, nxt)
    if kind == "year":
        return Period("year", date(day.year, 1, 1), date(day.year + 1, 1, 1))
    raise ValueError(kind)


def week_period(week: Week) -> Period:
    return Period("week", week.start, week.end)


def parse_period(text: str, week_starts: int = 0) -> Period:
    """'2026-W47' (the reporting week whose Thursday is in ISO week 47), '2026-11', '2026-Q4' or
    '2026'."""
    s = text.strip().upper()
    if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", s):
        try:
            thursday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 4)
            return period_of("week", thursday, week_starts)
        except ValueError:
            pass
    elif m := re.fullmatch(r"(\d{4})-Q([1-4])", s):
        return period_of("quarter", date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1))
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
        if 1 <= int(m.group(2)) <= 12:
            return period_of("month", date(int(m.group(1)), int(m.group(2)), 1))
    elif re.fullmatch(r"\d{4}", s):
        return period_of("year", date(int(s), 1, 1))
    raise InvalidInput("kpi.errors.bad_period", value=text)


def local_day(now: datetime, tz: ZoneInfo = TZ) -> date:
    return now.astimezone(tz).date()


def _utc(day: date, tz: ZoneInfo, at: time = time(0)) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def report_deadline(week_start: date, settings: KpiSettings, tz: ZoneInfo = TZ) -> datetime:
    """When the report of the week beginning `week_start` is due (the reporting calendar)."""
    cal = settings.calendar(tz)
    return cal.deadline(cal.week_of(week_start))


def make_span(period: Period, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ) -> Span:
    """The period in UTC and the reporting weeks that belong to it (weeks beginning in it)."""
    start, end = _utc(period.start, tz), _utc(period.end, tz)
    ws = settings.week_starts
    first_week = period.start + timedelta(days=(ws - period.start.weekday()) % 7)
    end_week = period.end + timedelta(days=(ws - period.end.weekday()) % 7)
    if period.kind == "week":
        first_week, end_week = period.start, period.end
    due, pending = settings.calendar(tz).due_weeks(first_week, end_week, now)
    return Span(start, end, min(end, now), first_week, end_week, tuple(due), tuple(pending))


# --- figures ----------------------------------------------------------------------------------

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


def _derive(m: Measures, due_weeks: int) -> Measures:
    m = dict(m)
    with_due = m.get("resolved_with_due", m.get("resolved", 0))
    m["resolved_and_overdue"] = with_due + m.get("overdue_open", 0)
    # Decision 766: (resolved on time + open and not yet due) ÷ (resolved + open), due dates known.
    m["on_time_766"] = m.get("resolved_on_time", 0) + m.get("open_in_time", 0)
    m["decision_766"] = with_due + m.get("overdue_open", 0) + m.get("open_in_time", 0)
    # Weeks whose deadline has passed, for every commune; and reports already in for weeks not yet
    # due (a report sent early is on time, and counts before its deadline comes).
    m["reports_expected"] = m.get("communes", 0) * due_weeks + m.get("reports_early", 0)
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
            await repo.work_measures(session, base.path, levels, span, total, settings.online_procedures),
            await repo.commune_measures(
                session, base.path, levels, span, settings.services_offered_default, total
            ),
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
    due = len(span.due_weeks)
    if period.kind != "week":
        # Distinct services are not additive across weeks: no coverage from weekly reports alone.
        for m in out.values():
            if m.get("n_weekly_units") and not m.get("n_dossier_units"):
                m["services_offered"] = 0.0
    return {("" if k == repo.TOTAL else k): _derive(m, due) for k, m in out.items() if k != "" or levels == 0}


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
    from services import targets

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
    from services import targets

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


async def resolve_unit(session: AsyncSession, actor: Actor, code: str | None, action: Action) -> UnitRow:
    """The unit to show: `code`, or the actor's own unit for this action; checks the scope."""
    if code:
        unit = await repo.unit_by_code(session, code)
        if unit is None:
            raise NotFound("errors.unit_not_found", code=code)
        actor.require(action, unit.path)
        return unit
    grants = [g for g in actor.grants_for(action) if g.unit_id is not None]
    if not grants:
        if actor.grants_for(action):  # installation-wide admin: the first root unit
            roots = await repo.children_of_root(session)
            if roots:
                return roots[0]
        actor.require(action, "/none/")
    grants.sort(key=lambda g: len(g.unit_path or ""))
    unit = await repo.unit_by_id(session, grants[0].unit_id or 0)
    if unit is None:
        raise NotFound("errors.unit_not_found", code="?")
    return unit


async def unit_report(
    session: AsyncSession,
    actor: Actor,
    code: str | None,
    now: datetime,
    settings: KpiSettings,
    tz: ZoneInfo = TZ,
    week: Period | None = None,
) -> tuple[UnitFigures, UnitFigures]:
    """/kpi: (this week with last week's values, quarter to date) for one unit."""
    unit = await resolve_unit(session, actor, code, Action.VIEW_KPI)
    week = week or period_of("week", local_day(now, tz))
    wk = (await figures_for(session, unit, [unit], 0, week, now, settings, tz))[0]
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
) -> list[UnitFigures]:
    """Figures for each child unit (one SQL pass per measure family, grouped by child)."""
    if actor is not None:
        actor.require(Action.VIEW_KPI, unit.path)
    kids = await repo.children(session, unit.id)
    return await figures_for(session, unit, kids, 1, period, now, settings, tz)


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
    kids = await repo.children(session, unit.id)
    return await figures_with_total(session, unit, kids, 1, period, now, settings, tz)


def rankable(f: Figure, settings: KpiSettings | None) -> bool:
    """A value, and for a rate or score at least `rank_min_denominator` in its denominator."""
    if f.value is None:
        return False
    least = settings.rank_min_denominator if settings is not None else 0
    return f.denominator is None or f.denominator >= least


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


# --- lagging rules ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a unit lags: the rule, the indicator, its value and target."""

    unit: UnitRow
    rule: Literal["below_target", "no_online", "report_missing", "escalate"]
    indicator: str
    value: float | None
    target: float | None
    weeks: int = 1


def is_below(f: Figure, ind: IndicatorDef, settings: KpiSettings) -> bool:
    if f.value is None or f.target is None:
        return False
    tol = settings.tolerance if ind.unit == "percent" else settings.tolerance_relative * f.target
    return f.value < f.target - tol if ind.higher_is_better else f.value > f.target + tol


def evaluate(uf: UnitFigures, settings: KpiSettings, *, report_missing: bool = False) -> list[Finding]:
    """The findings the configured rules produce for one unit and week (pure, no database)."""
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
    if rules.report_missing and report_missing:
        rep = uf.figures.get("report_on_time")
        out.append(Finding(uf.unit, "report_missing", "report_on_time", None, rep.target if rep else None))
    return out


async def commune_findings(
    session: AsyncSession, week: Period, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ
) -> dict[int, list[Finding]]:
    """Findings for every commune of the installation in one week: one grouped SQL pass over all
    roots (per commune depth, usually one), not one per root."""
    deadline_passed = report_deadline(week.start, settings, tz) <= now
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
    reported = await repo.communes_with_report(session, repo.ALL, week.start) if deadline_passed else set()
    found: dict[int, list[Finding]] = {}
    for levels, group in by_depth.items():
        table = await figures_for(
            session, everything, group, levels, week, now, settings, tz, with_previous=False
        )
        for uf in table:
            missing = deadline_passed and uf.unit.id not in reported
            f = evaluate(uf, settings, report_missing=missing)
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


# --- jobs: bookkeeping and recipients -----------------------------------------------------------


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
        out |= await repo.communes_with_report(session, root.path, week.start)
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
        _utc(today + timedelta(days=1), tz),
        _utc(today + timedelta(days=2), tz),
        settings.due_alert_codes,
    )
    return {u: DueDossiers(*r) for u, r in rows.items()}
