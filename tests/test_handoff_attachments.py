"""A photo or document relayed in a ticket that cannot reach the other side on any of their channels
(a Zalo channel without `files_public_url` sends only a note): the sender is told so at once, the
words still go (review of the Zalo Bot run: «✓ Đã chuyển» for a photo nobody received). What each
channel carries is its adapter's own rule, given to the app by `tocns run` (bot/serve.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot import serve
from bot.assemble import build
from bot.channels.zalo import oa_send
from bot.kernel import App
from db.models import ChannelAccount
from db.repositories import core as repo
from handlers.core import Attachment, AttachmentKind, FileLimits
from tests.support import ChatDriver, Clock, demo_driver, make_settings, outbox_rows, seed_demo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MON_0900 = datetime(2025, 11, 17, 9, 0, tzinfo=TZ)  # past: dialog states are stamped with the real clock
PHOTO = b"\xff\xd8\xff\xe0" + b"\x00" * 2000  # small enough for every channel that uploads
NOT_CARRIED = "ảnh chưa chuyển được"


@pytest.fixture
async def seeded_app(app: App) -> App:
    """The demo app as `tocns run` serves it: each channel's attachment reach set from its adapter."""
    await seed_demo(app)
    serve.set_attachment_reach(app)
    return app


async def open_ticket(app: App, citizen: ChatDriver) -> int:
    """The citizen asks for a person in Phường Thuận Hóa; returns the ticket's id."""
    app.intake.clock = Clock(MON_0900)
    await citizen.send("/hotro")
    said = await citizen.send("thuan hoa")
    if citizen.supports_buttons:
        await citizen.press(said.button("Phường Thuận Hóa"))
    else:
        await citizen.send("1")
    said = await citizen.send("Tôi cần hỏi về giấy hẹn trả kết quả")
    assert "phiếu #" in said.text, said.text
    return int(said.text.split("phiếu #")[1].split(")")[0].split(" ")[0].rstrip(".,:"))


async def move_account(app: App, chat_id: str, channel: str) -> None:
    """The demo person behind `chat_id` uses `channel` instead of the console."""
    async with app.sessions() as s, s.begin():
        await s.execute(
            update(ChannelAccount).where(ChannelAccount.chat_id == chat_id).values(channel=channel)
        )


async def add_telegram(app: App, chat_id: str) -> None:
    async with app.sessions() as s, s.begin():
        account = await repo.find_account(s, "zalo_bot", chat_id)
        assert account is not None
        await repo.add_account(s, account.person_id, "telegram", f"tg-{chat_id}", f"tg-{chat_id}")


async def last_id(app: App) -> int:
    rows = await outbox_rows(app)
    return rows[-1].id if rows else 0


async def pushed_to(app: App, chat_id: str, since: int) -> list[dict[str, Any]]:
    return [r.payload for r in await outbox_rows(app) if r.id > since and r.chat_id == chat_id]


async def claimed_by_zalo_volunteer(app: App) -> tuple[ChatDriver, ChatDriver, int]:
    """A citizen on Telegram; the volunteer `tnv` only on Zalo Bot, holding her ticket."""
    await move_account(app, "demo-tnv", "zalo_bot")
    citizen = ChatDriver(app, "tg-lan", "Chị Lan", channel="telegram")
    ticket_id = await open_ticket(app, citizen)
    tnv = ChatDriver(app, "demo-tnv", "Trần Văn Minh", channel="zalo_bot", supports_buttons=False)
    said = await tnv.press(f"hr:k:{ticket_id}")
    assert "đã nhận phiếu" in said.text, said.text
    return citizen, tnv, ticket_id


async def test_citizen_photo_to_a_volunteer_only_on_zalo_is_said_not_passed_on(seeded_app: App) -> None:
    citizen, _, ticket_id = await claimed_by_zalo_volunteer(seeded_app)
    mark = await last_id(seeded_app)
    said = await citizen.upload("giay-hen.jpg", PHOTO, "image/jpeg", caption="day la giay hen")
    assert f"Đã chuyển lời nhắn tới người hỗ trợ (phiếu #{ticket_id})" in said.text, said.text
    assert NOT_CARRIED in said.text and "bộ phận một cửa" in said.text
    assert "✓ Đã chuyển tới người hỗ trợ" not in said.text
    # The words still go (with the photo: the channel's own note stays for what it cannot send).
    [to_tnv] = await pushed_to(seeded_app, "demo-tnv", mark)
    assert "day la giay hen" in to_tnv["text"] and to_tnv["attachment"]["kind"] == "photo"


async def test_a_document_likewise(seeded_app: App) -> None:
    citizen, _, ticket_id = await claimed_by_zalo_volunteer(seeded_app)
    said = await citizen.upload("don.pdf", b"%PDF-1.4 ...", "application/pdf")
    assert f"(phiếu #{ticket_id}), nhưng tệp chưa chuyển được" in said.text, said.text


async def test_a_volunteer_also_on_telegram_gets_the_photo_there(seeded_app: App) -> None:
    citizen, _, ticket_id = await claimed_by_zalo_volunteer(seeded_app)
    await add_telegram(seeded_app, "demo-tnv")
    mark = await last_id(seeded_app)
    said = await citizen.upload("giay-hen.jpg", PHOTO, "image/jpeg", caption="day la giay hen")
    assert f"✓ Đã chuyển tới người hỗ trợ (phiếu #{ticket_id})" in said.text, said.text
    assert NOT_CARRIED not in said.text
    to_tnv = await pushed_to(seeded_app, "tg-demo-tnv", mark)
    assert to_tnv and to_tnv[0]["attachment"]["kind"] == "photo"


