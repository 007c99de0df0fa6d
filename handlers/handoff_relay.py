"""The ticket's conversation, both sides: what the citizen and the helper who claimed the ticket write
goes through the bot to the other side (handlers/handoff.py holds the request and the buttons;
`handoff.open:<id>` / `handoff.reply:<id>` states call `relay_message`)."""

from __future__ import annotations

from handlers.core import Attachment, AttachmentKind, Button, Context, MessageKind
from handlers.handoff_choice import chose
from handlers.handoff_push import MAX_RELAY_BYTES, TicketAction, ctx_push, helper_label
from services import handoff, people, privacy, reachability
from services.errors import Conflict, PermissionDenied
from services.handoff.tickets import TicketView


def warn_ids(ctx: Context, text: str) -> None:
    """Once per conversation: an ID or phone number need not be shared (we relay, never log)."""
    if handoff.looks_like_id_or_phone(text) and not ctx.state.get("warned"):
        ctx.state["warned"] = True
        ctx.say("handoff.no_id_needed")


async def relay_message(
    ctx: Context, ticket_id: int, *, text: str | None = None, hidden: bool = False
) -> None:
    """Text, photos and documents go through to the other side; voice, stickers, locations… are
    refused plainly (the other side could not be sure to receive them). `text`: words kept from
    an earlier message (the helper said which ticket they answer), sent instead of this one's;
    `hidden`: numbers were already hidden from those words when they were kept."""
    attachment: Attachment | None = None
    kept = text is not None
    text = text if text is not None else ctx.msg.text or ""
    ctx.letter_choices = True  # in a conversation a typed «2» is said to the other side, never an option
    if ctx.msg.is_media and not kept:
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
        ended = await handoff.get(ctx.session, ticket_id)
        helper = ended.citizen_id != ctx.actor.person_id  # /hotro is the citizen's way back, not theirs
        ctx.say("handoff.ticket_ended_helper" if helper else "handoff.ticket_ended", id=ticket_id)
        return
    except PermissionDenied:  # the role that let them answer was removed meanwhile
        ctx.end()
        ctx.say("handoff.not_yours", id=ticket_id)
        return
    if ticket.citizen_id == ctx.actor.person_id:
        if not (ctx.state_name or "").startswith("handoff.open:"):
            ctx.goto(f"handoff.open:{ticket.id}")
        if message.to_person is None:
            # Only the words wait for the claim (take_queued): a photo sent now is not kept.
            key = "handoff.queued" if attachment is None else f"handoff.queued_without_file.{attachment.kind}"
            ctx.say(key)
        else:
            await relay_to_helper(
                ctx, ticket, message.to_person, message.id, message.text, attachment, message.reopened
            )
            key = "handoff.reopened" if message.reopened else "handoff.relayed"
            ctx.say(await _with_file(ctx, key, message.to_person, attachment), id=ticket.id)
        warn_ids(ctx, text)
        return
    if not (ctx.state_name or "").startswith("handoff.reply:"):
        chose(ctx, ticket.id)  # outside a dialog, the one ticket they hold
    key, unit = helper_label(ticket, handoff.helper_unit(ctx.actor, ticket.unit_path))
    await ctx_push(
        ctx,
        ticket.citizen_id,
        key,
        kind="ticket_message",
        idempotency=f"ticket:{ticket.id}:msg:{message.id}",
        buttons=[[("handoff.buttons.answer", TicketAction("o", ticket.id).pack())]],
        attachment=attachment,
        id=ticket.id,
        unit=unit,
        text=message.text,
    )
    if not await reachability.reachable_accounts(ctx.session, ticket.citizen_id):
        ctx.say("handoff.citizen_unreachable", buttons=[[close_button(ctx, ticket.id)]], id=ticket.id)
        return
    # What was hidden is said: the volunteer's office number cut without a word left the citizen
    # with «gọi […]» and the volunteer none the wiser.
    hidden = hidden or privacy.contains_personal_data(text)
    key = "handoff.relayed_to_citizen_hidden" if hidden else "handoff.relayed_to_citizen"
    key = await _with_file(ctx, key, ticket.citizen_id, attachment)
    ctx.say(key, buttons=[[close_button(ctx, ticket.id)]], id=ticket.id)


async def _with_file(ctx: Context, key: str, to: int, attachment: Attachment | None) -> str:
    """`key`, or its `_without_file` variant when the attachment reaches none of the recipient's
    accounts (e.g. only Zalo, without a public files URL: they get the words and a note): the
    sender must not read «✓ Đã chuyển» about a photo nobody received."""
    if attachment is None:
        return key
    reach = ctx.resources.attachment_reach
    if any(reach.delivers(ref.channel, attachment) for ref in await people.reach(ctx.session, to)):
        return key
    return f"{key}_without_file.{attachment.kind}"


async def relay_to_helper(
    ctx: Context,
    ticket: TicketView,
    to: int,
    message_id: int,
    text: str,
    attachment: Attachment | None = None,
    reopened: bool = False,
) -> None:
    await ctx_push(
        ctx,
        to,
        "handoff.relay.from_citizen_reopened" if reopened else "handoff.relay.from_citizen",
        kind="ticket_message",
        idempotency=f"ticket:{ticket.id}:msg:{message_id}",
        buttons=[
            [
                ("handoff.buttons.reply_n", TicketAction("r", ticket.id).pack()),
                ("handoff.buttons.close_n", TicketAction("c", ticket.id).pack()),
            ]
        ],
        attachment=attachment,
        id=ticket.id,
        text=text,
    )


def close_button(ctx: Context, ticket_id: int) -> Button:
    return Button(ctx.t("handoff.buttons.close_n", id=ticket_id), TicketAction("c", ticket_id).pack())
