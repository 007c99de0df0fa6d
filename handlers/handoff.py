"""Hand-off to a human volunteer: /hotro (or «Gặp người hỗ trợ»), commune, question → a ticket
pushed to the commune's volunteers; the first «Nhận» owns it; messages relay both ways through
the bot under neutral labels; the owner closes, the citizen rates. Payloads and pushes are in
handoff_push.py; the relayed conversation in handoff_relay.py; /phieu, the escalation job and the
undelivered-relay notice in handoff_desk.py.

Dialog states: the request is a dialog declared once (`hotro.commune` → `hotro.question`, the table at
the bottom); then `handoff.open:<id>` (the citizen writes to their ticket) and `handoff.reply:<id>`
(the owner writes back) carry the ticket's conversation."""

from __future__ import annotations

from handlers.core import Button, Context
from handlers.dialog import Dialog, State, States, Step, step_button
from handlers.handoff_choice import (
    PENDING_HIDDEN,
    add_to_pending,
    ask_which_for_text,
    chose,
    confirm_typed_choice,
    pending,
    previous_ticket,
)
from handlers.handoff_push import (
    Confirmed,
    Rate,
    SendTo,
    StartHandoff,
    TicketAction,
    announce,
    ctx_push,
    helper_label,
    settings,
    when_text,
)
from handlers.handoff_relay import close_button, relay_message, warn_ids
from handlers.router import Router, stale
from services import handoff, privacy
from services.errors import Conflict
from services.handoff.tickets import Status, TicketView
from services.units import UnitView

router = Router()


# --- the citizen's side ----------------------------------------------------------------------


@router.command("hotro", help_key="handoff.cmd.hotro", private_only=True)
async def hotro(ctx: Context) -> None:
    await begin(ctx)


# Typed at the commune step, this many words that name no commune (find_communes allows for «…, TP
# Huế», i/y, spaces and a slip) are the question, not a place name.
QUESTION_WORDS = 4


class Ask(States, prefix="hotro"):
    commune = State()  # which commune's volunteers to ask (typed name, or a button)
    question = State()  # what the citizen needs


async def begin(ctx: Context) -> None:
    current = await handoff.active_ticket(ctx.session, ctx.actor.person_id)
    if current is not None:
        _show_current(ctx, current)
        return
    await DIALOG.ask(ctx, Ask.commune)


async def ask_commune(ctx: Context) -> None:
    buttons: list[list[Button]] = []
    last = await handoff.last_commune(ctx.session, ctx.actor.person_id)
    if last is not None:
        buttons.append([step_button(last.name, Ask.commune, str(last.id))])
    buttons.append(_cancel_row(ctx))
    ctx.say("handoff.ask_commune", buttons=buttons)


def _cancel_row(ctx: Context) -> list[Button]:
    """Huỷ stays on every prompt of this step: «1» typed after «not found» meant it, and was
    searched as a commune name («Xã A Lưới 1»)."""
    return [Button(ctx.t("core.buttons.cancel"), "core:cancel")]


async def take_commune(ctx: Context, value: str) -> None:
    """A button carries the commune's id; typed words are searched and offered back as buttons. A
    typed number is words too: «2» is not the unit with id 2 (on numbered channels a picked option
    arrives as its button's payload, so `payload` tells the two apart)."""
    if value.isdigit() and ctx.msg.payload is not None:
        await _take_commune_id(ctx, int(value))
        return
    found = await handoff.find_communes(ctx.session, value, limit=5)
    if not found and len(value.split()) >= QUESTION_WORDS:
        # The question came first («tôi không biết làm giấy khai sinh cho cháu»), or instead of
        # picking from the communes offered: kept, not lost.
        # The choices offered come back: the commune is picked, never guessed («thôi không cần nữa»
        # under one offered commune is no request to it).
        # Kept with its numbers hidden, as the ticket will hold it: the dialog state is stored too.
        ctx.state["question"] = privacy.redact(value)
        offered = [int(i) for i in ctx.state.get("offered") or []]
        if offered:
            places = [await handoff.commune(ctx.session, i) for i in offered]
            ctx.say("handoff.question_kept_pick", buttons=_commune_buttons(ctx, places))
        else:
            ctx.say("handoff.question_kept", buttons=[_cancel_row(ctx)])
        warn_ids(ctx, value)  # now: once hidden, the kept question no longer shows a number
        return
    if not found:
        near = await handoff.nearest_communes(ctx.session, value)
        if near:  # «not found» with nothing to pick left the citizen guessing the spelling
            ctx.state["offered"] = [u.id for u in near]
            ctx.say("handoff.commune_near", buttons=_commune_buttons(ctx, near), typed=value)
            return
        ctx.say("handoff.commune_not_found", buttons=[_cancel_row(ctx)])
        return
    ctx.state["offered"] = [u.id for u in found]
    ctx.say("handoff.pick_commune", buttons=_commune_buttons(ctx, found))


