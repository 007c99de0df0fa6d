"""End-to-end: the real bot process against the local Bot API emulator (see conftest.py)."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.e2e


async def test_start_and_help_for_new_users(start_bot, tg_user, tg_session, emulator) -> None:
    bot = await start_bot()
    an, binh = tg_user(bot, "An"), tg_user(bot, "Bình", language_code="en")
    await asyncio.gather(an.send_command("/start"), binh.send_command("/start"))
    hello_an, hello_binh = await asyncio.gather(
        an.wait_for_reply(contains="Xin chào An"), binh.wait_for_reply(contains="Hello Bình")
    )
    assert hello_an.text and hello_binh.text
    await an.send_command("/help")
    help_text = await an.wait_for_reply(contains="/ngonngu")
    assert "/start" in help_text.text
    state = await emulator.state(tg_session, bot.token)
    assert {c["command"] for c in state["commands"][""]} >= {"start", "help", "ngonngu"}
    assert any(c["description"] == "list of commands" for c in state["commands"]["en"])


async def test_language_button_edits_the_menu_message(start_bot, tg_user, tg_session, emulator) -> None:
    bot = await start_bot()
    chi = tg_user(bot, "Chi")
    await chi.send_command("/ngonngu")
    menu = await chi.wait_for_reply()
    assert [label for label, _ in menu.buttons] == ["Tiếng Việt", "English"]
    await chi.press_button("English")
    edited = await chi.wait_for_edit(menu)
    assert edited.text == "Switched to English."
    assert edited.buttons == []  # the keyboard went away with the edit
    assert len(await chi.messages()) == 1  # edited in place, nothing stacked
    await chi.send_command("/help")
    assert "Commands you can use" in (await chi.wait_for_reply()).text
    state = await emulator.state(tg_session, bot.token)
    assert len(state["answered_callbacks"]) == 1  # the button stopped spinning


async def test_kill_9_mid_dialog_then_the_next_tap_continues(start_bot, tg_user) -> None:
    bot = await start_bot()
    dung = tg_user(bot, "Dũng")
    await dung.send_command("/ngonngu")
    menu = await dung.wait_for_reply()
    bot.kill()  # no clean shutdown
    await bot.start()
    await dung.press_button("English", menu)
    assert (await dung.wait_for_edit(menu)).text == "Switched to English."
    await dung.send_command("/start")
    assert "Hello Dũng" in (await dung.wait_for_reply(contains="Hello")).text


def command_update(update_id: int, user_id: int, text: str) -> dict:
    """A Bot API update as Telegram would POST it to the webhook."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_750_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Giang"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Giang", "language_code": "vi"},
            "text": text,
            "entities": [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}],
        },
    }


async def post_update(session, bot, update: dict, secret: str | None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with session.post(bot.webhook_url, json=update, headers=headers) as resp:
        return resp.status


async def test_webhook_checks_the_secret(start_bot, tg_user, tg_session, emulator) -> None:
    bot = await start_bot(mode="webhook")
    assert (await emulator.state(tg_session, bot.token))["webhook"] == bot.webhook_url
    giang = tg_user(bot, "Giang", user_id=7001)
    assert await post_update(tg_session, bot, command_update(1, 7001, "/help"), None) == 403
    assert await post_update(tg_session, bot, command_update(2, 7001, "/help"), "wrong") == 403
    assert await giang.messages() == []
    assert await post_update(tg_session, bot, command_update(3, 7001, "/help"), bot.secret) == 200
    assert "/ngonngu" in (await giang.wait_for_reply()).text
    # Through the emulator (it forwards to the webhook with the secret registered by setWebhook).
    sent = await giang.send_command("/start")
    assert sent["webhook_status"] == 200
    assert "Xin chào Giang" in (await giang.wait_for_reply()).text


async def test_webhook_same_update_twice_is_processed_once(start_bot, tg_user, tg_session) -> None:
    bot = await start_bot(mode="webhook")
    hoa = tg_user(bot, "Hoa", user_id=7002)
    update = command_update(41, 7002, "/help")
    assert await post_update(tg_session, bot, update, bot.secret) == 200
    assert await post_update(tg_session, bot, update, bot.secret) == 200
    # A later update's reply is sent after any reply the duplicate could have caused (per-chat order).
    assert await post_update(tg_session, bot, command_update(42, 7002, "/ngonngu"), bot.secret) == 200
    await hoa.wait_for_reply(contains="Choose your language")
    texts = [m.text for m in await hoa.messages()]
    assert len(texts) == 2 and "/ngonngu" in texts[0], texts


async def test_webhook_answers_503_while_the_database_is_down(
    start_bot, tg_user, tg_session, pg_behind_proxy
) -> None:
    url, database = pg_behind_proxy
    bot = await start_bot(mode="webhook", database_url=url)
    ich = tg_user(bot, "Ích", user_id=7003)
    assert await post_update(tg_session, bot, command_update(51, 7003, "/help"), bot.secret) == 200
    await ich.wait_for_reply()
    await database.close()
    assert await post_update(tg_session, bot, command_update(52, 7003, "/ngonngu"), bot.secret) == 503
    await database.open()
    # Telegram delivers the update again: now it is stored and answered, nothing was lost.
    assert await post_update(tg_session, bot, command_update(52, 7003, "/ngonngu"), bot.secret) == 200
    assert "Choose your language" in (await ich.wait_for_reply()).text
