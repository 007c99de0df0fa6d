"""Citizens' dossiers: recording, the status lifecycle, public look-up, subscriptions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Dossier, DossierEvent, DossierSubscription, Unit
from services import privacy
from services.access import Action, Actor
from services.dossiers import scope
from services.dossiers.catalogue import named_procedure, procedure_by_code
from services.dossiers.codes import CODE_EXAMPLE, parse_code
from services.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class Status(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    SUPPLEMENT = "supplement"
    RESULT_READY = "result_ready"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Mode(StrEnum):
    FULL_ONLINE = "full_online"
    PARTIAL_ONLINE = "partial_online"
    COUNTER = "counter"


# Allowed moves; "returned", "rejected" and "withdrawn" are final.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset(
        {Status.PROCESSING, Status.SUPPLEMENT, Status.RESULT_READY, Status.REJECTED, Status.WITHDRAWN}
    ),
    Status.PROCESSING: frozenset({Status.SUPPLEMENT, Status.RESULT_READY, Status.REJECTED, Status.WITHDRAWN}),
    Status.SUPPLEMENT: frozenset({Status.PROCESSING, Status.REJECTED, Status.WITHDRAWN}),
    Status.RESULT_READY: frozenset({Status.RETURNED}),
    Status.RETURNED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}
# Statuses at which the commune's work is done (finished_at is the first time one is reached).
FINISHING = frozenset({Status.RESULT_READY, Status.REJECTED})
CLOSED = frozenset({Status.RESULT_READY, Status.RETURNED, Status.REJECTED, Status.WITHDRAWN})


def _reachable(start: Status) -> frozenset[Status]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in TRANSITIONS[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return frozenset(seen)


# Every status a dossier may still come to from each one (itself included): an import naming any
# other status comes from an export older than what is stored.
REACHABLE: dict[Status, frozenset[Status]] = {s: _reachable(s) for s in Status}


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DossierInput:
    code: str
    procedure_name: str
    procedure_code: str | None
    mode: Mode
    received_at: datetime
    due_at: datetime | None
    post_return: bool


@dataclass(frozen=True, slots=True)
class DossierView:
    """What anyone may see about a dossier: no citizen's name, no personal data."""

    id: int
    code: str
    unit_id: int
    unit_name: str
    procedure_name: str
    mode: Mode
    status: Status
    received_at: datetime
    due_at: datetime | None
    finished_at: datetime | None
    post_return: bool
    overdue: bool  # due date passed and not finished
    late: bool  # finished after the due date
    procedure_code: str | None  # the catalogue's (data/procedures.yaml) or the one-stop system's
    source: str  # bot (recorded in chat) | import | demo


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    at: datetime
    status_from: Status | None
    status_to: Status


@dataclass(frozen=True, slots=True)
class StatusChange:
    dossier: DossierView
    event_id: int
    subscribers: tuple[int, ...]


def is_overdue(d: Dossier, now: datetime) -> bool:
    return d.due_at is not None and d.due_at < now and Status(d.status) not in CLOSED


def is_late(d: Dossier) -> bool:
    return d.due_at is not None and d.finished_at is not None and d.finished_at > d.due_at


def _view(d: Dossier, unit: Unit, now: datetime) -> DossierView:
    return DossierView(
        id=d.id,
        code=d.code,
        unit_id=d.unit_id,
        unit_name=unit.name,
        procedure_name=d.procedure_name,
        mode=Mode(d.mode),
        status=Status(d.status),
        received_at=d.received_at,
        due_at=d.due_at,
        finished_at=d.finished_at,
        post_return=d.post_return,
        overdue=is_overdue(d, now),
        late=is_late(d),
        procedure_code=d.procedure_code,
        source=d.source,
    )


def check_procedure_text(text: str) -> str:
    """A procedure typed in /hoso, refused when it holds an ID, a phone number or an e-mail: it is
    stored, and every citizen who looks the code up reads the procedure (as session notes)."""
    if privacy.contains_personal_data(text):
        raise InvalidInput("dossier.errors.procedure_personal")
    return text


