"""Weekly report (/baocao): guided and one-line, checks, drafts, replace after confirmation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.base import utcnow
from db.models import WeeklyReport
from services import reports
from services.errors import InvalidInput
from tests.support import demo_driver, seed_demo

TODAY = date(2026, 11, 18)  # Wednesday


async def stored(app: App) -> list[WeeklyReport]:
    async with app.sessions() as s:
        stmt = (
            select(WeeklyReport)
            .where(WeeklyReport.submitted_by.is_not(None))
            .order_by(WeeklyReport.week_start)
        )
        return list((await s.execute(stmt)).scalars())


def local_today() -> date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()


async def test_one_line_report_and_replace(app: App) -> None:
    await seed_demo(app)
    canbo = demo_driver(app, "canbo")
    said = await canbo.send("/baocao 120 80 30 100 95 3 45 20")
    assert "Đã lưu báo cáo tuần" in said.text
    rows = await stored(app)
    assert len(rows) == 1 and rows[0].received == 120 and rows[0].status == "final"
    assert rows[0].week_start == reports.last_finished_week(local_today())
    said = await canbo.send("/baocao 130 80 30 100 95 3 45 20")
    assert "Thay báo cáo cũ" in said.labels()
    said = await canbo.tap("Giữ")
    assert (await stored(app))[0].received == 120
    await canbo.send("/baocao 130 80 30 100 95 3 45 20")
    said = await canbo.tap("Thay báo cáo cũ")
    assert "Đã lưu" in said.text
    rows = await stored(app)
    assert len(rows) == 1 and rows[0].received == 130


async def test_guided_report_with_hint_and_bad_input(app: App) -> None:
    await seed_demo(app)
    canbo = demo_driver(app, "canbo")
    last = reports.last_finished_week(local_today())
    before = last - timedelta(days=7)
    await canbo.send(f"/baocao {before.strftime('%d/%m/%Y')} 100 60 20 90 85 2 45 18")
    said = await canbo.send("/baocao")
    assert "(1/8)" in said.text and "tuần trước: 100" in said.text
    said = await canbo.send("một trăm")
    assert "chưa phải một số" in said.text and "(1/8)" in said.text
    said = await canbo.send("-5")
    assert "không được âm" in said.text
    for value in ("110", "70", "25", "95", "90", "1", "45"):
        said = await canbo.send(value)
    assert "(8/8)" in said.text and "tuần trước: 18" in said.text
    said = await canbo.send("20")
    assert "Đã lưu báo cáo" in said.text
    assert [r.received for r in await stored(app)] == [100, 110]


async def test_checks_and_drafts(app: App) -> None:
    await seed_demo(app)
    canbo = demo_driver(app, "canbo")
    said = await canbo.send("/baocao 100 120 30 100 95 3 45 20")
    assert "«Nộp trực tuyến» (120) không thể lớn hơn «Tiếp nhận» (100)" in said.text
    said = await canbo.send("/baocao 100 80 30")
    assert "Cần đúng 8 số" in said.text
    assert await stored(app) == []
    this_week = local_today().strftime("%d/%m/%Y")
    said = await canbo.send(f"/baocao {this_week} 10 5 1 8 8 0 45 3")
    assert "bản nháp" in said.text
    assert (await stored(app))[0].status == "draft"
    said = await canbo.send("/baocao tuan 99")
    assert "Chưa hiểu tuần" in said.text
    tnv = demo_driver(app, "tnv")
    said = await tnv.send("/baocao 1 1 1 1 1 1 1 1")
    assert "chưa có quyền" in said.text
    assert len(await stored(app)) == 1


def test_pick_week() -> None:
    assert reports.pick_week("", TODAY) == date(2026, 11, 9)
    assert reports.pick_week("tuan 46", TODAY) == date(2026, 11, 9)
    assert reports.pick_week("tuần 47", TODAY) == date(2026, 11, 16)
    assert reports.pick_week("05/11/2026", TODAY) == date(2026, 11, 2)
    for bad in ("tuan 60", "31/02/2026", "hôm kia"):
        with pytest.raises(InvalidInput):
            reports.pick_week(bad, TODAY)


def test_check_parts() -> None:
    assert reports.check([1, 1, 1, 1, 1, 0, 1, 1]).received == 1
    for bad in ([1, 1, 2, 1, 1, 0, 1, 1], [1, 1, 1, 1, 2, 0, 1, 1], [1, 1, 1, 1, 1, 0, 1, 2], [-1] * 8):
        with pytest.raises(InvalidInput):
            reports.check(bad)
