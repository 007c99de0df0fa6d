"""Targets: CSV import, inheritance from the parent, /chitieu for leaders in scope only."""

from __future__ import annotations

from datetime import timedelta

from bot.kernel import App
from services.kpi import targets
from services.kpi.periods import period_of
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
    said = await user.send("/chitieu C1 ty le 2026-Q4 90")  # several indicators match
    assert "Chưa nhận ra chỉ tiêu «ty le»" in said.text
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
