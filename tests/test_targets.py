"""Targets: CSV import, inheritance from the parent, /chitieu for leaders in scope only."""

from __future__ import annotations

from datetime import timedelta

from bot.kernel import App
from db.base import utcnow
from services.kpi import targets
from services.kpi.periods import local_day, period_of
from services.kpi.settings import settings_from
from tests import kpi_helpers as h
from tests.kpi_helpers import WEEK, row
from tests.support import ChatDriver


async def test_import_and_inheritance(app: App) -> None:
    cfg = settings_from({})
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        csv_text = (
            "unit_code,indicator,period,target\n"
            "P,online_rate,2026-Q4,60\nC2,online_rate,2026-Q4,70%\nP,help_sessions,2026,365\n"
            "P,online_rate,2026,50\n"
        )
        result = await targets.import_csv(s, csv_text, cfg)
        assert result.rows == 4 and not result.errors
        bad = await targets.import_csv(
            s, "unit_code,indicator,period,target\nX,online_rate,2026-W47,5\n", cfg
        )
        assert bad.rows == 0 and len(bad.errors) == 1
    async with app.sessions() as s:
        week = period_of("week", WEEK)
        units = [row(t["C1"]), row(t["C2"]), row(t["T1a"])]
        eff = await targets.effective(s, units, week, cfg)
        assert eff[(t["C1"].id, "online_rate")] == 60.0  # inherited from the province
        assert eff[(t["C2"].id, "online_rate")] == 70.0  # its own
        assert eff[(t["T1a"].id, "online_rate")] == 60.0  # two levels up
        assert (t["C1"].id, "help_sessions") not in eff  # counts are per unit: not inherited
        eff_p = await targets.effective(s, [row(t["P"])], week, cfg)
        assert abs(eff_p[(t["P"].id, "help_sessions")] - 7.0) < 1e-9  # 365 a year → 7 a week
        q1 = period_of("week", WEEK.replace(month=2, day=2))
        eff = await targets.effective(s, [row(t["C1"])], q1, cfg)
        assert eff[(t["C1"].id, "online_rate")] == 50.0  # no Q1 target: the year's
        assert (t["C1"].id, "on_time_rate") not in eff


async def test_set_target_from_the_bot(app: App) -> None:
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        from db.models import ChannelAccount, Membership

        leader = await h.person(s, "Lãnh đạo xã", None)
        s.add(Membership(person_id=leader.id, unit_id=t["C1"].id, role="leader"))
        s.add(ChannelAccount(person_id=leader.id, channel="telegram", external_id="777", chat_id="777"))
    user = ChatDriver(app, "777", "Lãnh đạo xã")
    said = await user.send("/chitieu C1 online_rate 2026-Q4 65")
    assert "Đã đặt chỉ tiêu" in said.text and "65%" in said.text
    said = await user.send("/chitieu C2 online_rate 2026-Q4 65")
    # Another commune: outside this leader's scope, said so (not «Việc này do các tổ…»).
    assert "chưa có quyền đặt chỉ tiêu cho Xã Hai (C2)" in said.text and "ngoài phạm vi" in said.text
    assert "Việc này do" not in said.text
    said = await user.send("/chitieu P so buoi ho tro 2026 160")
    assert "Tỉnh Thử (P)" in said.text and "ngoài phạm vi" in said.text
    # A rate above 100 is refused with the value as typed («160», not «160.0»).
    said = await user.send("/chitieu C1 online_rate 2026-Q4 160")
    assert "«160» chưa hợp lệ" in said.text
    said = await user.send("/chitieu C1 so buoi ho tro 2026 160")
    assert "Số buổi hỗ trợ" in said.text and ": 160." in said.text
    said = await user.send("/chitieu C1 khong_co 2026-Q4 65")
    assert "khong_co" in said.text
    said = await user.send("/chitieu")
    assert "• Tỷ lệ hồ sơ trực tuyến (%)" in said.text and "online_rate" not in said.text
    # By Vietnamese name, with or without accents, a quarter in words.
    said = await user.send("/chitieu C1 Tỷ lệ hồ sơ toàn trình Quý IV/2026 40")
    assert "«Tỷ lệ hồ sơ toàn trình»" in said.text and "Quý IV/2026" in said.text and "40%" in said.text
    said = await user.send("/chitieu C1 ty le dung han 2026-Q4 90")
    assert "«Tỷ lệ giải quyết đúng hạn»" in said.text
    said = await user.send("/chitieu C1 ty le 2026-Q4 90")  # several indicators match: a choice
    assert "Tỷ lệ giải quyết đúng hạn" in said.labels() and "Chưa nhận ra" not in said.text
    async with app.sessions() as s:
        eff = await targets.effective(
            s, [row(t["C1"])], period_of("week", WEEK + timedelta(days=7)), settings_from({})
        )
        assert eff[(t["C1"].id, "online_rate")] == 65.0


