"""The dialog core: routing, persisted state, duplicates, rollback, numbered menus."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.assemble import build
from bot.kernel import App
from db.models import ChannelAccount, DialogState, Person, ProcessedUpdate
from handlers.core import Button, Context
from handlers.router import Router
from services.errors import InvalidInput
from tests.support import ChatDriver, count, make_settings


def probe_router() -> Router:
    """A tiny feature used to exercise the core: /dem counts, /hong fails after writing."""
    router = Router()

    @router.command("dem")
    async def start(ctx: Context) -> None:
        ctx.goto("dem.ask", n=0)
        ctx.reply("so?", [[Button("một", "dem:1"), Button("hai", "dem:2")]])

    @router.callback("dem")
    async def pressed(ctx: Context) -> None:
        n = int((ctx.msg.payload or "dem:0").split(":")[1])
        ctx.goto("dem.ask", n=ctx.state.get("n", 0) + n)
        ctx.reply(f"tong={ctx.state['n']}", edit=True)

    @router.state("dem.ask")
    async def typed(ctx: Context) -> None:
        text = (ctx.msg.text or "").strip()
        if not text.isdigit():
            ctx.reply("can so")
            return
        ctx.goto("dem.ask", n=ctx.state.get("n", 0) + int(text))
        ctx.reply(f"tong={ctx.state['n']}")

    @router.command("hong")
    async def broken(ctx: Context) -> None:
        from db.repositories import core as repo

        await repo.add_person(ctx.session, "half-written")
        raise RuntimeError("boom")

    @router.command("sai")
    async def domain(ctx: Context) -> None:
        from db.repositories import core as repo

        await repo.add_person(ctx.session, "half-written")
        raise InvalidInput("errors.bad_name")

    return router


def with_probe(app: App) -> App:
    app.router.include(probe_router())
    return app


async def test_start_help_and_unknown_text(app: App) -> None:
    user = ChatDriver(app, "1001", "Chị Hạnh")
    said = await user.send("/start")
    assert "Chị Hạnh" in said.text
    said = await user.send("/help")
    assert "/ngonngu" in said.text and "/baocao" not in said.text
    said = await user.send("hôm nay trời đẹp quá")
    assert said.text  # never silence
    said = await user.send("/khonglenhnao")
    assert "/khonglenhnao" in said.text and "/help" in said.text


async def test_state_and_buttons_flow(app: App) -> None:
    user = ChatDriver(with_probe(app), "1002")
    await user.send("/dem")
    said = await user.tap("hai")
    assert said.text == "tong=2" and said.replies[0].edit
    said = await user.send("abc")
    assert said.text == "can so"
    said = await user.send("5")
    assert said.text == "tong=7"
    said = await user.send("/huy")
    assert "huỷ" in said.text.lower()
    said = await user.send("/huy")
    assert "không có" in said.text.lower()


async def test_state_survives_restart(db_url: str) -> None:
    """A new process (a new App on the same database) continues the dialog."""
    first = with_probe(build(make_settings(db_url)))
    await ChatDriver(first, "1003").send("/dem")
    await ChatDriver(first, "1003").press("dem:2")
    await first.close()

    second = with_probe(build(make_settings(db_url)))
    try:
        said = await ChatDriver(second, "1003").send("3")
        assert said.text == "tong=5"
    finally:
        await second.close()


async def test_duplicate_update_processed_once(app: App) -> None:
    user = ChatDriver(with_probe(app), "1004")
    await user.send("/dem")
    first = await user.send("4", update_key="telegram:777")
    again = await user.send("4", update_key="telegram:777")
    assert first.text == "tong=4"
    assert again.duplicate and again.replies == []
    said = await user.send("1")
    assert said.text == "tong=5"


async def test_concurrent_duplicates_processed_once(app: App) -> None:
    import asyncio

    user = ChatDriver(with_probe(app), "1005")
    await user.send("/dem")
    results = await asyncio.gather(*(user.send("2", update_key="telegram:888") for _ in range(5)))
    assert sum(1 for r in results if not r.duplicate) == 1
    said = await user.send("0")
    assert said.text == "tong=2"


async def test_exception_rolls_back_and_replies_politely(app: App) -> None:
    user = ChatDriver(with_probe(app), "1006")
    await user.send("/start")
    people_before = await count(app, Person)
    said = await user.send("/hong", update_key="k-hong")
    assert "sự cố" in said.text
    assert await count(app, Person) == people_before  # half-written person rolled back
    again = await user.send("/hong", update_key="k-hong")
    assert again.duplicate  # a poisoned update is not retried forever
    said = await user.send("/sai")
    assert "1 đến 120" in said.text
    assert await count(app, Person) == people_before


async def test_new_person_is_created_once(app: App) -> None:
    user = ChatDriver(app, "1007", "Anh Tú")
    await user.send("/start")
    await user.send("/help")
    assert await count(app, Person) == 1
    assert await count(app, ChannelAccount) == 1
    assert await count(app, ProcessedUpdate) == 2


async def test_numbered_options_on_channels_without_buttons(app: App) -> None:
    user = ChatDriver(with_probe(app), "zb-1", channel="zalo_bot", supports_buttons=False)
    said = await user.send("/dem")
    assert "1. một" in said.text and "2. hai" in said.text
    said = await user.send("2")
    assert said.text.startswith("tong=2")
    said = await user.send("hai")  # the menu is gone after a reply without buttons
    assert said.text == "can so"


async def test_language_switch_is_per_person(app: App) -> None:
    user = ChatDriver(app, "1008")
    await user.send("/ngonngu")
    said = await user.tap("English")
    assert "English" in said.text
    said = await user.send("/help")
    assert "Commands you can use" in said.text
    other = ChatDriver(app, "1009")
    assert "Các lệnh" in (await other.send("/help")).text


async def test_idle_dialog_expires(app: App) -> None:
    from datetime import timedelta

    user = ChatDriver(with_probe(app), "1010")
    await user.send("/dem")
    async with app.sessions() as s, s.begin():
        row = await s.get(DialogState, ("telegram", "1010", "1010"))
        assert row is not None
        row.updated_at = row.updated_at - timedelta(hours=2)
    said = await user.send("5")
    assert "hết hạn" in said.text


async def test_group_chatter_is_ignored_but_commands_work(app: App) -> None:
    user = ChatDriver(app, "1011", chat_id="-100500", chat_type="group")
    said = await user.send("chào cả nhà")
    assert said.replies == []
    said = await user.send("/help")
    assert "/help" in said.text


async def test_flood_gets_one_notice(app: App) -> None:
    user = ChatDriver(app, "1012")
    texts = [(await user.send("/help")).text for _ in range(25)]
    notices = [t for t in texts if "hơi nhanh" in t]
    assert len(notices) == 1
    assert texts[-1] == ""  # silent after the notice within the window


async def test_numbered_options_span_every_reply_of_an_answer(app: App) -> None:
    router = Router()

    @router.command("hai")
    async def two_menus(ctx: Context) -> None:
        ctx.reply("menu A", [[Button("a1", "hai:a1")]])
        ctx.reply("menu B", [[Button("b1", "hai:b1"), Button("b2", "hai:b2")]])

    @router.callback("hai")
    async def pressed(ctx: Context) -> None:
        ctx.reply(f"chose {ctx.msg.payload}")

    app.router.include(router)
    user = ChatDriver(app, "zb-2", channel="zalo_bot", supports_buttons=False)
    said = await user.send("/hai")
    assert "1. a1" in said.text and "2. b1" in said.text and "3. b2" in said.text
    assert (await user.send("1")).text == "chose hai:a1"
    await user.send("/hai")
    assert (await user.send("3")).text == "chose hai:b2"


async def test_control_characters_are_dropped_before_storage(app: App) -> None:
    user = ChatDriver(with_probe(app), "1013", "Tên\x00lạ\x07")
    await user.send("/dem")
    said = await user.send("\x003\x00")
    assert said.text == "tong=3"
    async with app.sessions() as s:
        names = (await s.execute(select(Person.display_name))).scalars().all()
    assert names == ["Tênlạ"]


async def test_personal_commands_in_a_group_point_to_the_private_chat(app: App) -> None:
    """In a team's group chat nobody's personal data is posted: personal commands answer with a
    deep link to the private chat instead."""
    user = ChatDriver(app, "1014", chat_id="-100777", chat_type="group")
    for command in ("toi", "to", "ghi", "hoso", "baocao", "hotro", "lienket"):
        said = await user.send(f"/{command}")
        assert "trò chuyện riêng" in said.text, command
        urls = [b.url for r in said.replies for row in r.buttons for b in row if b.url]
        assert urls == [f"https://t.me/tocns_test_bot?start={command}"], command


async def test_joining_with_a_code_in_a_group_happens_in_the_private_chat(seeded_app: App) -> None:
    """«/start MÃ» in a group ran the whole join there — the code, then the newcomer's name — for the
    group to read; «/thamgia MÃ» pointed to the private chat but dropped the code."""
    from sqlalchemy import func

    from db.models import Membership

    async def memberships() -> int:
        async with seeded_app.sessions() as s:
            return int((await s.execute(select(func.count()).select_from(Membership))).scalar_one())

    before = await memberships()
    code = "DEMOTNV1"
    newcomer = ChatDriver(seeded_app, "1015", "Hùng", chat_id="-100777", chat_type="group")
    for command in (f"/start {code}", f"/thamgia {code}"):
        said = await newcomer.send(command)
        assert "trò chuyện riêng" in said.text and "Mã mời" not in said.text, (command, said.text)
        urls = [b.url for r in said.replies for row in r.buttons for b in row if b.url]
        assert urls == [f"https://t.me/tocns_test_bot?start={code}"], (command, urls)
    assert await memberships() == before


# --- a cancel word typed with nothing open ----------------------------------------------------------

NOTHING_TO_CANCEL = (
    "Hiện không có thao tác nào đang mở để huỷ. Anh/chị gõ /help để xem những việc tôi làm được."
)


@pytest.mark.parametrize("word", ["huỷ", "hủy", "huy", "Huỷ!", "thôi", "thoi", "cancel", "thôi nhé", "/huy"])
async def test_a_cancel_word_with_nothing_open_is_answered_as_huy(app: App, word: str) -> None:
    """«huỷ» typed with nothing open was answered «chưa hiểu» (and «thôi» with FAQ choices)."""
    user = ChatDriver(app, "1201", "Chị Hạnh")
    said = await user.send(word)
    assert said.text == NOTHING_TO_CANCEL, said.text
    # The same as /huy, in English too.
    await user.send("/ngonngu en")
    said = await user.send(word)
    assert said.text == "There is nothing in progress to cancel. Type /help to see what I can do.", said.text


@pytest.mark.parametrize("word", ["huỷ", "thôi", "cancel"])
async def test_a_cancel_word_in_an_open_dialog_still_cancels_it(app: App, word: str) -> None:
    user = ChatDriver(app, "1202")
    said = await user.send("/tracuu")
    assert "mã hồ sơ" in said.text.lower(), said.text
    said = await user.send(word)
    assert said.text.startswith("Đã huỷ thao tác đang làm"), said.text
    said = await user.send(word)  # now nothing is open
    assert said.text == NOTHING_TO_CANCEL, said.text


@pytest.mark.parametrize(
    "question", ["cách huỷ đăng ký tạm trú", "huy dang ky tam tru", "thời gian làm căn cước"]
)
async def test_a_question_with_a_cancel_word_in_it_goes_to_the_faq(app: App, question: str) -> None:
    said = await ChatDriver(app, "1203").send(question)
    assert "thao tác" not in said.text and "chưa hiểu" not in said.text, said.text
    topic = "căn cước" if "căn cước" in question else "tạm trú"
    shown = " ".join([said.text, *said.labels()]).lower()  # an answer, or the entries to choose from
    assert topic in shown, (said.text, said.labels())


async def test_a_cancel_word_in_a_group_is_chatter(app: App) -> None:
    said = await ChatDriver(app, "1204", chat_id="-100", chat_type="group").send("huỷ")
    assert said.replies == []
