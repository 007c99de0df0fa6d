"""Hand-off to a human: tickets from citizens to their commune's volunteers, relayed through the
bot (neither side sees the other's account), claimed first-wins, closed, rated, escalated.

Working hours and the claim timeout come from the `handoff` config section (`HandoffSettings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Ticket, TicketMessage, Unit
from services.access import Action, Actor, Role
from services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.text import fold_words
from services.units import UnitKind, UnitView, view

MAX_QUESTION = 2000
MAX_MESSAGE = 3000
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Something that looks like a 9/12-digit ID number or a Vietnamese phone number.
_ID_OR_PHONE = re.compile(r"(?<!\d)(?:\d{9}|\d{12}|(?:\+?84|0)(?:[ .-]?\d){9})(?!\d)")
# Words that name the kind of commune; a citizen may or may not type them.
_COMMUNE_WORDS = frozenset({"xa", "phuong", "dac", "khu", "thi", "tran", "p", "x", "tt"})


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


ACTIVE = (Status.OPEN.value, Status.CLAIMED.value)


# --- configuration ---------------------------------------------------------------------------


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


def looks_like_id_or_phone(text: str) -> bool:
    return bool(_ID_OR_PHONE.search(text))


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    citizen_id: int
    unit_id: int
    unit_name: str
    unit_path: str
    question: str
    status: Status
    claimed_by: int | None
    created_at: datetime
    escalated_at: datetime | None
    rating: int | None

    @property
    def active(self) -> bool:
        return self.status in (Status.OPEN, Status.CLAIMED)


@dataclass(frozen=True, slots=True)
class RelayedMessage:
    id: int
    text: str
    to_person: int | None  # None: queued until someone claims the ticket


async def _ticket_view(session: AsyncSession, t: Ticket) -> TicketView:
    unit = await session.get(Unit, t.unit_id)
    assert unit is not None
    return TicketView(
        t.id,
        t.citizen_id,
        t.unit_id,
        unit.name,
        unit.path,
        t.question,
        Status(t.status),
        t.claimed_by,
        t.created_at,
        t.escalated_at,
        t.rating,
    )


async def _ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    t = await session.get(Ticket, ticket_id)
    if t is None:
        raise NotFound("handoff.errors.no_ticket", id=ticket_id)
    return t


async def get(session: AsyncSession, ticket_id: int) -> TicketView:
    return await _ticket_view(session, await _ticket(session, ticket_id))


# --- communes --------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return fold_words(text).split()


async def find_communes(session: AsyncSession, query: str, limit: int = 5) -> list[UnitView]:
    """Active communes whose name matches what the citizen typed (no diacritics needed, the
    words "xã"/"phường" optional); exact names first."""
    typed = _words(query)
    wanted = [w for w in typed if w not in _COMMUNE_WORDS]
    only_kind = not wanted  # "phường": every ward
    wanted = wanted or typed
    if not wanted:
        return []
    stmt = select(Unit).where(Unit.kind == UnitKind.COMMUNE.value, Unit.active.is_(True)).order_by(Unit.name)
    ranked: list[tuple[int, str, Unit]] = []
    for unit in (await session.execute(stmt)).scalars():
        name = [w for w in _words(unit.name) if only_kind or w not in _COMMUNE_WORDS]
        joined = " ".join(name)
        if joined == " ".join(wanted):
            rank = 0
        elif " ".join(wanted) in joined:
            rank = 1 if joined.startswith(" ".join(wanted)) else 2
        elif all(any(n.startswith(w) for n in name) for w in wanted):
            rank = 3
        else:
            continue
        ranked.append((rank, unit.name, unit))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [view(u) for _, _, u in ranked[:limit]]


async def commune(session: AsyncSession, unit_id: int) -> UnitView:
    unit = await session.get(Unit, unit_id)
    if unit is None or unit.kind != UnitKind.COMMUNE.value or not unit.active:
        raise NotFound("handoff.errors.no_commune")
    return view(unit)


async def last_commune(session: AsyncSession, person_id: int) -> UnitView | None:
    """The commune of the person's latest ticket, to offer it first next time."""
    stmt = select(Ticket.unit_id).where(Ticket.citizen_id == person_id).order_by(Ticket.id.desc()).limit(1)
    unit_id = (await session.execute(stmt)).scalar_one_or_none()
    if unit_id is None:
        return None
    unit = await session.get(Unit, unit_id)
    return view(unit) if unit is not None and unit.active else None


