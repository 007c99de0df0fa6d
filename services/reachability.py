"""Who cannot be messaged right now (the platform said so: blocked the bot, left, deleted the
account) and who can be again.

An outbox row marked `unreachable` keeps, in `next_attempt_at`, the moment that attempt failed
(see outbox.mark_failed). An address is unreachable while its latest push failed that way. When
the person writes to the bot again (the intake calls `on_contact`), their unreachable pushes of
the last `window` are due again: the week's digest reaches the leader who unblocked the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChannelAccount, OutboxMessage, Person

UNREACHABLE = "unreachable"
SENT = "sent"
PENDING = "pending"
RESEND_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Unreachable:
    person_id: int | None
    name: str
    channel: str
    chat_id: str
    since: datetime
    waiting: int  # pushes kept for them


async def _latest_row(session: AsyncSession, channel: str, chat_id: str) -> OutboxMessage | None:
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.chat_id == chat_id)
        .where(OutboxMessage.status.in_((SENT, UNREACHABLE)))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_unreachable(session: AsyncSession, channel: str, chat_id: str) -> bool:
    """The latest push to this address failed as unreachable (and nothing since got through)."""
    row = await _latest_row(session, channel, chat_id)
    return row is not None and row.status == UNREACHABLE


async def unreachable_addresses(session: AsyncSession) -> frozenset[tuple[str, str]]:
    """(channel, chat_id) of every address with a push kept as unreachable (a short list)."""
    stmt = (
        select(OutboxMessage.channel, OutboxMessage.chat_id)
        .where(OutboxMessage.status == UNREACHABLE)
        .group_by(OutboxMessage.channel, OutboxMessage.chat_id)
    )
    return frozenset((str(c), str(i)) for c, i in (await session.execute(stmt)).all())


async def on_contact(
    session: AsyncSession, channel: str, chat_id: str, now: datetime, window: timedelta = RESEND_WINDOW
) -> int:
    """Someone wrote to the bot from this address: it is reachable again, so its pushes of the
    last `window` that failed as unreachable are due now. Returns how many. A read first: the
    intake calls this for every update and must not take SQLite's write lock for nothing."""
    any_kept = await session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == UNREACHABLE,
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
        )
        .limit(1)
    )
    if any_kept.first() is None:
        return 0
    stmt = (
        update(OutboxMessage)
        .where(
            OutboxMessage.status == UNREACHABLE,
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.created_at >= now - window,
        )
        .values(status=PENDING, next_attempt_at=now, claimed_until=None)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def reachable_accounts(session: AsyncSession, person_id: int) -> list[tuple[str, str]]:
    """(channel, chat_id) of the person's accounts a push can reach now, as far as we know."""
    stmt = select(ChannelAccount).where(ChannelAccount.person_id == person_id)
    out: list[tuple[str, str]] = []
    for acc in (await session.execute(stmt)).scalars():
        if not await account_unreachable(session, acc.channel, acc.chat_id):
            out.append((acc.channel, acc.chat_id))
    return out


async def unreachable_people(session: AsyncSession) -> list[Unreachable]:
    """Every account whose latest push failed as unreachable and who has not written since."""
    stmt = (
        select(OutboxMessage.channel, OutboxMessage.chat_id)
        .where(OutboxMessage.status == UNREACHABLE)
        .group_by(OutboxMessage.channel, OutboxMessage.chat_id)
    )
    out: list[Unreachable] = []
    for channel, chat_id in (await session.execute(stmt)).all():
        if not await account_unreachable(session, channel, chat_id):
            continue
        row = await _latest_row(session, channel, chat_id)
        assert row is not None
        waiting = (
            await session.execute(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.channel == channel,
                    OutboxMessage.chat_id == chat_id,
                    OutboxMessage.status == UNREACHABLE,
                )
            )
        ).scalar_one()
        person_id = row.person_id
        if person_id is None:  # a push queued by address only: whose account is it?
            person_id = (
                (
                    await session.execute(
                        select(ChannelAccount.person_id).where(
                            ChannelAccount.channel == channel, ChannelAccount.chat_id == chat_id
                        )
                    )
                )
                .scalars()
                .first()
            )
        person = await session.get(Person, person_id) if person_id else None
        out.append(
            Unreachable(
                person_id,
                person.display_name if person else "?",
                channel,
                chat_id,
                row.next_attempt_at,
                waiting,
            )
        )
    return out


async def requeue_reachable(session: AsyncSession, now: datetime, window: timedelta = RESEND_WINDOW) -> int:
    """Unreachable pushes of the last `window` to addresses a later push reached (the person
    unblocked the bot and was reached on the way): due again now. Returns how many."""
    stmt = select(OutboxMessage).where(
        OutboxMessage.status == UNREACHABLE, OutboxMessage.created_at >= now - window
    )
    revived = 0
    for row in (await session.execute(stmt)).scalars().all():
        later = await session.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.channel == row.channel,
                OutboxMessage.chat_id == row.chat_id,
                OutboxMessage.status == SENT,
                OutboxMessage.id > row.id,
            )
            .limit(1)
        )
        if later.first() is not None:
            row.status, row.next_attempt_at, row.claimed_until = PENDING, now, None
            revived += 1
    return revived


async def outbox_key(session: AsyncSession, outbox_id: int) -> str:
    """The idempotency key of an outbox row ("" when gone): it names what the push was about."""
    row = await session.get(OutboxMessage, outbox_id)
    return row.idempotency_key if row is not None else ""
