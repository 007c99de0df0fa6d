"""People's updates on a SQLite file run inline on the event loop's thread (db/sqlite_inline.py):
the same answers and the same one-transaction-per-update as the threaded engine, and — the one
risk of running inline — waiting for another writer's lock never holds the loop."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.assemble import build
from bot.kernel import App
from db import sqlite_inline
from db.models import ProcessedUpdate
from db.sqlite_inline import InlineConnection
from tests.support import ChatDriver, make_settings


def _is_sqlite(app: App) -> bool:
    return app.settings.database.url.startswith("sqlite")


async def test_updates_use_the_inline_engine_only_on_a_sqlite_file(app: App) -> None:
    if _is_sqlite(app):
        assert app.intake.engine is not app.engine
        assert app.intake.engine in app.engines  # disposed with the app
        async with app.intake.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
    else:  # PostgreSQL: asyncpg is asynchronous already; a pool of its own, without pre-ping
        assert app.intake.engine is not app.engine and app.intake.engine in app.engines
        assert not app.intake.engine.pool._pre_ping  # type: ignore[attr-defined]


async def test_an_update_waits_for_another_writer_without_holding_the_loop(app: App) -> None:
    if not _is_sqlite(app):
        pytest.skip("SQLite's write lock")
    user = ChatDriver(app, "7001")
    assert (await user.send("/start")).text
    # Another process (a CLI import, a backup) holds the write lock.
    other = sqlite3.connect(make_url(app.settings.database.url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0
    update = asyncio.create_task(user.send("/help", update_key="telegram:77"))

    async def release_later() -> None:
        nonlocal ticks
        for _ in range(20):  # the loop keeps running while the update waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not update.done()  # still waiting: it did not skip the lock
        other.execute("COMMIT")

    await release_later()
    said = await update
    other.close()
    assert ticks == 20
    assert "/ngonngu" in said.text and not said.duplicate
    async with app.sessions() as s:
        seen = (await s.execute(select(func.count()).select_from(ProcessedUpdate))).scalar_one()
    assert seen == 2  # /start and /help, each once


async def test_the_threaded_engine_can_be_chosen(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's choice")
    settings = make_settings(db_url, TOCNS_SQLITE_INLINE_UPDATES="false")
    app = build(settings)
    try:
        assert app.intake.engine is app.engine
        said = await ChatDriver(app, "7002").send("/help")
        assert "/ngonngu" in said.text
    finally:
        await app.close()


async def _ticks_during_a_long_transaction(app: App) -> tuple[int, int]:
    """(ticks of another task while one update-engine transaction ran 3,000 statements, statements)."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            await asyncio.sleep(0)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks = 0
    async with app.intake.sessions() as session, session.begin():
        for _ in range(3000):
            await session.execute(text("SELECT count(*) FROM units"))
        during = ticks
    stop.set()
    await task
    return during, 3000


async def test_a_long_update_transaction_lets_the_loop_run(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100,000-row upload is imported inside its update: on the inline engine the loop still gets
    a turn every YIELD_AFTER seconds (webhook answers, health checks), not only at the end."""
    if not _is_sqlite(app):
        pytest.skip("the inline engine")
    during, _ = await _ticks_during_a_long_transaction(app)
    assert during > 0
    monkeypatch.setattr(sqlite_inline, "YIELD_AFTER", 3600.0)  # without the turns: none at all
    during, _ = await _ticks_during_a_long_transaction(app)
    assert during == 0
