"""The intake's hot statements run straight on the inline sqlite3 connection (db/sqlite_fast.py):
what they read and write must be exactly what SQLAlchemy's own path reads and writes — UTC
datetimes, JSON with Vietnamese text, a person with two roles, a dialog state a real dialog left."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.kernel import App
from db.engine import is_sqlite_file
from db.models import DialogState, ProcessedUpdate
from db.repositories import updates
from db.sqlite_fast import inline_sqlite
from tests.support import ChatDriver, demo_driver


def _inline_only(app: App) -> None:
    url = app.intake.engine.url
    if url.get_backend_name() != "sqlite" or not is_sqlite_file(str(url)):
        pytest.skip("the fast path exists only on the inline SQLite engine")


async def test_the_bundle_reads_what_sqlalchemy_reads(seeded_app: App) -> None:
    app = seeded_app
    _inline_only(app)
    tnv = demo_driver(app, "tnv")
    await tnv.send("/ghi")  # a real dialog leaves its state row (name, data, menu, time)
    citizen = ChatDriver(app, "7001", "Nguyễn Thị Ánh")
    await citizen.send("/start")
    cases = [("console", "demo-tnv", "demo-tnv"), ("telegram", "7001", "7001"), ("telegram", "nobody", "x")]
    async with app.intake.sessions() as session, session.begin():
        inline = await inline_sqlite(session)
        assert inline is not None
        for channel, user, chat in cases:
            params = {"channel": channel, "external_id": user, "chat_id": chat}
            orm = await updates.account_bundle(session, channel, user, chat)
            fast_rows = updates._FAST_BUNDLE.rows(*inline, params)
            fast = updates._fast_bundle(fast_rows) if fast_rows else updates._EMPTY
            assert fast.person == orm.person
            assert fast.state == orm.state
            assert [(r, u and (u.id, u.code, u.name, u.path)) for r, u in fast.grants] == [
                (r, u and (u.id, u.code, u.name, u.path)) for r, u in orm.grants
            ]
    tnv_bundle = await _bundle_of(app, "console", "demo-tnv")
    assert tnv_bundle.grants and tnv_bundle.state is not None and tnv_bundle.state.name
    assert tnv_bundle.state.updated_at.tzinfo is UTC


async def _bundle_of(app: App, channel: str, user: str) -> updates.AccountBundle:
    async with app.intake.sessions() as session, session.begin():
        fresh, bundle = await updates.mark_seen_and_bundle(session, f"probe-{user}", channel, user, user)
        assert fresh
        return bundle


async def test_the_dedupe_mark_stores_the_same_time_and_refuses_a_repeat(app: App) -> None:
    _inline_only(app)
    at = datetime(2026, 12, 1, 7, 5, 9, 123456, tzinfo=UTC)
    async with app.intake.sessions() as session, session.begin():
        inline = await inline_sqlite(session)
        assert inline is not None
        assert updates._FAST_SEEN.rowcount(*inline, {"key": "fast-1", "at": at}) == 1
        assert updates._FAST_SEEN.rowcount(*inline, {"key": "fast-1", "at": at}) == 0  # a repeat
        await updates.mark_update_seen(session, "slow-1")
    async with app.sessions() as session:
        stored = (
            await session.execute(select(ProcessedUpdate).where(ProcessedUpdate.key == "fast-1"))
        ).scalar_one()
        assert stored.processed_at == at
        raw: dict[str, str] = dict(
            (await session.execute(text("SELECT key, processed_at FROM processed_updates"))).all()
        )
    # The same text SQLAlchemy writes for a datetime (its format, no offset).
    assert raw["fast-1"] == "2026-12-01 07:05:09.123456"
    assert len(raw["slow-1"]) == len(raw["fast-1"])


async def test_the_state_write_back_stores_what_the_core_statement_stores(app: App) -> None:
    _inline_only(app)
    now = datetime(2026, 12, 1, 1, 2, 3, tzinfo=UTC)
    data: dict[str, Any] = {
        "ghi.what": "dvc",
        "ghi.note": "Hộ ông Nguyễn Văn Ánh — 2 hồ sơ",
        "n": [1, 2.5, None],
    }
    menu: list[Any] = [["Thủ tục khác", "step:ghi.what:other"], ["Huỷ", "core.cancel", "h"]]
    written: dict[str, tuple[Any, ...]] = {}
    for way, chat in (("fast", "c-fast"), ("core", "c-core")):
        async with app.intake.sessions() as session, session.begin():
            if way == "core":  # SQLAlchemy's own statement, for comparison
                conn = await session.connection()
                await conn.execute(
                    updates._STATE_INSERT,
                    {
                        "channel": "telegram",
                        "chat_id": chat,
                        "user_id": chat,
                        "name": "ghi.what",
                        "data": data,
                        "menu": menu,
                        "at": now,
                    },
                )
            else:
                await updates.save_state(session, None, "telegram", chat, chat, "ghi.what", data, menu, now)
        async with app.sessions() as session:
            sql = text("SELECT name, data, menu, updated_at FROM dialog_states WHERE chat_id = :c")
            written[way] = tuple((await session.execute(sql, {"c": chat})).one())
            row = (await session.execute(select(DialogState).where(DialogState.chat_id == chat))).scalar_one()
            assert (row.name, row.data, row.menu, row.updated_at) == ("ghi.what", data, menu, now)
    assert written["fast"] == written["core"]  # byte for byte the same text in the file
    # An update of a row that vanished meanwhile fails whole, as the ORM's flush would.
    was = updates.StateRow("ghi.what", data, menu, now)
    async with app.intake.sessions() as session, session.begin():
        await updates.save_state(session, was, "telegram", "c-fast", "c-fast", None, {}, [], now)
    with pytest.raises(Exception, match="deleted meanwhile"):
        async with app.intake.sessions() as session, session.begin():
            await updates.save_state(session, was, "telegram", "gone", "gone", None, {}, [], now)
