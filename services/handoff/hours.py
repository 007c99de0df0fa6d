"""Hand-off settings (the `handoff` config section) and working hours: when volunteers are
expected to answer, and how many working minutes a ticket has waited."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class WorkingHours(BaseModel):
    """When volunteers are expected to answer; local time of `timezone`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Asia/Ho_Chi_Minh"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    hours: tuple[str, ...] = ("07:30-11:30", "13:30-17:00")

    @field_validator("days")
    @classmethod
    def _days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in value if d.lower() not in _DAYS]
        if bad:
            raise ValueError(f"unknown day {bad[0]!r}; use {', '.join(_DAYS)}")
        return tuple(d.lower() for d in value)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for span in value:
            m = _SPAN.match(span)
            if not m:
                raise ValueError(f"{span!r} is not HH:MM-HH:MM")
            h1, m1, h2, m2 = map(int, m.groups())
            if not (h1 * 60 + m1 < h2 * 60 + m2 <= 24 * 60 and m1 < 60 and m2 < 60):
                raise ValueError(f"{span!r} must end after it starts, within one day")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def spans(self) -> list[tuple[time, time]]:
        out = []
        for span in self.hours:
            m = _SPAN.match(span)
            assert m is not None
            h1, m1, h2, m2 = map(int, m.groups())
            end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
            out.append((time(h1, m1), end))
        return sorted(out)

    def day_open(self, day: date) -> bool:
        return _DAYS[day.weekday()] in self.days


class HandoffSettings(BaseModel):
    """The `handoff:` config section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim_timeout_minutes: int = Field(30, ge=1, le=24 * 60)
    notify: Literal["members", "groups"] = "members"
    working_hours: WorkingHours = WorkingHours()

    @field_validator("notify")
    @classmethod
    def _groups_not_yet(cls, value: str) -> str:
        if value == "groups":
            raise ValueError("'groups' is not available yet (team group chats are not stored); use 'members'")
        return value


def settings_from(config: dict[str, Any] | None) -> HandoffSettings:
    """Validate `config['handoff']`; ValueError with one line naming the key."""
    raw = (config or {}).get("handoff") or {}
    try:
        return HandoffSettings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"handoff{'.' + loc if loc else ''}: {err['msg']}") from None


# --- working hours ---------------------------------------------------------------------------


def _intervals(hours: WorkingHours, start: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """Open intervals (aware, local) of `days` days from the local day of `start`."""
    tz = hours.tz
    first = start.astimezone(tz).date()
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        if not hours.day_open(day):
            continue
        for a, b in hours.spans():
            out.append((datetime.combine(day, a, tz), datetime.combine(day, b, tz)))
    return out


def is_open(hours: WorkingHours, at: datetime) -> bool:
    return any(a <= at < b for a, b in _intervals(hours, at, 1))


def next_opening(hours: WorkingHours, at: datetime) -> datetime | None:
    """`at` itself when open, else the next opening (local time); None when never open."""
    for a, b in _intervals(hours, at, 8):
        if b > at:
            return max(a, at.astimezone(hours.tz))
    return None


def working_minutes(hours: WorkingHours, start: datetime, end: datetime) -> float:
    """Minutes of working time between two instants."""
    if end <= start:
        return 0.0
    days = min((end - start).days + 2, 400)
    total = 0.0
    for a, b in _intervals(hours, start, days):
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += (hi - lo).total_seconds() / 60
    return total
