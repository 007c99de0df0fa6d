"""Periods (week, month, quarter, year) in local time, report deadlines and the UTC span a
period covers in the measure queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from db.repositories.kpi.base import Span
from services.errors import InvalidInput
from services.kpi.settings import TZ, KpiSettings, parse_deadline


@dataclass(frozen=True, slots=True)
class Period:
    """A week (Monday–Sunday), month, quarter or year in local time; `end` is exclusive."""

    kind: Literal["week", "month", "quarter", "year"]
    start: date
    end: date

    @property
    def key(self) -> str:
        if self.kind == "week":
            y, w, _ = self.start.isocalendar()
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
        return period_of(self.kind, self.start - timedelta(days=1))


def period_of(kind: str, day: date) -> Period:
    if kind == "week":
        start = day - timedelta(days=day.weekday())
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


def parse_period(text: str) -> Period:
    """'2026-W47', '2026-11', '2026-Q4' or '2026'."""
    s = text.strip().upper()
    if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", s):
        try:
            return period_of("week", date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
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
    weekday, at = parse_deadline(settings.report_deadline)
    return local_to_utc(week_start + timedelta(days=weekday), tz, at)


def make_span(period: Period, now: datetime, settings: KpiSettings, tz: ZoneInfo = TZ) -> Span:
    start, end = local_to_utc(period.start, tz), local_to_utc(period.end, tz)
    first_week = period.start + timedelta(days=(7 - period.start.weekday()) % 7)
    if period.kind == "week":
        first_week = period.start
    end_week = period.end + timedelta(days=(7 - period.end.weekday()) % 7)
    if period.kind == "week":
        end_week = period.end
    due: list[tuple[date, datetime]] = []
    wk = first_week
    while wk < end_week:
        deadline = report_deadline(wk, settings, tz)
        if deadline <= now:
            due.append((wk, deadline))
        wk += timedelta(days=7)
    return Span(start, end, min(end, now), first_week, end_week, tuple(due))
