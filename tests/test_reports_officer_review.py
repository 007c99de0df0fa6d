"""An officer's review of /baocao and the file import, through the dialog core with an injected
clock: an officer of two communes picks the commune (buttons, numbered choices, or its code); the
import files each dossier under the commune its code names and refuses codes of others; week 53
of 2026 and «30/12» typed in January; a late correction and an import over a reported week are
said before they happen, with the old numbers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.kernel import App
from db.models import Dossier, Unit, WeeklyReport
from services import people, reports
from services.access import Role
from services.calendar import Calendar
from tests.support import Clock, demo_driver
from tests.test_import import make_xlsx, row

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOME, SECOND, OTHER = "19786", "19768", "19813"  # canbo's commune, a second one, one not theirs
FEB = datetime(2027, 2, 26, 14)  # Friday of week 8/2027: after the demo data's weeks


async def officer_of_two(app: App) -> None:
    """The demo officer is made officer of a second commune too (the grant, not the feature)."""
    async with app.sessions() as s, s.begin():
        await people.grant_role(
            s, channel="console", external_id="demo-canbo", role=Role.OFFICER, unit_code=SECOND
        )


async def names(app: App) -> dict[str, str]:
    async with app.sessions() as s:
        return {code: name for code, name in await s.execute(select(Unit.code, Unit.name))}


async def reports_of(app: App, code: str) -> list[WeeklyReport]:
    async with app.sessions() as s:
        stmt = (
            select(WeeklyReport)
            .join(Unit, Unit.id == WeeklyReport.unit_id)
            .where(Unit.code == code, WeeklyReport.submitted_by.is_not(None))
            .order_by(WeeklyReport.week_start)
        )
        return list((await s.execute(stmt)).scalars())


async def owner(app: App, code: str) -> str | None:
    async with app.sessions() as s:
        q = select(Unit.code).join(Dossier, Dossier.unit_id == Unit.id).where(Dossier.code == code)
        return (await s.execute(q)).scalar_one_or_none()


# --- 1. an officer of two communes -------------------------------------------------------------


async def test_officer_of_two_communes_picks_the_commune(seeded_app: App, clock: Clock) -> None:
    await officer_of_two(seeded_app)
    named = await names(seeded_app)
    clock.set(FEB)
    canbo = demo_driver(seeded_app, "canbo")
    said = await canbo.send("/baocao")
    assert "báo cáo cho xã/phường nào" in said.text, said.text
    assert any(SECOND in label for label in said.labels()) and any(HOME in label for label in said.labels())
    said = await canbo.tap(SECOND)
    assert named[SECOND] in said.text and "(1/8)" in said.text, said.text
    await canbo.send("/huy")
    # One line with the commune's code first: no question.
    said = await canbo.send(f"/baocao {SECOND} 3 1 1 1 1 0 20 1")
    assert "Đã lưu báo cáo" in said.text, said.text
    assert [r.received for r in await reports_of(seeded_app, SECOND)][-1:] == [3]
    assert [r.week_start for r in await reports_of(seeded_app, HOME)][-1:] != [date(2027, 2, 22)]
    # One line without a code: which commune, then the same numbers are filed there.
    said = await canbo.send("/baocao 7 2 1 3 3 0 30 2")
    assert "báo cáo cho xã/phường nào" in said.text
    said = await canbo.tap(HOME)
    assert "Đã lưu báo cáo" in said.text, said.text
    assert [r.received for r in await reports_of(seeded_app, HOME)][-1:] == [7]
    # A commune the officer does not hold is refused by name.
    said = await canbo.send(f"/baocao {OTHER} 3 1 1 1 1 0 20 1")
    assert "không phải cán bộ của" in said.text and named[OTHER] in said.text, said.text
    assert "Chưa hiểu tuần" not in said.text
    # The code, a week and too few numbers: the count is what is wrong, not the week.
    said = await canbo.send(f"/baocao {SECOND} tuan 8 1 2 3 4 5")
    assert "Cần đúng 8 số" in said.text, said.text


async def test_numbered_choice_of_commune_where_there_are_no_buttons(seeded_app: App, clock: Clock) -> None:
    await officer_of_two(seeded_app)
    clock.set(FEB)
    canbo = demo_driver(seeded_app, "canbo", supports_buttons=False)
    said = await canbo.send("/baocao tuan 8 5 2 1 1 1 0 30 1")
    assert "1. " in said.text and "2. " in said.text, said.text
    second = next(line for line in said.text.splitlines() if SECOND in line)
    said = await canbo.send(second.split(".")[0])
    assert "Đã lưu báo cáo" in said.text, said.text
    assert [r.received for r in await reports_of(seeded_app, SECOND)][-1:] == [5]


async def test_import_files_dossiers_under_the_commune_their_code_names(
    seeded_app: App, clock: Clock
) -> None:
    await officer_of_two(seeded_app)
    named = await names(seeded_app)
    clock.set(datetime(2026, 11, 30, 9))
    canbo = demo_driver(seeded_app, "canbo")
    mine = [f"000.00.{SECOND}.H46-261125-90{i:02d}" for i in (1, 2)]
    foreign = f"000.00.{OTHER}.H46-261125-9003"
    rows = [row(mine[0], "25/11/2026"), row(mine[1], "25/11/2026"), row(foreign, "25/11/2026")]
    said = await canbo.upload("xa.xlsx", make_xlsx(rows))
    assert f"cho {named[SECOND]} ({SECOND})" in said.text and "2 hồ sơ mới" in said.text, said.text
    assert "1 dòng bị từ chối" in said.text and "ngoài phạm vi" in said.text and named[OTHER] in said.text
    assert [await owner(seeded_app, c) for c in mine] == [SECOND, SECOND]
    assert await owner(seeded_app, foreign) is None
    # Codes that name no commune: which one is asked, nothing imported; the caption answers.
    bare = ["H12.34-261125-0001", "H12.34-261125-0002"]
    data = make_xlsx([row(c, "25/11/2026") for c in bare])
    said = await canbo.upload("xa.xlsx", data)
    assert "Chưa nhập dòng nào" in said.text or "chưa nhập dòng nào" in said.text, said.text
    assert f"/nhap {HOME}" in said.text or f"/nhap {SECOND}" in said.text
    assert await owner(seeded_app, bare[0]) is None
    said = await canbo.upload("xa.xlsx", data, caption=f"/nhap {SECOND}")
    assert f"cho {named[SECOND]} ({SECOND})" in said.text and "2 hồ sơ mới" in said.text, said.text
    assert await owner(seeded_app, bare[0]) == SECOND
    said = await canbo.upload("xa.xlsx", data, caption=OTHER)
    assert "không phải cán bộ" in said.text, said.text


async def test_an_officer_of_one_commune_is_refused_other_communes_codes(
    seeded_app: App, clock: Clock
) -> None:
    clock.set(datetime(2026, 11, 30, 9))
    canbo = demo_driver(seeded_app, "canbo")
    mine, other = f"000.00.{HOME}.H46-261125-9101", "000.00.19768.H46-261125-9102"
    said = await canbo.upload("xa.xlsx", make_xlsx([row(mine, "25/11/2026"), row(other, "25/11/2026")]))
    assert "1 hồ sơ mới" in said.text and "1 dòng bị từ chối" in said.text, said.text
    assert await owner(seeded_app, mine) == HOME and await owner(seeded_app, other) is None


# --- 2. week 53 of 2026 and dates typed around the new year ----------------------------------------


def test_pick_week_around_the_year_boundary() -> None:
    cal = Calendar(tz=TZ)
    week53 = date(2026, 12, 28)
    for today in (date(2027, 1, 1), date(2027, 1, 4), date(2027, 1, 10)):
        assert reports.pick_week("tuan 53", today, cal) == week53, today
        assert reports.pick_week("tuần 53", today, cal) == week53
        assert reports.pick_week("tuan 52", today, cal) == date(2026, 12, 21)
    assert reports.pick_week("tuan 53/2026", date(2027, 1, 4), cal) == week53
    assert reports.pick_week("tuan 1", date(2027, 1, 4), cal) == date(2027, 1, 4)
    # «30/12» typed in January is last year's; a date a few days ahead stays this year's.
    assert reports.pick_week("30/12", date(2027, 1, 4), cal) == week53
    assert reports.pick_week("31/12", date(2027, 1, 1), cal) == week53
    assert reports.pick_week("20/12", date(2026, 12, 1), cal) == date(2026, 12, 14)
    assert reports.pick_week("30/12/2027", date(2027, 1, 4), cal) == date(2027, 12, 27)


async def test_week_53_through_the_dialog_in_january(seeded_app: App, clock: Clock) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    for day in (datetime(2027, 1, 1, 9), datetime(2027, 1, 4, 9)):
        clock.set(day)
        said = await canbo.send("/baocao tuan 53")
        assert "tuần 53/2026 (28/12–03/01)" in said.text and "(1/8)" in said.text, said.text
        await canbo.send("/huy")
    said = await canbo.send("/baocao 30/12")
    assert "tuần 53/2026" in said.text and "chưa bắt đầu" not in said.text, said.text
    await canbo.send("/huy")
    said = await canbo.send("/baocao tuan 53/2027")
    assert "Năm 2027 chỉ có 52 tuần" in said.text, said.text
    said = await canbo.send("/baocao tuan 53 5 2 1 1 1 0 30 1")
    assert "Đã lưu báo cáo tuần 53/2026" in said.text, said.text
    assert [r.week_start for r in await reports_of(seeded_app, HOME)] == [date(2026, 12, 28)]


# --- 3 and 5. a correction: the old numbers, and lateness said before confirming ---------------------


async def test_a_late_correction_is_said_before_it_is_confirmed(seeded_app: App, clock: Clock) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    clock.set(datetime(2026, 11, 27, 14))  # Friday, before the 17:00 deadline of week 48
    said = await canbo.send("/baocao 120 80 30 100 95 3 45 20")
    assert "đúng hạn" in said.text
    # Same week, before it ends: the correction keeps the report on time, and no warning.
    clock.set(datetime(2026, 11, 29, 10))
    said = await canbo.send("/baocao tuan 48 121 80 30 100 95 3 45 20")
    assert "số liệu cũ: Tiếp nhận 120, Nộp trực tuyến 80" in said.text, said.text
    assert "nộp muộn" not in said.text
    said = await canbo.tap("Thay báo cáo cũ")
    assert "đúng hạn" in said.text, said.text
    # After the week: the prompt shows the old numbers and says the week would count as late.
    clock.set(datetime(2026, 12, 1, 9))
    said = await canbo.send("/baocao tuan 48 130 85 30 110 100 2 45 21")
    assert "số liệu cũ: Tiếp nhận 121, Nộp trực tuyến 80" in said.text, said.text
    assert "nộp muộn" in said.text and "Thay bằng số liệu mới" in said.text, said.text
    assert said.text.index("nộp muộn") < said.text.index("Thay bằng số liệu mới")
    said = await canbo.tap("Giữ")
    rows = await reports_of(seeded_app, HOME)
    assert [r.received for r in rows] == [121]
    # The guided flow says it at the start too; confirming files it late, as announced.
    said = await canbo.send("/baocao tuan 48")
    assert "nộp muộn" in said.text.partition("(1/8)")[0], said.text
    await canbo.send("/huy")
    await canbo.send("/baocao tuan 48 130 85 30 110 100 2 45 21")
    said = await canbo.tap("Thay báo cáo cũ")
    assert "nộp muộn" in said.text, said.text


# --- 4. an import over a reported week says the report's figures are replaced ----------------------


async def test_import_over_a_reported_week_says_dossiers_replace_the_report(
    seeded_app: App, clock: Clock
) -> None:
    named = await names(seeded_app)
    canbo = demo_driver(seeded_app, "canbo")
    clock.set(datetime(2026, 11, 27, 14))
    said = await canbo.send("/baocao 120 80 30 100 95 3 45 20")
    assert "Đã lưu báo cáo" in said.text
    clock.set(datetime(2026, 11, 30, 9))
    code = f"000.00.{HOME}.H46-261125-9201"
    said = await canbo.upload("xa.xlsx", make_xlsx([row(code, "25/11/2026")]))
    assert "1 hồ sơ mới" in said.text, said.text
    assert "tuần 48/2026 (23/11–29/11)" in said.text and "thay cho số liệu trong báo cáo tuần" in said.text
    assert named[HOME] in said.text
    # A week without a report: no such note.
    other = f"000.00.{HOME}.H46-261118-9202"
    said = await canbo.upload("xa2.xlsx", make_xlsx([row(other, "18/11/2026")]))
    assert "1 hồ sơ mới" in said.text and "thay cho số liệu" not in said.text, said.text
