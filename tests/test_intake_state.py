"""The dialog state row as the intake reads it (with the dedupe mark, in one query on PostgreSQL)
and writes it back (Core statements, db/repositories/updates.py): what is stored, when nothing is
written, and that a row gone meanwhile fails the update whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, event, select

from bot.kernel import App
from db.engine import is_sqlite_file
from db.models import DialogState, Person
from handlers.core import Button, Context
from handlers.router import Router
from tests.support import ChatDriver, Clock, count


def probe(app: App) -> App:
    router = Router()

    @router.command("dem")
    async def start(ctx: Context) -> None:
        ctx.goto("dem.ask", n=0)
        ctx.reply("so?", [[Button("một", "dem:1"), Button("hai", "dem:2")]])

    @router.callback("dem")
    async def pressed(ctx: Context) -> None:
        ctx.goto("dem.ask", n=ctx.state.get("n", 0) + int((ctx.msg.payload or "dem:0").split(":")[1]))
        ctx.reply(f"tong={ctx.state['n']}")

    @router.command("tatdem")
    async def done(ctx: Context) -> None:
        ctx.end()
        ctx.reply("tatdem")

    @router.command("xoadem")
    async def vanish(ctx: Context) -> None:
        # What a revocation in the same transaction does to the row the update read; then a
        # write of the update's own, which must not be kept half.
        from db.repositories import core as repo

        await ctx.session.execute(delete(DialogState).where(DialogState.user_id == ctx.msg.user_id))
        await repo.add_person(ctx.session, "half-written")
        ctx.goto("dem.ask", n=9)
        ctx.reply("xoadem")

    app.router.include(router)
    return app


async def state_row(app: App, user_id: str) -> DialogState | None:
    async with app.sessions() as s:
        stmt = select(DialogState).where(DialogState.user_id == user_id)
        return (await s.execute(stmt)).scalar_one_or_none()


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    """The SQL the intake's engine runs meanwhile — on the inline SQLite engine as SQLite itself
    traces it (the hot statements run on the sqlite3 connection, past SQLAlchemy's events:
    db/sqlite_fast.py), elsewhere as SQLAlchemy sends it."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    def tracer(on: bool) -> Any:
        def set_trace(dbapi_connection: Any, *_args: Any) -> None:
            raw = getattr(dbapi_connection.driver_connection, "_connection", None)
            if isinstance(raw, sqlite3.Connection):
                raw.set_trace_callback((lambda sql: seen.append(" ".join(sql.split()))) if on else None)

        return set_trace

    engine = app.intake.engine.sync_engine
    url = app.intake.engine.url
    if url.get_backend_name() == "sqlite" and is_sqlite_file(str(url)):
        hooks = [("checkout", tracer(True)), ("checkin", tracer(False))]
    else:
        hooks = [("before_cursor_execute", note)]
    for hook, fn in hooks:
        event.listen(engine, hook, fn)
    try:
        yield seen
    finally:
        for hook, fn in hooks:
            event.remove(engine, hook, fn)


async def test_the_state_row_is_opened_updated_closed_and_left_alone(app: App) -> None:
    clock = Clock(app.intake.clock())
    app.intake.clock = clock
    new = ChatDriver(probe(app), "2001")
    await new.send("/dem")  # a new person: the row is made for them
    row = await state_row(app, "2001")
    assert row is not None and row.name == "dem.ask" and row.data == {"n": 0} and row.menu == []
    clock.advance(minutes=1)
    said = await new.tap("hai")
    assert said.text == "tong=2"
    after = await state_row(app, "2001")
    assert after is not None and after.data == {"n": 2} and after.updated_at > row.updated_at
    await new.send("/tatdem")
    closed = await state_row(app, "2001")
    assert closed is not None and closed.name is None and closed.data == {}
    clock.advance(minutes=1)
    await new.send("/help")  # nothing open before nor after: no write at all
    untouched = await state_row(app, "2001")
    assert untouched is not None and untouched.updated_at == closed.updated_at

    known = ChatDriver(app, "2002")
    await known.send("/start")
    assert await state_row(app, "2002") is None
    with statements(app) as seen:
        said = await known.send("/dem")  # a known person without a row: one INSERT, no look-up first
    assert said.text == "so?"
    bundle = "channel_accounts"  # the sender bundle's outer join on the state row
    on_state = [s for s in seen if "dialog_states" in s and bundle not in s]
    assert len(on_state) == 1 and on_state[0].startswith("INSERT INTO dialog_states"), seen
    row = await state_row(app, "2002")
    assert row is not None and row.name == "dem.ask"
    said = await known.press("dem:1")
    assert said.text == "tong=1"  # the state it opened is what the next update reads


async def test_numbered_menu_is_stored_and_read_back(app: App) -> None:
    user = ChatDriver(probe(app), "zb-2001", channel="zalo_bot", supports_buttons=False)
    await user.send("/start")
    said = await user.send("/dem")
    assert "1. một" in said.text and "2. hai" in said.text
    row = await state_row(app, "zb-2001")
    assert row is not None and [m[1] for m in row.menu] == ["dem:1", "dem:2"]
    said = await user.send("2")
    assert said.text == "tong=2"


async def test_a_state_row_gone_meanwhile_fails_the_update_whole(app: App) -> None:
    user = ChatDriver(probe(app), "2003")
    await user.send("/dem")
    people = await count(app, Person)
    said = await user.send("/xoadem", update_key="k-xoa")
    assert "sự cố" in said.text  # answered with an apology, as the ORM's stale-row error was
    assert await count(app, Person) == people  # the update's own write was rolled back
    assert await state_row(app, "2003") is not None  # and so was the delete
    again = await user.send("/xoadem", update_key="k-xoa")
    assert again.duplicate  # remembered, not retried forever