async def test_impossible_targets_and_periods_are_refused_politely(seeded_app: App) -> None:
    """«nan» crashed /chitieu (NOT NULL), «inf» was saved, a satisfaction target of 7 (of 5 stars) was
    saved, and years such as 9999 or 0001 crashed /kpi and /chitieu with «đã có sự cố»."""
    from tests.support import demo_driver

    lanhdao = demo_driver(seeded_app, "lanhdao")
    for value in ("nan", "inf", "1e308"):
        said = await lanhdao.send(f"/chitieu 19786 help_sessions 2026-Q4 {value}")
        assert "chưa hợp lệ" in said.text and "sự cố" not in said.text, (value, said.text)
    said = await lanhdao.send("/chitieu 19786 satisfaction 2026-Q4 7")
    assert "chưa hợp lệ" in said.text, said.text
    said = await lanhdao.send("/chitieu 19786 satisfaction 2026-Q4 4,5")
    assert "✅" in said.text, said.text
    for period in ("9999-Q4", "0001-Q1"):
        said = await lanhdao.send(f"/chitieu 19786 online_rate {period} 50")
        assert "sự cố" not in said.text and "chưa đúng" in said.text, (period, said.text)
    for period in ("9999-W52", "0001-W01", "2026-W60"):
        said = await lanhdao.send(f"/kpi {period}")
        assert "sự cố" not in said.text and "chưa đúng" in said.text, (period, said.text)


async def test_a_commune_leader_asking_for_another_unit_is_told_it_is_outside_their_scope(
    seeded_app: App,
) -> None:
    """«Việc này do các tổ công nghệ số… theo dõi bằng /kpi» answered /kpi itself: the role refusal
    for a scope problem."""
    from tests.support import demo_driver

    lanhdao = demo_driver(seeded_app, "lanhdao")
    for command in ("/kpi 19768", "/kpi 46", "/xephang 19768"):
        said = await lanhdao.send(command)
        assert "nằm ngoài phạm vi của anh/chị" in said.text and "/kpi" in said.text, (command, said.text)
        assert "Việc này do các tổ" not in said.text
    said = await lanhdao.send("/kpi")
    assert "Phường Thuận Hóa" in said.text


async def test_periods_said_in_words(seeded_app: App) -> None:
    """«/kpi tuan truoc» answered «Kỳ «truoc» chưa đúng» (half of what was typed)."""
    from tests.support import demo_driver

    lanhdao = demo_driver(seeded_app, "lanhdao")
    last = await lanhdao.send("/kpi")  # the default: the last complete week
    said = await lanhdao.send("/kpi tuan truoc")
    assert said.text.splitlines()[0] == last.text.splitlines()[0], (said.text[:120], last.text[:120])
    said = await lanhdao.send("/kpi 19786 quý này")
    assert "Quý" in said.text.splitlines()[0] and "chưa đúng" not in said.text, said.text[:200]
    said = await lanhdao.send("/kpi tuan sau")
    assert "sự cố" not in said.text


async def _targets_of(app: App, code: str) -> dict[tuple[str, str], float]:
    from sqlalchemy import select

    from db.models import KpiTarget, Unit

    async with app.sessions() as s:
        stmt = select(KpiTarget).join(Unit, Unit.id == KpiTarget.unit_id).where(Unit.code == code)
        return {(t.indicator, t.period): float(t.target) for t in (await s.execute(stmt)).scalars()}


