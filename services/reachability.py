"""Who cannot be messaged right now (the platform said so: blocked the bot, left, deleted the
account) and who can be again because they wrote to the bot since.

An outbox row marked `unreachable` keeps, in `next_attempt_at`, the moment that attempt failed
(see outbox.mark_failed). A person's account is unreachable when its latest push failed that way
and they have not written to the bot since; once they write, their unreachable pushes of the last
`window` days are due again (the week's digest reaches the leader who unblocked the bot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChannelAccount, DialogState, OutboxMessage, Person

UNREACHABLE = "unreachable"
RESEND_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Unreachable:
    person_id: int | None
    name: str
    channel: str
    chat_id: str
    since: datetime
    waiting: int  # pushes kept for them


async def _last_seen(session: AsyncSession, channel: str, chat_id: str) -> datetime | None:
    stmt = select(func.max(DialogState.updated_at)).where(
        DialogState.channel == channel, DialogState.chat_id == chat_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _latest_row(session: AsyncSession, channel: str, chat_id: str) -> OutboxMessage | None:
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.chat_id == chat_id)
        .where(OutboxMessage.status.in_(("sent", UNREACHABLE)))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_unreachable(session: AsyncSession, channel: str, chat_id: str) -> bool:
    row = await _latest_row(session, channel, chat_id)
    if row is None or row.status != UNREACHABLE:
        return False
    seen = await _last_seen(session, channel, chat_id)
    return seen is None or seen <= row.next_attempt_at


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
        person = await session.get(Person, row.person_id) if row.person_id else None
        out.append(
            Unreachable(
                row.person_id,
                person.display_name if person else "?",
                channel,
                chat_id,
                row.next_attempt_at,
                waiting,
            )
        )
    return out


async def requeue_reachable(session: AsyncSession, now: datetime, window: timedelta = RESEND_WINDOW) -> int:
    """Unreachable pushes of the last `window` to people who wrote to the bot since they failed:
    due again now. Returns how many rows were put back."""
    stmt = select(OutboxMessage).where(
        OutboxMessage.status == UNREACHABLE, OutboxMessage.created_at >= now - window
    )
    seen_cache: dict[tuple[str, str], datetime | None] = {}
    revived = 0
    for row in (await session.execute(stmt)).scalars():
        key = (row.channel, row.chat_id)
        if key not in seen_cache:
            seen_cache[key] = await _last_seen(session, *key)
        seen = seen_cache[key]
        if seen is not None and seen > row.next_attempt_at:
            row.status = "pending"
            row.next_attempt_at = now
            row.claimed_until = None
            revived += 1
    return revived


async def outbox_key(session: AsyncSession, outbox_id: int) -> str:
    """The idempotency key of an outbox row ("" when gone): it names what the push was about."""
    row = await session.get(OutboxMessage, outbox_id)
    return row.idempotency_key if row is not None else ""
