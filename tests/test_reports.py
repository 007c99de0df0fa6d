"""Weekly report (/baocao): guided and one-line, checks, drafts, replace after confirmation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.kernel import App
from db.base import utcnow
from db.models import WeeklyReport
from services import reports
from services.calendar import Calendar, label
from services.errors import InvalidInput
from tests.support import demo_driver

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def stored(app: App) -> list[WeeklyReport]:
    async with app.sessions() as s:
        stmt = (
            select(WeeklyReport)
            .where(WeeklyReport.submitted_by.is_not(None))
            .order_by(WeeklyReport.week_start)
        )
        return list((await s.execute(stmt)).scalars())


def local_today() -> date:
    return utcnow().astimezone(TZ).date()


def last_friday(hour: int = 14) -> datetime:
    """Friday of the last complete week, at `hour` (in the past: dialog states use the real clock)."""
    today = local_today()
    friday = today - timedelta(days=today.weekday() + 3)
    return datetime(friday.year, friday.month, friday.day, hour, tzinfo=TZ).astimezone(UTC)


def freeze(app: App, when: datetime) -> None:
    app.intake.clock = lambda: when  # type: ignore[attr-defined]


async def test_one_line_report_and_replace(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    friday = last_friday()
    freeze(seeded_app, friday)
    said = await canbo.send("/baocao 120 80 30 100 95 3 45 20")
    assert "Đã lưu báo cáo tuần" in said.text and "đúng hạn" in said.text
    rows = await stored(seeded_app)
    assert len(rows) == 1 and rows[0].received == 120 and rows[0].status == "final"
    # The default week is the week the officer is in (current_week convention).
    assert rows[0].week_start == friday.astimezone(TZ).date() - timedelta(days=4)
    said = await canbo.send("/baocao 130 80 30 100 95 3 45 20")
    assert "Thay báo cáo cũ" in said.labels()
    said = await canbo.tap("Giữ")
    assert (await stored(seeded_app))[0].received == 120
    await canbo.send("/baocao 130 80 30 100 95 3 45 20")
    said = await canbo.tap("Thay báo cáo cũ")
    assert "Đã lưu" in said.text
    rows = await stored(seeded_app)
    assert len(rows) == 1 and rows[0].received == 130


async def test_guided_report_checks_each_answer(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    friday = last_friday()
    freeze(seeded_app, friday - timedelta(days=7))
    await canbo.send("/baocao 100 60 20 90 85 2 45 18")
    freeze(seeded_app, friday)
    said = await canbo.send("/baocao")
    assert "(1/8)" in said.text and "tuần trước: 100" in said.text and "hạn nộp 17:00 thứ Sáu" in said.text
    said = await canbo.send("một trăm")
    assert "chưa phải một số" in said.text and "(1/8)" in said.text
    said = await canbo.send("-5")
    assert "không được âm" in said.text
    said = await canbo.send("110")
    # Checked at once against the answers already given; only this number is asked again.
    said = await canbo.send("150")
    assert "«Nộp trực tuyến» (150) không thể lớn hơn «Tiếp nhận» (110)" in said.text and "(2/8)" in said.text
    said = await canbo.send("70")
    # An earlier answer corrected without retyping the rest; a correction that breaks a check is refused.
    said = await canbo.send("sửa 1 60")
    assert "«Nộp trực tuyến» (70) không thể lớn hơn «Tiếp nhận» (60)" in said.text and "(3/8)" in said.text
    said = await canbo.send("sửa 1 112")
    assert "Đã sửa «Tiếp nhận» thành 112" in said.text and "(3/8)" in said.text
    for value in ("25", "95", "90", "1", "45"):
        said = await canbo.send(value)
    assert "(8/8)" in said.text and "tuần trước: 18" in said.text
    said = await canbo.send("20")
    assert "Đã lưu báo cáo" in said.text
    assert [r.received for r in await stored(seeded_app)] == [100, 112]


async def test_decimals_and_two_numbers_are_refused_not_misread(seeded_app: App) -> None:
    """«1,5» was stored as 15, «12,5» as 125 and «2 15» as 215; «1.200» (Vietnamese thousands) is 1200."""
    canbo = demo_driver(seeded_app, "canbo")
    freeze(seeded_app, last_friday())
    said = await canbo.send("/baocao")
    assert "(1/8)" in said.text
    said = await canbo.send("1.200")
    assert "(2/8)" in said.text
    for typed, expect in (("1,5", "số thập phân"), ("12.5", "số thập phân"), ("2 15", "sửa 2 15")):
        said = await canbo.send(typed)
        assert expect in said.text and "(2/8)" in said.text, (typed, said.text)
    for value in ("800", "300", "1 000", "950", "3", "45", "20"):
        said = await canbo.send(value)
    assert "Đã lưu báo cáo" in said.text, said.text
    rows = await stored(seeded_app)
    assert [(r.received, r.received_online, r.resolved) for r in rows] == [(1200, 800, 1000)]
    # One line: a decimal among the eight numbers is named, not read as a week.
    said = await canbo.send("/baocao 1,5 1 1 1 1 1 1 1")
    assert "số thập phân" in said.text and "tuần" not in said.text.split("«")[0], said.text
    assert len(await stored(seeded_app)) == 1


async def test_a_report_for_a_week_long_past_is_confirmed_first(seeded_app: App) -> None:
    """«/baocao 01/01/2020 …» was filed at once as a late report for 2020 (a mistyped date)."""
    canbo = demo_driver(seeded_app, "canbo")
    freeze(seeded_app, last_friday())
    said = await canbo.send("/baocao 01/01/2020 100 50 20 90 85 2 45 18")
    assert "đã qua" in said.text and "Lưu cho tuần này" in said.labels(), said.text
    assert await stored(seeded_app) == []
    said = await canbo.tap("Huỷ")
    assert await stored(seeded_app) == []
    said = await canbo.send("/baocao 01/01/2020 100 50 20 90 85 2 45 18")
    said = await canbo.tap("Lưu cho tuần này")
    assert "Đã lưu báo cáo" in said.text and "nộp muộn" in said.text, said.text
    assert [r.week_start for r in await stored(seeded_app)] == [date(2019, 12, 30)]
    # A recent week is saved at once, as before.
    said = await canbo.send("/baocao 100 50 20 90 85 2 45 18")
    assert "Đã lưu báo cáo" in said.text


def test_parse_number_reads_counts_as_officers_type_them() -> None:
    assert [reports.parse_number(t) for t in ("15", "1.200", "1,200", "1 200", "250.000", " 7 ")] == [
        15,
        1200,
        1200,
        1200,
        250000,
        7,
    ]
    for typed, key in (
        ("1,5", "baocao.errors.not_whole"),
        ("0.5", "baocao.errors.not_whole"),
        ("1.20", "baocao.errors.not_whole"),
        ("2 15", "baocao.errors.several"),
        ("1.2000", "baocao.errors.not_whole"),
        ("1.200,5", "baocao.errors.not_a_number"),
        ("-3", "baocao.errors.negative"),
        ("mười", "baocao.errors.not_a_number"),
    ):
        with pytest.raises(InvalidInput) as err:
            reports.parse_number(typed)
        assert err.value.key == key, typed


async def test_every_problem_listed_and_one_answer_fixed(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    freeze(seeded_app, last_friday())
    said = await canbo.send("/baocao 100 120 130 100 105 3 45 50")
    text = said.text
    assert "(4 chỗ)" in text
    assert "«Nộp trực tuyến» (120) không thể lớn hơn «Tiếp nhận» (100)" in text
    assert "«Trực tuyến toàn trình» (130) không thể lớn hơn «Nộp trực tuyến» (120)" in text
    assert "«Giải quyết đúng hạn» (105) không thể lớn hơn «Đã giải quyết» (100)" in text
    assert "«DVC có hồ sơ trực tuyến» (50) không thể lớn hơn «DVC trực tuyến cung cấp» (45)" in text
    assert "2. Nộp trực tuyến: 120" in text and "ví dụ «2 15»" in text
    assert await stored(seeded_app) == []
    said = await canbo.send("2 80")
    assert "(3 chỗ)" in said.text and "2. Nộp trực tuyến: 80" in said.text
    said = await canbo.send("hai mươi")
    assert "gõ số thứ tự và số đúng" in said.text
    await canbo.send("3 30")
    await canbo.send("sửa 5: 95")
    said = await canbo.send("8 20")
    assert "Đã lưu báo cáo" in said.text
    (row,) = await stored(seeded_app)
    assert (row.received, row.received_online, row.received_full_online, row.resolved_on_time) == (
        100,
        80,
        30,
        95,
    )
    assert row.services_with_online == 20


async def test_bad_input_and_permissions(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    freeze(seeded_app, last_friday())
    said = await canbo.send("/baocao 100 80 30")
    assert "Cần đúng 8 số" in said.text
    said = await canbo.send("/baocao 100 80 30 100 95 -3 45 20")
    assert "không được âm" in said.text
    next_month = (local_today() + timedelta(days=40)).strftime("%d/%m/%Y")
    said = await canbo.send(f"/baocao {next_month} 10 5 1 8 8 0 45 3")
    assert "chưa bắt đầu" in said.text
    said = await canbo.send("/baocao tuan 99")
    assert "Chưa hiểu tuần" in said.text
    assert await stored(seeded_app) == []
    tnv = demo_driver(seeded_app, "tnv")
    said = await tnv.send("/baocao 1 1 1 1 1 1 1 1")
    assert "chưa có quyền" in said.text
    assert await stored(seeded_app) == []


def test_pick_week() -> None:
    now = datetime(2026, 11, 18, 10, tzinfo=TZ)  # Wednesday of week 47
    assert reports.pick_week("", now) == date(2026, 11, 16)  # current_week: this week
    previous = Calendar(convention="previous_week")
    assert reports.pick_week("", now, previous) == date(2026, 11, 9)
    assert reports.pick_week("tuan 46", now) == date(2026, 11, 9)
    assert reports.pick_week("tuần 47", now) == date(2026, 11, 16)
    assert reports.pick_week("05/11/2026", now) == date(2026, 11, 2)
    thursday_end = Calendar(convention="previous_week", week_ends=3)
    assert reports.pick_week("tuan 47", now, thursday_end) == date(2026, 11, 13)  # Fri 13–Thu 19
    assert reports.pick_week("", now, thursday_end) == date(2026, 11, 6)
    # Without a year: weeks far ahead are last year's, weeks a little ahead this year's (not begun).
    december = datetime(2026, 12, 1, 10, tzinfo=TZ)
    assert reports.pick_week("tuan 52", december) == date(2026, 12, 21)
    assert reports.pick_week("tuan 52", datetime(2027, 1, 6, 10, tzinfo=TZ)) == date(2026, 12, 21)
    assert reports.pick_week("tuan 30", datetime(2027, 1, 6, 10, tzinfo=TZ)) == date(2026, 7, 20)
    for bad in ("tuan 60", "31/02/2026", "hôm kia"):
        with pytest.raises(InvalidInput):
            reports.pick_week(bad, now)


def test_calendar_deadlines() -> None:
    week = Calendar().week_named(2026, 47)
    assert Calendar().deadline(week) == datetime(2026, 11, 20, 17, tzinfo=TZ)
    prev = Calendar.make("previous_week", "sun", "mon 17:00")
    assert prev.deadline(week) == datetime(2026, 11, 23, 17, tzinfo=TZ)
    thu = Calendar.make("previous_week", "thu", "fri 17:00")
    w = thu.week_named(2026, 47)
    assert (w.start, w.last, w.key) == (date(2026, 11, 13), date(2026, 11, 19), "2026-W47")
    assert thu.deadline(w) == datetime(2026, 11, 20, 17, tzinfo=TZ)
    assert label(w) == "tuần 47/2026 (13/11–19/11)"


def test_check_parts() -> None:
    assert reports.check([1, 1, 1, 1, 1, 0, 1, 1]).received == 1
    for bad in ([1, 1, 2, 1, 1, 0, 1, 1], [1, 1, 1, 1, 2, 0, 1, 1], [1, 1, 1, 1, 1, 0, 1, 2], [-1] * 8):
        with pytest.raises(InvalidInput):
            reports.check(bad)
    assert len(reports.problems([1, 2, 3, 1, 2, 0, 1, 2])) == 4


async def test_report_for_a_week_with_imported_dossiers_says_kpi_uses_them(seeded_app: App) -> None:
    """A commune with imported dossiers for a week has /kpi computed from them: its /baocao numbers
    for that week were silently not used (report 40 % online, /kpi 72 %)."""
    from tests.test_import import make_xlsx

    canbo = demo_driver(seeded_app, "canbo")
    friday = last_friday()
    freeze(seeded_app, friday)
    monday = friday.astimezone(TZ).date() - timedelta(days=4)
    day = f"{monday:%d/%m/%Y}"
    rows = [
        [
            n,
            f"H46.19786-{monday:%y%m%d}-9{n:03d}",
            "Đăng ký khai sinh",
            day,
            None,
            None,
            None,
            mode,
            "19786",
            None,
        ]
        for n, mode in enumerate(("Trực tuyến toàn trình", "Trực tiếp"), start=1)
    ]
    said = await canbo.upload("hoso.xlsx", make_xlsx(rows))
    assert "sự cố" not in said.text, said.text
    said = await canbo.send("/baocao 120 48 30 100 95 3 45 20")
    assert "Đã lưu báo cáo" in said.text, said.text
    note = said.text.split("ℹ️", 1)[1]
    assert note.startswith(" Tuần ") and "/kpi tính các chỉ tiêu sau theo hồ sơ đã nhập" in note, note
    assert "Tỷ lệ hồ sơ trực tuyến: theo hồ sơ" in note and "(số báo cáo: 40%)" in note, note
    kpi_said = await canbo.send(f"/kpi 19786 {monday.isocalendar().year}-W{monday.isocalendar().week:02d}")
    online = next(line for line in kpi_said.text.splitlines() if "Tỷ lệ hồ sơ trực tuyến" in line)
    assert online.split(": ", 1)[1].split()[0] in note, (online, note)
    # A week without dossiers: no such note.
    said = await canbo.send("/baocao 01/01/2020 100 50 20 90 85 2 45 18")
    said = await canbo.tap("Lưu cho tuần này")
    assert "Đã lưu báo cáo" in said.text and "ℹ️" not in said.text, said.text


async def test_a_second_report_for_a_week_is_announced_at_the_start(seeded_app: App) -> None:
    """The guided /baocao for a week already reported only said so after all eight questions, and
    the confirmation began lower-case («tuần 48/2026 … đã có báo cáo»)."""
    canbo = demo_driver(seeded_app, "canbo")
    freeze(seeded_app, last_friday())
    await canbo.send("/baocao 120 80 30 100 95 3 45 20")
    said = await canbo.send("/baocao")
    first, _, rest = said.text.partition("(1/8)")
    assert "đã có báo cáo (Tiếp nhận 120, Nộp trực tuyến 80" in first, said.text
    assert "các số mới sẽ thay số cũ khi anh/chị xác nhận" in first and rest, said.text
    assert "\nTuần " in first, said.text
    for value in ("130", "80", "30", "100", "95", "3", "45", "20"):
        said = await canbo.send(value)
    assert "\n\nTuần " in said.text and "đã có báo cáo với số liệu cũ: Tiếp nhận 120" in said.text, said.text
    assert "Thay bằng số liệu mới" in said.text
    said = await canbo.tap("Thay báo cáo cũ")
    assert [r.received for r in await stored(seeded_app)] == [130]
