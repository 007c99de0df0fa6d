"""The helpers' side of the hand-off outside a conversation: /phieu (my tickets and those waiting), the
escalation job, and the outbox's notice when a relayed message did not reach the citizen."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Button, Context
from handlers.handoff_push import TicketAction, push
from handlers.i18n import Catalog
from handlers.router import Router
from services import handoff, people, reachability
from services.access import Action

router = Router(private_only=True)


# --- a relay that did not arrive -----------------------------------------------------------

_RELAY_KEY = re.compile(r"^ticket:(\d+):msg:(\d+):")


def undelivered_hook(catalog: Catalog, default_locale: str) -> Callable[[AsyncSession, Any], Awaitable[None]]:
    """For the outbox dispatcher: a relayed message the platform refused (the citizen blocked the
    bot) is reported to the helper, unless the citizen has another account the bot can reach."""

    async def hook(session: AsyncSession, item: Any) -> None:
        m = _RELAY_KEY.match(await reachability.outbox_key(session, item.id))
        if m is None:
            return
        ticket = await handoff.get(session, int(m.group(1)))
        if ticket.claimed_by is None or item.chat_id not in {
            r.chat_id for r in await people.reach(session, ticket.citizen_id)
        }:
            return  # not a message to the citizen
        if await reachability.reachable_accounts(session, ticket.citizen_id):
            return  # another linked channel still reaches them: the ticket stays usable there
        await push(
            session,
            catalog,
            default_locale,
            ticket.claimed_by,
            "handoff.push.undelivered",
            kind="ticket_undelivered",
            idempotency=f"ticket:{ticket.id}:undelivered:{m.group(2)}",
            buttons=[[("handoff.buttons.close_n", TicketAction("c", ticket.id).pack())]],
            id=ticket.id,
        )

    return hook


# --- volunteers' list ------------------------------------------------------------------------


@router.command("phieu", help_key="handoff.cmd.phieu", action=Action.HANDLE_TICKETS, private_only=True)
async def phieu(ctx: Context) -> None:
    """The tickets I hold (switch between them) and the ones waiting in my communes."""
    mine = await handoff.owned_by(ctx.session, ctx.actor)
    waiting = await handoff.waiting_for(ctx.session, ctx.actor)
    if not mine and not waiting:
        ctx.say("handoff.list_empty")
        return
    rows: list[list[Button]] = []
    for t in mine:
        rows.append(
            [
                Button(
                    ctx.t("handoff.buttons.mine", id=t.id, commune=t.unit_name),
                    TicketAction("r", t.id).pack(),
                )
            ]
        )
    for t in waiting:
        rows.append(
            [
                Button(
                    ctx.t("handoff.buttons.waiting", id=t.id, commune=t.unit_name),
                    TicketAction("k", t.id).pack(),
                )
            ]
        )
    ctx.say("handoff.list", buttons=rows, mine=len(mine), waiting=len(waiting))


# --- the escalation job ----------------------------------------------------------------------


async def escalate_due(
    session: AsyncSession,
    catalog: Catalog,
    now: datetime,
    *,
    config: dict[str, Any] | None = None,
    default_locale: str = "vi",
) -> int:
    """Tickets unclaimed for `handoff.claim_timeout_minutes` of working time go, once, to the
    commune's officers. Channel-neutral; the caller owns the transaction (schedule every 5 min)."""
    cfg = handoff.settings_from(config)
    escalated = 0
    for ticket in await handoff.due_for_escalation(session, cfg, now):
        if not await handoff.mark_escalated(session, ticket.id, now):
            continue
        escalated += 1
        for person_id in await handoff.officers_of(session, ticket.unit_id):
            if person_id == ticket.citizen_id:
                continue
            await push(
                session,
                catalog,
                default_locale,
                person_id,
                "handoff.push.escalated",
                kind="ticket_escalated",
                idempotency=f"ticket:{ticket.id}:esc:{person_id}",
                buttons=[[("handoff.buttons.claim_n", TicketAction("k", ticket.id).pack())]],
                id=ticket.id,
                commune=ticket.unit_name,
                minutes=cfg.claim_timeout_minutes,
                question=ticket.question,
            )
    return escalated
