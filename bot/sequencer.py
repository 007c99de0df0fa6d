"""Concurrent update processing that keeps each chat's order.

Updates of different chats run side by side (up to `limit` at once, so a slow database round trip
of one person no longer queues everyone); updates of one chat take turns in the order they arrived.
A turn is *reserved* synchronously, at the moment an update arrives (before any `await`), and entered
later: that is what makes the order the arrival order, whatever the scheduling afterwards.

`WriteGate` serialises write transactions inside one process when the database has a single writer
(SQLite): waiting writers queue on an asyncio lock, in order, instead of sleeping in SQLite's busy
handler and retrying.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType


class Turn:
    """One update's place in its chat's queue (see ChatSequencer.reserve)."""

    __slots__ = ("_done", "_entered", "_key", "_owner", "_prev")

    def __init__(
        self, owner: ChatSequencer, key: str, prev: asyncio.Future[None] | None, done: asyncio.Future[None]
    ) -> None:
        self._owner = owner
        self._key = key
        self._prev = prev
        self._done = done
        self._entered = False

    async def __aenter__(self) -> Turn:
        try:
            if self._prev is not None and not self._prev.done():
                await asyncio.shield(self._prev)
            await self._owner._slots.acquire()
        except BaseException:
            self._finish()
            raise
        self._entered = True
        self._owner.running += 1
        self._owner.peak = max(self._owner.peak, self._owner.running)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._entered:
            self._owner.running -= 1
            self._owner._slots.release()
        self._finish()

    def _finish(self) -> None:
        prev = self._prev
        if prev is not None and not prev.done():
            # Left early (cancelled while waiting): the next turn still waits for the previous one.
            prev.add_done_callback(lambda _f: self._finish())
            self._prev = None
            return
        if not self._done.done():
            self._done.set_result(None)
        if self._owner._tails.get(self._key) is self._done:
            del self._owner._tails[self._key]


class ChatSequencer:
    """Per-key FIFO turns with a cap on how many keys run at once."""

    def __init__(self, limit: int = 8) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._tails: dict[str, asyncio.Future[None]] = {}
        self.running = 0
        self.peak = 0  # the most turns that ran at once (tests and benches read it)

    def reserve(self, key: str) -> Turn:
        """Take the next place in `key`'s queue now; `async with` the result to wait for it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        prev = self._tails.get(key)
        self._tails[key] = done
        return Turn(self, key, prev, done)

    @property
    def waiting_keys(self) -> int:
        return len(self._tails)


class WriteGate:
    """An in-process queue for write transactions (SQLite); a no-op when `serial` is False."""

    def __init__(self, serial: bool) -> None:
        self.serial = serial
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if not self.serial:
            yield
            return
        async with self._lock:
            yield
