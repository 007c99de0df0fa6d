"""Messages relayed through the bot between a citizen and the volunteer who claimed the ticket,
and the guard against citizens sending ID or phone numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Ticket, TicketMessage
from services import privacy
from services.access import Action, Actor
from services.errors import Conflict, InvalidInput, PermissionDenied
from services.handoff.routing import can_handle
from services.handoff.tickets import (
    Status,
    TicketView,
    _still_helps,
    get,
    owned_by,
    release,
    reopen_for_follow_up,
    waiting_for,
)

MAX_MESSAGE = 3000


def looks_like_id_or_phone(text: str) -> bool:
    """What the one filter would hide («0912/345/678», «046-201-001-234», a personal e-mail…): a
    second, narrower pattern here missed numbers written with slashes or «(+84)»."""
    return privacy.contains_personal_data(text)


@dataclass(frozen=True, slots=True)
class RelayedMessage:
    id: int
    text: str
    to_person: int | None  # None: queued until someone claims the ticket
    reopened: bool = False  # the ticket had just been closed: this follow-up opened it again


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
    body = privacy.redact(text.strip())  # relayed to the other side: never an ID, phone or e-mail
    if not body:
        raise InvalidInput("handoff.errors.empty")
    if len(body) > MAX_MESSAGE:
        raise InvalidInput("handoff.errors.too_long", limit=MAX_MESSAGE)
    ticket = await get(session, ticket_id)
    reopened = False
    if not ticket.active and ticket.citizen_id == actor.person_id:
        reopened = await reopen_for_follow_up(session, ticket, now)
        if reopened:
            ticket = await get(session, ticket_id)
    if not ticket.active:
        raise Conflict("handoff.errors.not_active", id=ticket_id)
    if ticket.citizen_id == actor.person_id:
        sender, to = "citizen", ticket.claimed_by if ticket.status is Status.CLAIMED else None
        if to is not None and not await _still_helps(session, to, ticket):
            # The helper was removed or revoked meanwhile: never relay to them; back to the queue.
            ticket, to = await release(session, ticket_id), None
    elif (
        ticket.status is Status.CLAIMED
        and ticket.claimed_by == actor.person_id
        and can_handle(actor, ticket.unit_path)
    ):
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
    return ticket, RelayedMessage(row.id, body, to, reopened)


# --- which ticket a helper is answering ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Newer:
    """Another ticket that spoke to a helper after they chose the one they are answering."""

    ticket: TicketView
    text: str  # the citizen's latest words (or the question of a ticket waiting to be taken)
    held: bool  # the helper holds it (False: a new ticket they may take)


async def _since(session: AsyncSession, ticket_id: int, since: datetime | None) -> datetime | None:
    """When the helper chose the ticket: the dialog state's time, or (a state saved before it kept
    one) the claim."""
    if since is not None:
        return since
    row = await session.get(Ticket, ticket_id)
    return row.claimed_at if row is not None else None


async def newer_from_citizens(
    session: AsyncSession, actor: Actor, ticket_id: int, since: datetime | None
) -> list[Newer]:
    """The other tickets the actor holds whose citizen wrote after `since`, oldest ticket first."""
    start = await _since(session, ticket_id, since)
    if start is None:
        return []
    out = []
    for ticket in await owned_by(session, actor):
        if ticket.id == ticket_id or not can_handle(actor, ticket.unit_path):
            continue
        stmt = (
            select(TicketMessage.text)
            .where(
                TicketMessage.ticket_id == ticket.id,
                TicketMessage.sender == "citizen",
                TicketMessage.at > start,
            )
            .order_by(TicketMessage.id.desc())
            .limit(1)
        )
        text = (await session.execute(stmt)).scalar_one_or_none()
        if text is not None:
            out.append(Newer(ticket, text, held=True))
    return out


async def newer_elsewhere(
    session: AsyncSession, actor: Actor, ticket_id: int, since: datetime | None
) -> list[Newer]:
    """`newer_from_citizens`, and the new tickets the actor may take announced (or escalated)
    after `since`: whatever may have shown them options of its own since."""
    out = await newer_from_citizens(session, actor, ticket_id, since)
    start = await _since(session, ticket_id, since)
    if start is None:
        return out
    for ticket in await waiting_for(session, actor):
        pushed = max(ticket.created_at, ticket.escalated_at or ticket.created_at)
        if ticket.id != ticket_id and pushed > start:
            out.append(Newer(ticket, ticket.question, held=False))
    return out
