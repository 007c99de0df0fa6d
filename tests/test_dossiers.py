"""Dossiers: codes, recording with /hoso, the status lifecycle, look-up and subscriptions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.models import Dossier, DossierEvent
from services import dossiers
from tests.support import ChatDriver, demo_driver, outbox_rows

CODE = "H46.19786-261120-0042"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("H12.34-241120-0001", "H12.34-241120-0001"),
        ("  h12.34-241120-0001. ", "H12.34-241120-0001"),
        ("000.00.12.H12-241120-0001", "000.00.12.H12-241120-0001"),
        ("000.00.12.h12 - 241120 - 0001", "000.00.12.H12-241120-0001"),
        ("«H12.34–241120–0001»", "H12.34-241120-0001"),
        ("mã hồ sơ: H12.34-241120-0001", "H12.34-241120-0001"),
        ("tra cứu H12.34-241120-0001?", "H12.34-241120-0001"),
        ("000.00.12.H12 241120 0001", "000.00.12.H12-241120-0001"),  # spaces for the dashes
        ("000.00.12.h12   241120 – 0001", "000.00.12.H12-241120-0001"),
        ("000.00.12.H12_241120_0001", "000.00.12.H12-241120-0001"),
        ("mã hồ sơ 000.00.12.H12 241120 0001", "000.00.12.H12-241120-0001"),
    ],
)
def test_codes_are_normalised(text: str, code: str) -> None:
    assert dossiers.extract_code(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "làm giấy khai sinh online thế nào",
        "hôm nay 20/11/2024 trời mưa",
        "H12.34",
        "12-241120-0001",
        "toi muon hoi ve ho so H12.34-241120-0001 cua me toi da nop tu thang truoc ma chua thay",
        "",
        "😀",
    ],
)
def test_ordinary_text_is_not_a_code(text: str) -> None:
    assert dossiers.extract_code(text) is None


def test_transitions() -> None:
    s = dossiers.Status
    assert s.PROCESSING in dossiers.TRANSITIONS[s.RECEIVED]
    assert s.RETURNED in dossiers.TRANSITIONS[s.RESULT_READY]
    assert not dossiers.TRANSITIONS[s.RETURNED]
    assert s.RECEIVED not in dossiers.TRANSITIONS[s.PROCESSING]


async def record_as_officer(app: App, code: str = CODE) -> ChatDriver:
    canbo = demo_driver(app, "canbo")
    said = await canbo.send(f"/hoso {code}")
    assert "ghi mới" in said.text
    said = await canbo.send("khai sinh")
    assert "Đăng ký khai sinh" in said.labels()
    await canbo.tap("Đăng ký khai sinh")
    await canbo.tap("toàn trình")
    said = await canbo.send("31/02/2026")
    assert "không hợp lệ" in said.text or "chưa hợp lệ" in said.text
    await canbo.tap("Hôm nay")
    said = await canbo.send("abc")
    assert "dd/mm/yyyy" in said.text
    await canbo.send("30/12/2026")
    said = await canbo.tap("Không")
    assert f"Đã ghi hồ sơ {code}" in said.text
    return canbo


async def test_officer_records_moves_and_subscriber_is_notified(seeded_app: App) -> None:
    canbo = await record_as_officer(seeded_app)
    # A citizen looks the code up (bare, lower case, stray punctuation) and subscribes.
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send(f" {CODE.lower()}. ")
    assert "Đã tiếp nhận" in said.text and "30/12/2026" in said.text
    assert "Phạm Quốc Bảo" not in said.text and "Nguyễn Thị Lan" not in said.text
    said = await dan.tap("Nhận thông báo")
    assert "Đã đăng ký" in said.text
    # The officer moves it along.
    said = await canbo.send(f"/hoso {CODE}")
    assert "🕘 Lịch sử" in said.labels()  # the commune's staff
    said = await canbo.tap("Đang xử lý")
    assert "Đang xử lý" in said.text
    said = await canbo.tap("Có kết quả")
    assert "Đã có kết quả" in said.text
    # A move that is not allowed (result ready → processing) is refused.
    async with seeded_app.sessions() as s:
        dossier = (await s.execute(select(Dossier).where(Dossier.code == CODE))).scalar_one()
    said = await canbo.press(f"hs:st:{dossier.id}:processing")
    assert "Không chuyển được" in said.text and "«Đã có kết quả»" in said.text
    said = await canbo.press(f"hs:h:{dossier.id}")
    assert said.text.count("•") == 3
    rows = [r for r in await outbox_rows(seeded_app) if r.kind == "dossier_status"]
    assert len(rows) == 2
    assert rows[0].chat_id == "demo-dan" and "đang được xử lý" in rows[0].payload["text"]
    assert rows[0].idempotency_key.startswith(f"dossier:{dossier.id}:")
    async with seeded_app.sessions() as s:
        d = (await s.execute(select(Dossier).where(Dossier.code == CODE))).scalar_one()
        assert d.status == "result_ready" and d.finished_at is not None
        events = (
            (await s.execute(select(DossierEvent).where(DossierEvent.dossier_id == d.id))).scalars().all()
        )
        assert [e.status_to for e in events] == ["received", "processing", "result_ready"]


async def test_volunteer_records_for_team_commune_but_cannot_move(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/hoso H46.1-261120-0007")
    await tnv.send("mot thu tuc la hoac")
    said = await tnv.tap("Dùng đúng tên")
    await tnv.tap("tại quầy")
    await tnv.tap("Hôm nay")
    await tnv.tap("Chưa có")
    said = await tnv.tap("Có")
    assert "Đã ghi hồ sơ" in said.text
    assert not any("Đang xử lý" in label for label in said.labels())
    # Only what a volunteer may do: the history is for the commune's staff (a button that only
    # answered «chưa có quyền» was offered).
    assert said.labels() == []
    said = await tnv.send("/hoso H46.1-261120-0007")
    assert "Đã tiếp nhận" in said.text and said.labels() == []
    async with seeded_app.sessions() as s:
        d = (await s.execute(select(Dossier).where(Dossier.code == "H46.1-261120-0007"))).scalar_one()
        from db.models import Unit

        unit = await s.get(Unit, d.unit_id)
        assert unit is not None and unit.code == "19786" and d.post_return and d.mode == "counter"
    said = await tnv.press(f"hs:st:{d.id}:processing")
    assert "chưa có quyền" in said.text


async def test_citizen_lookups(seeded_app: App) -> None:
    dan = ChatDriver(seeded_app, "5005", "Khách")
    said = await dan.send("/tracuu H99.99-261120-9999")
    assert "Chưa tìm thấy" in said.text
    said = await dan.send("/tracuu abc")
    assert "000.00.12.H12-241120-0001" in said.text  # the example looks like a receipt's code
    said = await dan.send("H12.34-2411")  # a mistyped code gets an example
    assert "000.00.12.H12-241120-0001" in said.text
    said = await dan.send("làm giấy khai sinh online thế nào")
    assert "000.00.12.H12-241120-0001" not in said.text
    said = await dan.send("/hoso H12.34-241120-0001")
    assert "chưa có quyền" in said.text or "/hoso" in said.text


def test_procedure_search_unaccented() -> None:
    names = [p.name for p in dossiers.search_procedures("ket hon")]
    assert "Đăng ký kết hôn" in names
    assert dossiers.search_procedures("khai sihn")  # typo-tolerant
    assert len(dossiers.procedures()) >= 40


def test_a_code_inside_a_sentence_is_found() -> None:
    from services.dossiers.codes import code_in_sentence

    assert code_in_sentence("mã hồ sơ của tôi là H12.34-241120-0001 ạ") == "H12.34-241120-0001"
    found = code_in_sentence("ho so 000.00.12.h12-241120-0001 sao chua xong vay")
    assert found == "000.00.12.H12-241120-0001"
    assert code_in_sentence("làm giấy khai sinh online thế nào") is None
    assert code_in_sentence("H12.34-241120-0001 và H12.34-241120-0002") is None  # two codes: ask
    assert code_in_sentence("số điện thoại 0912-345678-123") is None  # no letter: not a code
    assert code_in_sentence("ma cua toi la 000.00.12.H12 241120 0001 a") == "000.00.12.H12-241120-0001"
    assert code_in_sentence("cmnd so 123456 789") is None  # spaces stand for dashes only after dots
