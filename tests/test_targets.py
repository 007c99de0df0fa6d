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