async def test_volunteer_photo_to_a_citizen_on_zalo_is_said_not_passed_on(seeded_app: App) -> None:
    citizen = ChatDriver(seeded_app, "zl-lan", "Chị Lan", channel="zalo_bot", supports_buttons=False)
    ticket_id = await open_ticket(seeded_app, citizen)
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.press(f"hr:k:{ticket_id}")
    mark = await last_id(seeded_app)
    said = await tnv.upload("mau-don.jpg", PHOTO, "image/jpeg", caption="mau don day a")
    assert f"Đã chuyển lời nhắn tới người dân (phiếu #{ticket_id})" in said.text, said.text
    assert NOT_CARRIED in said.text and "Đóng phiếu" in said.text
    [to_citizen] = await pushed_to(seeded_app, "zl-lan", mark)
    assert "mau don day a" in to_citizen["text"]
    # Words with a phone number: both things are said.
    said = await tnv.upload("mau-don.jpg", PHOTO, "image/jpeg", caption="goi em 0905123456")
    assert NOT_CARRIED in said.text and "đã được ẩn" in said.text, said.text


async def test_a_photo_before_anyone_takes_the_ticket_is_said_not_kept(seeded_app: App) -> None:
    citizen = ChatDriver(seeded_app, "tg-lan", "Chị Lan", channel="telegram")
    await open_ticket(seeded_app, citizen)
    said = await citizen.upload("giay-hen.jpg", PHOTO, "image/jpeg", caption="day la giay hen")
    assert "Riêng ảnh thì chưa giữ lại được" in said.text and "gửi lại ảnh" in said.text, said.text


@pytest.fixture
async def zalo_files_app(db_url: str) -> AsyncIterator[App]:
    """The app with both Zalo channels' `files_public_url` set (photos by URL, files as links)."""
    settings = make_settings(db_url)
    settings.extra["zalo_bot"] = {"files_public_url": "https://tocns.example.vn"}
    settings.extra["zalo_oa"] = {"files_public_url": "https://tocns.example.vn"}
    app = build(settings)
    try:
        await seed_demo(app)
        serve.set_attachment_reach(app)
        yield app
    finally:
        await app.close()


async def test_with_a_public_files_url_zalo_carries_the_photo(zalo_files_app: App) -> None:
    citizen, _, ticket_id = await claimed_by_zalo_volunteer(zalo_files_app)
    said = await citizen.upload("giay-hen.jpg", PHOTO, "image/jpeg", caption="day la giay hen")
    assert f"✓ Đã chuyển tới người hỗ trợ (phiếu #{ticket_id})" in said.text, said.text
    assert NOT_CARRIED not in said.text


async def test_zalo_oa_without_files_url_carries_what_it_uploads(seeded_app: App) -> None:
    await move_account(seeded_app, "demo-tnv", "zalo_oa")
    citizen = ChatDriver(seeded_app, "tg-lan", "Chị Lan", channel="telegram")
    ticket_id = await open_ticket(seeded_app, citizen)
    tnv = ChatDriver(seeded_app, "demo-tnv", channel="zalo_oa", supports_buttons=False)
    await tnv.press(f"hr:k:{ticket_id}")
    said = await citizen.upload("giay-hen.jpg", PHOTO, "image/jpeg")  # JPG ≤ 1 MB: uploaded
    assert NOT_CARRIED not in said.text, said.text
    said = await citizen.upload("giay-hen.png", b"\x89PNG" + b"\x00" * (1024 * 1024 + 1), "image/png")
    assert NOT_CARRIED in said.text, said.text  # over the upload limit, and no link without the URL
    said = await citizen.upload("so-lieu.xlsx", b"PK\x03\x04", "application/octet-stream")
    assert "tệp chưa chuyển được" in said.text, said.text


def test_the_hand_off_reach_is_the_oa_adapters_own_upload_rule(db_url: str) -> None:
    """One rule, owned by the OA adapter (what it uploads in oa_send), is what the hand-off reads:
    no copy of it to drift. Zalo Bot without a files URL carries nothing; Telegram everything."""
    reach = serve.attachment_reach(make_settings(db_url))
    assert reach.limited["zalo_oa"] is oa_send.UPLOADS
    assert reach.limited["zalo_bot"] == FileLimits()
    assert "telegram" not in reach.limited
    for name, size, kind, carried in [
        ("a.JPG", 1024 * 1024, AttachmentKind.PHOTO, True),
        ("a.png", 1024 * 1024 + 1, AttachmentKind.PHOTO, False),
        ("a.gif", 10, AttachmentKind.PHOTO, False),
        ("don.DOCX", 5 * 1024 * 1024, AttachmentKind.DOCUMENT, True),
        ("don.pdf", 5 * 1024 * 1024 + 1, AttachmentKind.DOCUMENT, False),
        ("so-lieu.xlsx", 10, AttachmentKind.DOCUMENT, False),
    ]:
        attachment = Attachment(kind, name, b"x" * size)
        assert reach.delivers("zalo_oa", attachment) is carried, name
        assert not reach.delivers("zalo_bot", attachment) and reach.delivers("telegram", attachment)

    with_links = make_settings(db_url)
    with_links.extra["zalo_oa"] = {"files_public_url": "https://tocns.example.vn"}
    assert "zalo_oa" not in serve.attachment_reach(with_links).limited  # the rest goes as a link