async def test_chitieu_reads_numbers_as_baocao_does(seeded_app: App) -> None:
    """«12.000» was stored as 12 and «0,5» / «1.5» on a count were rounded and confirmed with ✅."""
    from tests.support import demo_driver

    lanhdao = demo_driver(seeded_app, "lanhdao")
    before = await _targets_of(seeded_app, "19786")
    said = await lanhdao.send("/chitieu 19786 so buoi ho tro 2026 12.000")
    assert "✅" in said.text and ": 12.000." in said.text, said.text
    assert (await _targets_of(seeded_app, "19786"))[("help_sessions", "2026")] == 12000
    for typed in ("0,5", "1.5", "12,5"):
        said = await lanhdao.send(f"/chitieu 19786 so buoi ho tro 2026-Q4 {typed}")
        assert "✅" not in said.text and f"«{typed}» có phần lẻ" in said.text, (typed, said.text)
        assert "số nguyên" in said.text and "12.000" in said.text
    assert ("help_sessions", "2026-Q4") not in await _targets_of(seeded_app, "19786")
    said = await lanhdao.send("/chitieu 19786 ty le giai quyet dung han 2026-Q4 72,5")
    assert "✅" in said.text and "72,5%" in said.text, said.text
    assert (await _targets_of(seeded_app, "19786"))[("on_time_rate", "2026-Q4")] == 72.5
    # A thousands dot on a rate is a thousand: refused, not read as 1.
    said = await lanhdao.send("/chitieu 19786 ty le giai quyet dung han 2026-Q4 1.000")
    assert "chưa hợp lệ" in said.text and "✅" not in said.text
    stored = set(await _targets_of(seeded_app, "19786"))
    assert stored == set(before) | {("help_sessions", "2026"), ("on_time_rate", "2026-Q4")}


async def test_chitieu_refuses_an_officer_by_role(seeded_app: App) -> None:
    """The officer of Phường Thuận Hóa was told /chitieu was «ngoài phạm vi Phường Thuận Hóa»."""
    from tests.support import demo_driver

    said = await demo_driver(seeded_app, "canbo").send("/chitieu 19786 ty le truc tuyen 2026-Q4 70")
    assert "Chỉ lãnh đạo" in said.text and "đặt chỉ tiêu" in said.text and "/kpi" in said.text, said.text
    assert "ngoài phạm vi" not in said.text


async def test_chitieu_words_choices_and_periods(seeded_app: App) -> None:
    """Words fitting two indicators were «Chưa nhận ra chỉ tiêu»; «quy 4» was read into the name."""
    from tests.support import demo_driver

    lanhdao = demo_driver(seeded_app, "lanhdao")
    said = await lanhdao.send("/chitieu 19786 ty le truc tuyen 2026-Q4 70")
    assert "Chưa nhận ra" not in said.text, said.text
    assert said.labels() == ["Tỷ lệ hồ sơ trực tuyến", "Tỷ lệ dịch vụ có phát sinh hồ sơ trực tuyến"]
    assert ("service_coverage", "2026-Q4") not in await _targets_of(seeded_app, "19786")
    said = await lanhdao.tap("Tỷ lệ dịch vụ")
    assert "✅" in said.text and "«Tỷ lệ dịch vụ có phát sinh hồ sơ trực tuyến»" in said.text, said.text
    assert "Quý IV/2026" in said.text and "70%" in said.text
    assert (await _targets_of(seeded_app, "19786"))[("service_coverage", "2026-Q4")] == 70
    today = local_day(utcnow())  # «quý 4», «năm nay»: of the bot's (real) clock
    quarter = f"{today.year}-Q4"
    said = await lanhdao.send("/chitieu 19786 toan trinh quy 4 40")
    assert "«Tỷ lệ hồ sơ toàn trình»" in said.text and f"Quý IV/{today.year}: 40%" in said.text, said.text
    assert (await _targets_of(seeded_app, "19786"))[("full_online_rate", quarter)] == 40
    said = await lanhdao.send("/chitieu 19786 toan trinh năm nay 45")
    assert f"năm {today.year}: 45%" in said.text, said.text
    said = await lanhdao.send("/chitieu 19786 toan trinh tháng 11 45")
    assert "theo quý" in said.text and "«tháng 11»" in said.text, said.text
    # Bare /chitieu: a real example with the leader's own unit code and an indicator's name.
    said = await lanhdao.send("/chitieu")
    assert "/chitieu 19786 Tỷ lệ hồ sơ trực tuyến quý" in said.text, said.text
    assert "MÃ_ĐƠN_VỊ TÊN_CHỈ_TIÊU KỲ GIÁ_TRỊ" in said.text
