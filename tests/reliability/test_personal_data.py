"""Issue 14, Medium 9: a stranger's /tracuu showed a free-text procedure word for word (a child's
name, a phone, a CCCD number); the hand-off relayed a citizen's phone number to every volunteer
of the commune; the FAQ log kept what people typed. One filter now applies to all of it, and
look-ups are rate-limited per person (15 guesses took 1.4 s)."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel import App
from db.models import FaqQuestion
from handlers.core import Reply
from tests.support import ChatDriver, demo_driver, outbox_rows
from tests.test_handoff import open_ticket

PHONE, PHONE_DOTS, CCCD, EMAIL = "0905 123 456", "0905.123.456", "046201001234", "lan.nguyen@gmail.com"
SECRETS = (PHONE, PHONE_DOTS, CCCD, EMAIL, "0905123456")


def clean(text: str) -> bool:
    squeezed = text.replace(" ", "").replace(".", "")
    return not any(s in text for s in SECRETS) and "0905123456" not in squeezed and CCCD not in squeezed


async def test_tracuu_never_shows_personal_data_from_the_procedure_text(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    code = "H46.19786-261120-0099"
    await tnv.send(f"/hoso {code}")
    await tnv.send(f"Khai sinh cho bé Nguyễn Văn An, bố SĐT {PHONE}, CCCD mẹ {CCCD}")
    await tnv.tap("Dùng đúng tên")
    await tnv.tap("tại quầy")
    await tnv.tap("Hôm nay")
    await tnv.tap("Chưa có")
    assert "Đã ghi hồ sơ" in (await tnv.tap("Có")).text
    stranger = ChatDriver(seeded_app, "tg-9999", "Người lạ")
    said = await stranger.send(f"/tracuu {code}")
    assert code in said.text and "Khai sinh" in said.text
    assert clean(said.text), said.text


async def test_lookups_are_rate_limited_per_person(seeded_app: App) -> None:
    prober = ChatDriver(seeded_app, "tg-probe", "Dò mã")
    answers = [await prober.send(f"/tracuu H46.19786-261101-{n:04d}") for n in range(1, 16)]
    assert "nhiều lần" in answers[-1].text
    assert sum("nhiều lần" in a.text for a in answers) == 5
    other = ChatDriver(seeded_app, "tg-other", "Người khác")
    assert "nhiều lần" not in (await other.send("/tracuu H46.19786-261101-0001")).text


async def test_hand_off_relays_no_phone_cccd_or_email(seeded_app: App) -> None:
    dan, tnv = demo_driver(seeded_app, "dan"), demo_driver(seeded_app, "tnv")
    ticket = await open_ticket(seeded_app, dan, f"Con tôi làm căn cước, gọi {PHONE} hoặc {EMAIL}")
    new = [
        Reply.from_payload(r.payload).text for r in await outbox_rows(seeded_app) if r.kind == "ticket_new"
    ]
    assert len(new) >= 2 and all(clean(t) for t in new), new
    await tnv.press(f"hr:k:{ticket}")
    await dan.send(f"CCCD của tôi {CCCD}, số {PHONE_DOTS}")
    relayed = [
        Reply.from_payload(r.payload).text
        for r in await outbox_rows(seeded_app)
        if r.kind == "ticket_message"
    ]
    assert relayed and all(clean(t) for t in relayed), relayed
    await tnv.send("Chị gọi em số 0912 345 678 nhé")
    back = [
        r for r in await outbox_rows(seeded_app) if r.kind == "ticket_message" and r.chat_id == "demo-dan"
    ]
    assert back and "0912 345 678" not in Reply.from_payload(back[-1].payload).text


async def test_faq_log_keeps_no_personal_data(seeded_app: App) -> None:
    dan = ChatDriver(seeded_app, "tg-faq", "Hỏi đáp")
    await dan.send(f"làm căn cước cho con thế nào, email {EMAIL} số {PHONE}")
    async with seeded_app.sessions() as s:
        logged = [q.normalized for q in (await s.execute(select(FaqQuestion))).scalars()]
    assert logged
    for text in logged:
        assert "0905" not in text and "gmail" not in text and "nguyen" not in text.replace("nguyễn", ""), text


def test_the_filter_keeps_dossier_codes_and_ordinary_numbers() -> None:
    from services.privacy import redact

    kept = "Hồ sơ 000.00.19786.H46-260324-000003 nộp ngày 12/11/2026, lệ phí 50.000 đồng, 2025 có 1200 hồ sơ"
    assert redact(kept) == kept
    money = "Lãi 500.000.000 đồng, vay 1.191.234.567 đồng, nộp 120 500 000 đồng"
    assert redact(money) == money
    for secret in (
        PHONE,
        PHONE_DOTS,
        "+84 905 123 456",
        "0905-123-456",
        CCCD,
        "046 201 001 234",
        EMAIL,
        "191.234.567",  # an old CMND in groups, as people write it
        "191 234 567",
    ):
        assert secret not in redact(f"liên hệ {secret} nhé"), secret
