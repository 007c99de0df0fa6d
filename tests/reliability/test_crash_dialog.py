"""Crash in a dialog: kill -9 the real bot process in the middle of a multi-step /ghi flow; after a
restart the volunteer's next tap continues where they were, the saved session exists once, and
nothing committed before the crash is lost."""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import grant

pytestmark = pytest.mark.e2e


def help_sessions(bot: object) -> list[tuple[str, str, int]]:
    db = bot.workdir / "tocns.db"  # type: ignore[attr-defined]
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT activity, place, citizens FROM help_sessions h JOIN channel_accounts a "
            "ON a.person_id = h.volunteer_id WHERE a.external_id = '5301' AND h.deleted_at IS NULL"
        ).fetchall()


async def test_kill_9_mid_flow_then_continue(start_bot, tg_user) -> None:  # type: ignore[no-untyped-def]
    bot = await start_bot(seed=True)
    await grant(bot, 5301, "volunteer", "19786-2", "Tình nguyện viên Lan")
    lan = tg_user(bot, "Lan", user_id=5301)
    # One session saved before the crash: must survive it.
    await lan.send_command("/ghi dvc nha 2")
    await lan.wait_for_reply(contains="Đã ghi")
    # A second one, interrupted after two steps.
    await lan.send_command("/ghi")
    await lan.wait_for_reply(contains="việc gì")
    await lan.press_button("VNeID")
    where = await lan.wait_for_reply(contains="ở đâu")
    bot.kill()
    await bot.start()
    await lan.press_button("một cửa", where)  # the next tap continues the same dialog
    await lan.wait_for_reply(contains="Bao nhiêu")
    await lan.press_button("3")
    await lan.wait_for_reply(contains="Kết quả")
    await lan.press_button("Đã xong")
    await lan.wait_for_reply(contains="mã hồ sơ")
    await lan.press_button("Lưu")
    await lan.wait_for_reply(contains="Đã ghi")
    rows = sorted(help_sessions(bot))
    assert rows == [("dvc", "home", 2), ("vneid", "counter", 3)], rows
