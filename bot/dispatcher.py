"""The outbox dispatcher: claims due rows, sends them under a rate limit, marks them sent,
retries with backoff or gives up. Safe to run in every worker (rows are claimed with a lease)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import OutboxSettings
from bot.intake import render_numbered
from bot.kernel import DeliveryError, Sender
from db.base import utcnow
from db.repositories import core as repo
from handlers.core import Reply
from services import outbox, reachability

log = logging.getLogger("tocns.outbox")
REQUEUE_EVERY = 60.0  # seconds between looks for people who became reachable again
# Told when a push could not reach its person (blocked the bot…): (session, item) in a transaction.
UnreachableHook = Callable[[AsyncSession, outbox.OutboxItem], Awaitable[None]]


class RateLimiter:
    """A simple token bucket: at most `rate` sends per second, smoothly spaced."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval

    def consume(self) -> None:
        """Count a send made elsewhere (an interactive reply) against this budget, without waiting:
        pushes slow down while people are being answered, so replies never queue behind them in
        the platform's rate limit."""
        self._next = max(self._next, time.monotonic()) + self.interval

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        settings: OutboxSettings,
        *,
        batch: int = 50,
    ) -> None:
        self.sessions = sessions
        self.senders = dict(senders)
        self.settings = settings
        self.batch = batch
        self.limiter = RateLimiter(settings.rate_per_second)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self.on_unreachable: UnreachableHook | None = None
        self.unreachable_marked: Callable[[], None] | None = None  # e.g. the intake re-reads its list
        self._requeued_at = 0.0
        # Told of every send (channel, result, platform error code): the metrics hook.
        self.observe: Callable[[str, str, str | None], None] | None = None
        self.sent = 0
        self.failed = 0
        # channel -> called in the transaction that marks a push unreachable (e.g. Zalo OA
        # queues it on the person's other linked channel)
        self.unreachable_hooks: dict[str, Callable[[AsyncSession, outbox.OutboxItem], Awaitable[None]]] = {}

    def wake(self) -> None:
        """Nudge the loop after a transaction added rows, so pushes don't wait a poll interval."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        log.info("outbox dispatcher started channels=%s", ",".join(self.senders))
        while not self._stop.is_set():
            try:
                done = await self.drain_once()
            except Exception as exc:  # database down: pause and try again, never die
                log.warning("outbox dispatcher paused: %s", type(exc).__name__)
                done = 0
                await self._sleep(self.settings.poll_interval * 5)
                continue
            if done == 0:
                await self._sleep(self.settings.poll_interval)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def requeue_reachable(self) -> int:
        """Pushes that failed as unreachable, to people who wrote to the bot since: due again."""
        async with self.sessions() as session, session.begin():
            revived = await reachability.requeue_reachable(session, utcnow())
        if revived:
            log.info("outbox: %d push(es) due again (their people are reachable again)", revived)
        return revived

    async def drain_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were handled."""
        if not self.senders:
            return 0
        if time.monotonic() - self._requeued_at > REQUEUE_EVERY:
            self._requeued_at = time.monotonic()
            await self.requeue_reachable()
        lease = timedelta(seconds=max(60.0, self.batch / self.settings.rate_per_second * 4))
        async with self.sessions() as session, session.begin():
            items = await outbox.claim(session, tuple(self.senders), self.batch, lease)
        for n, item in enumerate(items):
            if self._stop.is_set():
                # Stopping: the rest of the batch goes back to the queue now rather than when the
                # lease runs out (a restarted worker would otherwise wait minutes to send them).
                async with self.sessions() as session, session.begin():
                    await outbox.unclaim(session, [i.id for i in items[n:]])
                break
            await self.deliver(item)
        return len(items)

    async def deliver(self, item: outbox.OutboxItem) -> None:
        sender = self.senders[item.channel]
        reply = Reply.from_payload(item.payload)
        menu = None
        if not sender.supports_buttons and reply.buttons:
            text, menu = render_numbered(reply.text, reply.buttons, letters=reply.letters)
            reply = Reply(text=text, attachment=reply.attachment)
        await self.limiter.wait()
        try:
            await sender.send(item.chat_id, reply)
        except DeliveryError as exc:
            if exc.retry_after:
                self.limiter.pause(exc.retry_after)
            async with self.sessions() as session, session.begin():
                status = await outbox.mark_failed(
                    session,
                    item.id,
                    str(exc),
                    max_attempts=self.settings.max_attempts,
                    backoff=self.settings.backoff_seconds,
                    retry_after=exc.retry_after,
                    unreachable=exc.unreachable,
                    permanent=exc.permanent,
                )
                hook = self.unreachable_hooks.get(item.channel)
                if hook is not None and status == outbox.OutboxStatus.UNREACHABLE:
                    await hook(session, item)
            self.failed += 1
            if self.observe is not None:
                code = getattr(exc, "code", None)
                self.observe(item.channel, status, None if code is None else str(code))
            log.info("outbox send failed id=%s kind=%s status=%s", item.id, item.kind, status)
            if status is outbox.OutboxStatus.UNREACHABLE and self.unreachable_marked is not None:
                self.unreachable_marked()
            if status is outbox.OutboxStatus.UNREACHABLE and self.on_unreachable is not None:
                async with self.sessions() as session, session.begin():
                    await self.on_unreachable(session, item)
                self.wake()
            return
        # Mark sent right after the platform accepted it: the window in which a crash could
        # cause a resend is one message per worker.
        async with self.sessions() as session, session.begin():
            await outbox.mark_sent(session, item.id)
            if menu:
                await repo.set_menu(session, item.channel, item.chat_id, item.chat_id, menu)
        self.sent += 1
        if self.observe is not None:
            self.observe(item.channel, "sent", None)
