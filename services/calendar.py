"""The reporting calendar: which days make a reporting week, how a week is named, when its report
is due, which week an officer reports by default, and when a report is a draft.

One calendar (from the `kpi:` settings) is used by /baocao, the Friday reminder, the Monday
reminders, the digest, /kpi and /xephang, so they can never disagree about "this week's report".

Two conventions (docs/kpi.md):

* ``current_week`` — a commune reports the week it is in; the report is due on a weekday of that
  week (e.g. Friday 17:00). Counts up to the moment of sending are the week's figures; a
  correction sent before the week ends keeps the report on time.
* ``previous_week`` — a commune reports the week that has just ended; the report is due on a
  weekday of the following week (e.g. Monday 17:00). A report for a week that has not ended is a
  draft.

A week ends on `week_ends` (Sunday by default; some provinces close the week on Thursday). A week
is named like an ISO week by the Thursday it contains, so a Friday–Thursday week ending on
Thursday 19/11/2026 and the Monday–Sunday week 16/11–22/11/2026 are both "tuần 47/2026".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Convention = Literal["current_week", "previous_week"]


def parse_deadline(value: str) -> tuple[int, time]:
    """'fri 17:00' → (4, 17:00)."""
    m = re.fullmatch(r"\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*", value.lower())
    if not m or m.group(1) not in WEEKDAYS or int(m.group(2)) > 23 or int(m.group(3)) > 59:
        raise ValueError(f"expected like 'fri 17:00', got {value!r}")
    return WEEKDAYS.index(m.group(1)), time(int(m.group(2)), int(m.group(3)))


def parse_weekday(value: str) -> int:
    v = value.strip().lower()[:3]
    if v not in WEEKDAYS:
        raise ValueError(f"expected one of {', '.join(WEEKDAYS)}, got {value!r}")
    return WEEKDAYS.index(v)


@dataclass(frozen=True, slots=True)
class Week:
    """One reporting week: `start` .. `last` (inclusive), named by its Thursday's ISO week."""

    start: date

    @property
    def last(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def end(self) -> date:
        """Exclusive end."""
        return self.start + timedelta(days=7)

    @property
    def thursday(self) -> date:
        return self.start + timedelta(days=(3 - self.start.weekday()) % 7)

    @property
    def year_number(self) -> tuple[int, int]:
        y, w, _ = self.thursday.isocalendar()
        return y, w

    @property
    def key(self) -> str:
        y, w = self.year_number
        return f"{y}-W{w:02d}"

    def previous(self) -> Week:
        return Week(self.start - timedelta(days=7))

    def next(self) -> Week:
        return Week(self.end)


@dataclass(frozen=True, slots=True)
class Calendar:
    convention: Convention = "current_week"
    week_ends: int = 6  # 0 = Monday … 6 = Sunday
    deadline_day: int = 4
    deadline_time: time = time(17, 0)
    tz: ZoneInfo = VIETNAM

    @classmethod
    def make(
        cls, convention: Convention, week_ends: str, deadline: str, tz: ZoneInfo | None = None
    ) -> Calendar:
        day, at = parse_deadline(deadline)
        return cls(convention, parse_weekday(week_ends), day, at, tz or VIETNAM)

    @property
    def week_starts(self) -> int:
        return (self.week_ends + 1) % 7

    # --- naming ---------------------------------------------------------------------------

    def week_of(self, day: date) -> Week:
        return Week(day - timedelta(days=(day.weekday() - self.week_starts) % 7))

    def week_named(self, year: int, number: int) -> Week:
        """The week whose Thursday is in ISO week `number` of `year` (ValueError if none)."""
        return self.week_of(date.fromisocalendar(year, number, 4))

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.tz)

    def today(self, now: datetime) -> date:
        return self.local(now).date()

    def _utc(self, day: date, at: time = time(0)) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    # --- deadlines and drafts -------------------------------------------------------------

    def deadline(self, week: Week) -> datetime:
        """When the week's report is due (UTC): the first `deadline_day` on or after the week's
        first day (current_week) or after its last day (previous_week)."""
        base = week.start if self.convention == "current_week" else week.end
        day = base + timedelta(days=(self.deadline_day - base.weekday()) % 7)
        return self._utc(day, self.deadline_time)

    def ended(self, week: Week, now: datetime) -> bool:
        return self.today(now) > week.last

    def end_moment(self, week: Week) -> datetime:
        return self._utc(week.end)

    def is_draft(self, week: Week, now: datetime) -> bool:
        """A report sent now for `week` is a draft (not yet the week's report)."""
        return self.convention == "previous_week" and not self.ended(week, now)

    def keeps_on_time_until(self, week: Week) -> datetime:
        """A correction sent before this moment keeps an on-time report on time."""
        return max(self.deadline(week), self.end_moment(week))

    # --- which week -----------------------------------------------------------------------

    def current_week(self, now: datetime) -> Week:
        return self.week_of(self.today(now))

    def last_complete_week(self, now: datetime) -> Week:
        """The latest week that has ended (what /kpi, /xephang, the digest and the Monday
        reminders are about by default)."""
        return self.current_week(now).previous()

    def open_week(self, now: datetime) -> Week:
        """The week a commune reports now by default (/baocao without a week, the reminder)."""
        if self.convention == "current_week":
            return self.current_week(now)
        return self.last_complete_week(now)

    def due_weeks(
        self, start: date, end: date, now: datetime
    ) -> tuple[list[tuple[date, datetime]], list[tuple[date, datetime]]]:
        """Weeks starting in [start, end): (those whose deadline has passed, those still open),
        each as (first day, deadline)."""
        due: list[tuple[date, datetime]] = []
        pending: list[tuple[date, datetime]] = []
        wk = Week(start + timedelta(days=(self.week_starts - start.weekday()) % 7))
        while wk.start < end:
            dl = self.deadline(wk)
            (due if dl <= now else pending).append((wk.start, dl))
            wk = wk.next()
        return due, pending


def label(week: Week, lang: str = "vi") -> str:
    """'tuần 47/2026 (16/11–22/11)' / 'week 47/2026 (16/11–22/11)'."""
    y, w = week.year_number
    word = "week" if lang == "en" else "tuần"
    return f"{word} {w}/{y} ({week.start:%d/%m}–{week.last:%d/%m})"