def _commune_buttons(ctx: Context, places: list[UnitView]) -> list[list[Button]]:
    return [[step_button(u.name, Ask.commune, str(u.id))] for u in places] + [_cancel_row(ctx)]


async def _take_commune_id(ctx: Context, unit_id: int) -> None:
    """The commune is picked: the question next, or the ticket at once when the question came
    first."""
    place = await handoff.commune(ctx.session, unit_id)  # checks it is a commune
    current = await handoff.active_ticket(ctx.session, ctx.actor.person_id)
    if current is not None:
        _show_current(ctx, current)
        return
    ctx.state["unit"] = place.id
    ctx.state.pop("offered", None)
    question = ctx.state.pop("question", None)
    if question:  # written before the commune was known: the ticket needs nothing more
        await take_question(ctx, str(question))
        return
    await DIALOG.ask(ctx, Ask.question)


def _show_current(ctx: Context, ticket: TicketView) -> None:
    ctx.letter_choices = True  # what follows is a conversation: see relay_message
    ctx.goto(f"handoff.open:{ticket.id}")
    key = "handoff.current_open" if ticket.status is Status.OPEN else "handoff.current_claimed"
    cancel = [[Button(ctx.t("handoff.buttons.withdraw"), TicketAction("x", ticket.id).pack())]]
    ctx.say(key, buttons=cancel, id=ticket.id, commune=ticket.unit_name)


async def take_question(ctx: Context, text: str) -> None:
    ctx.letter_choices = True  # «1» typed next is a message to the helper, not «Huỷ yêu cầu»
    unit_id = int(ctx.state.get("unit") or 0)
    ticket = await handoff.create(ctx.session, ctx.actor, unit_id, text, ctx.now)
    audience = await announce(ctx.session, ctx.catalog, ctx.default_locale, ticket, ctx.now)
    if not audience.people:  # nobody of the commune has a chat account: nobody could ever read it
        await handoff.cancel(ctx.session, ctx.actor, ticket.id, ctx.now)
        ctx.end()
        ctx.say("handoff.nobody", commune=ticket.unit_name)
        return
    ctx.state = {"warned": True} if ctx.state.get("warned") else {}  # told when the question was kept
    ctx.goto(f"handoff.open:{ticket.id}")
    cancel = [[Button(ctx.t("handoff.buttons.withdraw"), TicketAction("x", ticket.id).pack())]]
    key = (
        "handoff.created_unreached"
        if not audience.reachable
        else "handoff.created_officers"
        if audience.officers
        else "handoff.created"
    )
    ctx.say(key, buttons=cancel, id=ticket.id, commune=ticket.unit_name)
    hours = settings(ctx).working_hours
    if audience.reachable and not handoff.is_open(hours, ctx.now):
        nxt = handoff.next_opening(hours, ctx.now)
        if nxt is not None:
            ctx.say("handoff.after_hours", when=when_text(ctx.catalog, ctx.locale, nxt))
    warn_ids(ctx, text)


async def ask_question(ctx: Context) -> None:
    place = await handoff.commune(ctx.session, int(ctx.state["unit"]))
    ctx.say("handoff.ask_question", edit=True, commune=place.name)


# --- the ticket conversation (both sides) ----------------------------------------------------


@router.state("handoff", media=True)
async def in_ticket(ctx: Context) -> None:
    """`handoff.open:<id>` / `handoff.reply:<id>`: relay what is sent to the other side (a helper
    whose other ticket spoke meanwhile is asked which ticket first: `handoff.pick:<id>`)."""
    kind, _, raw = (ctx.state_name or "").partition(":")
    if not raw.isdigit():
        ctx.end()
        ctx.say("core.stale_button")
        return
    if kind == "handoff.pick":
        await add_to_pending(ctx, int(raw))
        return
    if kind == "handoff.reply" and await ask_which_for_text(ctx, int(raw)):
        return
    await relay_message(ctx, int(raw))


