"""End-to-end onboarding on Telegram: the operator makes a team leader (handing the demo team over;
a push tells them), who makes an open invite code with /moi, a new person joins with /start <code>,
the team leader approves from the pushed message, and the newcomer is told (the real bot process
against the local Bot API emulator)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import grant

pytestmark = pytest.mark.e2e
CODE = re.compile(r"\b([A-HJ-NP-Z2-9]{8})\b")


async def test_invite_join_and_approval(start_bot, tg_user) -> None:
    bot = await start_bot(seed=True)
    # The demo team has a leader: the operator's grant hands it over, and the bot tells the new one.
    await grant(bot, 3001, "team_leader", "19786-1", "Tổ trưởng Hoa")
    hoa = tg_user(bot, "Hoa", user_id=3001)
    await hoa.wait_for_reply(contains="vừa được giao vai trò tổ trưởng", timeout=20)
    await hoa.send_command("/moi")
    await hoa.wait_for_reply(contains="muốn mời người vào vai trò nào")
    await hoa.press_button("Mã mở")
    limits = await hoa.wait_for_reply(contains="bao nhiêu người")
    await hoa.press_button("10 người", limits)
    created = await hoa.wait_for_reply(contains="Đã tạo mã mời")
    code = CODE.search(created.text)
    assert code, created.text

    hung = tg_user(bot, "Hùng", user_id=3002)
    await hung.send_command(f"/start {code.group(1)}")
    confirm = await hung.wait_for_reply(contains="Tên hiển thị")
    await hung.press_button("Đúng", confirm)
    await hung.wait_for_reply(contains="gửi tới tổ trưởng")

    ask = await hoa.wait_for_reply(contains="xin tham gia", timeout=20)
    await hoa.press_button("Duyệt", ask)
    done = await hoa.wait_for_edit(ask)
    assert "Đã duyệt" in done.text
    told = await hung.wait_for_reply(contains="được duyệt", timeout=20)
    assert "Tổ CNSCĐ Tổ dân phố 1" in told.text
