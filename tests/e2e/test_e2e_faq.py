"""End-to-end Q&A and hand-off on Telegram: the real `tocns run` process against the local Bot API
emulator. An unaccented question gets the right answer, a follow-up («giay to») is about it, an
unclear question three choices, and a
hand-off is claimed (first wins), relayed both ways through the bot, closed and rated."""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import grant

pytestmark = pytest.mark.e2e


async def test_questions_answered_and_choices(start_bot, tg_user) -> None:  # type: ignore[no-untyped-def]
    bot = await start_bot()
    lan = tg_user(bot, "Lan", user_id=4301)
    await lan.send_message("lam khai sinh cho be online dc ko ad")
    answer = await lan.wait_for_reply(contains="Đăng ký khai sinh")
    assert "1. " in answer.text
    assert any(p.startswith("https://") for _, p in answer.buttons)
    # Right after the answer, «giay to» is about it: the birth registration's documents.
    await lan.send_message("giay to")
    papers = await lan.wait_for_reply(contains="giấy tờ cần chuẩn bị")
    assert "Đăng ký khai sinh" in papers.text and "Giấy chứng sinh" in papers.text
    # Without an answer before it, the same words are unclear: three choices.
    minh = tg_user(bot, "Minh", user_id=4302)
    await minh.send_message("giay to")
    menu = await minh.wait_for_reply(contains="việc nào")
    choices = [(label, p) for label, p in menu.buttons if p.startswith("faq:a:")]
    assert len(choices) == 3
    await minh.press_button(choices[1][1], menu)
    shown = await minh.wait_for_reply(contains="Các bước")
    assert choices[1][0] in shown.text


async def test_hand_off_claimed_relayed_closed_rated(start_bot, tg_user) -> None:  # type: ignore[no-untyped-def]
    bot = await start_bot(seed=True)
    await grant(bot, 4101, "volunteer", "19786-1", "TNV Khải")
    await grant(bot, 4102, "volunteer", "19786-1", "TNV Vân")
    khai, van = tg_user(bot, "Khải", user_id=4101), tg_user(bot, "Vân", user_id=4102)
    giang = tg_user(bot, "Hương Giang", user_id=4201)
    # Volunteers must have talked to the bot once (Telegram only delivers to known chats).
    for v in (khai, van):
        await v.send_command("/start")
        await v.wait_for_reply()

    await giang.send_command("/hotro")
    await giang.wait_for_reply(contains="xã/phường nào")
    await giang.send_message("thuan hoa")
    pick = await giang.wait_for_reply(contains="chọn đúng")
    await giang.press_button("Phường Thuận Hóa", pick)
    await giang.wait_for_edit(pick)
    await giang.send_message("Cho hỏi làm sổ đỏ lần đầu cần giấy tờ gì?")
    await giang.wait_for_reply(contains="phiếu #")

    new_k = await khai.wait_for_reply(contains="Phiếu hỗ trợ mới", timeout=20)
    new_v = await van.wait_for_reply(contains="Phiếu hỗ trợ mới", timeout=20)
    assert "sổ đỏ" in new_k.text and "Giang" not in new_k.text
    await khai.press_button("Nhận", new_k)
    claimed = await khai.wait_for_edit(new_k)
    assert "đã nhận phiếu" in claimed.text
    await van.press_button("Nhận", new_v)
    refused = await van.wait_for_edit(new_v)
    assert "người khác nhận" in refused.text

    told = await giang.wait_for_reply(contains="đã nhận phiếu", timeout=20)
    assert "Tình nguyện viên Tổ CNSCĐ Tổ dân phố 1" in told.text and "Khải" not in told.text

    await khai.send_message("Anh/chị mang giấy tờ nhà đất tới một cửa phường nhé.")
    relayed = await giang.wait_for_reply(contains="giấy tờ nhà đất", timeout=20)
    assert "Tình nguyện viên" in relayed.text and "Khải" not in relayed.text

    await giang.send_message("Dạ cảm ơn, sáng mai tôi qua.")
    back = await khai.wait_for_reply(contains="sáng mai tôi qua", timeout=20)
    assert "Người dân (phiếu #" in back.text and "Giang" not in back.text

    await khai.press_button("Đóng phiếu", back)
    await khai.wait_for_reply(contains="Đã đóng phiếu")
    ask = await giang.wait_for_reply(contains="đánh giá", timeout=20)
    await giang.press_button("5⭐", ask)
    thanks = await giang.wait_for_edit(ask)
    assert "5/5" in thanks.text

    db = sqlite3.connect(bot.workdir / "tocns.db")
    try:
        rows = db.execute(
            "SELECT status, rating FROM tickets WHERE question LIKE 'Cho hỏi làm sổ đỏ%'"
        ).fetchall()
    finally:
        db.close()
    assert rows == [("closed", 5)]