# --- buttons ---------------------------------------------------------------------------------


@router.typed(StartHandoff)
async def start_button(ctx: Context, _: StartHandoff) -> None:
    await begin(ctx)


@router.typed(TicketAction)
async def ticket_button(ctx: Context, data: TicketAction) -> None:
    # Every action re-checks the person's current role and scope in the service: a payload is as
    # forgeable as typed text.
    ctx.letter_choices = True  # the ticket's conversation follows: a typed number is a message
    if await confirm_typed_choice(ctx, data.action, data.ticket_id):
        return
    await _act(ctx, data.action, data.ticket_id)


@router.typed(Confirmed)
async def confirmed_button(ctx: Context, data: Confirmed) -> None:
    """The action picked again from the question a typed option raised: done, not asked again."""
    ctx.letter_choices = True
    await _act(ctx, data.action, data.ticket_id)


async def _act(ctx: Context, action: str, ticket_id: int) -> None:
    handler = {
        "k": _claim,
        "r": _reply_mode,
        "o": _citizen_mode,
        "c": close_ticket,
        "x": withdraw,
    }.get(action)
    if handler is None:
        stale(ctx)
        return
    await handler(ctx, ticket_id)


@router.typed(SendTo)
async def send_to_button(ctx: Context, data: SendTo) -> None:
    """The ticket the helper's kept text answers (0: none — the text is dropped)."""
    ctx.letter_choices = True
    text, before = pending(ctx), previous_ticket(ctx)
    if data.ticket_id == 0:
        if before is not None and (ctx.state_name or "").startswith("handoff."):
            ctx.goto(f"handoff.reply:{before}")
            ctx.state.pop("pending", None)
            ctx.state.pop(PENDING_HIDDEN, None)
        ctx.say("handoff.pending_dropped" if text else "handoff.nothing_done")
        return
    if text is None:  # an old list, or the text was sent already: only the choice of ticket
        await _reply_mode(ctx, data.ticket_id)
        return
    ticket = await handoff.get(ctx.session, data.ticket_id)
    if ticket.claimed_by != ctx.actor.person_id:
        ctx.say("handoff.not_yours", id=data.ticket_id)
        return
    hidden = bool(ctx.state.get(PENDING_HIDDEN))
    chose(ctx, data.ticket_id)
    await relay_message(ctx, data.ticket_id, text=text, hidden=hidden)


@router.typed(Rate)
async def rate_button(ctx: Context, data: Rate) -> None:
    await _rate(ctx, data.ticket_id, data.stars)


async def _claim(ctx: Context, ticket_id: int) -> None:
    try:
        ticket = await handoff.claim(ctx.session, ctx.actor, ticket_id, ctx.now)
    except Conflict as exc:
        if exc.key == "handoff.errors.taken":
            ctx.say("handoff.taken", edit=True, id=ticket_id)
            return
        raise
    queued = await handoff.take_queued(ctx.session, ticket.id)
    lines = [ctx.t("handoff.claimed", id=ticket.id, commune=ticket.unit_name, question=ticket.question)]
    lines += [ctx.t("handoff.queued_line", text=text) for text in queued]
    lines.append(ctx.t("handoff.reply_hint"))
    chose(ctx, ticket.id)
    ctx.reply("\n".join(lines), [[close_button(ctx, ticket.id)]], edit=True)
    key, unit = helper_label(ticket, handoff.helper_unit(ctx.actor, ticket.unit_path))
    await ctx_push(
        ctx,
        ticket.citizen_id,
        "handoff.push.claimed_officer" if key.endswith("officer") else "handoff.push.claimed_volunteer",
        kind="ticket_claimed",
        idempotency=f"ticket:{ticket.id}:claimed:{ctx.actor.person_id}",  # a released ticket is claimed again
        buttons=[[("handoff.buttons.answer", TicketAction("o", ticket.id).pack())]],
        id=ticket.id,
        unit=unit,
    )
    for person_id in await handoff.notified_of(ctx.session, ticket):
        if person_id != ctx.actor.person_id:
            await ctx_push(
                ctx,
                person_id,
                "handoff.push.taken",
                kind="ticket_taken",
                idempotency=f"ticket:{ticket.id}:taken:{person_id}",
                id=ticket.id,
            )


