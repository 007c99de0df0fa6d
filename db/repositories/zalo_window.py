"""Queries behind Zalo OA's messaging window: when a person last wrote to the OA, where else
they can be reached, who administers the installation, and which queued pushes are outside the
window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.core import ChannelAccount, Membership, OutboxMessage
from db.models.zalo import ZaloInbound


async def last_interaction(session: AsyncSession, channel: str, chat_id: str) -> datetime | None:
    """When the person last wrote to the OA or followed it (their latest stored webhook event;
    events are kept longer than the 7-day window)."""
    value = await session.scalar(
        select(func.max(ZaloInbound.received_at)).where(
            ZaloInbound.channel == channel, ZaloInbound.chat_id == chat_id
        )
    )
    return value


async def other_accounts(session: AsyncSession, channel: str, chat_id: str) -> list[ChannelAccount]:
    """The same person's accounts on the other channels (linked with /lienket)."""
    person = await session.scalar(
        select(ChannelAccount.person_id).where(
            ChannelAccount.channel == channel, ChannelAccount.chat_id == chat_id
        )
    )
    if person is None:
        return []
    rows = await session.execute(
        select(ChannelAccount)
        .where(ChannelAccount.person_id == person, ChannelAccount.channel != channel)
        .order_by(ChannelAccount.id)
    )
    return list(rows.scalars())


async def admin_accounts(session: AsyncSession, exclude_channel: str) -> list[ChannelAccount]:
    rows = await session.execute(
        select(ChannelAccount)
        .join(Membership, Membership.person_id == ChannelAccount.person_id)
        .where(
            Membership.role == "admin",
            Membership.active.is_(True),
            ChannelAccount.channel != exclude_channel,
        )
        .order_by(ChannelAccount.id)
    )
    return list(rows.scalars().unique())


async def pending_pushes(session: AsyncSession, channel: str) -> list[tuple[str, str]]:
    """(kind, chat id) of pushes still waiting on a channel (replies excluded)."""
    rows = await session.execute(
        select(OutboxMessage.kind, OutboxMessage.chat_id).where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == "pending",
            OutboxMessage.kind != "reply",
        )
    )
    return [(str(k), str(c)) for k, c in rows.all()]
