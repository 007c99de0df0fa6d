"""Help sessions logged by volunteers: vocabulary, the one-line shortcut, dates, storage, tallies."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import HelpSession, Unit
from services.access import Action, Actor
from services.dossiers.codes import parse_code
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.text import fold

MAX_CITIZENS = 500
_T = TypeVar("_T")
EDIT_WINDOW = timedelta(hours=24)


class LoggingConfig(BaseModel):
    """`logging:` section of config.yaml."""

    model_config = ConfigDict(extra="forbid")
    backdate_days: int = Field(default=14, ge=0, le=90)


def config_from(raw: object) -> LoggingConfig:
    return LoggingConfig.model_validate(raw or {})


class Activity(StrEnum):
    DVC = "dvc"  # online public service
    VNEID = "vneid"
    PAYMENT = "payment"  # online payment / e-wallet / bank app
    SIGNATURE = "signature"  # digital signature
    APP = "app"  # installing an app
    SAFETY = "safety"  # staying safe online
    SHOPPING = "shopping"
    OTHER = "other"


class Place(StrEnum):
    HOME = "home"
    COUNTER = "counter"
    PHONE = "phone"
    MOBILE = "mobile"  # mobile session (lưu động)
    ONLINE = "online"


class Outcome(StrEnum):
    DONE = "done"
    FOLLOWUP = "followup"
    FAILED = "failed"


# Unaccented aliases for the shortcut (folded, spaces removed).
ACTIVITY_ALIASES: dict[str, Activity] = {
    **{a: Activity.DVC for a in ("dvc", "dichvucong", "dvctt", "hoso", "tthc", "congdvc")},
    **{a: Activity.VNEID for a in ("vneid", "vneld", "dddt", "dinhdanh", "kichhoat")},
    **{a: Activity.PAYMENT for a in ("tt", "thanhtoan", "vi", "vidientu", "nganhang", "bank", "payment")},
    **{a: Activity.SIGNATURE for a in ("cks", "chukyso", "kyso", "signature")},
    **{a: Activity.APP for a in ("app", "ungdung", "caiapp", "caidat")},
    **{a: Activity.SAFETY for a in ("antoan", "attt", "luadao", "baomat", "safety")},
    **{a: Activity.SHOPPING for a in ("muasam", "ms", "shopping", "muahang")},
    **{a: Activity.OTHER for a in ("khac", "other")},
}
PLACE_ALIASES: dict[str, Place] = {
    **{a: Place.HOME for a in ("nha", "tainha", "home")},
    **{a: Place.COUNTER for a in ("quay", "motcua", "1cua", "taiquay", "counter")},
    **{a: Place.PHONE for a in ("dt", "dienthoai", "phone", "goi")},
    **{a: Place.MOBILE for a in ("luudong", "ld", "mobile")},
    **{a: Place.ONLINE for a in ("online", "tructuyen", "zalo", "mang")},
}
OUTCOME_ALIASES: dict[str, Outcome] = {
    **{a: Outcome.DONE for a in ("xong", "ok", "done", "dat", "thanhcong")},
    **{a: Outcome.FOLLOWUP for a in ("tiep", "theodoi", "henlai", "followup", "chua", "chuaxong")},
    **{a: Outcome.FAILED for a in ("khong", "khongduoc", "loi", "that bai", "thatbai", "failed", "ko")},
}
_WEEKDAYS = {
    **{k: 0 for k in ("t2", "thu2", "thuhai")},
    **{k: 1 for k in ("t3", "thu3", "thuba")},
    **{k: 2 for k in ("t4", "thu4", "thutu")},
    **{k: 3 for k in ("t5", "thu5", "thunam")},
    **{k: 4 for k in ("t6", "thu6", "thusau")},
    **{k: 5 for k in ("t7", "thu7", "thubay")},
    **{k: 6 for k in ("cn", "chunhat")},
}
_COUNT = re.compile(r"^(\d{1,3})(?:ng|nguoi)?$")
_DDMM = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?$")
# A 9- or 12-digit ID (CMND/CCCD) or a Vietnamese phone number, possibly with spaces or dots.
_ID_OR_PHONE = re.compile(
    r"(?<!\d)(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)|(?<!\d)\d{9}(?!\d)|(?<!\d)\d{12}(?!\d)"
)


@dataclass(frozen=True, slots=True)
class SessionDraft:
    activity: Activity
    place: Place
    citizens: int = 1
    result: Outcome = Outcome.DONE
    day: date | None = None  # None: now
    dossier_code: str | None = None
    procedure: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    occurred_at: datetime
    activity: Activity
    place: Place
    citizens: int
    result: Outcome
    dossier_code: str | None
    unit_id: int


@dataclass(frozen=True, slots=True)
class Tally:
    sessions: int
    citizens: int


@dataclass(frozen=True, slots=True)
class WeekSummary:
    week_start: date
    sessions: int
    citizens: int
    by_activity: dict[Activity, int]


def _compact(token: str) -> str:
    return fold(token).replace(" ", "")


def parse_day(token: str, today: date, backdate_days: int) -> date | None:
    """'hôm qua', 'hôm nay', a weekday (thứ 2…chủ nhật, t2…cn) or dd/mm[/yyyy]; None if not a date.

    Raises InvalidInput for a date that is impossible, in the future or too old."""
    t = _compact(token)
    day: date | None = None
    if t in ("homnay", "nay"):
        day = today
    elif t in ("homqua", "qua"):
        day = today - timedelta(days=1)
    elif t == "homkia":
        day = today - timedelta(days=2)
    elif t in _WEEKDAYS:
        day = today - timedelta(days=(today.weekday() - _WEEKDAYS[t]) % 7)
    else:
        m = _DDMM.match(t)
        if not m:
            return None
        d, mo = int(m.group(1)), int(m.group(2))
        year = int(m.group(3)) if m.group(3) else today.year
        if year < 100:
            year += 2000
        try:
            day = date(year, mo, d)
        except ValueError:
            raise InvalidInput("ghi.errors.bad_date", value=token) from None
        if not m.group(3) and day > today:
            day = date(year - 1, mo, d) if (mo, d) != (2, 29) else day
    if day > today:
        raise InvalidInput("ghi.errors.future_date")
    if (today - day).days > backdate_days:
        raise InvalidInput("ghi.errors.too_old", days=backdate_days)
    return day


def check_note(note: str) -> str | None:
    """A note without personal data, or InvalidInput; empty → None."""
    text = note.strip()
    if not text:
        return None
    if len(text) > 500:
        raise InvalidInput("ghi.errors.note_too_long")
    if _ID_OR_PHONE.search(text):
        raise InvalidInput("ghi.errors.note_personal")
    return text


def _take(tokens: list[str], start: int, aliases: Mapping[str, _T]) -> tuple[_T | None, int]:
    """The alias spelled by 3, 2 or 1 tokens from `start` ("dich vu cong", "dien thoai", "nha")."""
    for width in (3, 2, 1):
        if start + width <= len(tokens):
            found = aliases.get("".join(_compact(t) for t in tokens[start : start + width]))
            if found is not None:
                return found, width
    return None, 0


def parse_shortcut(args: str, today: date, backdate_days: int) -> SessionDraft:
    """`<what> <where> [số người] [kết quả] [ngày] [mã hồ sơ]`; optional parts in any order."""
    tokens = args.split()
    if len(tokens) < 2:
        raise InvalidInput("ghi.errors.shortcut_short")
    activity, used = _take(tokens, 0, ACTIVITY_ALIASES)
    if activity is None:
        raise InvalidInput("ghi.errors.bad_activity", value=tokens[0][:30])
    place, used_place = _take(tokens, used, PLACE_ALIASES)
    if place is None:
        value = tokens[used] if used < len(tokens) else ""
        raise InvalidInput("ghi.errors.bad_place", value=value[:30])
    draft = SessionDraft(activity, place)
    rest = tokens[used + used_place :]
    i = 0
    while i < len(rest):
        tok = rest[i]
        pair = " ".join(rest[i : i + 2])
        # Two-word dates: "hôm qua", "thứ 2", "chủ nhật".
        if (
            i + 1 < len(rest)
            and not tok[0].isdigit()
            and (day := parse_day(pair, today, backdate_days)) is not None
        ):
            draft = replace(draft, day=day)
            i += 2
            continue
        c = _compact(tok)
        count = _COUNT.match(c)
        if c in ("nguoi", "ng"):
            pass
        elif count:
            draft = replace(draft, citizens=check_citizens(count.group(1)))
        elif c in OUTCOME_ALIASES:
            draft = replace(draft, result=OUTCOME_ALIASES[c])
        elif (day := parse_day(tok, today, backdate_days)) is not None:
            draft = replace(draft, day=day)
        elif (code := parse_code(tok)) is not None:
            draft = replace(draft, dossier_code=code)
        else:
            raise InvalidInput("ghi.errors.bad_token", value=tok[:30])
        i += 1
    return draft


def check_citizens(text: str) -> int:
    t = text.strip()
    if not t.isdigit():
        raise InvalidInput("ghi.errors.bad_count")
    n = int(t)
    if not 1 <= n <= MAX_CITIZENS:
        raise InvalidInput("ghi.errors.bad_count")
    return n


def occurred_at(day: date | None, now: datetime, tz: ZoneInfo) -> datetime:
    """Now for today; otherwise noon of that local day (the time of a late entry is unknown)."""
    if day is None or day == now.astimezone(tz).date():
        return now
    return datetime.combine(day, time(12, 0), tz)


async def teams(session: AsyncSession, actor: Actor) -> list[Unit]:
    """Teams (or units) the actor logs sessions for."""
    out: list[Unit] = []
    for grant in actor.grants_for(Action.LOG_SESSION):
        if grant.unit_id is not None:
            unit = await session.get(Unit, grant.unit_id)
            if unit is not None and unit.active and unit not in out:
                out.append(unit)
    return out


async def log_session(
    session: AsyncSession, actor: Actor, team_id: int, draft: SessionDraft, now: datetime, tz: ZoneInfo
) -> SessionView:
    team = await session.get(Unit, team_id)
    if team is None:
        raise NotFound("errors.unit_not_found", code=str(team_id))
    actor.require(Action.LOG_SESSION, team.path)
    note = check_note(draft.note) if draft.note else None
    row = HelpSession(
        volunteer_id=actor.person_id,
        unit_id=team.id,
        occurred_at=occurred_at(draft.day, now, tz),
        logged_at=now,
        activity=draft.activity.value,
        place=draft.place.value,
        citizens=check_citizens(str(draft.citizens)),
        result=draft.result.value,
        dossier_code=draft.dossier_code,
        procedure=draft.procedure[:200] if draft.procedure else None,
        note=note,
    )
    session.add(row)
    await session.flush()
    return _view(row)


def _view(r: HelpSession) -> SessionView:
    return SessionView(
        r.id,
        r.occurred_at,
        Activity(r.activity),
        Place(r.place),
        r.citizens,
        Outcome(r.result),
        r.dossier_code,
        r.unit_id,
    )


async def last_session(session: AsyncSession, person_id: int) -> SessionView | None:
    stmt = (
        select(HelpSession)
        .where(HelpSession.volunteer_id == person_id, HelpSession.deleted_at.is_(None))
        .order_by(HelpSession.logged_at.desc(), HelpSession.id.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    return _view(row) if row else None


async def _own_recent(session: AsyncSession, actor: Actor, session_id: int, now: datetime) -> HelpSession:
    row = await session.get(HelpSession, session_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("ghi.errors.entry_gone")
    if row.volunteer_id != actor.person_id:
        raise PermissionDenied(action=Action.LOG_SESSION.value)
    if now - row.logged_at > EDIT_WINDOW:
        raise InvalidInput("ghi.errors.too_late_to_edit")
    return row


async def delete(session: AsyncSession, actor: Actor, session_id: int, now: datetime) -> SessionView:
    """Undo / delete one's own entry of the last 24 hours (kept, marked deleted)."""
    row = await _own_recent(session, actor, session_id, now)
    row.deleted_at = now
    return _view(row)


