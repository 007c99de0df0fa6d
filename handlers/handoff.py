"""Hand-off to a human volunteer: /hotro (or «Gặp người hỗ trợ»), commune, question → a ticket
pushed to the commune's volunteers; the first «Nhận» owns it; messages relay both ways through
the bot under neutral labels; the owner closes, the citizen rates. Also /phieu and the
escalation job body `escalate_due`.

Dialog states: `handoff.commune`, `handoff.question`, `handoff.open:<id>` (the citizen writes to
their ticket), `handoff.reply:<id>` (the owner writes back)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Attachment, AttachmentKind, Button, Context, MessageKind, Reply, push_reply
from handlers.i18n import Catalog
from handlers.router import Router
from services import handoff, people, reachability
from services.access import Action, Role
from services.errors import Conflict, PermissionDenied
from services.handoff.hours import HandoffSettings
from services.handoff.tickets import Status, TicketView

router = Router()
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RELAY_BYTES = 5 * 1024 * 1024  # a photo or a scanned paper; the outbox row carries it
ButtonSpec = Sequence[Sequence[tuple[str, str]]]  # rows of (label key, payload)


def settings(ctx: Context) -> HandoffSettings:
    return handoff.settings_from(ctx.config)


# --- pushes (through the outbox, in each recipient's language) ------------------------------


async def push(
    session: AsyncSession,
    catalog: Catalog,
    default_locale: str,
    person_id: int,
    key: str,
    *,
    kind: str,
    idempotency: str,
    buttons: ButtonSpec = (),
    attachment: Attachment | None = None,
    **params: Any,
) -> int:
    """Like ctx.notify, but button labels are catalog keys rendered in the recipient's language;
    usable from jobs, which have no Context."""
    actor = await people.load_actor(session, person_id)
    lang = actor.locale or default_locale
    rows = tuple(
        tuple(Button(catalog.text(lang, label), payload) for label, payload in row) for row in buttons
    )
    reply = Reply(text=catalog.text(lang, key, **params), buttons=rows, attachment=attachment)
    return await push_reply(session, person_id, reply, kind=kind, idempotency=idempotency)


async def _push(ctx: Context, person_id: int, key: str, **kw: Any) -> int:
    return await push(ctx.session, ctx.catalog, ctx.default_locale, person_id, key, **kw)


def when_text(catalog: Catalog, lang: str, at: datetime) -> str:
    """ "07:30 thứ Hai, 24/11" — the next time someone is expected to answer."""
    day = catalog.text(lang, f"handoff.weekdays.{_WEEKDAYS[at.weekday()]}")
    return catalog.text(lang, "handoff.when", time=at.strftime("%H:%M"), day=day, date=at.strftime("%d/%m"))


def _helper_params(ticket: TicketView, role_unit: tuple[Role, str] | None) -> tuple[str, str]:
    """(message key, unit name) the citizen sees for the person answering: no personal name."""
    if role_unit is None:  # never a role the person does not hold
        return "handoff.relay.from_helper", ticket.unit_name
    role, unit = role_unit
    if role is Role.OFFICER:
        return "handoff.relay.from_officer", unit or ticket.unit_name
    return "handoff.relay.from_volunteer", unit


# --- the citizen's side ----------------------------------------------------------------------


@router.command("hotro", help_key="handoff.cmd.hotro", private_only=True)
async def hotro(ctx: Context) -> None:
    await begin(ctx)


async def begin(ctx: Context) -> None:
    current = await handoff.active_ticket(ctx.session, ctx.actor.person_id)
    if current is not None:
        _show_current(ctx, current)
        return
    ctx.goto("handoff.commune")
    buttons: list[list[Button]] = []
    last = await handoff.last_commune(ctx.session, ctx.actor.person_id)
    if last is not None:
        buttons.append([Button(last.name, f"hr:u:{last.id}")])
    buttons.append([Button(ctx.t("core.buttons.cancel"), "core:cancel")])
    ctx.say("handoff.ask_commune", buttons=buttons)


def _show_current(ctx: Context, ticket: TicketView) -> None:
    ctx.goto(f"handoff.open:{ticket.id}")
    key = "handoff.current_open" if ticket.status is Status.OPEN else "handoff.current_claimed"
    cancel = [[Button(ctx.t("handoff.buttons.withdraw"), f"hr:x:{ticket.id}")]]
    ctx.say(key, buttons=cancel, id=ticket.id, commune=ticket.unit_name)


@router.state("handoff.commune")
async def typed_commune(ctx: Context) -> None:
    found = await handoff.find_communes(ctx.session, ctx.msg.text or "", limit=5)
    if not found:
        ctx.say("handoff.commune_not_found")
        return
    ctx.say("handoff.pick_commune", buttons=[[Button(u.name, f"hr:u:{u.id}")] for u in found])


async def _picked_commune(ctx: Context, unit_id: int) -> None:
    place = await handoff.commune(ctx.session, unit_id)
    current = await handoff.active_ticket(ctx.session, ctx.actor.person_id)
    if current is not None:
        _show_current(ctx, current)
        return
    ctx.goto("handoff.question", unit=place.id)
    ctx.say("handoff.ask_question", edit=True, commune=place.name)


@router.state("handoff.question")
async def typed_question(ctx: Context) -> None:
    text = ctx.msg.text or ""
    unit_id = int(ctx.state.get("unit") or 0)
    ticket = await handoff.create(ctx.session, ctx.actor, unit_id, text, ctx.now)
    reached = await announce(ctx.session, ctx.catalog, ctx.default_locale, ticket, ctx.now)
    if not reached:
        await handoff.cancel(ctx.session, ctx.actor, ticket.id, ctx.now)
        ctx.end()
        ctx.say("handoff.nobody", commune=ticket.unit_name)
        return
    ctx.state = {}
    ctx.goto(f"handoff.open:{ticket.id}")
    cancel = [[Button(ctx.t("handoff.buttons.withdraw"), f"hr:x:{ticket.id}")]]
    ctx.say("handoff.created", buttons=cancel, id=ticket.id, commune=ticket.unit_name)
    hours = settings(ctx).working_hours
    if not handoff.is_open(hours, ctx.now):
        nxt = handoff.next_opening(hours, ctx.now)
        if nxt is not None:
            ctx.say("handoff.after_hours", when=when_text(ctx.catalog, ctx.locale, nxt))
    _warn_ids(ctx, text)


def _warn_ids(ctx: Context, text: str) -> None:
    """Once per conversation: an ID or phone number need not be shared (we relay, never log)."""
    if handoff.looks_like_id_or_phone(text) and not ctx.state.get("warned"):
        ctx.state["warned"] = True
        ctx.say("handoff.no_id_needed")


async def announce(
    session: AsyncSession, catalog: Catalog, default_locale: str, ticket: TicketView, now: datetime
) -> int:
    """Push a new ticket with «Nhận» to the commune's volunteers and team leaders (officers when
    the commune has none); returns how many people were told."""
    helpers = [p for p in await handoff.helpers_of(session, ticket.unit_path) if p != ticket.citizen_id]
    if not helpers:
        helpers = [p for p in await handoff.officers_of(session, ticket.unit_id) if p != ticket.citizen_id]
        if helpers:
            await handoff.mark_escalated(session, ticket.id, now)
    for person_id in helpers:
        await push(
            session,
            catalog,
            default_locale,
            person_id,
            "handoff.push.new",
            kind="ticket_new",
            idempotency=f"ticket:{ticket.id}:new:{person_id}",
            buttons=[[("handoff.buttons.claim", f"hr:k:{ticket.id}")]],
            id=ticket.id,
            commune=ticket.unit_name,
            question=ticket.question,
        )
    return len(helpers)


# --- the ticket conversation (both sides) ----------------------------------------------------


@router.state("handoff", media=True)
async def in_ticket(ctx: Context) -> None:
    """`handoff.open:<id>` / `handoff.reply:<id>`: relay what is sent to the other side."""
    _, _, raw = (ctx.state_name or "").partition(":")
    if not raw.isdigit():
        ctx.end()
        ctx.say("core.stale_button")
        return
    await _relay(ctx, int(raw))


async def _relay(ctx: Context, ticket_id: int) -> None:
    """Text, photos and documents go through to the other side; voice, stickers, locations… are
    refused plainly (the other side could not be sure to receive them)."""
    attachment: Attachment | None = None
    text = ctx.msg.text or ""
    if ctx.msg.is_media:
        file = ctx.msg.file
        if file is None or ctx.msg.kind not in (MessageKind.PHOTO, MessageKind.DOCUMENT):
            ctx.say("handoff.media_text_only", what=ctx.t(f"core.kinds.{ctx.msg.kind.value}"), id=ticket_id)
            return
        if len(file.data) > MAX_RELAY_BYTES:
            ctx.say("handoff.media_too_large", mb=MAX_RELAY_BYTES // (1024 * 1024))
            return
        kind = AttachmentKind.PHOTO if ctx.msg.kind is MessageKind.PHOTO else AttachmentKind.DOCUMENT
        attachment = Attachment(kind, file.name, file.data)
        label = ctx.t(f"core.kinds.{ctx.msg.kind.value}")
        text = (
            f"[{label}: {file.name}] {text}".strip()
            if kind is AttachmentKind.DOCUMENT
            else f"[{label}] {text}"
        )
    try:
        ticket, message = await handoff.relay(ctx.session, ctx.actor, ticket_id, text.strip(), ctx.now)
    except Conflict:
        ctx.end()
        ctx.say("handoff.ticket_ended", id=ticket_id)
        return
    except PermissionDenied:  # the role that let them answer was removed meanwhile
        ctx.end()
        ctx.say("handoff.not_yours", id=ticket_id)
        return
    if ticket.citizen_id == ctx.actor.person_id:
        if not (ctx.state_name or "").startswith("handoff.open:"):
            ctx.goto(f"handoff.open:{ticket.id}")
        if message.to_person is None:
            ctx.say("handoff.queued")
        else:
            await _relay_to_helper(ctx, ticket, message.to_person, message.id, message.text, attachment)
            ctx.say("handoff.relayed", id=ticket.id)
        _warn_ids(ctx, text)
        return
    if not (ctx.state_name or "").startswith("handoff.reply:"):
        ctx.goto(f"handoff.reply:{ticket.id}")
    key, unit = _helper_params(ticket, handoff.helper_unit(ctx.actor, ticket.unit_path))
    await _push(
        ctx,
        ticket.citizen_id,
        key,
        kind="ticket_message",
        idempotency=f"ticket:{ticket.id}:msg:{message.id}",
        buttons=[[("handoff.buttons.answer", f"hr:o:{ticket.id}")]],
        attachment=attachment,
        id=ticket.id,
        unit=unit,
        text=message.text,
    )
    if not await reachability.reachable_accounts(ctx.session, ticket.citizen_id):
        ctx.say("handoff.citizen_unreachable", buttons=[[_close_button(ctx, ticket.id)]], id=ticket.id)
        return
    ctx.say("handoff.relayed_to_citizen", buttons=[[_close_button(ctx, ticket.id)]], id=ticket.id)


async def _tickets_of(ctx: Context) -> tuple[TicketView | None, list[TicketView]]:
    """(my own active request, the tickets I hold as a helper)."""
    mine = await handoff.active_ticket(ctx.session, ctx.actor.person_id)
    held = await handoff.owned_by(ctx.session, ctx.actor) if ctx.actor.roles - {Role.CITIZEN} else []
    return mine, held


@router.text(priority=1)
async def to_open_ticket(ctx: Context) -> bool:
    """Outside any dialog (after /huy, a look-up, a night's sleep), plain text of someone with an
    open hand-off goes to it: the citizen's to their ticket, the helper's to the one they hold."""
    return await _route_outside_dialog(ctx)


@router.on_media()
async def media_to_open_ticket(ctx: Context) -> bool:
    return await _route_outside_dialog(ctx)


async def _route_outside_dialog(ctx: Context) -> bool:
    mine, held = await _tickets_of(ctx)
    if mine is not None:
        await _relay(ctx, mine.id)
        return True
    if len(held) == 1:
        await _relay(ctx, held[0].id)
        return True
    if held:
        rows = [
            [Button(ctx.t("handoff.buttons.mine", id=t.id, commune=t.unit_name), f"hr:r:{t.id}")]
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
        await _withdraw(ctx, mine.id, finished=True)
        return
    if len(held) == 1:
        await _close(ctx, held[0].id)
        return
    if held:
        rows = [[Button(ctx.t("handoff.buttons.close_n", id=t.id), f"hr:c:{t.id}")] for t in held]
        ctx.say("handoff.which_to_close", buttons=rows, n=len(held))
        return
    ctx.say("handoff.nothing_open")


async def _relay_to_helper(
    ctx: Context,
    ticket: TicketView,
    to: int,
    message_id: int,
    text: str,
    attachment: Attachment | None = None,
) -> None:
    await _push(
        ctx,
        to,
        "handoff.relay.from_citizen",
        kind="ticket_message",
        idempotency=f"ticket:{ticket.id}:msg:{message_id}",
        buttons=[
            [("handoff.buttons.reply", f"hr:r:{ticket.id}"), ("handoff.buttons.close", f"hr:c:{ticket.id}")]
        ],
        attachment=attachment,
        id=ticket.id,
        text=text,
    )


def _close_button(ctx: Context, ticket_id: int) -> Button:
    return Button(ctx.t("handoff.buttons.close"), f"hr:c:{ticket_id}")


# --- buttons ---------------------------------------------------------------------------------


@router.callback("hr")
async def buttons(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    step = parts[1] if len(parts) > 1 else ""
    if step == "start":
        await begin(ctx)
        return
    numbers = [int(p) for p in parts[2:] if p.isdigit()]
    if len(numbers) != len(parts) - 2 or not numbers:
        ctx.say("core.stale_button")
        return
    number = numbers[0]
    handler = {
        "u": _picked_commune,
        "k": _claim,
        "r": _reply_mode,
        "o": _citizen_mode,
        "c": _close,
        "x": _withdraw,
    }.get(step)
    if handler is not None:
        await handler(ctx, number)
    elif step == "s" and len(numbers) == 2:
        await _rate(ctx, number, numbers[1])
    else:
        ctx.say("core.stale_button")


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
    ctx.goto(f"handoff.reply:{ticket.id}")
    ctx.reply("\n".join(lines), [[_close_button(ctx, ticket.id)]], edit=True)
    key, unit = _helper_params(ticket, handoff.helper_unit(ctx.actor, ticket.unit_path))
    await _push(
        ctx,
        ticket.citizen_id,
        "handoff.push.claimed_officer" if key.endswith("officer") else "handoff.push.claimed_volunteer",
        kind="ticket_claimed",
        idempotency=f"ticket:{ticket.id}:claimed:{ctx.actor.person_id}",  # a released ticket is claimed again
        buttons=[[("handoff.buttons.answer", f"hr:o:{ticket.id}")]],
        id=ticket.id,
        unit=unit,
    )
    for person_id in await handoff.notified_of(ctx.session, ticket):
        if person_id != ctx.actor.person_id:
            await _push(
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
    ctx.goto(f"handoff.reply:{ticket.id}")
    ctx.say(
        "handoff.reply_mode",
        buttons=[[_close_button(ctx, ticket.id)]],
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


async def _close(ctx: Context, ticket_id: int) -> None:
    ticket = await handoff.close(ctx.session, ctx.actor, ticket_id, ctx.now)
    if ctx.state_name == f"handoff.reply:{ticket_id}":
        ctx.end()
    ctx.say("handoff.closed", id=ticket.id)
    stars = [(f"handoff.stars.s{n}", f"hr:s:{ticket.id}:{n}") for n in range(1, 6)]
    await _push(
        ctx,
        ticket.citizen_id,
        "handoff.push.closed",
        kind="ticket_closed",
        idempotency=f"ticket:{ticket.id}:closed",
        buttons=[stars],
        id=ticket.id,
    )


async def _rate(ctx: Context, ticket_id: int, rating: int) -> None:
    ticket = await handoff.rate(ctx.session, ctx.actor, ticket_id, rating, ctx.now)
    if ctx.state_name == f"handoff.open:{ticket_id}":
        ctx.end()
    ctx.say("handoff.rated", edit=True, id=ticket.id, rating=rating)


async def _withdraw(ctx: Context, ticket_id: int, *, finished: bool = False) -> None:
    ticket = await handoff.cancel(ctx.session, ctx.actor, ticket_id, ctx.now)
    ctx.end()
    ctx.say("handoff.finished" if finished else "handoff.withdrawn", edit=not finished, id=ticket.id)
    if ticket.claimed_by is not None:
        await _push(
            ctx,
            ticket.claimed_by,
            "handoff.push.finished" if finished else "handoff.push.withdrawn",
            kind="ticket_cancelled",
            idempotency=f"ticket:{ticket.id}:cancelled",
            id=ticket.id,
        )


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
            buttons=[[("handoff.buttons.close", f"hr:c:{ticket.id}")]],
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
        rows.append([Button(ctx.t("handoff.buttons.mine", id=t.id, commune=t.unit_name), f"hr:r:{t.id}")])
    for t in waiting:
        rows.append([Button(ctx.t("handoff.buttons.waiting", id=t.id, commune=t.unit_name), f"hr:k:{t.id}")])
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
                buttons=[[("handoff.buttons.claim", f"hr:k:{ticket.id}")]],
                id=ticket.id,
                commune=ticket.unit_name,
                minutes=cfg.claim_timeout_minutes,
                question=ticket.question,
            )
    return escalated
