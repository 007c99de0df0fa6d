"""Conversations as people really have them (issue 15), through the dialog core.

Channels differ, at the dialog core, in one way: Telegram and Zalo OA show buttons; the Zalo Bot
platform and the console show them as a list to answer by typing (`numbered`). Each scenario runs
in both shapes, as the same demo people."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.kernel import App, DeliveryError
from db.models import HelpSession, Ticket
from handlers.core import Reply
from services import handoff, reachability, sessions
from tests.support import ChatDriver, Said, demo_driver, outbox_rows
from tests.test_import import make_xlsx, sample_rows

SHAPES = ["buttons", "numbered"]


@pytest.fixture(params=SHAPES)
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def person(app: App, key: str, shape: str) -> ChatDriver:
    return demo_driver(app, key, supports_buttons=shape == "buttons")


async def choose(driver: ChatDriver, label: str) -> Said:
    """Pick an option as a person would: tap it, or type its number/letter on list channels."""
    for said in reversed(driver.history):  # the latest answer that offered it
        if driver.supports_buttons:
            if any(label.lower() in b.lower() for b in said.labels()):
                return await driver.press(said.button(label))
            continue
        for line in said.text.splitlines():
            m = re.match(r"^([0-9]+|[a-z]{1,2})\. (.*)$", line.strip())
            if m and label.lower() in m.group(2).lower():
                return await driver.send(m.group(1))
    raise AssertionError(f"no option {label!r} in {driver.history[-1].text!r}")


async def session_count(app: App, person_key: str) -> int:
    from db.repositories import core as repo

    async with app.sessions() as s:
        acc = await repo.find_account(s, "console", f"demo-{person_key}")
        assert acc is not None
        stmt = select(func.count(HelpSession.id)).where(
            HelpSession.volunteer_id == acc.person_id, HelpSession.deleted_at.is_(None)
        )
        return int((await s.execute(stmt)).scalar_one())


async def last_session(app: App, person_key: str) -> sessions.SessionView:
    from db.repositories import core as repo

    async with app.sessions() as s:
        acc = await repo.find_account(s, "console", f"demo-{person_key}")
        assert acc is not None
        view = await sessions.last_session(s, acc.person_id)
    assert view is not None
    return view


# --- 1. typed numbers vs numbered choices ------------------------------------------------------


async def test_a_typed_number_is_the_number_of_people(seeded_app: App, shape: str) -> None:
    tnv = person(seeded_app, "tnv", shape)
    await tnv.send("/ghi")
    await choose(tnv, "Kích hoạt VNeID")
    said = await choose(tnv, "tại nhà")
    assert "Bao nhiêu người dân" in said.text
    if shape == "numbered":
        # The options are the numbers themselves, so they are picked by letter, never by position.
        assert "4. 5" not in said.text and "d. 5" in said.text, said.text
    said = await tnv.send("4")
    assert "Kết quả thế nào" in said.text, said.text
    await choose(tnv, "Đã xong")
    said = await choose(tnv, "Lưu")
    assert "4 người" in said.text, said.text
    assert (await last_session(seeded_app, "tnv")).citizens == 4
    # A listed option still works by its letter (or tap) and by its own text.
    await tnv.send("/ghi")
    await choose(tnv, "Kích hoạt VNeID")
    await choose(tnv, "tại nhà")
    await choose(tnv, "5")
    await choose(tnv, "Đã xong")
    await choose(tnv, "Lưu")
    assert (await last_session(seeded_app, "tnv")).citizens == 5


# --- 2. the hand-off outlives the dialog ---------------------------------------------------------


async def open_claimed_ticket(app: App, dan: ChatDriver, tnv: ChatDriver) -> int:
    await dan.send("/hotro")
    await dan.send("thuan hoa")
    await choose(dan, "Phường Thuận Hóa")
    said = await dan.send("Tôi muốn làm lại căn cước cho mẹ, cần giấy tờ gì?")
    assert "phiếu #" in said.text, said.text
    claim = next(
        b[1]
        for r in await outbox_rows(app)
        if r.chat_id == "demo-tnv"
        for row in r.payload.get("buttons", [])
        for b in row
        if b[1].startswith("hr:k:")
    )
    said = await tnv.press(claim)
    assert "đã nhận phiếu" in said.text, said.text
    return int(claim.rsplit(":", 1)[1])


async def pushes_to(app: App, chat_id: str, since: int) -> list[str]:
    return [r.payload["text"] for r in await outbox_rows(app) if r.chat_id == chat_id and r.id > since]


async def last_id(app: App) -> int:
    rows = await outbox_rows(app)
    return rows[-1].id if rows else 0


async def test_hand_off_outlives_cancel_and_other_commands(seeded_app: App, shape: str) -> None:
    dan, tnv = person(seeded_app, "dan", shape), person(seeded_app, "tnv", shape)
    ticket_id = await open_claimed_ticket(seeded_app, dan, tnv)

    # The citizen cancels: told the ticket stays open and how to end it.
    said = await dan.send("/huy")
    assert f"#{ticket_id} vẫn mở" in said.text and "/xong" in said.text, said.text
    # The helper answers; the citizen, after another command (a look-up overnight), says thanks.
    mark = await last_id(seeded_app)
    said = await tnv.send("Chị mang theo giấy khai sinh của mẹ nhé.")
    assert "Đã chuyển tới người dân" in said.text
    assert any("giấy khai sinh" in t for t in await pushes_to(seeded_app, "demo-dan", mark))
    await dan.send("/tracuu H46.19786-261130-0001")
    mark = await last_id(seeded_app)
    said = await dan.send("ok cam on")
    assert "chưa hiểu" not in said.text and "Đã chuyển tới người hỗ trợ" in said.text, said.text
    assert "/xong" in said.text
    assert any("ok cam on" in t for t in await pushes_to(seeded_app, "demo-tnv", mark))

    # The helper's side likewise: after /tuan, plain text still reaches the citizen.
    await tnv.send("/tuan")
    said = await tnv.send("/huy")
    assert f"#{ticket_id}" in said.text and "vẫn mở" in said.text, said.text
    mark = await last_id(seeded_app)
    said = await tnv.send("Không có gì ạ.")
    assert "Đã chuyển tới người dân" in said.text
    assert any("Không có gì" in t for t in await pushes_to(seeded_app, "demo-dan", mark))

    # The way out: /xong ends the request — resolved, since a helper was on it: the citizen is asked
    # to rate the help (the team's satisfaction figure), the helper is told; text is ordinary again.
    mark = await last_id(seeded_app)
    said = await dan.send("/xong")
    assert f"Đã kết thúc phiếu #{ticket_id}" in said.text and "đánh giá" in said.text, said.text
    assert any("xong việc" in t for t in await pushes_to(seeded_app, "demo-tnv", mark))
    async with seeded_app.sessions() as s:
        row = await s.get(Ticket, ticket_id)
        assert row is not None and row.status == handoff.Status.CLOSED.value
    said = await choose(dan, "5⭐")
    assert "5" in said.text and f"#{ticket_id}" in said.text, said.text
    async with seeded_app.sessions() as s:
        row = await s.get(Ticket, ticket_id)
        assert row is not None and row.rating == 5
    said = await dan.send("ok cam on")
    assert "không có gì" in said.text.lower(), said.text


async def test_xong_on_a_request_nobody_took_withdraws_it_without_a_rating(
    seeded_app: App, shape: str
) -> None:
    dan = person(seeded_app, "dan", shape)
    await dan.send("/hotro")
    await dan.send("thuan hoa")
    await choose(dan, "Phường Thuận Hóa")
    said = await dan.send("Tôi cần hỏi về đăng ký tạm trú")
    ticket_id = int(re.search(r"phiếu #(\d+)", said.text).group(1))  # type: ignore[union-attr]
    said = await dan.send("/xong")
    assert f"Đã kết thúc phiếu #{ticket_id}" in said.text and "đánh giá" not in said.text, said.text
    async with seeded_app.sessions() as s:
        row = await s.get(Ticket, ticket_id)
        assert row is not None and row.status == handoff.Status.CANCELLED.value


# --- 3. a volunteer reopens the dossier they recorded ---------------------------------------------


async def record_dossier(
    driver: ChatDriver, code: str, *, received: str | None = None, due: str | None = None
) -> None:
    said = await driver.send(f"/hoso {code}")
    assert "thủ tục" in said.text.lower(), said.text
    await driver.send("khai tu")
    await choose(driver, "Đăng ký khai tử")
    await choose(driver, "Nộp tại quầy")
    if received:
        await driver.send(received)
    else:
        await choose(driver, "Hôm nay")
    if due:
        await driver.send(due)
    else:
        await choose(driver, "Chưa có ngày hẹn")
    said = await choose(driver, "Không")
    assert f"Đã ghi hồ sơ {code}" in said.text, said.text


async def test_volunteer_reopens_the_dossier_they_recorded(seeded_app: App, shape: str) -> None:
    tnv = person(seeded_app, "tnv", shape)
    code = "H46.19786-261130-0099"
    await record_dossier(tnv, code)
    said = await tnv.send(f"/hoso {code}")
    assert "thuộc đơn vị khác" not in said.text, said.text
    assert code in said.text and "Đăng ký khai tử" in said.text


async def test_procedure_search_ranks_whole_words_and_keeps_full_names(seeded_app: App, shape: str) -> None:
    tnv = person(seeded_app, "tnv", shape)
    await tnv.send("/hoso H46.19786-261130-0098")
    said = await tnv.send("dang ky khai tu")
    labels = (
        said.labels()
        if shape == "buttons"
        else [ln.split(". ", 1)[1] for ln in said.text.splitlines() if re.match(r"^\d+\. ", ln)]
    )
    assert labels[0] == "Đăng ký khai tử", labels
    assert not any("khai sinh" in label for label in labels), labels
    said = await tnv.send("khai sinh")
    full = "Liên thông đăng ký khai sinh, thường trú, cấp thẻ BHYT cho trẻ dưới 6 tuổi"
    assert full in said.text  # the message keeps every full name
    cut = [label for label in said.labels() if label.endswith("…")] if shape == "buttons" else []
    assert cut or shape == "numbered", said.labels()
    for label in cut:  # cut at a word: what is kept ends where a word of the full name ends
        head = label[:-1]
        names = [ln.removeprefix("• ") for ln in said.text.splitlines()]
        assert any(n.startswith(head) and n[len(head)] in " ,;" for n in names), label


# --- 4. an overdue dossier says whom to contact --------------------------------------------------


async def test_overdue_dossier_says_whom_to_contact_not_to_wait(seeded_app: App, shape: str) -> None:
    canbo, dan = person(seeded_app, "canbo", shape), person(seeded_app, "dan", shape)
    code = "H46.19786-261101-0777"
    today = canbo.app.intake.clock().astimezone(seeded_app.settings.tz).date()
    received = (today - timedelta(days=20)).strftime("%d/%m/%Y")
    due = (today - timedelta(days=5)).strftime("%d/%m/%Y")
    await record_dossier(canbo, code, received=received, due=due)
    said = await dan.send(f"/tracuu {code}")
    assert "quá ngày hẹn trả" in said.text, said.text
    assert "chờ đến ngày hẹn trả" not in said.text
    assert "Một cửa của Phường Thuận Hóa" in said.text
    assert "Phiếu xin lỗi và hẹn lại ngày trả kết quả" in said.text and "118/2025" in said.text


# --- 7. «Như lần trước» and «Lưu» are idempotent per message -----------------------------------------


async def test_same_as_last_time_saves_once_per_message(seeded_app: App, shape: str) -> None:
    tnv = demo_driver(seeded_app, "tnv")  # the button's payload is tapped again, as a double tap does
    await tnv.send("/ghi dvc nha 2")
    before = await session_count(seeded_app, "tnv")
    said = await tnv.send("/ghi")
    same = said.button("Như lần trước")
    first = await tnv.press(same)
    assert "Đã ghi" in first.text
    for _ in range(2):
        again = await tnv.press(same)
        assert "đã được lưu rồi" in again.text, again.text
    assert await session_count(seeded_app, "tnv") == before + 1
    # «Lưu» tapped twice at the last step: one session.
    await tnv.send("/ghi")
    await tnv.press(tnv.history[-1].button("Kích hoạt VNeID"))
    await tnv.press(tnv.history[-1].button("tại nhà"))
    await tnv.press(tnv.history[-1].button("1"))
    await tnv.press(tnv.history[-1].button("Đã xong"))
    save = tnv.history[-1].button("Lưu")
    await tnv.press(save)
    said = await tnv.press(save)
    assert "đã được lưu rồi" in said.text, said.text
    assert await session_count(seeded_app, "tnv") == before + 2


# --- 8. a file is routed by what it is --------------------------------------------------------------


async def test_a_file_never_answers_another_question(seeded_app: App, shape: str) -> None:
    tnv = person(seeded_app, "tnv", shape)
    before = await session_count(seeded_app, "tnv")
    await tnv.send("/ghi")
    await choose(tnv, "Kích hoạt VNeID")
    await choose(tnv, "tại nhà")
    await tnv.send("2")
    await choose(tnv, "Đã xong")
    said = await tnv.upload("giay-to.pdf", b"%PDF-1.4 ...", "application/pdf", caption="hihi")
    assert "không phải câu trả lời" in said.text, said.text
    said = await tnv.upload("meo.gif", b"GIF89a", "image/gif", caption="hihi")
    assert "không phải câu trả lời" in said.text
    assert await session_count(seeded_app, "tnv") == before
    said = await choose(tnv, "Lưu")  # the dialog is still there
    assert "Đã ghi" in said.text
    view = await last_session(seeded_app, "tnv")
    assert view.citizens == 2


async def test_one_stop_export_sent_during_a_report_goes_to_the_import(seeded_app: App, shape: str) -> None:
    canbo = person(seeded_app, "canbo", shape)
    said = await canbo.send("/baocao")
    assert "?" in said.text or ":" in said.text
    said = await canbo.upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "chưa phải một số" not in said.text, said.text
    assert "3 hồ sơ mới" in said.text, said.text
    assert "vẫn giữ nguyên" in said.text  # and the report is still open


# --- 9. edits ----------------------------------------------------------------------------------------


async def test_an_edit_is_answered_at_once(seeded_app: App, shape: str) -> None:
    from dataclasses import replace

    canbo = person(seeded_app, "canbo", shape)
    await canbo.send("/baocao")
    msg = replace(canbo._msg(text="120"), edited=True)
    outcome = await seeded_app.intake.handle(msg)
    text = "\n".join(r.text for r in outcome.replies)
    assert "sửa tin không có tác dụng" in text and "gõ lại" in text, text
    async with seeded_app.sessions() as s:
        from db.repositories import updates

        state = await updates.account_bundle(s, "console", "demo-canbo", "demo-canbo")
        assert state.state is not None and (state.state.name or "").startswith("baocao")


# --- 10. deep links from a group -----------------------------------------------------------------------


async def test_start_ghi_opens_the_dialog_and_keeps_an_open_one(seeded_app: App, shape: str) -> None:
    tnv = person(seeded_app, "tnv", shape)
    group = demo_driver(seeded_app, "tnv", chat_type="group", chat_id="-100777")
    said = await group.send("/ghi")
    link = next(b.url for r in said.replies for row in r.buttons for b in row if b.url)
    assert link is not None and link.endswith("?start=ghi")
    said = await tnv.send("/start ghi")
    assert "Cần ít nhất" not in said.text and "hỗ trợ người dân việc gì" in said.text, said.text
    await choose(tnv, "Kích hoạt VNeID")
    said = await tnv.send("/start ghi")  # the link tapped again mid-dialog
    assert "đang làm dở" in said.text, said.text
    said = await choose(tnv, "tại nhà")  # the open dialog went on
    assert "Bao nhiêu người dân" in said.text
    said = await person(seeded_app, "canbo", shape).send("/start baocao")  # same for /baocao
    assert "/start baocao" not in said.text and "8" in said.text and "?" in said.text, said.text


# --- 11. relays to a citizen who blocked the bot -----------------------------------------------------


class BlockedSender:
    """A console-channel sender for which some chats have blocked the bot (Forbidden on Telegram)."""

    channel = "console"
    supports_buttons = False

    def __init__(self) -> None:
        self.blocked: set[str] = set()
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        if chat_id in self.blocked:
            raise DeliveryError("Forbidden: bot was blocked by the user", unreachable=True)
        self.sent.append((chat_id, reply.text))


async def test_relay_to_a_citizen_who_blocked_the_bot_is_reported(seeded_app: App, shape: str) -> None:
    sender = BlockedSender()
    seeded_app.add_sender(sender)
    dan, tnv = person(seeded_app, "dan", shape), person(seeded_app, "tnv", shape)
    ticket_id = await open_claimed_ticket(seeded_app, dan, tnv)
    while await seeded_app.dispatcher.drain_once():
        pass
    sender.blocked.add("demo-dan")
    await tnv.send("Chị cần mang theo giấy khai sinh.")
    while await seeded_app.dispatcher.drain_once():
        pass
    # The helper is told the message did not arrive (a push), and the next relay says so at once.
    assert any(c == "demo-tnv" and "CHƯA tới được người dân" in t for c, t in sender.sent), sender.sent
    said = await tnv.send("Chị còn cần gì nữa không?")
    assert "CHƯA tới được người dân" in said.text and "Đã chuyển tới người dân" not in said.text, said.text
    async with seeded_app.sessions() as s:
        gone = await reachability.unreachable_people(s)
    assert [u.name for u in gone] == ["Nguyễn Thị Lan"]
    # She unblocks and writes: her kept messages are sent again.
    sender.blocked.clear()
    await dan.send("alo, tôi đây")
    while await seeded_app.dispatcher.drain_once():
        pass
    assert any(c == "demo-dan" and "giấy khai sinh" in t for c, t in sender.sent)
    async with seeded_app.sessions() as s:
        assert await reachability.unreachable_people(s) == []
        ticket = await s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "claimed"


# --- Minor ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said_text", "expected"),
    [("xin chao", "Xin chào"), ("Alo", "Xin chào"), ("cảm ơn!", "không có gì"), ("ok", "Dạ vâng")],
)
async def test_greetings_and_thanks_are_answered_like_a_person(
    app: App, said_text: str, expected: str
) -> None:
    dan = ChatDriver(app, "u1501")
    said = await dan.send(said_text)
    assert expected.lower() in said.text.lower() and "xin lỗi" not in said.text.lower(), said.text


async def test_a_future_date_is_called_future(seeded_app: App, shape: str) -> None:
    tnv = person(seeded_app, "tnv", shape)
    tomorrow = (seeded_app.intake.clock().astimezone(seeded_app.settings.tz) + timedelta(days=5)).strftime(
        "%d/%m"
    )
    said = await tnv.send(f"/ghi dvc nha 2 {tomorrow}")
    assert "tương lai" in said.text and "14 ngày" not in said.text, said.text


async def test_non_text_outside_a_dialog_says_what_the_bot_takes(app: App) -> None:
    from dataclasses import replace

    from handlers.core import MessageKind

    dan = ChatDriver(app, "u1502")
    outcome = await app.intake.handle(replace(dan._msg(), kind=MessageKind.STICKER))
    text = "\n".join(r.text for r in outcome.replies)
    assert "nhãn dán" in text and "/help" in text, text


async def test_refusal_says_who_can_do_it_for_this_person(seeded_app: App, shape: str) -> None:
    city_leader = await person(seeded_app, "tinh", shape).send("/hoso H46.19786-261130-0555")
    assert "chưa có quyền" in city_leader.text and "/kpi" in city_leader.text, city_leader.text
    assert "liên hệ tổ trưởng" not in city_leader.text
    citizen = await person(seeded_app, "dan", shape).send("/hoso H46.19786-261130-0555")
    assert "/thamgia" in citizen.text and "/hotro" in citizen.text, citizen.text


async def test_sua_asks_before_deleting(seeded_app: App, shape: str) -> None:
    tnv = person(seeded_app, "tnv", shape)
    await tnv.send("/ghi dvc nha 2")
    before = await session_count(seeded_app, "tnv")
    await tnv.send("/sua")
    await choose(tnv, "DVC")
    said = await choose(tnv, "Xoá buổi này")
    assert "Xoá hẳn buổi" in said.text, said.text
    assert await session_count(seeded_app, "tnv") == before
    said = await choose(tnv, "Giữ lại")
    assert await session_count(seeded_app, "tnv") == before
    await tnv.send("/sua")
    await choose(tnv, "DVC")
    await choose(tnv, "Xoá buổi này")
    said = await choose(tnv, "🗑 Xoá")
    assert "Đã xoá buổi" in said.text, said.text
    assert await session_count(seeded_app, "tnv") == before - 1


async def test_team_leader_help_does_not_promise_inviting_officers(seeded_app: App) -> None:
    said = await demo_driver(seeded_app, "totruong").send("/help")
    line = next(ln for ln in said.text.splitlines() if ln.startswith("/moi"))
    assert "cán bộ" not in line and "thành viên" in line, line


async def test_invite_without_a_link_does_not_say_tap_the_link(seeded_app: App) -> None:
    from dataclasses import replace

    leader = demo_driver(seeded_app, "totruong")

    async def no_link(**kw: Any) -> Said:  # a channel without deep links (Zalo, console)
        outcome = await seeded_app.intake.handle(replace(leader._msg(**kw), bot_username=None))
        said = Said(outcome.replies)
        leader.history.append(said)
        return said

    said = await no_link(text="/moi")
    said = await no_link(payload=said.button("Thành viên"))
    said = await no_link(payload=said.button("10 người"))
    assert "/thamgia" in said.text and "bấm đường dẫn" not in said.text, said.text


async def test_an_image_in_a_ticket_reaches_the_helper_on_every_channel_shape(
    seeded_app: App, shape: str
) -> None:
    """Zalo hands over images as a file only (no kind): it is still a photo, and relayed."""
    dan, tnv = person(seeded_app, "dan", shape), person(seeded_app, "tnv", shape)
    ticket_id = await open_claimed_ticket(seeded_app, dan, tnv)
    mark = await last_id(seeded_app)
    said = await dan.upload(
        "zalo-image.jpg", b"\xff\xd8\xff papers", "image/jpeg", caption="Giấy tờ của mẹ tôi"
    )
    assert "Đã chuyển tới người hỗ trợ" in said.text, said.text
    rows = [r for r in await outbox_rows(seeded_app) if r.id > mark and r.chat_id == "demo-tnv"]
    assert rows and rows[-1].payload["attachment"]["kind"] == "photo"
    assert (
        f"phiếu #{ticket_id}" in rows[-1].payload["text"] and "Giấy tờ của mẹ tôi" in rows[-1].payload["text"]
    )


async def test_my_dossier_status_question_leads_to_the_lookup_first(seeded_app: App, shape: str) -> None:
    dan = person(seeded_app, "dan", shape)
    said = await dan.send("ho so cua toi da xong chua")
    assert "mã hồ sơ" in said.text and "khai sinh" not in said.text.lower(), said.text
    said = await dan.send("H46.19786-261130-0404")
    assert "H46.19786-261130-0404" in said.text  # the code typed next is looked up