def public_procedure(view: DossierView) -> str | None:
    """The procedure as anyone looking the code up reads it. A catalogue procedure by its
    catalogue name: picked from the list, or named in full by the typed text; an imported one
    by the one-stop system's name (that system's own catalogue), numbers hidden. None for other
    text typed in chat: it may hold a person's name, which no filter tells from a word."""
    if view.procedure_code and (listed := procedure_by_code(view.procedure_code)) is not None:
        return listed.name
    if view.source != "bot":
        return privacy.redact(view.procedure_name)
    named = named_procedure(view.procedure_name)
    return named.name if named is not None else None


async def commune_of(session: AsyncSession, unit: Unit) -> Unit | None:
    """The commune a unit belongs to (itself when it is one; a team's parent); None above them."""
    current: Unit | None = unit
    while current is not None and current.kind != "commune":
        current = await session.get(Unit, current.parent_id) if current.parent_id else None
    return current


async def acting_units(session: AsyncSession, actor: Actor, action: Action) -> list[Unit]:
    """Units (team or commune) for which the actor may do `action`, in grant order."""
    out: list[Unit] = []
    for grant in actor.grants_for(action):
        if grant.unit_id is not None:
            unit = await session.get(Unit, grant.unit_id)
            if unit is not None and unit not in out:
                out.append(unit)
    return out


async def record(
    session: AsyncSession, actor: Actor, via_unit_id: int, data: DossierInput, now: datetime
) -> DossierView:
    """Record a submission for the commune of `via_unit_id` (the actor's team or commune)."""
    via = await session.get(Unit, via_unit_id)
    if via is None:
        raise NotFound("errors.unit_not_found", code=str(via_unit_id))
    actor.require(Action.RECORD_DOSSIER, via.path)
    commune = await commune_of(session, via)
    if commune is None:
        raise InvalidInput("dossier.errors.no_commune")
    if parse_code(data.code) != data.code:
        raise InvalidInput("dossier.errors.bad_code", example=CODE_EXAMPLE)
    await scope.check_scope(session, data.code, commune)
    if data.received_at > now:
        raise InvalidInput("dossier.errors.future_date")
    if data.due_at is not None and data.due_at < data.received_at:
        raise InvalidInput("dossier.errors.due_before_received")
    if (await _by_code(session, data.code)) is not None:
        raise Conflict("dossier.errors.exists", code=data.code)
    check_procedure_text(data.procedure_name)
    dossier = Dossier(
        code=data.code,
        unit_id=commune.id,
        procedure_code=data.procedure_code,
        procedure_name=data.procedure_name[:300],
        mode=data.mode.value,
        received_at=data.received_at,
        due_at=data.due_at,
        finished_at=None,
        post_return=data.post_return,
        status=Status.RECEIVED.value,
        source="bot",
        recorded_by=actor.person_id or None,
        created_at=now,
        updated_at=now,
    )
    session.add(dossier)
    await session.flush()
    session.add(
        DossierEvent(
            dossier_id=dossier.id,
            at=now,
            status_from=None,
            status_to=Status.RECEIVED.value,
            actor_id=actor.person_id or None,
        )
    )
    await session.flush()
    return _view(dossier, commune, now)


_BY_CODE = select(Dossier).where(Dossier.code == bindparam("code"))  # every look-up: built once


async def _by_code(session: AsyncSession, code: str) -> Dossier | None:
    return (await session.execute(_BY_CODE, {"code": code})).scalar_one_or_none()


async def _load(session: AsyncSession, code: str) -> tuple[Dossier, Unit]:
    dossier = await _by_code(session, code)
    if dossier is None:
        raise NotFound("tracuu.not_found", code=code)
    unit = await session.get(Unit, dossier.unit_id)
    assert unit is not None
    return dossier, unit


async def lookup(session: AsyncSession, code: str, now: datetime) -> DossierView:
    """Public status of a dossier by its code (anyone may ask)."""
    dossier, unit = await _load(session, code)
    return _view(dossier, unit, now)


