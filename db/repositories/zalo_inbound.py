"""Raw Zalo webhook events: one insert before answering, marked done after processing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models.zalo import ZaloInbound


async def store(
    session: AsyncSession, channel: str, body: str, chat_id: str = "", at: datetime | None = None
) -> int:
    row = ZaloInbound(
        channel=channel, chat_id=chat_id[:64], body=body, received_at=at or utcnow(), attempts=0
    )
    session.add(row)
    await session.flush()
    return row.id


# What a processed event's body becomes: the row stays (KEEP_DONE, bot/channels/zalo/inbound.py)
# only for who wrote when — the Zalo OA messaging window — and the message itself, with whatever
# ID number or phone a citizen typed, is not kept once it was handled.
PROCESSED_BODY = ""


async def mark_done(session: AsyncSession, row_id: int) -> None:
    await session.execute(
        update(ZaloInbound).where(ZaloInbound.id == row_id).values(done_at=utcnow(), body=PROCESSED_BODY)
    )


async def count_attempt(session: AsyncSession, row_id: int) -> None:
    await session.execute(
        update(ZaloInbound).where(ZaloInbound.id == row_id).values(attempts=ZaloInbound.attempts + 1)
    )


async def pending(
    session: AsyncSession, channel: str, received_before: datetime, limit: int = 100
) -> list[tuple[int, str]]:
    """Events not processed yet (a worker stopped between the answer and the processing)."""
    rows = await session.execute(
        select(ZaloInbound.id, ZaloInbound.body)
        .where(
            ZaloInbound.channel == channel,
            ZaloInbound.done_at.is_(None),
            ZaloInbound.received_at < received_before,
        )
        .order_by(ZaloInbound.id)
        .limit(limit)
    )
    return [(int(i), str(b)) for i, b in rows.all()]


async def prune(session: AsyncSession, done_before: datetime) -> None:
    """Forget events processed before `done_before`, and the bodies of all processed ones (rows
    marked done by a version that still kept them)."""
    await session.execute(delete(ZaloInbound).where(ZaloInbound.done_at < done_before))
    await session.execute(
        update(ZaloInbound)
        .where(ZaloInbound.done_at.is_not(None), ZaloInbound.body != PROCESSED_BODY)
        .values(body=PROCESSED_BODY)
    )
