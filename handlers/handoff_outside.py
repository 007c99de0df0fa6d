"""A hand-off outside any dialog: after /huy, a dossier look-up or a night's sleep, the plain text and
the photos of someone with an open ticket still go to it; /xong ends it; /huy says what happens to it.
Asking for a person in words («tôi muốn gặp người hỗ trợ») starts a hand-off as /hotro does."""

from __future__ import annotations

from handlers.core import Button, Context
from handlers.handoff import begin, close_ticket, withdraw
from handlers.handoff_push import TicketAction
from handlers.handoff_relay import relay_message
from handlers.router import Router
from services import handoff
from services.access import Role
from services.handoff.intent import asks_for_person
from services.handoff.tickets import TicketView

router = Router(private_only=True)


async def _tickets_of(ctx: Context) -> tuple[TicketView | None, list[TicketView]]:
    """(my own active request, the tickets I hold as a helper)."""
    mine, held = await handoff.involving(ctx.session, ctx.actor)
    # A helper who lost the role keeps no ticket of theirs open to free text.
    return mine, held if ctx.actor.roles - {Role.CITIZEN} else []


@router.text(priority=1)
async def to_open_ticket(ctx: Context) -> bool:
    """Outside any dialog (after /huy, a look-up, a night's sleep), plain text of someone with an
    open hand-off goes to it: the citizen's to their ticket, the helper's to the one they hold."""
    return await _route_outside_dialog(ctx)


@router.text(priority=50)
async def asks_for_a_person(ctx: Context) -> bool:
    """«cho tôi gặp tình nguyện viên», «talk to a human»: the hand-off, not FAQ entries about
    volunteers (runs after the dossier-code look-up, before the FAQ)."""
    if not asks_for_person(ctx.msg.text or ""):
        return False
    await begin(ctx)
    return True


@router.on_media()
async def media_to_open_ticket(ctx: Context) -> bool:
    return await _route_outside_dialog(ctx)


async def _route_outside_dialog(ctx: Context) -> bool:
    mine, held = await _tickets_of(ctx)
    if mine is not None:
        await relay_message(ctx, mine.id)
        return True
    if len(held) == 1:
        await relay_message(ctx, held[0].id)
        return True
    if held:
        rows = [
            [
                Button(
                    ctx.t("handoff.buttons.mine", id=t.id, commune=t.unit_name),
                    TicketAction("r", t.id).pack(),
                )
            ]
            for t in held
        ]
        ctx.say("handoff.which_ticket", buttons=rows, n=len(held))
        return True
    return False


@router.after_cancel()
async def ticket_after_cancel(ctx: Context) -> None:
    """/huy leaves a dialog, not a hand-off: say what happens to the ticket and how to end it."""
    mine, held = await _tickets_of(ctx)
    if mine is not None:
        ctx.say("handoff.cancel_note_citizen", id=mine.id)
    for t in held:
        ctx.say("handoff.cancel_note_helper", id=t.id)


@router.command("xong", help_key="handoff.cmd.xong", private_only=True)
async def xong(ctx: Context) -> None:
    """The way out of a hand-off: the citizen ends their request, the helper closes the ticket."""
    mine, held = await _tickets_of(ctx)
    if mine is not None:
        await withdraw(ctx, mine.id, finished=True)
        return
    if len(held) == 1:
        await close_ticket(ctx, held[0].id)
        return
    if held:
        rows = [
            [Button(ctx.t("handoff.buttons.close_n", id=t.id), TicketAction("c", t.id).pack())] for t in held
        ]
        ctx.say("handoff.which_to_close", buttons=rows, n=len(held))
        return
    ctx.say("handoff.nothing_open")
