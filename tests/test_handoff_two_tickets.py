"""A helper holding two tickets on a channel without buttons: typed text and typed option letters
never go to a ticket other than the one they evidently answer (review of the Zalo run: zu6's
answer went to zu7, and «a» meant for a new ticket's «Nhận» closed another). Also: a request that
reaches nobody is not announced as sent; commune names typed the way people type them; asking for
a person in plain words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.models import Ticket, TicketMessage
from services.handoff.intent import asks_for_person
from tests.support import ChatDriver, Clock, demo_driver, outbox_rows

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MON_0900 = datetime(2025, 11, 17, 9, 0, tzinfo=TZ)  # past: dialog states are stamped with the real clock


def clocked(app: App) -> Clock:
    clock = Clock(MON_0900)
    app.intake.clock = clock
    return clock


async def request(app: App, citizen: ChatDriver, question: str) -> int:
    await citizen.send("/hotro")
    said = await citizen.send("thuan hoa")
    assert "1. Phường Thuận Hóa" in said.text, said.text
    await citizen.send("1")
    said = await citizen.send(question)
    assert "Đã gửi yêu cầu hỗ trợ (phiếu #" in said.text, said.text
    async with app.sessions() as s:
        return int((await s.execute(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))).scalar_one())


async def to_chat(app: App, chat_id: str, since: int) -> list[str]:
    return [str(r.payload["text"]) for r in await outbox_rows(app) if r.id > since and r.chat_id == chat_id]


async def last_id(app: App) -> int:
    rows = await outbox_rows(app)
    return rows[-1].id if rows else 0


async def status(app: App, ticket_id: int) -> str:
    async with app.sessions() as s:
        row = await s.get(Ticket, ticket_id)
        assert row is not None
        return row.status


def citizen(app: App, key: str) -> ChatDriver:
    return ChatDriver(app, key, f"Dân {key}", channel="zalo_oa", supports_buttons=False)


async def two_tickets(app: App, clock: Clock) -> tuple[ChatDriver, ChatDriver, ChatDriver, int, int]:
    """tnv (no buttons) holds #a (zu6) and #b (zu7), in reply mode for #b."""
    zu6, zu7 = citizen(app, "zu6"), citizen(app, "zu7")
    tnv = demo_driver(app, "tnv", supports_buttons=False)
    a = await request(app, zu6, "em muon hoi cach nop thue ho kinh doanh")
    await tnv.press(f"hr:k:{a}")
    clock.advance(minutes=1)
    b = await request(app, zu7, "lam sao dang nhap dich vu cong bang vneid")
    said = await tnv.press(f"hr:k:{b}")
    assert f"đã nhận phiếu #{b}" in said.text
    clock.advance(minutes=1)
    return tnv, zu6, zu7, a, b


async def test_text_after_another_citizen_wrote_asks_which_ticket(seeded_app: App) -> None:
    clock = clocked(seeded_app)
    tnv, zu6, _zu7, a, b = await two_tickets(seeded_app, clock)
    said = await zu6.send("doanh thu 200 trieu mot nam thi nop thue bao nhieu a")
    assert "Đã chuyển tới người hỗ trợ" in said.text
    clock.advance(minutes=1)
    mark = await last_id(seeded_app)
    said = await tnv.send("Voi doanh thu 200 trieu/nam thi mien thue nhe")
    # Nothing sent: the text is kept and the helper is asked, with the tickets' first words.
    assert await to_chat(seeded_app, "zu6", mark) == [] and await to_chat(seeded_app, "zu7", mark) == []
    assert "CHƯA gửi" in said.text, said.text
    assert f"a. Phiếu #{a} — doanh thu 200 trieu mot nam…" in said.text
    assert f"b. Phiếu #{b} — lam sao dang nhap dich vu…" in said.text
    assert "c. ✖ Huỷ, không gửi" in said.text
    # A second message while asked is kept with the first.
    said = await tnv.send("Anh khong can lam gi them")
    assert await to_chat(seeded_app, "zu6", mark) == [] and "CHƯA gửi" in said.text
    said = await tnv.send("a")
    assert f"Đã chuyển tới người dân (phiếu #{a})" in said.text, said.text
    [sent] = await to_chat(seeded_app, "zu6", mark)
    assert "mien thue" in sent and "khong can lam gi them" in sent and f"phiếu #{a}" in sent
    assert await to_chat(seeded_app, "zu7", mark) == []
    # The helper chose #a: what they type next goes there without asking again.
    clock.advance(minutes=1)
    mark = await last_id(seeded_app)
    said = await tnv.send("Chuc anh buon ban thuan loi")
    assert f"phiếu #{a}" in said.text and len(await to_chat(seeded_app, "zu6", mark)) == 1


