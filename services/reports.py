"""A commune's weekly counts (/baocao): which week, checks, draft vs final, replace-on-confirm."""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import astuple, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Unit, WeeklyReport
from services.access import Action, Actor
from services.calendar import Calendar, Week
from services.errors import Conflict, InvalidInput, NotFound

MAX_VALUE = 1_000_000
DEFAULT_CALENDAR = Calendar()


@dataclass(frozen=True, slots=True)
class Counts:
    """The eight numbers, in the order they are asked and typed."""

    received: int
    received_online: int
    received_full_online: int
    resolved: int
    resolved_on_time: int
    overdue_open: int
    services_offered: int
    services_with_online: int


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Counts))
# (part, whole): a part may not exceed its whole.
PARTS = (
    ("received_online", "received"),
    ("received_full_online", "received_online"),
    ("resolved_on_time", "resolved"),
    ("services_with_online", "services_offered"),
)


@dataclass(frozen=True, slots=True)
class ReportView:
    unit_id: int
    week_start: date
    counts: Counts
    status: str  # draft | final
    submitted_at: datetime | None = None


def week_start_of(day: date, cal: Calendar | None = None) -> date:
    """First day of the reporting week containing `day` (Monday unless the calendar says)."""
    return (cal or DEFAULT_CALENDAR).week_of(day).start


def last_finished_week(today: date, cal: Calendar | None = None) -> date:
    """First day of the last reporting week that has ended."""
    return (cal or DEFAULT_CALENDAR).week_of(today).previous().start


def week_has_ended(week_start: date, today: date) -> bool:
    return today > week_start + timedelta(days=6)


_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?$")
_EARLY_DAYS = 26 * 7  # how far ahead a week named without its year may be and still be this year's
_WEEK = re.compile(r"^(?:tuan|tuần|w|week)\s*(\d{1,2})(?:\s*/\s*(\d{4}))?$")


def pick_week(spec: str, now: datetime | date, cal: Calendar | None = None) -> date:
    """'' → the week the calendar has open now; 'tuan 47' / 'tuần 47/2026' / 'w47' → week 47
    (the week whose Thursday is in ISO week 47); a date → the week containing it."""
    cal = cal or DEFAULT_CALENDAR
    if isinstance(now, datetime):
        today = cal.today(now)
    else:
        today, now = now, datetime.combine(now, time(12), tzinfo=cal.tz)
    s = spec.strip().lower()
    if not s:
        return cal.open_week(now).start
    m = _WEEK.match(s)
    if m:
        return _named_week(cal, int(m.group(1)), m.group(2), today, spec).start
    m = _DATE.match(s)
    if m:
        try:
            day = date(int(m.group(3) or today.year), int(m.group(2)), int(m.group(1)))
        except ValueError:
            raise InvalidInput("baocao.errors.bad_week", value=spec[:20]) from None
        # No year: a date far ahead is last year's, as a week number is («30/12» typed on 4 January
        # is the week just ended, not 30/12 of this year).
        if not m.group(3) and (day - today).days > _EARLY_DAYS:
            with suppress(ValueError):  # 29/02 has no last year's date: left as typed
                day = day.replace(year=day.year - 1)
        return cal.week_of(day).start
    raise InvalidInput("baocao.errors.bad_week", value=spec[:20])


def _week_or_none(cal: Calendar, year: int, number: int) -> Week | None:
    try:
        return cal.week_named(year, number)
    except ValueError:  # week 53 of a year of 52 weeks, or no such number
        return None


