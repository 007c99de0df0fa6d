"""Indicators on hand-built data (SQLite and PostgreSQL): values, source precedence, grouping."""

from __future__ import annotations

from datetime import timedelta

from bot.kernel import App
from services import kpi
from services.kpi.periods import period_of
from services.kpi.settings import settings_from
from tests import kpi_helpers as h
from tests.kpi_helpers import FRIDAY, NOW, WEEK, at, row


async def test_indicators_and_source_precedence(app: App) -> None:
    cfg = settings_from({})
    week = period_of("week", WEEK)
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        d1 = WEEK + timedelta(days=1)
        # C1: dossier-level records (and a weekly report that must be ignored).
        await h.dossier(
            s, t["C1"], "full_online", at(d1), due=at(d1 + timedelta(5)), finished=at(d1 + timedelta(2))
        )
        await h.dossier(s, t["C1"], "partial_online", at(d1), procedure="Đăng ký kết hôn")
        await h.dossier(
            s, t["C1"], "counter", at(d1), due=at(d1 + timedelta(1)), finished=at(d1 + timedelta(3))
        )
        await h.dossier(s, t["C1"], "counter", at(d1))
        # An older dossier, overdue and still open at the end of the week.
        await h.dossier(s, t["C1"], "counter", at(WEEK - timedelta(20)), due=at(WEEK - timedelta(2)))
        # Received earlier: one still open and not yet due at the end of the week (766: in time),
        # one resolved this week with no due date (neither on time nor late), one withdrawn.
        old = at(WEEK - timedelta(20))
        await h.dossier(s, t["C1"], "counter", old, due=at(WEEK + timedelta(10)))
        await h.dossier(s, t["C1"], "counter", old, finished=at(d1 + timedelta(1)))
        await h.dossier(s, t["C1"], "counter", old, due=at(WEEK - timedelta(1)), status="withdrawn")
        # C3: nothing.
        vol = await h.person(s, "TNV A", "volunteer", t["T1a"])
        await h.person(s, "TNV B", "volunteer", t["T1b"])
        await h.help_session(s, vol, t["T1a"], at(d1), citizens=3)
        await h.help_session(s, vol, t["T1a"], at(d1 + timedelta(1)), citizens=2)
        await h.help_session(s, vol, t["T1a"], at(WEEK - timedelta(1)), citizens=9)  # last week
        off_c1 = await h.person(s, "Cán bộ C1", "officer", t["C1"])
        off_c2 = await h.person(s, "Cán bộ C2", "officer", t["C2"])
    # C1 also files a weekly report (ignored: it has dossiers); C2 has only its weekly report.
    await h.baocao(app, off_c1.id, FRIDAY, "100 100 2 8 6 1 20 4")
    await h.baocao(app, off_c2.id, FRIDAY, "10 0 0 4 3 2 20 4")

    async with app.sessions() as s:
        p = row(t["P"])
        table = await kpi.figures_for(s, p, [row(t[c]) for c in ("C1", "C2", "C3")], 1, week, NOW, cfg)
        by = {uf.unit.code: uf.figures for uf in table}
        assert by["C1"]["online_rate"].value == 50.0 and by["C1"]["online_rate"].source == "dossiers"
        assert by["C1"]["full_online_rate"].value == 25.0
        # One of the two resolved dossiers that have a due date; the one without is left out.
        assert by["C1"]["on_time_rate"].value == 50.0 and by["C1"]["on_time_rate"].denominator == 2
        assert by["C1"]["service_coverage"].numerator == 2  # two procedures with online dossiers
        assert by["C1"]["service_coverage"].denominator == 20  # from the weekly report
        assert by["C1"]["help_sessions"].value == 2 and by["C1"]["citizens_helped"].value == 5
        assert by["C1"]["active_volunteers"].value == 50.0
        assert by["C1"]["report_on_time"].value == 100.0
        assert by["C2"]["online_rate"].value == 0.0 and by["C2"]["online_rate"].source == "weekly"
        assert by["C2"]["on_time_rate"].value == 75.0
        assert by["C3"]["online_rate"].value is None and by["C3"]["online_rate"].source == "none"
        assert by["C3"]["report_on_time"].value == 0.0
        # No number of services offered: no coverage figure (no invented default).
        assert by["C3"]["service_coverage"].value is None
        assert by["C1"]["satisfaction"].value is None  # no tickets table yet

        total = (await kpi.figures_for(s, p, [p], 0, week, NOW, cfg))[0].figures
        assert total["online_rate"].source == "mixed"
        assert total["online_rate"].numerator == 2 and total["online_rate"].denominator == 14
        assert total["help_sessions"].previous == 1

        other = settings_from({"kpi": {"on_time_denominator": "resolved_and_overdue"}})
        c1 = (await kpi.figures_for(s, row(t["C1"]), [row(t["C1"])], 0, week, NOW, other))[0].figures
        assert c1["on_time_rate"].denominator == 3  # 2 resolved + 1 overdue open (not the withdrawn)
        d766 = settings_from({"kpi": {"on_time_denominator": "decision_766"}})
        c1 = (await kpi.figures_for(s, row(t["C1"]), [row(t["C1"])], 0, week, NOW, d766))[0].figures
        # (1 on time + 1 open in time) ÷ (2 resolved + 1 overdue + 1 open in time)
        assert (c1["on_time_rate"].numerator, c1["on_time_rate"].denominator) == (2, 4)
        scoped = settings_from(
            {"kpi": {"online_rate_scope": "online_procedures", "online_procedures": ["Đăng ký kết hôn"]}}
        )
        c1 = (await kpi.figures_for(s, row(t["C1"]), [row(t["C1"])], 0, week, NOW, scoped))[0].figures
        assert (c1["online_rate"].numerator, c1["online_rate"].denominator) == (1, 1)  # kết hôn only
        month = kpi.parse_period("2026-11")
        c2 = (await kpi.figures_for(s, row(t["C2"]), [row(t["C2"])], 0, month, NOW, cfg))[0].figures
        assert c2["service_coverage"].value is None  # weekly counts of services do not add up

        # Grouping two levels down (teams under the province).
        teams = await kpi.figures_for(s, p, [row(t["T1a"]), row(t["T2a"])], 2, week, NOW, cfg)
        assert [u.figures["help_sessions"].value for u in teams] == [2.0, 0.0]


