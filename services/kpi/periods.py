"""Periods (week, month, quarter, year) in local time, report deadlines and the UTC span a
period covers in the measure queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from db.repositories.kpi.base import Span
from services.calendar import Week
from services.errors import InvalidInput
from services.kpi.settings import TZ, KpiSettings
from services.text import fold


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


YEARS = (2000, 2100)  # the years a period may fall in


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


# A period as people say it (words without diacritics) → (kind, how many periods back).
_SAID = {
    "tuan truoc": ("week", 1),
    "tuan nay": ("week", 0),
    "thang truoc": ("month", 1),
    "thang nay": ("month", 0),
    "quy truoc": ("quarter", 1),
    "quy nay": ("quarter", 0),
    "nam truoc": ("year", 1),
    "nam nay": ("year", 0),
    "last week": ("week", 1),
    "this week": ("week", 0),
    "last month": ("month", 1),
    "this month": ("month", 0),
    "last quarter": ("quarter", 1),
    "this quarter": ("quarter", 0),
}


def said_period(words: str, today: date, week_starts: int = 0) -> Period | None:
    """«tuần trước», «quý này», «last week»…: the period these words name around `today`, else None."""
    said = _SAID.get(fold(words))
    if said is None:
        return None
    kind, back = said
    period = period_of(kind, today, week_starts)
    for _ in range(back):
        period = period.previous()
    return period


def parse_period(text: str, week_starts: int = 0) -> Period:
    """'2026-W47' (the reporting week whose Thursday is in ISO week 47), '2026-11', '2026-Q4' or
    '2026'; a year outside YEARS is no period anyone reports on («9999-W52» crashed the pages)."""
    try:
        period = _parse_period(text, week_starts)
    except (OverflowError, ValueError):  # a date past year 9999 or before year 1
        raise InvalidInput("kpi.errors.bad_period", value=text) from None
    if not (YEARS[0] <= period.start.year <= YEARS[1]):
        raise InvalidInput("kpi.errors.bad_period", value=text)
    return period


def _parse_period(text: str, week_starts: int = 0) -> Period:
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


def local_to_utc(day: date, tz: ZoneInfo, at: time = time(0)) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def report_deadline(week_start: date, settings: KpiSettings, tz: ZoneInfo = TZ) -> datetime:
    """When the report of the week beginning `week_start` is due (the reporting calendar)."""
    cal = settings.calendar(tz)
    return cal.deadline(cal.week_of(week_start))


def make_span(period: Period, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ) -> Span:
    """The period in UTC and the reporting weeks that belong to it (weeks beginning in it)."""
    start, end = local_to_utc(period.start, tz), local_to_utc(period.end, tz)
    ws = settings.week_starts
    first_week = period.start + timedelta(days=(ws - period.start.weekday()) % 7)
    end_week = period.end + timedelta(days=(ws - period.end.weekday()) % 7)
    if period.kind == "week":
        first_week, end_week = period.start, period.end
    due, pending = settings.calendar(tz).due_weeks(first_week, end_week, now)
    begins = tuple((wk, local_to_utc(wk, tz)) for wk, _dl in [*due, *pending])
    return Span(start, end, min(end, now), first_week, end_week, tuple(due), tuple(pending), begins)


def week_period(week: Week) -> Period:
    return Period("week", week.start, week.end)