def _named_week(cal: Calendar, number: int, year_text: str | None, today: date, spec: str) -> Week:
    """«tuần N» [«/YYYY»]. Without a year: this year's week, unless it is far ahead or this year has
    no such week (week 53 typed in January is last year's, e.g. 53/2026 on 04/01/2027)."""
    if not 1 <= number <= 53:
        raise InvalidInput("baocao.errors.bad_week", value=spec[:20])
    year = int(year_text or today.year)
    week = _week_or_none(cal, year, number)
    # A week a few weeks ahead is this year's, not yet begun («tuần 52» typed on 1 December is
    # refused, not 52/2025).
    if not year_text and (week is None or (week.start - today).days > _EARLY_DAYS):
        earlier = _week_or_none(cal, year - 1, number)
        if earlier is not None:
            week = earlier
        elif week is not None:
            week = cal.week_named(year - 1, 52)
    if week is None:
        raise InvalidInput("baocao.errors.no_week_53", year=year)
    return week


# A count: plain digits, or groups of three set apart by one and the same mark («1.200» as Vietnamese
# writes it, «1,200», «1 200»). «1,5», «12.5» are decimals and «2 15» two numbers: never read as 15,
# 125 or 215 (they were, and the wrong count was stored).
_WHOLE = re.compile(r"\d+|\d{1,3}([.,\s])\d{3}(?:\1\d{3})*")
_DECIMAL = re.compile(r"\d*[.,]\d+")
_SEVERAL = re.compile(r"\d+(?:\s+\d+)+")


def parse_number(text: str) -> int:
    """A whole, non-negative count as an officer types it; InvalidInput says what is wrong."""
    t = text.strip()
    shown = t[:20]
    if t.startswith("-") and (_WHOLE.fullmatch(t[1:].strip()) or _DECIMAL.fullmatch(t[1:].strip())):
        raise InvalidInput("baocao.errors.negative")
    if _WHOLE.fullmatch(t):
        n = int(re.sub(r"\D", "", t))
    elif _DECIMAL.fullmatch(t):
        raise InvalidInput("baocao.errors.not_whole", value=shown)
    elif _SEVERAL.fullmatch(t):
        raise InvalidInput("baocao.errors.several", value=shown, first=t.split()[0], second=t.split()[-1])
    else:
        raise InvalidInput("baocao.errors.not_a_number", value=shown)
    if n > MAX_VALUE:
        raise InvalidInput("baocao.errors.too_big")
    return n


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the numbers: the catalog key, its params, and the answer (index into
    FIELDS) the officer should fix."""

    key: str
    params: dict[str, object]
    field: int


def problems(values: list[int | None]) -> list[Problem]:
    """Every problem with the numbers given so far (None = not asked yet), in question order."""
    out: list[Problem] = []
    for i, v in enumerate(values):
        if v is not None and v < 0:
            out.append(Problem("baocao.errors.negative", {}, i))
    known = dict(zip(FIELDS, values, strict=False))
    for part, whole in PARTS:
        p, w = known.get(part), known.get(whole)
        if p is not None and w is not None and p > w:
            params: dict[str, object] = {"part": part, "whole": whole, "part_value": p, "whole_value": w}
            out.append(Problem("baocao.errors.part_over_total", params, FIELDS.index(part)))
    return out


def check(values: list[int]) -> Counts:
    """Eight non-negative numbers where every part ≤ its total (raises the first problem)."""
    if len(values) != len(FIELDS):
        raise InvalidInput("baocao.errors.count", expected=len(FIELDS), got=len(values))
    found = problems(list(values))
    if found:
        raise InvalidInput(found[0].key, **found[0].params)
    return Counts(*values)


async def commune_units(session: AsyncSession, actor: Actor) -> list[Unit]:
    out: list[Unit] = []
    for grant in actor.grants_for(Action.SUBMIT_WEEKLY_REPORT):
        if grant.unit_id is not None:
            unit = await session.get(Unit, grant.unit_id)
            if unit is not None and unit not in out:
                out.append(unit)
    return out


async def get(session: AsyncSession, unit_id: int, week_start: date) -> ReportView | None:
    row = (
        await session.execute(
            select(WeeklyReport).where(WeeklyReport.unit_id == unit_id, WeeklyReport.week_start == week_start)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    counts = Counts(*(int(getattr(row, f)) for f in FIELDS))
    return ReportView(row.unit_id, row.week_start, counts, row.status, _aware(row.submitted_at))


async def save(
    session: AsyncSession,
    actor: Actor,
    unit_id: int,
    week_start: date,
    counts: Counts,
    now: datetime,
    tz: ZoneInfo,
    *,
    replace: bool = False,
    cal: Calendar | None = None,
) -> ReportView:
    """/baocao: check the officer may report for the unit, then file() the week's counts."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("errors.unit_not_found", code=str(unit_id))
    actor.require(Action.SUBMIT_WEEKLY_REPORT, unit.path)
    return await file(
        session, unit_id, week_start, counts, now, cal or Calendar(tz=tz),
        person_id=actor.person_id or None, replace=replace,
    )  # fmt: skip


