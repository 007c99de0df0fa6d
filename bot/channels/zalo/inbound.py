"""Answer Zalo's webhook fast, process afterwards.

Zalo OA waits 2 seconds for a 200, then redelivers (30 s, 5 min, 15 min, 30 min, 1 h) and finally
disables the webhook; the Bot Platform documents no deadline, so it gets the same treatment. A
webhook handler therefore only checks the signature, stores the raw event (one insert, its own
transaction) and answers; a background task parses the event, downloads attachments, runs the
intake and sends the replies. If the event cannot be stored, the answer is 503 at once, so Zalo
delivers it again. Events a stopped worker did not finish are processed at the next start
(`sweep`); the intake's dedupe makes processing an event twice harmless."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.intake import DatabaseUnavailable
from bot.kernel import App
from db.base import utcnow
from db.repositories import zalo_inbound as repo

log = logging.getLogger("tocns.zalo")

Process = Callable[[dict[str, Any], bytes], Awaitable[None]]
KEEP_DONE = timedelta(days=8)  # longer than Zalo OA's 7-day window: the rows tell who wrote when


class Inbound:
    """Stored webhook events of one channel and the tasks processing them, one chat at a time."""

    def __init__(
        self,
        app: App,
        channel: str,
        process: Process,
        chat_of: Callable[[dict[str, Any]], str],
        *,
        interaction_of: Callable[[dict[str, Any]], str] | None = None,
        clock: Callable[[], datetime] = utcnow,
        retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0),
    ) -> None:
        self.app = app
        self.channel = channel
        self.process = process
        self.chat_of = chat_of
        self.interaction_of = interaction_of
        self.clock = clock
        self.retry_delays = retry_delays
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}  # tasks holding or waiting for each chat's lock
        self.processed = 0

    async def store(self, raw: bytes, body: dict[str, Any]) -> int:
        """One insert; raises when the database cannot take it (the caller answers 503)."""
        who = self.interaction_of(body) if self.interaction_of is not None else ""
        async with self.app.sessions() as session, session.begin():
            return await repo.store(session, self.channel, raw.decode("utf-8", "replace"), who, self.clock())

    async def accept(self, raw: bytes, body: dict[str, Any]) -> None:
        """A webhook's event: stored first (503 when the database cannot take it, so the platform
        delivers it again), then processed in the background."""
        try:
            row_id = await self.store(raw, body)
        except Exception as exc:
            log.warning("%s webhook: event not stored (%s): 503", self.channel, type(exc).__name__)
            raise web.HTTPServiceUnavailable() from None
        self.schedule(row_id, body, raw)

    def schedule(self, row_id: int, body: dict[str, Any], raw: bytes) -> None:
        task = asyncio.create_task(self._run(row_id, body, raw), name=f"{self.channel}.inbound")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, row_id: int, body: dict[str, Any], raw: bytes) -> None:
        key = self.chat_of(body)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            await self._run_locked(lock, row_id, body, raw)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                self._locks.pop(key, None)

    async def _run_locked(self, lock: asyncio.Lock, row_id: int, body: dict[str, Any], raw: bytes) -> None:
        async with lock:
            for delay in (*self.retry_delays, None):
                try:
                    await self.process(body, raw)
                except DatabaseUnavailable:
                    if delay is None:
                        log.warning("%s: event %s left for the next sweep", self.channel, row_id)
                        return
                    await asyncio.sleep(delay)
                    continue
                except Exception:
                    log.exception("%s: event %s failed", self.channel, row_id)
                break
            with contextlib.suppress(Exception):
                async with self.app.sessions() as session, session.begin():
                    await repo.mark_done(session, row_id)
            self.processed += 1

    async def sweep(self, older_than: timedelta = timedelta(seconds=0)) -> int:
        """Process events stored but never finished (a worker stopped in between)."""
        try:
            async with self.app.sessions() as session, session.begin():
                await repo.prune(session, utcnow() - KEEP_DONE)
                rows = await repo.pending(session, self.channel, utcnow() - older_than)
        except Exception as exc:
            log.warning("%s: sweep skipped (%s)", self.channel, type(exc).__name__)
            return 0
        for row_id, text in rows:
            try:
                body = json.loads(text)
            except json.JSONDecodeError:
                body = None
            if not isinstance(body, dict):
                async with self.app.sessions() as session, session.begin():
                    await repo.mark_done(session, row_id)
                continue
            self.schedule(row_id, body, text.encode())
        return len(rows)

    async def sweep_forever(self, every: float = 300.0, older_than: float = 120.0) -> None:
        """Pick up, now and then, events a stopped worker left (older than `older_than` s)."""
        while True:
            await asyncio.sleep(every)
            await self.sweep(timedelta(seconds=older_than))

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
