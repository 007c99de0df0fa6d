"""Escalation: tickets nobody claimed within the claim timeout (in working minutes) go to the
commune's officers as well; and who a ticket was pushed to."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Ticket
from services import people, reachability
from services.handoff.hours import HandoffSettings, is_open, working_minutes
from services.handoff.routing import helpers_of, officers_of
from services.handoff.tickets import Status, TicketView, ticket_view


async def notified_of(session: AsyncSession, ticket: TicketView) -> list[int]:
    """Everyone a ticket was pushed to: the commune's helpers, and its officers once escalated."""
    people_ids = await helpers_of(session, ticket.unit_path)
    if ticket.escalated_at is not None or not people_ids:
        people_ids += [p for p in await officers_of(session, ticket.unit_id) if p not in people_ids]
    return [p for p in people_ids if p != ticket.citizen_id]


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
            out.append(await ticket_view(session, t))
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


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a new ticket is pushed to, and whether any of them can be reached now."""

    people: list[int]  # pushed to (a push to an account that blocked the bot waits for its return)
    reachable: int  # of them, how many have an account a push reaches now
    officers: bool  # the commune's officers were asked: no volunteer could be reached


async def new_ticket_audience(
    session: AsyncSession, ticket: TicketView, *, exclude: Collection[int] = ()
) -> Audience:
    """The commune's volunteers and team leaders; its officers too when none of them can be
    reached now (a member with no chat account, or one who blocked the bot, reads nothing).
    Counting members told a citizen «Đã gửi» when the request had reached nobody. A ticket handed
    back (its helper lost the role) goes the same way, without `exclude` (that helper)."""
    left_out = {ticket.citizen_id, *exclude}
    helpers = [p for p in await helpers_of(session, ticket.unit_path) if p not in left_out]
    reachable = [p for p in helpers if await reachability.reachable_accounts(session, p)]
    if reachable:
        return Audience(helpers, len(reachable), officers=False)
    officers = [p for p in await officers_of(session, ticket.unit_id) if p not in left_out]
    everyone = helpers + [p for p in officers if p not in helpers]
    # Only people with an account get a push at all: the rest could never receive it.
    with_account = [p for p in everyone if await people.reach(session, p)]
    reached = [p for p in officers if await reachability.reachable_accounts(session, p)]
    return Audience(with_account, len(reached), officers=bool(officers))