async def file(
    session: AsyncSession,
    unit_id: int,
    week_start: date,
    counts: Counts,
    now: datetime,
    cal: Calendar,
    *,
    person_id: int | None,
    replace: bool = False,
) -> ReportView:
    """Store a week's counts as the reporting calendar says: a draft while the week is not yet
    reportable (previous_week convention), else the week's report; an existing week needs
    `replace`. A correction sent before `keeps_on_time_until` keeps an on-time report on time
    (its `submitted_at` stays the first on-time filing); a later one is dated now."""
    check(list(astuple(counts)))
    week = cal.week_of(week_start)
    if week.start > cal.today(now):
        raise InvalidInput("baocao.errors.future_week")
    status = "draft" if cal.is_draft(week, now) else "final"
    row = (
        await session.execute(
            select(WeeklyReport).where(WeeklyReport.unit_id == unit_id, WeeklyReport.week_start == week.start)
        )
    ).scalar_one_or_none()
    if row is not None and not replace:
        raise Conflict("baocao.errors.exists", week=week.start.strftime("%d/%m/%Y"))
    keep_time = (
        row is not None
        and row.status == "final"
        and status == "final"
        and _aware(row.submitted_at) <= cal.deadline(week)
        and now < cal.keeps_on_time_until(week)
    )
    if row is None:
        row = WeeklyReport(unit_id=unit_id, week_start=week.start)
        session.add(row)
    for name in FIELDS:
        setattr(row, name, getattr(counts, name))
    row.status = status
    row.submitted_by = person_id
    if not keep_time:
        row.submitted_at = now
    await session.flush()
    return ReportView(unit_id, week.start, counts, status, _aware(row.submitted_at))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def on_time(view: ReportView, cal: Calendar) -> bool:
    """Filed (final) by the week's deadline."""
    at = view.submitted_at
    return view.status == "final" and at is not None and at <= cal.deadline(Week(view.week_start))


def correction_files_late(existing: ReportView, now: datetime, cal: Calendar) -> bool:
    """Replacing `existing` now would turn an on-time report into a late one: the correction window
    (`keeps_on_time_until`) has passed, and file() dates a later correction now (see docs/kpi.md)."""
    week = Week(existing.week_start)
    return on_time(existing, cal) and not cal.is_draft(week, now) and now >= cal.keeps_on_time_until(week)


async def reported_weeks(session: AsyncSession, unit_id: int, days: set[date]) -> list[date]:
    """The weeks (their first day) that have a weekly report of `unit_id` and contain one of `days`:
    imported dossiers there now replace the report's figures in /kpi."""
    if not days:
        return []
    rows = await session.execute(
        select(WeeklyReport.week_start).where(
            WeeklyReport.unit_id == unit_id,
            WeeklyReport.status == "final",
            WeeklyReport.week_start >= min(days) - timedelta(days=6),
            WeeklyReport.week_start <= max(days),
        )
    )
    return sorted(
        start for start in rows.scalars() if any(start <= d <= start + timedelta(days=6) for d in days)
    )