# --- who handles a commune -------------------------------------------------------------------


def can_handle(actor: Actor, commune_path: str) -> bool:
    """HANDLE_TICKETS held for the commune itself, a unit above it, or a team inside it."""
    for grant in actor.grants_for(Action.HANDLE_TICKETS):
        if grant.unit_path is None or commune_path.startswith(grant.unit_path):
            return True
        if grant.unit_path.startswith(commune_path):
            return True
    return False


def helper_unit(actor: Actor, commune_path: str) -> tuple[Role, str] | None:
    """(role, unit name) the actor answers as: their team inside the commune, or the commune."""
    best: tuple[Role, str] | None = None
    for grant in actor.grants_for(Action.HANDLE_TICKETS):
        path = grant.unit_path or ""
        if path.startswith(commune_path) and grant.role in (Role.VOLUNTEER, Role.TEAM_LEADER):
            return grant.role, grant.unit_name or ""
        if commune_path.startswith(path):
            best = best or (grant.role, grant.unit_name or "")
    return best


async def helpers_of(session: AsyncSession, commune_path: str) -> list[int]:
    """Volunteers and team leaders of the commune's teams (people ids, distinct)."""
    stmt = (
        select(Membership.person_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Unit.path.startswith(commune_path),
            Unit.kind == UnitKind.TEAM.value,
            Unit.active.is_(True),
            Membership.active.is_(True),
            Membership.role.in_((Role.VOLUNTEER.value, Role.TEAM_LEADER.value)),
        )
        .distinct()
        .order_by(Membership.person_id)
    )
    return list((await session.execute(stmt)).scalars())


async def officers_of(session: AsyncSession, unit_id: int) -> list[int]:
    stmt = (
        select(Membership.person_id)
        .where(
            Membership.unit_id == unit_id,
            Membership.role == Role.OFFICER.value,
            Membership.active.is_(True),
        )
        .distinct()
        .order_by(Membership.person_id)
    )
    return list((await session.execute(stmt)).scalars())


async def notified_of(session: AsyncSession, ticket: TicketView) -> list[int]:
    """Everyone a ticket was pushed to: the commune's helpers, and its officers once escalated."""
    people_ids = await helpers_of(session, ticket.unit_path)
    if ticket.escalated_at is not None or not people_ids:
        people_ids += [p for p in await officers_of(session, ticket.unit_id) if p not in people_ids]
    return [p for p in people_ids if p != ticket.citizen_id]


# --- the ticket's life -----------------------------------------------------------------------


