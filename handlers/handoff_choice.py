"""Which ticket a helper means when they hold several: typed text or a typed option letter is
never taken for a ticket other than the one they evidently answer.

A helper in reply mode for ticket X (`handoff.reply:X`, `since` = when they chose X) whose other
ticket's citizen wrote after that is asked where their text goes (the text is kept, state
`handoff.pick:X`); on channels without buttons, where every message's options are lettered from
«a» and the latest list wins, a typed option acting on one ticket after another ticket pushed
options of its own is confirmed first."""

from __future__ import annotations

from datetime import datetime

from handlers.core import Button, Context
from handlers.handoff_push import Confirmed, SendTo
from services import handoff, privacy

SINCE = "since"  # ISO time the helper chose the ticket they are answering
PENDING = "pending"  # the text kept while they say which ticket it is for, numbers hidden
PENDING_HIDDEN = "pending_hidden"  # something was hidden in it: the helper is told when it is sent
_LABEL_WORDS = 6


def chose(ctx: Context, ticket_id: int) -> None:
    """The helper chose the ticket they answer (a claim, «Trả lời», a pick): reply mode from now."""
    ctx.goto(f"handoff.reply:{ticket_id}")
    ctx.state[SINCE] = ctx.now.isoformat()
    ctx.state.pop(PENDING, None)
    ctx.state.pop(PENDING_HIDDEN, None)


def _since(ctx: Context) -> datetime | None:
    raw = ctx.state.get(SINCE)
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _first_words(text: str) -> str:
    words = text.split()
    short = " ".join(words[:_LABEL_WORDS])
    return short + ("…" if len(words) > _LABEL_WORDS else "")


async def ask_which_for_text(ctx: Context, ticket_id: int) -> bool:
    """In reply mode for `ticket_id`: when another ticket's citizen wrote since the helper chose
    it, keep the text and ask which ticket it answers (True: asked)."""
    others = await handoff.newer_from_citizens(ctx.session, ctx.actor, ticket_id, _since(ctx))
    if not others:
        return False
    current = await handoff.get(ctx.session, ticket_id)
    options = sorted([(current.id, current.question), *((o.ticket.id, o.text) for o in others)])
    ctx.goto(f"handoff.pick:{ticket_id}")
    _keep(ctx)
    _ask(ctx, options)
    return True


async def add_to_pending(ctx: Context, ticket_id: int) -> None:
    """A second message while the question is open: kept with the first, the question again."""
    _keep(ctx)
    current = await handoff.get(ctx.session, ticket_id)
    others = await handoff.newer_from_citizens(ctx.session, ctx.actor, ticket_id, _since(ctx))
    _ask(ctx, sorted([(current.id, current.question), *((o.ticket.id, o.text) for o in others)]))


def _keep(ctx: Context) -> None:
    text = (ctx.msg.text or "").strip()
    if ctx.msg.is_media:
        ctx.say("handoff.pick_file_again")  # a file is not kept in the dialog state: sent again
        return
    if text:
        # Stored in the dialog state: hidden now, as the relay would hide it.
        kept = privacy.redact(text)
        if kept != text:
            ctx.state[PENDING_HIDDEN] = True
        before = str(ctx.state.get(PENDING) or "")
        ctx.state[PENDING] = f"{before}\n{kept}" if before else kept


def _ask(ctx: Context, options: list[tuple[int, str]]) -> None:
    rows = [
        [Button(ctx.t("handoff.buttons.to_ticket", id=i, words=_first_words(words)), SendTo(i).pack())]
        for i, words in options
    ]
    rows.append([Button(ctx.t("handoff.buttons.send_none"), SendTo(0).pack())])
    ctx.letter_choices = True
    ctx.say("handoff.pick_ticket", buttons=rows, ids=", ".join(f"#{i}" for i, _ in options))


def pending(ctx: Context) -> str | None:
    """The kept text, when the helper is being asked where it goes."""
    if not (ctx.state_name or "").startswith("handoff.pick:"):
        return None
    text = str(ctx.state.get(PENDING) or "").strip()
    return text or None


def previous_ticket(ctx: Context) -> int | None:
    _, _, raw = (ctx.state_name or "").partition(":")
    return int(raw) if raw.isdigit() else None


_ACTIONS = {"k": "claim", "r": "reply", "c": "close"}


async def confirm_typed_choice(ctx: Context, action: str, ticket_id: int) -> bool:
    """A typed option (no buttons on this channel) acting on `ticket_id`, while another ticket
    pushed options of its own after the helper chose the one they answer: ask (True) rather than
    act on what may be the other message's «a»."""
    state = ctx.state_name or ""
    if ctx.msg.supports_buttons or action not in _ACTIONS:
        return False
    if not state.startswith(("handoff.reply:", "handoff.pick:")):
        return False
    since = _since(ctx)
    if since is None:  # a state saved before it kept the time: nothing to compare with
        return False
    others = await handoff.newer_elsewhere(ctx.session, ctx.actor, ticket_id, since)
    if not others:
        return False
    rows = [[_action_button(ctx, action, ticket_id)]]
    rows += [[_action_button(ctx, "r" if o.held else "k", o.ticket.id)] for o in others]
    rows.append([Button(ctx.t("handoff.buttons.do_nothing"), SendTo(0).pack())])
    ctx.letter_choices = True
    ctx.say(
        "handoff.confirm_choice",
        buttons=rows,
        action=ctx.t(f"handoff.actions.{_ACTIONS[action]}", id=ticket_id),
        others=", ".join(f"#{o.ticket.id}" for o in others),
    )
    return True


def _action_button(ctx: Context, action: str, ticket_id: int) -> Button:
    return Button(
        ctx.t(f"handoff.actions.{_ACTIONS[action]}", id=ticket_id), Confirmed(action, ticket_id).pack()
    )
