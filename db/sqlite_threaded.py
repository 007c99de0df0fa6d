"""aiosqlite connections whose close() cannot hang, for the threaded SQLite engine.

aiosqlite 0.22 runs each connection's calls on a worker thread, and `Connection.close()` waits for
that thread's answer — twice: its `finally` waits on `stop()` as well. When the thread has already
ended (a `stop()` queued ahead of the close by SQLAlchemy's terminate, or a reply to a future whose
event loop had closed, which kills the thread), nobody answers and close() waits forever. SQLAlchemy
runs that close when a task holding a connection is cancelled (a shutdown, `asyncio.run` ending),
so the process, or a test's event loop, never finishes (seen in our suite; the same hang is
reported in aiosqlite#369, #371 and SQLAlchemy#13039).

This close() asks the thread to close and stop only while the thread is alive, and waits for it a
bounded time; a dead thread's sqlite3 handle is left to sqlite3's own finaliser.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from aiosqlite import core

log = logging.getLogger(__name__)
CLOSE_WAIT = 5.0  # seconds a live worker thread gets to finish its queue and close


class ClosingConnection(core.Connection):
    """aiosqlite's Connection with a close() that returns even when its worker thread is gone."""

    async def close(self) -> None:
        if self._connection is None:
            return
        if not self._thread.is_alive():
            log.info("sqlite worker thread already ended; connection left to sqlite3 to finalise")
            self._connection = None
            return
        done = self.stop()  # after the queued calls: closes the connection, then ends the thread
        if done is None:
            return
        try:
            # shield: a cancelled caller stops waiting at once; the thread still closes.
            await asyncio.wait_for(asyncio.shield(done), CLOSE_WAIT)
        except TimeoutError:
            log.warning("sqlite worker thread did not close within %.0f s", CLOSE_WAIT)


def creator(url: str, timeout: float) -> Callable[[], Awaitable[Any]]:
    """SQLAlchemy `async_creator`: what the aiosqlite dialect would connect to for `url` (its own
    connect arguments, `timeout` as the busy timeout), as a `ClosingConnection`."""
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
    from sqlalchemy.engine import make_url

    args, params = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    params = {**params, "timeout": timeout}
    connect_db: Callable[..., sqlite3.Connection] = sqlite3.connect

    def connector() -> sqlite3.Connection:
        return connect_db(*args, **params)

    async def connect() -> ClosingConnection:
        conn = ClosingConnection(connector, 64)
        conn._thread.daemon = True  # as SQLAlchemy's dialect sets it: never holds the process open
        await conn
        return conn

    return connect
