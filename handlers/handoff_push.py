"""Hand-off plumbing shared by its dialogs and jobs: the button payloads, pushes in each recipient's
language through the outbox, the neutral label a citizen sees for a helper, and announcing a ticket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Attachment, Button, Context, Reply, push_reply
from handlers.i18n import Catalog
from handlers.payloads import Payload
from services import handoff, people
from services.access import Role
from services.handoff.hours import HandoffSettings
from services.handoff.tickets import TicketView

__all__ = [
    "MAX_RELAY_BYTES",
    "Confirmed",
    "Rate",
    "SendTo",
    "StartHandoff",
    "TicketAction",
    "announce",
    "ctx_push",
    "helper_label",
    "push",
    "settings",
    "when_text",
]


@dataclass(frozen=True)
class StartHandoff(Payload, prefix="hr.start"):
    """«Gặp người hỗ trợ»: start a hand-off (the FAQ's answers carry it)."""


@dataclass(frozen=True)
class TicketAction(Payload, prefix="hr"):
    """k: claim, r: reply mode, o: citizen mode, c: close, x: withdraw."""

    action: str
    ticket_id: int


@dataclass(frozen=True)
class Confirmed(Payload, prefix="hr.ok"):
    """A ticket action (as TicketAction) picked again after a typed choice was ambiguous: done
    without asking twice."""

    action: str
    ticket_id: int


@dataclass(frozen=True)
class SendTo(Payload, prefix="hr.to"):
    """The ticket a helper's kept text goes to; 0: to none (the text is dropped)."""

    ticket_id: int


@dataclass(frozen=True)
class Rate(Payload, prefix="hr.s"):
    ticket_id: int
    stars: int


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RELAY_BYTES = 5 * 1024 * 1024  # a photo or a scanned paper; the outbox row carries it
ButtonSpec = Sequence[Sequence[tuple[str, str]]]  # rows of (label key, payload)


def settings(ctx: Context) -> HandoffSettings:
    return ctx.settings.handoff  # validated once at start-up


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
    letters: bool = True,
    **params: Any,
) -> int:
    """Like ctx.notify, but button labels are catalog keys rendered in the recipient's language;
    usable from jobs, which have no Context. Where options are typed (no buttons) they are lettered:
    the recipient may be in the middle of a ticket conversation, where a typed «1» is a message, not
    «Nhận» on someone else's ticket; only the 1–5 stars keep their numbers (`letters=False`)."""
    actor = await people.load_actor(session, person_id)
    lang = actor.locale or default_locale
    rows = tuple(
        tuple(Button(catalog.text(lang, label, **params), payload) for label, payload in row)
        for row in buttons
    )
    text = catalog.text(lang, key, **params)
    reply = Reply(text=text, buttons=rows, attachment=attachment, letters=letters)
    return await push_reply(session, person_id, reply, kind=kind, idempotency=idempotency)


async def ctx_push(ctx: Context, person_id: int, key: str, **kw: Any) -> int:
    return await push(ctx.session, ctx.catalog, ctx.default_locale, person_id, key, **kw)


def when_text(catalog: Catalog, lang: str, at: datetime) -> str:
    """ "07:30 thứ Hai, 24/11" — the next time someone is expected to answer."""
    day = catalog.text(lang, f"handoff.weekdays.{_WEEKDAYS[at.weekday()]}")
    return catalog.text(lang, "handoff.when", time=at.strftime("%H:%M"), day=day, date=at.strftime("%d/%m"))


def helper_label(ticket: TicketView, role_unit: tuple[Role, str] | None) -> tuple[str, str]:
    """(message key, unit name) the citizen sees for the person answering: no personal name."""
    if role_unit is None:  # never a role the person does not hold
        return "handoff.relay.from_helper", ticket.unit_name
    role, unit = role_unit
    if role is Role.OFFICER:
        return "handoff.relay.from_officer", unit or ticket.unit_name
    return "handoff.relay.from_volunteer", unit


async def announce(
    session: AsyncSession, catalog: Catalog, default_locale: str, ticket: TicketView, now: datetime
) -> handoff.Audience:
    """Push a new ticket with «Nhận» to the commune's volunteers and team leaders (officers when
    none of them can be reached now); says whom, and how many can read it now."""
    audience = await handoff.new_ticket_audience(session, ticket)
    if audience.officers:
        await handoff.mark_escalated(session, ticket.id, now)
    for person_id in audience.people:
        await push(
            session,
            catalog,
            default_locale,
            person_id,
            "handoff.push.new",
            kind="ticket_new",
            idempotency=f"ticket:{ticket.id}:new:{person_id}",
            buttons=[[("handoff.buttons.claim_n", TicketAction("k", ticket.id).pack())]],
            id=ticket.id,
            commune=ticket.unit_name,
            question=ticket.question,
        )
    return audience