async def _reply_mode(ctx: Context, ticket_id: int) -> None:
    ticket = await handoff.get(ctx.session, ticket_id)
    mine = ticket.status is Status.CLAIMED and ticket.claimed_by == ctx.actor.person_id
    if not mine or not handoff.can_handle(ctx.actor, ticket.unit_path):
        ctx.say("handoff.not_yours", id=ticket_id)
        return
    chose(ctx, ticket.id)
    ctx.say(
        "handoff.reply_mode",
        buttons=[[close_button(ctx, ticket.id)]],
        id=ticket.id,
        question=ticket.question,
    )


async def _citizen_mode(ctx: Context, ticket_id: int) -> None:
    ticket = await handoff.get(ctx.session, ticket_id)
    if ticket.citizen_id != ctx.actor.person_id:
        ctx.say("handoff.not_yours", id=ticket_id)
        return
    if not ticket.active:
        ctx.say("handoff.ticket_ended", id=ticket_id)
        return
    ctx.goto(f"handoff.open:{ticket.id}")
    ctx.say("handoff.write_now", id=ticket.id)


async def close_ticket(ctx: Context, ticket_id: int) -> None:
    ticket = await handoff.close(ctx.session, ctx.actor, ticket_id, ctx.now)
    if ctx.state_name in (f"handoff.reply:{ticket_id}", f"handoff.pick:{ticket_id}"):
        ctx.end()
    ctx.say("handoff.closed", id=ticket.id)
    await ctx_push(
        ctx,
        ticket.citizen_id,
        "handoff.push.closed",
        kind="ticket_closed",
        idempotency=f"ticket:{ticket.id}:closed",
        buttons=_stars(ticket.id),
        letters=False,  # «5» typed is five stars
        id=ticket.id,
    )


async def _rate(ctx: Context, ticket_id: int, rating: int) -> None:
    ticket = await handoff.rate(ctx.session, ctx.actor, ticket_id, rating, ctx.now)
    if ctx.state_name == f"handoff.open:{ticket_id}":
        ctx.end()
    ctx.say("handoff.rated", edit=True, id=ticket.id, rating=rating)


def _stars(ticket_id: int) -> list[list[tuple[str, str]]]:
    return [[(f"handoff.stars.s{n}", Rate(ticket_id, n).pack()) for n in range(1, 6)]]


async def withdraw(ctx: Context, ticket_id: int, *, finished: bool = False) -> None:
    """The citizen ends their request: withdrawn (a button, or nobody took it yet), or — /xong on a
    ticket a helper was handling — closed as resolved, and the citizen is asked to rate the help
    (the team's satisfaction figure counts those ratings)."""
    if finished:
        ticket = await handoff.finish(ctx.session, ctx.actor, ticket_id, ctx.now)
    else:
        ticket = await handoff.cancel(ctx.session, ctx.actor, ticket_id, ctx.now)
    ctx.end()
    if ticket.status is Status.CLOSED:
        ctx.letter_choices = False  # the conversation is over; «5» typed is five stars
        stars = [[Button(ctx.t(label), payload) for label, payload in row] for row in _stars(ticket.id)]
        ctx.say("handoff.finished_rate", buttons=stars, id=ticket.id)
    else:
        ctx.say("handoff.finished" if finished else "handoff.withdrawn", edit=not finished, id=ticket.id)
    if ticket.claimed_by is not None:
        await ctx_push(
            ctx,
            ticket.claimed_by,
            "handoff.push.finished" if finished else "handoff.push.withdrawn",
            kind="ticket_cancelled",
            idempotency=f"ticket:{ticket.id}:cancelled",
            id=ticket.id,
        )


# --- the request, as a graph (the ticket conversation itself is `handoff.open:<id>`/`reply:<id>`) ---

DIALOG = router.dialog(
    Dialog(
        Ask,
        {
            Ask.commune: Step(ask=ask_commune, take=take_commune),
            Ask.question: Step(ask=ask_question, take=take_question),  # → a ticket, announced
        },
    )
)
