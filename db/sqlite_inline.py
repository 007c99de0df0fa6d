"""SQLite on the event loop's own thread, for the short transactions of people's updates.

aiosqlite runs every call in a worker thread: a cursor, an execute, a fetch and a close are four
hand-offs, each a queue put, a thread wake-up and a self-pipe write back to the loop — about 20
per update, and on two busy cores they cost more CPU than the SQL itself (docs/benchmarks.md,
"Update cost"). An update's statements are indexed look-ups and one-row writes that SQLite runs in
tens of microseconds, so the update engine runs them inline instead: the same aiosqlite
`Connection` API that SQLAlchemy's aiosqlite dialect drives, with every call made at once.

Waiting is the one thing that must not happen inline: SQLite's busy handler would sleep on the
loop's thread (and a writer on another engine of this process could then never finish). So the
inline connection has busy_timeout 0, and db/engine.py retries BEGIN IMMEDIATE with asyncio.sleep
between tries — the only statement that waits for the write lock; in WAL mode nothing after it
waits. Long reads (digests, dashboards) stay on the threaded engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import types
from collections.abc import Callable
from typing import Any

from aiosqlite import core

YIELD_AFTER = 0.02  # seconds the loop may go without a turn before a statement gives it one


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: what is put is run at once. (SQLAlchemy's
    aiosqlite adapter puts its isolation-level change on this queue directly.)"""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite's thread does
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(core.Connection):
    """aiosqlite's Connection without its thread: every call runs in the caller's thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int = 64) -> None:
        # Not calling super().__init__: it makes the thread this class exists to avoid.
        self._running = True
        self._connection: sqlite3.Connection | None = None
        self._connector = connector
        self._tx = _RunNow()  # type: ignore[assignment]
        self._iter_chunk_size = iter_chunk_size
        self._thread = types.SimpleNamespace(daemon=True)  # type: ignore[assignment]
        self._loop_had_turn = True
        self._stretch_start = 0.0

    def __del__(self) -> None:  # nothing to stop; sqlite3 finalises its own connection
        return None

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        result = fn(*args, **kwargs)
        # A long transaction (a 100,000-row upload imported inside its update) must not hold the
        # loop from start to end: once the loop has not had a turn for YIELD_AFTER seconds, it gets
        # one here (webhook answers, health checks, other chats' replies) before the work goes on.
        # An ordinary update is over long before that and never yields.
        now = time.perf_counter()
        if self._loop_had_turn:  # a new stretch without the loop starts now
            self._loop_had_turn = False
            self._stretch_start = now
            asyncio.get_running_loop().call_soon(self._mark_turn)
        elif now - self._stretch_start > YIELD_AFTER:
            await asyncio.sleep(0)  # runs _mark_turn too: the next call starts a new stretch
        return result

    def _mark_turn(self) -> None:
        self._loop_had_turn = True

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def close(self) -> None:
        self.stop()


def creator(database: str) -> Callable[[], Any]:
    """SQLAlchemy `async_creator`: an inline connection to `database`. check_same_thread is off
    because the pool may close a connection from another thread at exit; each connection is used
    by one task at a time (the pool hands it out), never by two threads at once."""

    async def connect() -> InlineConnection:
        conn = InlineConnection(lambda: sqlite3.connect(database, check_same_thread=False, timeout=0))
        return await conn._connect()

    return connect