async def test_no_question_when_only_the_ticket_answered_spoke(seeded_app: App) -> None:
    clock = clocked(seeded_app)
    tnv, _zu6, zu7, _a, b = await two_tickets(seeded_app, clock)
    await zu7.send("em dang nhap khong duoc")
    clock.advance(minutes=1)
    mark = await last_id(seeded_app)
    said = await tnv.send("Chi thu cap nhat VNeID nhe")
    assert f"Đã chuyển tới người dân (phiếu #{b})" in said.text
    assert len(await to_chat(seeded_app, "zu7", mark)) == 1 and await to_chat(seeded_app, "zu6", mark) == []
    # The relay push to the helper says which ticket its options act on.
    rows = [r for r in await outbox_rows(seeded_app) if r.chat_id == "demo-tnv"]
    labels = [btn[0] for btn in rows[-1].payload["buttons"][0]]
    assert labels == [f"↩ Trả lời phiếu #{b}", f"✅ Đóng phiếu #{b}"]


async def test_cancel_drops_the_kept_text_and_a_ticket_closed_meanwhile_gets_nothing(seeded_app: App) -> None:
    clock = clocked(seeded_app)
    tnv, zu6, _zu7, a, _b = await two_tickets(seeded_app, clock)
    await zu6.send("con nua a")
    clock.advance(minutes=1)
    mark = await last_id(seeded_app)
    said = await tnv.send("tra loi")
    said = await tnv.send("c")  # Huỷ
    assert "Đã bỏ tin vừa gõ" in said.text
    assert await to_chat(seeded_app, "zu6", mark) == [] and await to_chat(seeded_app, "zu7", mark) == []
    # Asked again (zu6's message is still newer than the choice of #b); zu6 ends the ticket meanwhile.
    said = await tnv.send("tra loi lan nua")
    assert "CHƯA gửi" in said.text
    await zu6.send("/xong")
    assert await status(seeded_app, a) == "closed"
    said = await tnv.send("a")
    assert f"Phiếu #{a} đã kết thúc" in said.text, said.text
    assert [t for t in await to_chat(seeded_app, "zu6", mark) if "tra loi" in t] == []
    async with seeded_app.sessions() as s:
        texts = list((await s.execute(select(TicketMessage.text))).scalars())
    assert "tra loi lan nua" not in texts and "tra loi" not in texts


async def test_a_volunteer_removed_while_asked_sends_nothing(seeded_app: App) -> None:
    from db.models import Membership
    from db.repositories import core as repo

    clock = clocked(seeded_app)
    tnv, zu6, _zu7, _a, _b = await two_tickets(seeded_app, clock)
    await zu6.send("em hoi them")
    clock.advance(minutes=1)
    said = await tnv.send("de em xem")
    assert "CHƯA gửi" in said.text
    async with seeded_app.sessions() as s:
        account = await repo.find_account(s, "console", "demo-tnv")
        assert account is not None
        stmt = select(Membership.id).where(
            Membership.person_id == account.person_id, Membership.active.is_(True)
        )
        membership_id = (await s.execute(stmt)).scalars().first()
    leader = demo_driver(seeded_app, "totruong")
    said = await leader.press(f"to:rmy:{membership_id}")  # the team leader removes the volunteer
    assert "Trần Văn Minh" in said.text, said.text
    mark = await last_id(seeded_app)
    said = await tnv.send("a")
    assert "Đã chuyển tới người dân" not in said.text, said.text
    assert all("de em xem" not in t for t in await to_chat(seeded_app, "zu6", mark))
    async with seeded_app.sessions() as s:
        texts = list((await s.execute(select(TicketMessage.text))).scalars())
    assert "de em xem" not in texts


async def test_a_letter_after_another_tickets_push_is_confirmed(seeded_app: App) -> None:
    clock = clocked(seeded_app)
    zu5, zu6 = citizen(seeded_app, "zu5"), citizen(seeded_app, "zu6")
    tnv = demo_driver(seeded_app, "tnv", supports_buttons=False)
    first = await request(seeded_app, zu5, "cho hoi ve dang ky thuong tru cho con")
    await tnv.press(f"hr:k:{first}")
    clock.advance(minutes=1)
    new = await request(seeded_app, zu6, "em muon hoi cach nop thue ho kinh doanh")  # pushed: «a. ✋ Nhận»
    [push] = [
        r
        for r in await outbox_rows(seeded_app)
        if r.chat_id == "demo-tnv" and f":{new}:new:" in r.idempotency_key
    ]
    assert push.payload["buttons"][0][0][0] == f"✋ Nhận phiếu #{new}"
    clock.advance(minutes=1)
    said = await tnv.send("Chi mang them giay khai sinh cua chau nua nhe")
    assert f"a. ✅ Đóng phiếu #{first}" in said.text, said.text
    said = await tnv.send("a")
    assert await status(seeded_app, first) == "claimed", said.text
    assert f"a. ✅ Đóng phiếu #{first}" in said.text and f"b. ✋ Nhận phiếu #{new}" in said.text
    assert "c. ✖ Không làm gì" in said.text
    said = await tnv.send("b")  # what was meant: the new ticket
    assert f"đã nhận phiếu #{new}" in said.text and await status(seeded_app, new) == "claimed"
    assert await status(seeded_app, first) == "claimed"
    # Reply mode for the new ticket from now: its own «a» acts without a question.
    said = await tnv.send("Chao anh, anh doi em chut nhe")
    assert f"phiếu #{new}" in said.text
    said = await tnv.send("a")
    assert f"Đã đóng phiếu #{new}" in said.text and await status(seeded_app, new) == "closed"


