"""End-to-end logging on Telegram (the real bot process against the local Bot API emulator):
a volunteer logs three sessions and undoes one; an officer records and moves a dossier while a
subscribed citizen receives the change; a citizen's query shows no personal data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.conftest import grant

pytestmark = pytest.mark.e2e
CODE = "H46.19786-261121-0100"


async def test_volunteer_logs_three_sessions_and_undoes_one(start_bot, tg_user) -> None:
    bot = await start_bot(seed=True)
    await grant(bot, 5101, "volunteer", "19786-1", "Tình nguyện viên Nam")
    nam = tg_user(bot, "Nam", user_id=5101)
    # Guided.
    await nam.send_command("/ghi")
    await nam.wait_for_reply(contains="việc gì")
    await nam.press_button("Dịch vụ công")
    await nam.wait_for_reply(contains="ở đâu")
    await nam.press_button("tại nhà")
    await nam.wait_for_reply(contains="Bao nhiêu")
    await nam.press_button("2")
    await nam.wait_for_reply(contains="Kết quả")
    await nam.press_button("Đã xong")
    await nam.wait_for_reply(contains="mã hồ sơ")
    await nam.press_button("Lưu")
    first = await nam.wait_for_reply(contains="Đã ghi")
    assert "DVC · tại nhà · 2 người" in first.text
    # Same as last time: one tap after /ghi.
    await nam.send_command("/ghi")
    await nam.wait_for_reply(contains="việc gì")
    await nam.press_button("Như lần trước")
    await nam.wait_for_reply(contains="Đã ghi")
    # Shortcut, then undo it.
    await nam.send_command("/ghi vneid quay 3")
    third = await nam.wait_for_reply(contains="Đã ghi")
    assert "VNeID" in third.text
    await nam.press_button("Hoàn tác", third)
    undone = await nam.wait_for_edit(third)
    assert "Đã xoá" in undone.text
    await nam.send_command("/tuan")
    week = await nam.wait_for_reply(contains="buổi")
    assert "2 buổi hỗ trợ, 4 lượt" in week.text


async def test_officer_moves_dossier_and_subscriber_is_told(start_bot, tg_user) -> None:
    bot = await start_bot(seed=True)
    await grant(bot, 5201, "officer", "19786", "Cán bộ Bảo")
    bao = tg_user(bot, "Bảo", user_id=5201)
    await bao.send_command(f"/hoso {CODE}")
    await bao.wait_for_reply(contains="ghi mới")
    await bao.send_message("khai sinh")
    await bao.wait_for_reply(contains="Chọn thủ tục")
    await bao.press_button("Đăng ký khai sinh")
    await bao.wait_for_reply(contains="Hình thức nộp")
    await bao.press_button("toàn trình")
    await bao.wait_for_reply(contains="Ngày tiếp nhận")
    await bao.press_button("Hôm nay")
    await bao.wait_for_reply(contains="hẹn trả")
    due = date.today() + timedelta(days=10)
    await bao.send_message(due.strftime("%d/%m/%Y"))
    await bao.wait_for_reply(contains="bưu chính")
    await bao.press_button("Không")
    await bao.wait_for_reply(contains=f"Đã ghi hồ sơ {CODE}")

    # A citizen sends the bare code (lower case, stray punctuation) and subscribes.
    lan = tg_user(bot, "Lan", user_id=5202)
    await lan.send_message(f"{CODE.lower()}.")
    status = await lan.wait_for_reply(contains="Tình trạng")
    assert "Đã tiếp nhận" in status.text and due.strftime("%d/%m/%Y") in status.text
    assert "Bảo" not in status.text and "Lan" not in status.text
    await lan.press_button("Nhận thông báo", status)
    await lan.wait_for_reply(contains="Đã đăng ký")

    await bao.send_command(f"/hoso {CODE}")
    card = await bao.wait_for_reply(contains="Tình trạng")
    await bao.press_button("Đang xử lý", card)
    await bao.wait_for_reply(contains="Đã chuyển")
    pushed = await lan.wait_for_reply(contains="đang được xử lý", timeout=20)
    assert CODE in pushed.text


async def test_citizen_queries_unknown_and_malformed_codes(start_bot, tg_user) -> None:
    bot = await start_bot(seed=True)
    hoa = tg_user(bot, "Hoa", user_id=5301)
    await hoa.send_command("/tracuu H99.99-261120-9999")
    missing = await hoa.wait_for_reply()
    assert "Chưa tìm thấy" in missing.text
    await hoa.send_message("H12.34-2411")
    example = await hoa.wait_for_reply()
    assert "000.00.12.H12-241120-0001" in example.text  # what a receipt prints
