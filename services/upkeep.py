"""Housekeeping: the processed-updates table (dedupe marks) is pruned by age, keeping the window
in which a platform may still deliver the same update again."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import core as repo

# Telegram keeps an undelivered update 24 h; Zalo retries within minutes. A week is ample.
DEDUPE_WINDOW = timedelta(days=7)


async def prune_processed_updates(
    session: AsyncSession, now: datetime, keep: timedelta = DEDUPE_WINDOW
) -> int:
    """Forget dedupe marks older than `keep`; returns how many went."""
    return await repo.prune_processed(session, now - keep)
