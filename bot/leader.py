"""Leader election over a database lease: every worker may run, exactly one runs the scheduler.

The holder renews the lease every ttl/3; if it dies, another worker takes over once the lease
expires (at most `ttl` seconds without a scheduler, and scheduled jobs are idempotent anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utcnow
from db.repositories import lease as repo

log = logging.getLogger("tocns.leader")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leadership:
    """Runs `on_elected` when this worker becomes leader and `on_deposed` when it stops being one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        name: str,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        *,
        ttl: float = 30.0,
        holder: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.name = name
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.ttl = ttl
        self.holder = holder or worker_id()
        self.is_leader = False
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def tick(self) -> bool:
        """One acquire/renew attempt; returns whether we hold the lease now."""
        now = utcnow()
        try:
            async with self.sessions() as session, session.begin():
                held = await repo.try_acquire(
                    session, self.name, self.holder, now, now + timedelta(seconds=self.ttl)
                )
        except Exception as exc:  # database down: we cannot prove we still lead
            log.warning("lease %s renew failed: %s", self.name, type(exc).__name__)
            held = False
        if held and not self.is_leader:
            self.is_leader = True
            log.info("lease %s acquired by %s", self.name, self.holder)
            await self.on_elected()
        elif not held and self.is_leader:
            self.is_leader = False
            log.info("lease %s lost by %s", self.name, self.holder)
            await self.on_deposed()
        return held

    async def run(self) -> None:
        while not self._stop.is_set():
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.ttl / 3)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"lease:{self.name}")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        if self.is_leader:
            self.is_leader = False
            await self.on_deposed()
            with contextlib.suppress(Exception):
                async with self.sessions() as session, session.begin():
                    await repo.release(session, self.name, self.holder)