async def test_buttons_are_not_second_guessed(seeded_app: App) -> None:
    clock = clocked(seeded_app)
    zu5, zu6 = citizen(seeded_app, "zu5"), citizen(seeded_app, "zu6")
    tnv = demo_driver(seeded_app, "tnv")  # console with buttons: a tap names its message
    first = await request(seeded_app, zu5, "cho hoi ve dang ky thuong tru cho con")
    await tnv.press(f"hr:k:{first}")
    clock.advance(minutes=1)
    await request(seeded_app, zu6, "em muon hoi cach nop thue ho kinh doanh")
    clock.advance(minutes=1)
    said = await tnv.send("Chi mang them giay khai sinh nhe")
    said = await tnv.tap("Đóng phiếu")
    assert f"Đã đóng phiếu #{first}" in said.text


async def test_a_commune_whose_helpers_have_no_account_is_not_told_sent(seeded_app: App) -> None:
    """Phú Xuân's demo volunteers have no chat account: no push can reach anyone."""
    clocked(seeded_app)
    zu1 = citizen(seeded_app, "zu1")
    await zu1.send("/hotro")
    said = await zu1.send("phu xuan")
    assert "1. Phường Phú Xuân" in said.text
    await zu1.send("1")
    mark = await last_id(seeded_app)
    said = await zu1.send("cho hoi lam the bhyt cho con")
    assert "Đã gửi" not in said.text and "chưa được gửi đi" in said.text, said.text
    assert [r for r in await outbox_rows(seeded_app) if r.id > mark] == []
    async with seeded_app.sessions() as s:
        latest = (await s.execute(select(Ticket).order_by(Ticket.id.desc()).limit(1))).scalar_one()
    assert latest.status == "cancelled" and "bhyt" in latest.question


async def test_a_commune_name_with_its_city_is_the_commune_then_the_question_is_asked(
    seeded_app: App,
) -> None:
    clocked(seeded_app)
    zu = citizen(seeded_app, "zu14")
    await zu.send("/hotro")
    said = await zu.send("Phường Vĩ Dạ, TP Huế")
    assert "ghi lại câu hỏi" not in said.text and "1. Phường Vỹ Dạ" in said.text, said.text
    said = await zu.send("1")
    assert "Phường Vỹ Dạ" in said.text and "viết câu hỏi" in said.text, said.text


@pytest.mark.parametrize(
    ("typed", "commune"),
    [
        ("Vĩ Dạ", "Phường Vỹ Dạ"),
        ("vi da", "Phường Vỹ Dạ"),
        ("vida", "Phường Vỹ Dạ"),
        ("vi da tp hue", "Phường Vỹ Dạ"),
        ("thuan hao", "Phường Thuận Hóa"),
        ("thuanhoa", "Phường Thuận Hóa"),
        ("thuan hoa hue", "Phường Thuận Hóa"),
        ("phuong thuan hoa, tinh thua thien hue", "Phường Thuận Hóa"),
    ],
)
async def test_common_spellings_find_the_commune(seeded_app: App, typed: str, commune: str) -> None:
    zu = citizen(seeded_app, "zu13")
    await zu.send("/hotro")
    said = await zu.send(typed)
    assert f". {commune}" in said.text and "Không tìm thấy" not in said.text, said.text


async def test_nothing_matching_offers_the_closest(seeded_app: App) -> None:
    zu = citizen(seeded_app, "zu15")
    await zu.send("/hotro")
    said = await zu.send("phuong thuan hoooaa")
    assert "Không tìm thấy" in said.text and "1. Phường Thuận Hóa" in said.text, said.text
    said = await zu.send("1")
    assert "viết câu hỏi" in said.text
    zu2 = citizen(seeded_app, "zu16")
    await zu2.send("/hotro")
    said = await zu2.send("abc")  # resembles no name: nothing offered
    assert (
        "Không tìm thấy" in said.text and "Phường" not in said.text.split("Không tìm thấy")[1].split("(")[0]
    )


@pytest.mark.parametrize(
    "text",
    ["cho em gap can bo", "cho gap admin", "toi muon noi chuyen voi nguoi", "co ai khong", "Có ai không ạ"],
)
def test_plain_words_asking_for_a_person(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "gap can bo mot cua nop ho so",
        "toi can gap can bo de lam gi",
        "co can gap can bo khong",
        "co ai biet cach lam can cuoc khong",
        "lam can cuoc can gap ai",
        "can bo xa lam viec may gio",
    ],
)
def test_questions_about_officers_stay_questions(text: str) -> None:
    assert not asks_for_person(text)
