"""Every kind of message a phone can send, as forged real-shaped Telegram updates through the
webhook (issue 15, items 6, 9, 10, 12; issue 14's malformed bodies). Shapes follow the Bot API's
Message object (https://core.telegram.org/bots/api#message): photo is an array of PhotoSize, a GIF
carries both `animation` and `document`, a venue carries `venue` and `location`."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.kernel import App
from db.models import HelpSession
from services import people
from services.access import Role
from tests.harness.telegram import TelegramHarness
from tests.support import demo_driver, outbox_rows, seed_demo

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PHOTO = [
    {"file_id": "ph-small", "file_unique_id": "s1", "width": 90, "height": 120, "file_size": 900},
    {"file_id": "ph-big", "file_unique_id": "b1", "width": 960, "height": 1280, "file_size": 9000},
]
KINDS: dict[str, tuple[dict[str, Any], str]] = {
    "photo": ({"photo": PHOTO}, "ảnh"),
    "voice": ({"voice": {"file_id": "v1", "file_unique_id": "v1", "duration": 4}}, "tin nhắn thoại"),
    "video_note": (
        {"video_note": {"file_id": "vn", "file_unique_id": "vn", "length": 240, "duration": 3}},
        "video tròn",
    ),
    "audio": ({"audio": {"file_id": "a1", "file_unique_id": "a1", "duration": 60}}, "tệp âm thanh"),
    "sticker": (
        {
            "sticker": {
                "file_id": "st",
                "file_unique_id": "st",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        "nhãn dán",
    ),
    "location": ({"location": {"latitude": 16.46, "longitude": 107.59}}, "vị trí"),
    "venue": (
        {
            "location": {"latitude": 16.46, "longitude": 107.59},
            "venue": {
                "location": {"latitude": 16.46, "longitude": 107.59},
                "title": "UBND phường Thuận Hóa",
                "address": "Huế",
            },
        },
        "địa điểm",
    ),
    "contact": (
        {"contact": {"phone_number": "+84900000000", "first_name": "Mẹ", "user_id": 99}},
        "danh thiếp",
    ),
}


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramHarness]:
    await seed_demo(app)
    async with TelegramHarness(app) as harness:
        yield harness


def message(
    update_id: int, user: int, *, chat: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat or {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
        **fields,
    }


class Ids:
    n = 50_000

    @classmethod
    def next(cls) -> int:
        cls.n += 1
        return cls.n


async def post(tg: TelegramHarness, user: str, update: dict[str, Any]) -> list[str]:
    return await tg._deliver(user, update)


async def send_kind(tg: TelegramHarness, user: str, fields: dict[str, Any]) -> list[str]:
    uid = Ids.next()
    return await post(tg, user, {"update_id": uid, "message": message(uid, tg.chat(user), **fields)})


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_kind_of_message_gets_an_answer_naming_it(
    tg: TelegramHarness, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fields, name = KINDS[kind]
    tg.api.add_file("ph-big", b"\xff\xd8\xff jpeg")
    said = "\n".join(await send_kind(tg, "u1601", fields))
    assert name in said and "/help" in said, said
    assert f"route=media:{kind}" in caplog.text  # and one log line saying what it was


async def test_a_caption_is_text_photo_with_ghi_command_logs_a_session(tg: TelegramHarness) -> None:
    async with tg.app.sessions() as s, s.begin():
        person = await people.grant_role(
            s,
            channel="telegram",
            external_id="1603",
            role=Role.VOLUNTEER,
            unit_code="19786-1",
            display_name="An",
        )
    tg.api.add_file("ph-big", b"\xff\xd8\xff jpeg")
    said = "\n".join(await send_kind(tg, "u1603", {"photo": PHOTO, "caption": "/ghi dvc nha 2"}))
    assert "Đã ghi" in said, said
    async with tg.app.sessions() as s:
        n = (
            await s.execute(select(func.count(HelpSession.id)).where(HelpSession.volunteer_id == person.id))
        ).scalar_one()
    assert n == 1
    # A GIF (animation + document) at /ghi's last step is not the note: nothing saved.
    await send_kind(tg, "u1603", {"text": "/ghi dvc nha 2"})
    gif = {"file_id": "g1", "file_unique_id": "g1", "width": 1, "height": 1, "duration": 1}
    said = "\n".join(
        await send_kind(
            tg, "u1603", {"animation": gif, "document": {**gif, "file_name": "a.gif"}, "caption": "hihi"}
        )
    )
    assert "ảnh động" in said and "hihi" not in said, said


async def open_ticket_on_telegram(app: App, tg: TelegramHarness, user: str) -> int:
    await tg.send(user, "/hotro")
    await tg.send(user, "thuan hoa")
    await tg.choose(user, "Phường Thuận Hóa")
    said = "\n".join(await tg.send(user, "Tôi cần làm lại căn cước cho mẹ"))
    assert "phiếu #" in said, said
    claim = next(
        b[1]
        for r in await outbox_rows(app)
        if r.chat_id == "demo-tnv"
        for row in r.payload.get("buttons", [])
        for b in row
        if b[1].startswith("hr:k:")
    )
    said_tnv = await demo_driver(app, "tnv").press(claim)
    assert "đã nhận phiếu" in said_tnv.text
    return int(claim.rsplit(":", 1)[1])


async def test_in_a_ticket_photos_go_to_the_helper_and_voice_is_plainly_refused(
    app: App, tg: TelegramHarness
) -> None:
    ticket_id = await open_ticket_on_telegram(app, tg, "u1604")
    tg.api.add_file("ph-big", b"\xff\xd8\xff papers")
    said = "\n".join(await send_kind(tg, "u1604", {"photo": PHOTO, "caption": "Giấy tờ của mẹ tôi đây ạ"}))
    assert "Đã chuyển tới người hỗ trợ" in said, said
    relayed = [
        r
        for r in await outbox_rows(app)
        if r.chat_id == "demo-tnv" and f"phiếu #{ticket_id}" in r.payload["text"]
    ]
    last = relayed[-1].payload
    assert "Giấy tờ của mẹ tôi đây ạ" in last["text"]
    assert last["attachment"]["kind"] == "photo"
    said = "\n".join(await send_kind(tg, "u1604", KINDS["voice"][0]))
    assert "KHÔNG được chuyển" in said and "tin nhắn thoại" in said, said


async def test_an_edit_is_answered_at_once(tg: TelegramHarness) -> None:
    uid = Ids.next()
    said = "\n".join(
        await post(
            tg,
            "u1605",
            {
                "update_id": uid,
                "edited_message": {**message(uid, 1605, text="120"), "edit_date": int(time.time())},
            },
        )
    )
    assert "sửa tin không có tác dụng" in said, said


async def test_group_link_and_forum_topic(tg: TelegramHarness) -> None:
    async with tg.app.sessions() as s, s.begin():
        await people.grant_role(
            s,
            channel="telegram",
            external_id="1606",
            role=Role.VOLUNTEER,
            unit_code="19786-1",
            display_name="An",
        )
    forum = {"id": -100606, "type": "supergroup", "title": "Tổ 1", "is_forum": True}
    uid = Ids.next()
    text = "/ghi@tocns_test_bot"
    update = {
        "update_id": uid,
        "message": message(
            uid,
            1606,
            chat=forum,
            text=text,
            message_thread_id=55,
            is_topic_message=True,
            entities=[{"offset": 0, "length": len(text), "type": "bot_command"}],
        ),
    }
    mark = len(tg.api.calls)
    await tg._post(update, tg.secret)
    sent = [c for c in tg.api.calls[mark:] if c.method == "sendMessage"]
    assert sent and sent[0].params.get("message_thread_id") == 55, [c.params for c in sent]
    keyboard = sent[0].params["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["url"].endswith("?start=ghi")
    said = "\n".join(await tg.send("u1606", "/start ghi"))
    assert "hỗ trợ người dân việc gì" in said and "Cần ít nhất" not in said, said


async def test_unusable_updates_are_logged_and_answered_2xx(
    tg: TelegramHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    uid = Ids.next()
    poll = {  # an older Bot API's poll: options without persistent_id
        "id": "p1",
        "question": "Họp tổ thứ mấy?",
        "options": [{"text": "Thứ Hai", "voter_count": 1}, {"text": "Thứ Ba", "voter_count": 0}],
        "total_voter_count": 1,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }
    status = await tg._post({"update_id": uid, "poll": poll}, tg.secret)
    assert status == 200
    assert f"key=telegram:{uid}" in caplog.text and "not used" in caplog.text
    for body in ([], None, 123, "x"):
        resp = await tg.client.post(
            "/telegram/webhook", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": tg.secret}
        )
        assert resp.status == 400, (body, resp.status)


async def test_stale_button_answers_in_the_toast(tg: TelegramHarness) -> None:
    await tg.send("u1607", "/start")
    uid = Ids.next()
    update = {
        "update_id": uid,
        "callback_query": {
            "id": f"cb{uid}",
            "chat_instance": "ci",
            "data": "zz:gone",
            "from": {"id": 1607, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
            "message": {"message_id": 77, "date": 0, "chat": {"id": 1607, "type": "private"}, "text": "menu"},
        },
    }
    mark = len(tg.api.calls)
    await tg._post(update, tg.secret)
    calls = tg.api.calls[mark:]
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answers and "cũ" in str(answers[0].params.get("text")), [c.params for c in answers]
    assert not [c for c in calls if c.method in ("editMessageText", "sendMessage")]