def test_online_scope_needs_the_list() -> None:
    import pytest

    with pytest.raises(ValueError, match="online_procedures"):
        settings_from({"kpi": {"online_rate_scope": "online_procedures"}})


async def test_periods() -> None:
    assert kpi.parse_period("2026-W47").start.isoformat() == "2026-11-16"
    assert kpi.parse_period("2026-q4").key == "2026-Q4"
    assert kpi.parse_period("2026-02").days == 28
    assert kpi.period_of("week", WEEK).previous().key == "2026-W46"
    deadline = kpi.report_deadline(WEEK, settings_from({}))
    assert deadline == at(WEEK + timedelta(days=4), 17)


async def test_ranking_defaults_to_the_indicator_that_fits_the_level(seeded_app: App) -> None:
    from tests.support import demo_driver

    province = await demo_driver(seeded_app, "tinh").send("/xephang")
    assert "Tỷ lệ hồ sơ trực tuyến — các đơn vị thuộc Thành phố Huế" in province.text
    commune = await demo_driver(seeded_app, "canbo").send("/xephang")
    assert "Số lượt người dân được hỗ trợ — các đơn vị thuộc Phường Thuận Hóa" in commune.text
    assert "chưa có số liệu" not in commune.text
    volunteer = await demo_driver(seeded_app, "tnv").send("/xephang")
    assert "chưa có quyền" in volunteer.text