async def update(
    session: AsyncSession,
    actor: Actor,
    session_id: int,
    now: datetime,
    *,
    citizens: int | None = None,
    result: Outcome | None = None,
) -> SessionView:
    row = await _own_recent(session, actor, session_id, now)
    if citizens is not None:
        row.citizens = check_citizens(str(citizens))
    if result is not None:
        row.result = result.value
    return _view(row)


async def recent(session: AsyncSession, person_id: int, now: datetime) -> list[SessionView]:
    """One's own entries logged in the last 24 hours, newest first."""
    stmt = (
        select(HelpSession)
        .where(
            HelpSession.volunteer_id == person_id,
            HelpSession.deleted_at.is_(None),
            HelpSession.logged_at >= now - EDIT_WINDOW,
        )
        .order_by(HelpSession.logged_at.desc(), HelpSession.id.desc())
        .limit(10)
    )
    return [_view(r) for r in (await session.execute(stmt)).scalars()]


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_bounds(week_start_local_date: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start_local_date, time(0, 0), tz)
    return start, start + timedelta(days=7)


async def week_tally(
    session: AsyncSession, person_id: int, week_start_local_date: date, tz: ZoneInfo
) -> Tally:
    """Sessions and citizens a volunteer logged in one local Monday–Sunday week."""
    start, end = _week_bounds(week_start_local_date, tz)
    stmt = select(func.count(HelpSession.id), func.coalesce(func.sum(HelpSession.citizens), 0)).where(
        HelpSession.volunteer_id == person_id,
        HelpSession.deleted_at.is_(None),
        HelpSession.occurred_at >= start,
        HelpSession.occurred_at < end,
    )
    n, citizens = (await session.execute(stmt)).one()
    return Tally(int(n), int(citizens))


async def week_summary(
    session: AsyncSession, person_id: int, week_start_local_date: date, tz: ZoneInfo
) -> WeekSummary:
    start, end = _week_bounds(week_start_local_date, tz)
    stmt = select(HelpSession.activity, HelpSession.citizens).where(
        HelpSession.volunteer_id == person_id,
        HelpSession.deleted_at.is_(None),
        HelpSession.occurred_at >= start,
        HelpSession.occurred_at < end,
    )
    by: Counter[Activity] = Counter()
    sessions_n = citizens = 0
    for activity, n in (await session.execute(stmt)).all():
        by[Activity(activity)] += 1
        sessions_n += 1
        citizens += int(n)
    return WeekSummary(week_start_local_date, sessions_n, citizens, dict(by))
