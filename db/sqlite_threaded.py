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

The thread answers each call with `future.get_loop().call_soon_threadsafe(...)`. When the caller was
cancelled and its event loop closed before the answer (a program ending, a test's loop torn down),
that raises in the thread, which ends it and prints "Exception in thread … Event loop is closed" —
in our suite, a failure charged to whichever test ran next. Here every call's future is wrapped in
`_Reply`, which drops an answer nobody can receive any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from aiosqlite import core

log = logging.getLogger(__name__)
CLOSE_WAIT = 5.0  # seconds a live worker thread gets to finish its queue and close


class _Reply:
    """What the worker thread answers in place of the asyncio future: it looks like the future as far
    as the thread is concerned (`get_loop().call_soon_threadsafe(callback, future, value)`) and
    hands the value to the real future, unless that future's loop has closed."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future

    def get_loop(self) -> _Reply:
        return self

    def call_soon_threadsafe(self, callback: Callable[..., Any], _reply: object, value: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this any more
            self.future.get_loop().call_soon_threadsafe(callback, self.future, value)


class ClosingConnection(core.Connection):
    """aiosqlite's Connection with a close() that returns even when its worker thread is gone, and
    whose thread survives answering a closed event loop."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        future = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((_Reply(future), functools.partial(fn, *args, **kwargs)))  # type: ignore[arg-type]
        return await future

    async def _connect(self) -> ClosingConnection:
        # aiosqlite's own, with the connect's answer wrapped too: a connect still under way when
        # the program's loop closes (a failed start-up) must not kill the thread with a traceback.
        if self._connection is None:
            future = asyncio.get_running_loop().create_future()
            self._tx.put_nowait((_Reply(future), self._connector))  # type: ignore[arg-type]
            try:
                self._connection = await future
            except BaseException:
                self.stop()
                self._connection = None
                raise
        return self

    def stop(self) -> asyncio.Future[Any] | None:
        self._running = False

        def close_and_stop() -> object:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            return core._STOP_RUNNING_SENTINEL

        try:
            future: asyncio.Future[Any] | None = asyncio.get_running_loop().create_future()
        except RuntimeError:  # no loop (a connection garbage-collected): nobody waits
            future = None
        self._tx.put_nowait((_Reply(future) if future else None, close_and_stop))  # type: ignore[arg-type]
        return future

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
