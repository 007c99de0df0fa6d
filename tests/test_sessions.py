"""Help sessions: guided /ghi, "same as last", the shortcut, undo, /sua, /tuan, dates and notes."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.models import HelpSession
from services import sessions
from services.errors import InvalidInput
from services.sessions.values import Activity, Outcome, Place
from tests.support import demo_driver, seed_demo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 11, 18)  # a Wednesday


async def live_sessions(app: App) -> list[HelpSession]:
    async with app.sessions() as s:
        stmt = select(HelpSession).where(HelpSession.deleted_at.is_(None)).order_by(HelpSession.id)
        return list((await s.execute(stmt)).scalars())


async def test_three_sessions_guided_same_shortcut_and_undo(seeded_app: App) -> None:
    before = len(await live_sessions(seeded_app))
    tnv = demo_driver(seeded_app, "tnv2")
    # Guided: what → where → how many → result → save.
    said = await tnv.send("/ghi")
    assert "việc gì" in said.text
    await tnv.tap("Dịch vụ công")
    await tnv.tap("tại nhà")
    await tnv.tap("2")
    await tnv.tap("Đã xong")
    said = await tnv.tap("Lưu")
    assert "Đã ghi" in said.text and "DVC" in said.text and "2 người" in said.text
    # Same as last time: /ghi → one tap.
    said = await tnv.send("/ghi")
    assert said.labels()[0].startswith("Như lần trước: DVC · tại nhà · 2 người")
    said = await tnv.tap("Như lần trước")
    assert "Đã ghi" in said.text
    # Shortcut on one line.
    said = await tnv.send("/ghi vneid quay 3 tiep hom qua")
    assert "VNeID" in said.text and "3 người" in said.text and "Cần hỗ trợ tiếp" in said.text
    rows = await live_sessions(seeded_app)
    assert len(rows) == before + 3
    mine = rows[-3:]
    assert [r.activity for r in mine] == ["dvc", "dvc", "vneid"]
    assert mine[2].result == "followup" and mine[2].citizens == 3
    # Undo the last one.
    said = await tnv.tap("Hoàn tác")
    assert "Đã xoá" in said.text
    assert len(await live_sessions(seeded_app)) == before + 2


async def test_wrong_input_in_steps(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    await tnv.send("/ghi")
    said = await tnv.send("😀😀")
    assert "bấm một nút" in said.text
    said = await tnv.send("dvc")  # a typed alias works too
    assert "ở đâu" in said.text
    await tnv.tap("điện thoại")
    said = await tnv.send("hai")
    assert "từ 1 đến 500" in said.text
    said = await tnv.send("4")
    assert "Kết quả" in said.text
    await tnv.tap("Chưa làm được")
    said = await tnv.send("Bà cụ số 0912345678 nhờ gọi lại")
    assert "số điện thoại" in said.text
    said = await tnv.send("bà cụ cần hướng dẫn thêm lần sau")
    assert "Đã ghi" in said.text
    rows = await live_sessions(seeded_app)
    assert rows[-1].note == "bà cụ cần hướng dẫn thêm lần sau" and rows[-1].citizens == 4


async def test_shortcut_errors_and_help(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv")
    said = await tnv.send("/ghi xyz nha")
    assert "xyz" in said.text and "/ghi dvc nha 2" in said.text
    said = await tnv.send("/ghi dvc nha 2 31/02")
    assert "không có thật" in said.text
    said = await tnv.send("/help ghi")
    assert "/ghi <việc> <nơi>" in said.text


async def test_citizen_cannot_log(seeded_app: App) -> None:
    dan = demo_driver(seeded_app, "dan")
    said = await dan.send("/ghi dvc nha 2")
    assert "chưa thuộc tổ" in said.text


async def test_sua_and_tuan(seeded_app: App) -> None:
    tnv = demo_driver(seeded_app, "tnv2")
    await tnv.send("/ghi dvc nha 2")
    await tnv.send("/ghi cks quay 1")
    said = await tnv.send("/sua")
    assert len(said.labels()) >= 2
    await tnv.tap("Chữ ký số")
    said = await tnv.tap("Sửa số người")
    assert "gõ số người" in said.text and "Bấm" not in said.text  # no number buttons are shown here
    said = await tnv.send("5")
    assert "5 người" in said.text
    said = await tnv.send("/tuan")
    assert "buổi" in said.text


def test_parse_shortcut_grammar() -> None:
    d = sessions.parse_shortcut("dvc nha 2", TODAY, 14)
    assert (d.activity, d.place, d.citizens, d.result, d.day) == (
        Activity.DVC,
        Place.HOME,
        2,
        Outcome.DONE,
        None,
    )
    d = sessions.parse_shortcut("Thanh toán  điện thoại khong thứ 2 3", TODAY, 14)
    assert d.activity is Activity.PAYMENT and d.place is Place.PHONE
    assert d.result is Outcome.FAILED and d.day == date(2026, 11, 16) and d.citizens == 3
    d = sessions.parse_shortcut("dvc luudong 12/11 5ng h12.34-241120-0001", TODAY, 14)
    assert d.day == date(2026, 11, 12) and d.citizens == 5 and d.dossier_code == "H12.34-241120-0001"
    d = sessions.parse_shortcut("vneid quay cn", TODAY, 14)
    assert d.day == date(2026, 11, 15)
    for bad in ("dvc", "dvc nha 0", "dvc nha 2 ???", "dvc nha 01/12", "dvc nha 01/10"):
        with pytest.raises(InvalidInput):
            sessions.parse_shortcut(bad, TODAY, 14)
    # Too many people is the range message, as for 0 (it was «Chưa hiểu «1000»»).
    for bad in ("dvc nha 0", "dvc nha 1000", "dvc nha 501ng"):
        with pytest.raises(InvalidInput) as err:
            sessions.parse_shortcut(bad, TODAY, 14)
        assert err.value.key == "ghi.errors.bad_count", bad


@pytest.mark.parametrize(
    "note",
    ["CCCD 001203004567", "cmnd 123456789", "sđt 0905 123 456", "gọi +84905123456", "0905.123.456"],
)
def test_notes_with_personal_numbers_are_refused(note: str) -> None:
    with pytest.raises(InvalidInput):
        sessions.check_note(note)


def test_ordinary_notes_pass() -> None:
    assert sessions.check_note("hỗ trợ 3 hộ ở tổ 12, hẹn lại ngày 20/11") is not None


async def test_demo_history_is_idempotent_and_plausible(seeded_app: App) -> None:
    from sqlalchemy import func

    from db.models import Dossier, WeeklyReport

    async def counts() -> tuple[int, int, int]:
        async with seeded_app.sessions() as s:
            return (
                int((await s.execute(select(func.count()).select_from(HelpSession))).scalar_one()),
                int((await s.execute(select(func.count()).select_from(Dossier))).scalar_one()),
                int((await s.execute(select(func.count()).select_from(WeeklyReport))).scalar_one()),
            )

    first = await counts()
    assert all(n > 0 for n in first)
    await seed_demo(seeded_app)
    assert await counts() == first
    async with seeded_app.sessions() as s:
        modes = dict((await s.execute(select(Dossier.mode, func.count()).group_by(Dossier.mode))).all())
        open_overdue = (
            await s.execute(
                select(func.count()).where(Dossier.finished_at.is_(None), Dossier.status == "processing")
            )
        ).scalar_one()
    assert modes.get("counter") and modes.get("full_online") and modes.get("partial_online")
    assert open_overdue > 0
