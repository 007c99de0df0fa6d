"""A hand-off ticket's life: opened by a citizen to a commune (one active per person), claimed
first-wins by a volunteer who may handle it, closed by that volunteer, withdrawn or rated by
the citizen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Ticket, Unit
from services import people, privacy
from services.access import Action, Actor
from services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.handoff.routing import can_handle, commune

MAX_QUESTION = 2000


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


ACTIVE = (Status.OPEN.value, Status.CLAIMED.value)


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


async def ticket_view(session: AsyncSession, t: Ticket) -> TicketView:
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
    return await ticket_view(session, await _ticket(session, ticket_id))


async def active_ticket(session: AsyncSession, person_id: int) -> TicketView | None:
    stmt = (
        select(Ticket)
        .where(Ticket.citizen_id == person_id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    t = (await session.execute(stmt)).scalar_one_or_none()
    return await ticket_view(session, t) if t is not None else None


async def create(
    session: AsyncSession, actor: Actor, unit_id: int, question: str, now: datetime
) -> TicketView:
    """Open a ticket for the actor (as a citizen) to a commune; one active ticket per person."""
    text = privacy.redact(question.strip())  # volunteers of the whole commune see it
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
    return await ticket_view(session, t)


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
    return await ticket_view(session, t)


async def close(session: AsyncSession, actor: Actor, ticket_id: int, now: datetime) -> TicketView:
    """Only the volunteer who claimed the ticket closes it."""
    t = await _ticket(session, ticket_id)
    if t.claimed_by != actor.person_id or not can_handle(actor, (await ticket_view(session, t)).unit_path):
        raise PermissionDenied(action=Action.HANDLE_TICKETS.value)
    if t.status != Status.CLAIMED.value:
        raise Conflict("handoff.errors.not_active", id=ticket_id)
    t.status, t.closed_at = Status.CLOSED.value, now
    return await ticket_view(session, t)


async def cancel(session: AsyncSession, actor: Actor, ticket_id: int, now: datetime) -> TicketView:
    """The citizen withdraws their own request."""
    t = await _ticket(session, ticket_id)
    if t.citizen_id != actor.person_id:
        raise PermissionDenied(action="cancel_ticket")
    if t.status not in ACTIVE:
        raise Conflict("handoff.errors.not_active", id=ticket_id)
    t.status, t.closed_at = Status.CANCELLED.value, now
    return await ticket_view(session, t)


async def finish(session: AsyncSession, actor: Actor, ticket_id: int, now: datetime) -> TicketView:
    """The citizen says they are done (/xong): a ticket a helper was handling is closed — it was
    resolved, and the citizen may rate it — one nobody took yet is withdrawn."""
    t = await _ticket(session, ticket_id)
    if t.citizen_id != actor.person_id:
        raise PermissionDenied(action="cancel_ticket")
    if t.status not in ACTIVE:
        raise Conflict("handoff.errors.not_active", id=ticket_id)
    claimed = t.status == Status.CLAIMED.value
    t.status, t.closed_at = (Status.CLOSED if claimed else Status.CANCELLED).value, now
    return await ticket_view(session, t)


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
    return await ticket_view(session, t)


# Every free-text message outside a dialog runs it: built once, with a bound parameter.
_INVOLVING = (
    select(Ticket)
    .where(
        ((Ticket.citizen_id == bindparam("pid")) & Ticket.status.in_(ACTIVE))
        | ((Ticket.claimed_by == bindparam("pid")) & (Ticket.status == Status.CLAIMED.value))
    )
    .order_by(Ticket.id)
)


async def involving(session: AsyncSession, actor: Actor) -> tuple[TicketView | None, list[TicketView]]:
    """(the actor's own active request, the tickets they claimed as a helper) in one query — every
    free-text message outside a dialog asks this, so it is one round trip, not two."""
    pid = actor.person_id
    rows = list((await session.execute(_INVOLVING, {"pid": pid})).scalars())
    mine = [t for t in rows if t.citizen_id == pid and t.status in ACTIVE]
    held = [t for t in rows if t.claimed_by == pid and t.status == Status.CLAIMED.value]
    return (
        await ticket_view(session, mine[-1]) if mine else None,  # the latest, as active_ticket
        [await ticket_view(session, t) for t in held],
    )


async def owned_by(session: AsyncSession, actor: Actor) -> list[TicketView]:
    """Tickets the actor claimed and has not closed yet."""
    stmt = (
        select(Ticket)
        .where(Ticket.claimed_by == actor.person_id, Ticket.status == Status.CLAIMED.value)
        .order_by(Ticket.id)
    )
    return [await ticket_view(session, t) for t in (await session.execute(stmt)).scalars()]


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
        v = await ticket_view(session, t)
        if can_handle(actor, v.unit_path):
            out.append(v)
            if len(out) >= limit:
                break
    return out


async def _still_helps(session: AsyncSession, person_id: int, ticket: TicketView) -> bool:
    """Whether the person holding a ticket may, with the roles they hold now, still answer it."""
    try:
        helper = await people.load_actor(session, person_id)
    except NotFound:
        return False
    return can_handle(helper, ticket.unit_path)


# A citizen's message this soon after the helper closed the ticket is a follow-up («bước 2 là gì
# vậy cháu»), not a new request: it opens the ticket again with the same helper.
REOPEN_WINDOW = timedelta(hours=2)


async def reopen_for_follow_up(session: AsyncSession, ticket: TicketView, now: datetime) -> bool:
    """Open a ticket closed within REOPEN_WINDOW again, with the helper who closed it — if they may
    still answer it and the citizen has no other request open; whether it was."""
    if ticket.status is not Status.CLOSED or ticket.claimed_by is None:
        return False
    if await active_ticket(session, ticket.citizen_id) is not None:
        return False
    if not await _still_helps(session, ticket.claimed_by, ticket):
        return False
    result = await session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.status == Status.CLOSED.value,
            Ticket.closed_at >= now - REOPEN_WINDOW,
        )
        .values(status=Status.CLAIMED.value, closed_at=None)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.refresh(await _ticket(session, ticket.id))
    return True


async def release(session: AsyncSession, ticket_id: int) -> TicketView:
    """Back to open and unclaimed; escalation starts over, so the escalation job hands it to the
    commune's officers on its next run (the caller may tell them at once)."""
    t = await _ticket(session, ticket_id)
    t.status, t.claimed_by, t.claimed_at, t.escalated_at = Status.OPEN.value, None, None, None
    # Messages the citizen sends from now on wait for the next helper.
    await session.flush()
    return await ticket_view(session, t)


async def release_unheld(session: AsyncSession, person_id: int) -> list[TicketView]:
    """Release every ticket `person_id` holds but may no longer answer (after a removal, a
    revocation or a team's closing)."""
    stmt = select(Ticket).where(Ticket.claimed_by == person_id, Ticket.status == Status.CLAIMED.value)
    released = []
    for t in list((await session.execute(stmt)).scalars()):
        view_ = await ticket_view(session, t)
        if not await _still_helps(session, person_id, view_):
            released.append(await release(session, t.id))
    return released