async def active_ticket(session: AsyncSession, person_id: int) -> TicketView | None:
    stmt = (
        select(Ticket)
        .where(Ticket.citizen_id == person_id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    t = (await session.execute(stmt)).scalar_one_or_none()
    return await _ticket_view(session, t) if t is not None else None


async def create(
    session: AsyncSession, actor: Actor, unit_id: int, question: str, now: datetime
) -> TicketView:
    """Open a ticket for the actor (as a citizen) to a commune; one active ticket per person."""
    text = question.strip()
    if not text:
        raise InvalidInput("handoff.errors.empty")
    if len(text) > MAX_QUESTION:
        raise InvalidInput("handoff.errors.too_long", limit=MAX_QUESTION)
    place = await commune(session, unit_id)
    if await active_ticket(session, actor.person_id) is not None:
        raise Conflict("handoff.errors.already_open")
    t = Ticket(
        citizen_id=actor.person_id, unit_id=place.id, question=text, status=Status.OPEN.value, created_at=now
    )
    session.add(t)
    await session.flush()
    return await _ticket_view(session, t)


async def claim(session: AsyncSession, actor: Actor, ticket_id: int, now: datetime) -> TicketView:
    """First press wins: one conditional UPDATE; a later press gets Conflict('taken')."""
    ticket = await get(session, ticket_id)
    if not can_handle(actor, ticket.unit_path) or ticket.citizen_id == actor.person_id:
        raise PermissionDenied(action=Action.HANDLE_TICKETS.value)
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == Status.OPEN.value)
        .values(status=Status.CLAIMED.value, claimed_by=actor.person_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        if ticket.status is Status.CLAIMED and ticket.claimed_by == actor.person_id:
            return ticket
        if ticket.status in (Status.CLOSED, Status.CANCELLED):
            raise Conflict("handoff.errors.not_active", id=ticket_id)
        raise Conflict("handoff.errors.taken", id=ticket_id)
    t = await _ticket(session, ticket_id)
    await session.refresh(t)
    return await _ticket_view(session, t)


async def take_queued(session: AsyncSession, ticket_id: int) -> list[str]:
    """Citizen messages written before the claim, oldest first; marked delivered."""
    stmt = (
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket_id, TicketMessage.delivered.is_(False))
        .order_by(TicketMessage.id)
    )
    rows = list((await session.execute(stmt)).scalars())
    for row in rows:
        row.delivered = True
    return [r.text for r in rows]


async def relay(
    session: AsyncSession, actor: Actor, ticket_id: int, text: str, now: datetime
) -> tuple[TicketView, RelayedMessage]:
    """Store a message of either side and say whom to deliver it to (None: queued until claimed).
    The citizen writes to their own active ticket; only the owner writes back."""
    body = text.strip()
    if not body:
        raise InvalidInput("handoff.errors.empty")
    if len(body) > MAX_MESSAGE:
        raise InvalidInput("handoff.errors.too_long", limit=MAX_MESSAGE)
    ticket = await get(session, ticket_id)
    if not ticket.active:
        raise Conflict("handoff.errors.not_active", id=ticket_id)
    if ticket.citizen_id == actor.person_id:
        sender, to = "citizen", ticket.claimed_by if ticket.status is Status.CLAIMED else None
    elif ticket.status is Status.CLAIMED and ticket.claimed_by == actor.person_id:
        sender, to = "helper", ticket.citizen_id
    else:
        raise PermissionDenied(action=Action.HANDLE_TICKETS.value)
    row = TicketMessage(
        ticket_id=ticket_id,
        sender=sender,
        author_id=actor.person_id,
        text=body,
        delivered=to is not None,
        at=now,
    )
    session.add(row)
    await session.flush()
    return ticket, RelayedMessage(row.id, body, to)


async def close(session: AsyncSession, actor: Actor, ticket_id: int, now: datetime) -> TicketView:
    """Only the volunteer who claimed the ticket closes it."""
    t = await _ticket(session, ticket_id)
    if t.claimed_by != actor.person_id:
        raise PermissionDenied(action=Action.HANDLE_TICKETS.value)
    if t.status != Status.CLAIMED.value:
        raise Conflict("handoff.errors.not_active", id=ticket_id)
    t.status, t.closed_at = Status.CLOSED.value, now
    return await _ticket_view(session, t)


async def cancel(session: AsyncSession, actor: Actor, ticket_id: int, now: datetime) -> TicketView:
    """The citizen withdraws their own request."""
    t = await _ticket(session, ticket_id)
    if t.citizen_id != actor.person_id:
        raise PermissionDenied(action="cancel_ticket")
    if t.status not in ACTIVE:
        raise Conflict("handoff.errors.not_active", id=ticket_id)
    t.status, t.closed_at = Status.CANCELLED.value, now
    return await _ticket_view(session, t)


async def rate(session: AsyncSession, actor: Actor, ticket_id: int, rating: int, now: datetime) -> TicketView:
    """The citizen rates a closed ticket once, 1-5."""
    if not 1 <= rating <= 5:
        raise InvalidInput("handoff.errors.bad_rating")
    t = await _ticket(session, ticket_id)
    if t.citizen_id != actor.person_id:
        raise PermissionDenied(action="rate_ticket")
    if t.status != Status.CLOSED.value:
        raise Conflict("handoff.errors.not_closed", id=ticket_id)
    if t.rating is not None:
        raise Conflict("handoff.errors.already_rated", id=ticket_id)
    t.rating, t.rated_at = rating, now
    return await _ticket_view(session, t)


async def owned_by(session: AsyncSession, actor: Actor) -> list[TicketView]:
    """Tickets the actor claimed and has not closed yet."""
    stmt = (
        select(Ticket)
        .where(Ticket.claimed_by == actor.person_id, Ticket.status == Status.CLAIMED.value)
        .order_by(Ticket.id)
    )
    return [await _ticket_view(session, t) for t in (await session.execute(stmt)).scalars()]


async def waiting_for(session: AsyncSession, actor: Actor, limit: int = 10) -> list[TicketView]:
    """Unclaimed tickets of communes the actor may handle, oldest first."""
    grants = actor.grants_for(Action.HANDLE_TICKETS)
    if not grants:
        return []
    stmt = (
        select(Ticket)
        .where(Ticket.status == Status.OPEN.value, Ticket.citizen_id != actor.person_id)
        .order_by(Ticket.id)
        .limit(200)
    )
    out = []
    for t in (await session.execute(stmt)).scalars():
        v = await _ticket_view(session, t)
        if can_handle(actor, v.unit_path):
            out.append(v)
            if len(out) >= limit:
                break
    return out


# --- escalation ------------------------------------------------------------------------------


async def due_for_escalation(session: AsyncSession, cfg: HandoffSettings, now: datetime) -> list[TicketView]:
    """Open, never-escalated tickets unclaimed for `claim_timeout_minutes` of working time; only
    while working hours are on."""
    hours = cfg.working_hours
    if not is_open(hours, now):
        return []
    stmt = (
        select(Ticket)
        .where(Ticket.status == Status.OPEN.value, Ticket.escalated_at.is_(None), Ticket.created_at <= now)
        .order_by(Ticket.id)
    )
    out = []
    for t in (await session.execute(stmt)).scalars():
        if working_minutes(hours, t.created_at, now) >= cfg.claim_timeout_minutes:
            out.append(await _ticket_view(session, t))
    return out


async def mark_escalated(session: AsyncSession, ticket_id: int, now: datetime) -> bool:
    """Once: False when another run already escalated it (or it was claimed meanwhile)."""
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.escalated_at.is_(None), Ticket.status == Status.OPEN.value)
        .values(escalated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def counts(session: AsyncSession) -> dict[str, int]:
    """Tickets per status, for the CLI."""
    stmt = select(Ticket.status, func.count()).group_by(Ticket.status)
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}


__all__ = [
    "HandoffSettings",
    "RelayedMessage",
    "Status",
    "TicketView",
    "WorkingHours",
    "active_ticket",
    "can_handle",
    "cancel",
    "claim",
    "close",
    "commune",
    "create",
    "due_for_escalation",
    "find_communes",
    "get",
    "helper_unit",
    "helpers_of",
    "is_open",
    "last_commune",
    "looks_like_id_or_phone",
    "mark_escalated",
    "next_opening",
    "notified_of",
    "officers_of",
    "owned_by",
    "rate",
    "relay",
    "settings_from",
    "take_queued",
    "waiting_for",
    "working_minutes",
]
