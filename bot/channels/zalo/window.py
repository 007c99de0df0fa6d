"""Zalo OA's messaging window, as the sources describe it: a customer-service message (tin tư vấn)
is free within 48 hours of the person's last interaction with the OA, billable from 48 hours to
7 days, and refused after 7 days (error -230). tocns knows the last interaction from its own
records (the raw webhook events it stores: a message the person sent, or a follow). Fail safe:
with no record, the push is tried and Zalo decides.

- a push to someone silent for more than 7 days is not sent on the OA (it would be refused):
  it is marked unreachable and, when the person linked another channel (/lienket), the same
  push is queued there instead;
- `tocns outbox status` lists queued OA pushes in the billable band and outside the window;
- billing errors (-320/-321) are not retried and the installation's admins are told once a day
  on their other channels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.repositories import zalo_window as repo
from handlers.core import Reply
from handlers.i18n import Catalog
from services import outbox

log = logging.getLogger("tocns.zalo_oa")

FREE = timedelta(hours=48)
OPEN = timedelta(days=7)
# Where a push goes when the OA cannot deliver it, in order of preference.
FALLBACK_ORDER = ("telegram", "zalo_bot")


class Band(StrEnum):
    FREE = "free"  # within 48 h
    BILLABLE = "billable"  # 48 h - 7 days
    CLOSED = "closed"  # over 7 days: refused by Zalo
    UNKNOWN = "unknown"  # no record of the person writing


def band(last: datetime | None, now: datetime) -> Band:
    if last is None:
        return Band.UNKNOWN
    age = now - last
    if age <= FREE:
        return Band.FREE
    if age <= OPEN:
        return Band.BILLABLE
    return Band.CLOSED


async def band_of(session: AsyncSession, channel: str, chat_id: str, now: datetime) -> Band:
    return band(await repo.last_interaction(session, channel, chat_id), now)


async def reroute(session: AsyncSession, channel: str, item: outbox.OutboxItem) -> str | None:
    """Queue an unreachable OA push on the person's other linked channel; the channel used."""
    if item.kind == "reply":
        return None
    accounts = await repo.other_accounts(session, channel, item.chat_id)
    accounts.sort(key=lambda a: FALLBACK_ORDER.index(a.channel) if a.channel in FALLBACK_ORDER else 99)
    for account in accounts:
        queued = await outbox.enqueue(
            session,
            key=f"reroute:{item.id}:{account.channel}",
            kind=item.kind,
            channel=account.channel,
            chat_id=account.chat_id,
            payload=item.payload,
            person_id=account.person_id,
        )
        log.info("zalo_oa push %s rerouted to %s (queued=%s)", item.id, account.channel, queued)
        return account.channel
    return None


async def alert_admins(
    session: AsyncSession, catalog: Catalog, locale: str, channel: str, code: int, now: datetime | None = None
) -> int:
    """Tell the admins (on their non-OA channels) that Zalo stopped OA sending for billing."""
    day = (now or utcnow()).date().isoformat()
    text = catalog.text(locale, "zalo.billing_alert", code=str(code))
    count = 0
    for account in await repo.admin_accounts(session, channel):
        if await outbox.enqueue(
            session,
            key=f"zalo_oa:billing:{code}:{day}:{account.id}",
            kind="zalo_billing_alert",
            channel=account.channel,
            chat_id=account.chat_id,
            payload=Reply(text).to_payload(),
            person_id=account.person_id,
        ):
            count += 1
    return count


async def status_rows(
    session: AsyncSession, channel: str, now: Callable[[], datetime] = utcnow
) -> list[tuple[str, str, int]]:
    """(kind, band, count) of queued OA pushes in the billable band or outside the window."""
    counts: dict[tuple[str, str], int] = {}
    at = now()
    for kind, chat_id in await repo.pending_pushes(session, channel):
        b = await band_of(session, channel, chat_id, at)
        if b in (Band.BILLABLE, Band.CLOSED):
            counts[(kind, b.value)] = counts.get((kind, b.value), 0) + 1
    return [(k, b, n) for (k, b), n in sorted(counts.items())]
