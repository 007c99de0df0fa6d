"""The threaded SQLite engine's connections close even when their worker thread is gone
(db/sqlite_threaded.py): aiosqlite 0.22's own close() then waits forever, which hung a test
run's event-loop teardown (a cancelled task's connection being closed by SQLAlchemy)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from aiosqlite import core
from sqlalchemy import text

from db.engine import create_engine
from db.sqlite_threaded import ClosingConnection


def _run_in_thread(coro_fn: object, limit: float = 20.0) -> bool:
    """Run `asyncio.run(coro_fn())` on a daemon thread; True when it finished within `limit` (a
    hang must fail this test, not hang the suite)."""
    done = threading.Event()

    def target() -> None:
        asyncio.run(coro_fn())  # type: ignore[operator]
        done.set()

    threading.Thread(target=target, daemon=True).start()
    return done.wait(limit)


def test_close_returns_when_the_worker_thread_has_already_ended(tmp_path: Path) -> None:
    async def scenario() -> None:
        conn = ClosingConnection(lambda: sqlite3.connect(tmp_path / "x.db", check_same_thread=False), 64)
        conn._thread.daemon = True
        await conn
        # The worker ends without closing, as when its reply met a closed event loop.
        conn._tx.put_nowait((None, lambda: core._STOP_RUNNING_SENTINEL))
        conn._thread.join(5)
        assert not conn._thread.is_alive()
        await conn.close()
        await conn.close()  # twice is harmless

    assert _run_in_thread(scenario), "close() hung on a connection whose worker thread had ended"


def test_a_live_connection_finishes_its_queue_closes_and_ends_its_thread(tmp_path: Path) -> None:
    async def scenario() -> None:
        conn = ClosingConnection(lambda: sqlite3.connect(tmp_path / "x.db", check_same_thread=False), 64)
        await conn
        await conn.execute("CREATE TABLE t (x)")
        pending = asyncio.ensure_future(conn.execute("INSERT INTO t VALUES (1)"))
        await asyncio.sleep(0)
        await conn.close()
        await pending  # queued before the close: it ran
        conn._thread.join(5)
        assert not conn._thread.is_alive()
        check = sqlite3.connect(tmp_path / "x.db")
        assert check.execute("SELECT count(*) FROM t").fetchone() == (0,)  # never committed
        check.close()

    assert _run_in_thread(scenario)


def test_the_engine_uses_it_for_a_sqlite_file_and_a_cancelled_holder_does_not_hang(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"

    async def scenario() -> None:
        engine = create_engine(url)

        async def hold() -> None:
            async with engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                assert isinstance(raw, ClosingConnection)
                await conn.execute(text("SELECT 1"))
                await asyncio.sleep(3600)

        task = asyncio.create_task(hold())
        await asyncio.sleep(0.3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()

    assert _run_in_thread(scenario)


def test_a_call_answered_after_its_loop_closed_does_not_kill_the_worker_thread(tmp_path: Path) -> None:
    """A query cancelled at shutdown: its event loop closes while the worker thread still runs it. The
    thread's answer to the closed loop used to raise in the thread ("Exception in thread … Event loop
    is closed", which pytest charged to whichever test ran next and failed CI)."""
    started, release = threading.Event(), threading.Event()
    failures: list[threading.ExceptHookArgs] = []
    conn: ClosingConnection | None = None

    def slow() -> int:
        started.set()
        release.wait(10)
        return 1

    async def scenario() -> None:
        nonlocal conn
        conn = ClosingConnection(lambda: sqlite3.connect(tmp_path / "x.db", check_same_thread=False), 64)
        conn._thread.daemon = True
        await conn
        call = asyncio.ensure_future(conn._execute(slow))
        await asyncio.to_thread(started.wait, 10)
        call.cancel()  # the program ends; asyncio.run closes the loop with the call still running

    previous = threading.excepthook
    threading.excepthook = failures.append
    try:
        assert _run_in_thread(scenario)
        release.set()
        assert conn is not None
        conn._thread.join(0.5)
        assert not failures, failures[0].exc_value
        assert conn._thread.is_alive()  # still serving: a later close() is answered, not lost
        conn.stop()
        conn._thread.join(5)
        assert not conn._thread.is_alive() and not failures
    finally:
        threading.excepthook = previous
