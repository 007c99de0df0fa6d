"""The outbox: every push is a row with an idempotency key; a dispatcher delivers it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import core as repo


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after max attempts
    UNREACHABLE = "unreachable"  # the platform says this person cannot be messaged now


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    channel: str,
    chat_id: str,
    payload: dict[str, Any],
    person_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue a push in the caller's transaction; a repeated key is ignored (returns False)."""
    return await repo.enqueue(
        session,
        key=key,
        kind=kind,
        channel=channel,
        chat_id=chat_id,
        payload=payload,
        person_id=person_id,
        not_before=not_before,
    )


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Queue many pushes in one statement (keys already queued are skipped); rows added."""
    return await repo.enqueue_many(session, rows)


async def claim(
    session: AsyncSession, channels: tuple[str, ...], limit: int, lease: timedelta
) -> list[OutboxItem]:
    now = utcnow()
    rows = await repo.claim_due(session, now, now + lease, limit, channels)
    return [OutboxItem(r.id, r.kind, r.channel, r.chat_id, dict(r.payload), r.attempts) for r in rows]


async def mark_sent(session: AsyncSession, item_id: int) -> None:
    row = await repo.outbox_row(session, item_id)
    if row is not None:
        row.status = OutboxStatus.SENT
        row.sent_at = utcnow()
        row.claimed_until = None
        row.attempts += 1


async def mark_failed(
    session: AsyncSession,
    item_id: int,
    error: str,
    *,
    max_attempts: int,
    backoff: float,
    retry_after: float | None = None,
    unreachable: bool = False,
    permanent: bool = False,
) -> OutboxStatus:
    """Record a failed attempt; schedule a retry with exponential backoff, or give up."""
    row = await repo.outbox_row(session, item_id)
    if row is None:
        return OutboxStatus.DEAD
    row.attempts += 1
    row.last_error = error[:500]
    row.claimed_until = None
    if unreachable:
        row.status = OutboxStatus.UNREACHABLE
        row.next_attempt_at = utcnow()  # when it failed (services/reachability.py reads it)
    elif permanent or row.attempts >= max_attempts:
        row.status = OutboxStatus.DEAD
    else:
        delay = retry_after if retry_after is not None else backoff * (2 ** (row.attempts - 1))
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
    return OutboxStatus(row.status)


async def release(session: AsyncSession, item_id: int, delay: float) -> None:
    """Put a claimed row back without counting an attempt (e.g. rate limit hit before sending)."""
    row = await repo.outbox_row(session, item_id)
    if row is not None:
        row.claimed_until = None
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)


async def unclaim(session: AsyncSession, item_ids: list[int]) -> None:
    """Claimed rows this worker will not send after all (it is stopping): due again at once."""
    await repo.unclaim(session, item_ids)


async def summary(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(kind, status, count) for `tocns outbox status`."""
    return await repo.outbox_summary(session)