async def get_for_staff(session: AsyncSession, actor: Actor, code: str, now: datetime) -> DossierView:
    dossier, unit = await _load(session, code)
    if not (
        actor.can(Action.UPDATE_DOSSIER_STATUS, unit.path) or actor.can(Action.RECORD_DOSSIER, unit.path)
    ):
        raise PermissionDenied(action=Action.UPDATE_DOSSIER_STATUS.value)
    return _view(dossier, unit, now)


async def unit_path(session: AsyncSession, unit_id: int) -> str:
    unit = await session.get(Unit, unit_id)
    return unit.path if unit else ""


async def change_status(
    session: AsyncSession, actor: Actor, code: str, new: Status, now: datetime, note: str | None = None
) -> StatusChange:
    """Move a dossier along its lifecycle (officers of its commune); every move is kept."""
    dossier, unit = await _load(session, code)
    actor.require(Action.UPDATE_DOSSIER_STATUS, unit.path)
    current = Status(dossier.status)
    if new not in TRANSITIONS[current]:
        raise InvalidInput(
            "dossier.errors.bad_transition", code=code, status_from=current.value, status_to=new
        )
    dossier.status = new.value
    dossier.updated_at = now
    if new in FINISHING and dossier.finished_at is None:
        dossier.finished_at = now
    event = DossierEvent(
        dossier_id=dossier.id,
        at=now,
        status_from=current.value,
        status_to=new.value,
        actor_id=actor.person_id or None,
        note=note,
    )
    session.add(event)
    await session.flush()
    subscribers = (
        await session.execute(
            select(DossierSubscription.person_id).where(DossierSubscription.dossier_id == dossier.id)
        )
    ).scalars()
    return StatusChange(_view(dossier, unit, now), event.id, tuple(subscribers))


def may_see_history(actor: Actor, path: str | None) -> bool:
    """Whether `history` shows this person the dossiers of the unit at `path` (its staff)."""
    return actor.can(Action.UPDATE_DOSSIER_STATUS, path) or actor.can(Action.RECORD_DOSSIER, path)


async def history(session: AsyncSession, actor: Actor, code: str) -> list[EventView]:
    """Every status change of a dossier, oldest first (staff of its unit)."""
    dossier, unit = await _load(session, code)
    if not may_see_history(actor, unit.path):
        raise PermissionDenied(action=Action.UPDATE_DOSSIER_STATUS.value)
    rows = (
        await session.execute(
            select(DossierEvent).where(DossierEvent.dossier_id == dossier.id).order_by(DossierEvent.id)
        )
    ).scalars()
    return [
        EventView(e.id, e.at, Status(e.status_from) if e.status_from else None, Status(e.status_to))
        for e in rows
    ]


async def subscribe(session: AsyncSession, person_id: int, code: str) -> bool:
    """Ask to be told of status changes; False when already subscribed."""
    dossier, _unit = await _load(session, code)
    existing = (
        await session.execute(
            select(DossierSubscription.id).where(
                DossierSubscription.dossier_id == dossier.id, DossierSubscription.person_id == person_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return False
    session.add(DossierSubscription(dossier_id=dossier.id, person_id=person_id))
    await session.flush()
    return True


_DATE_TEXT = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?$")


def parse_day_text(text: str, today: date) -> date:
    """dd/mm[/yyyy] typed by a person (year defaults to this one); InvalidInput if impossible."""
    m = _DATE_TEXT.match(text.strip().replace(" ", ""))
    if not m:
        raise InvalidInput("dossier.errors.bad_date", value=text.strip()[:20])
    year = int(m.group(3)) if m.group(3) else today.year
    if year < 100:
        year += 2000
    try:
        return date(year, int(m.group(2)), int(m.group(1)))
    except ValueError:
        raise InvalidInput("dossier.errors.bad_date", value=text.strip()[:20]) from None


def at_local(day: date, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A local calendar day as an aware datetime: 08:00 (received) or 23:59:59 (due)."""
    return datetime.combine(day, time(23, 59, 59) if end_of_day else time(8, 0), tz)


async def code_of(session: AsyncSession, dossier_id: int) -> str:
    dossier = await session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound("errors.not_found")
    return dossier.code


def next_statuses(status: Status) -> list[Status]:
    order = list(Status)
    return sorted(TRANSITIONS[status], key=order.index)
