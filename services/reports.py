"""A commune's weekly counts (/baocao): which week, checks, draft vs final, replace-on-confirm."""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Unit, WeeklyReport
from services.access import Action, Actor
from services.errors import Conflict, InvalidInput, NotFound

MAX_VALUE = 1_000_000


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


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_finished_week(today: date) -> date:
    """Monday of the last Monday–Sunday week that has ended."""
    return week_start_of(today) - timedelta(days=7)


def week_has_ended(week_start: date, today: date) -> bool:
    return today > week_start + timedelta(days=6)


_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?$")


def pick_week(spec: str, today: date) -> date:
    """'' → the last finished week; 'tuan 46' / 'tuần 46' / 'w46' → ISO week 46; a date → its week."""
    s = spec.strip().lower()
    if not s:
        return last_finished_week(today)
    m = re.match(r"^(?:tuan|tuần|w|week)\s*(\d{1,2})(?:\s*/\s*(\d{4}))?$", s)
    if m:
        week, year = int(m.group(1)), int(m.group(2) or today.year)
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise InvalidInput("baocao.errors.bad_week", value=spec[:20]) from None
        if not m.group(2) and monday > today:
            monday = date.fromisocalendar(year - 1, min(week, 52), 1)
        return monday
    m = _DATE.match(s)
    if m:
        try:
            day = date(int(m.group(3) or today.year), int(m.group(2)), int(m.group(1)))
        except ValueError:
            raise InvalidInput("baocao.errors.bad_week", value=spec[:20]) from None
        return week_start_of(day)
    raise InvalidInput("baocao.errors.bad_week", value=spec[:20])


def parse_number(text: str) -> int:
    t = text.strip().replace(".", "").replace(",", "").replace(" ", "")
    if t.startswith("-") and t[1:].isdigit():
        raise InvalidInput("baocao.errors.negative")
    if not t.isdigit():
        raise InvalidInput("baocao.errors.not_a_number", value=text.strip()[:20])
    n = int(t)
    if n > MAX_VALUE:
        raise InvalidInput("baocao.errors.too_big")
    return n


def check(values: list[int]) -> Counts:
    """Eight non-negative numbers where every part ≤ its total."""
    if len(values) != len(FIELDS):
        raise InvalidInput("baocao.errors.count", expected=len(FIELDS), got=len(values))
    if any(v < 0 for v in values):
        raise InvalidInput("baocao.errors.negative")
    counts = Counts(*values)
    for part, whole in PARTS:
        if getattr(counts, part) > getattr(counts, whole):
            raise InvalidInput(
                "baocao.errors.part_over_total",
                part=part,
                whole=whole,
                part_value=getattr(counts, part),
                whole_value=getattr(counts, whole),
            )
    return counts


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
    return ReportView(row.unit_id, row.week_start, counts, row.status)


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
) -> ReportView:
    """Store a week's counts; an unfinished week is a draft; an existing week needs `replace`."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("errors.unit_not_found", code=str(unit_id))
    actor.require(Action.SUBMIT_WEEKLY_REPORT, unit.path)
    check(list(astuple(counts)))
    if week_start.weekday() != 0:
        week_start = week_start_of(week_start)
    today = now.astimezone(tz).date()
    if week_start > today:
        raise InvalidInput("baocao.errors.future_week")
    status = "final" if week_has_ended(week_start, today) else "draft"
    row = (
        await session.execute(
            select(WeeklyReport).where(WeeklyReport.unit_id == unit_id, WeeklyReport.week_start == week_start)
        )
    ).scalar_one_or_none()
    if row is not None and not replace:
        raise Conflict("baocao.errors.exists", week=week_start.strftime("%d/%m/%Y"))
    if row is None:
        row = WeeklyReport(unit_id=unit_id, week_start=week_start)
        session.add(row)
    for name in FIELDS:
        setattr(row, name, getattr(counts, name))
    row.status = status
    row.submitted_by = actor.person_id or None
    row.submitted_at = now
    await session.flush()
    return ReportView(unit_id, week_start, counts, status)
