"""Indicators on hand-built data (SQLite and PostgreSQL): values, source precedence, grouping."""

from __future__ import annotations

from datetime import timedelta

from bot.kernel import App
from services import kpi
from services.kpi.periods import period_of
from services.kpi.settings import settings_from
from tests import kpi_helpers as h
from tests.kpi_helpers import NOW, WEEK, at, row


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
        await h.report(s, t["C1"], WEEK, received=100, online=100)
        # C2: only a weekly report.
        await h.report(s, t["C2"], WEEK, received=10, online=0, full=0, resolved=4, on_time=3, overdue=2)
        # C3: nothing.
        vol = await h.person(s, "TNV A", "volunteer", t["T1a"])
        await h.person(s, "TNV B", "volunteer", t["T1b"])
        await h.help_session(s, vol, t["T1a"], at(d1), citizens=3)
        await h.help_session(s, vol, t["T1a"], at(d1 + timedelta(1)), citizens=2)
        await h.help_session(s, vol, t["T1a"], at(WEEK - timedelta(1)), citizens=9)  # last week

    async with app.sessions() as s:
        p = row(t["P"])
        table = await kpi.figures_for(s, p, [row(t[c]) for c in ("C1", "C2", "C3")], 1, week, NOW, cfg)
        by = {uf.unit.code: uf.figures for uf in table}
        assert by["C1"]["online_rate"].value == 50.0 and by["C1"]["online_rate"].source == "dossiers"
        assert by["C1"]["full_online_rate"].value == 25.0
        assert by["C1"]["on_time_rate"].value == 50.0  # one of two resolved by its due date
        assert by["C1"]["service_coverage"].numerator == 2  # two procedures with online dossiers
        assert by["C1"]["service_coverage"].denominator == 20  # from the weekly report
        assert by["C1"]["help_sessions"].value == 2 and by["C1"]["citizens_helped"].value == 5
        assert by["C1"]["active_volunteers"].value == 50.0
        assert by["C1"]["report_on_time"].value == 100.0
        assert by["C2"]["online_rate"].value == 0.0 and by["C2"]["online_rate"].source == "weekly"
        assert by["C2"]["on_time_rate"].value == 75.0
        assert by["C3"]["online_rate"].value is None and by["C3"]["online_rate"].source == "none"
        assert by["C3"]["report_on_time"].value == 0.0
        assert by["C3"]["service_coverage"].denominator == 30  # the configured default
        assert by["C1"]["satisfaction"].value is None  # no tickets table yet

        total = (await kpi.figures_for(s, p, [p], 0, week, NOW, cfg))[0].figures
        assert total["online_rate"].source == "mixed"
        assert total["online_rate"].numerator == 2 and total["online_rate"].denominator == 14
        assert total["help_sessions"].previous == 1

        other = settings_from({"kpi": {"on_time_denominator": "resolved_and_overdue"}})
        c1 = (await kpi.figures_for(s, row(t["C1"]), [row(t["C1"])], 0, week, NOW, other))[0].figures
        assert c1["on_time_rate"].denominator == 3  # 2 resolved + 1 overdue open

        # Grouping two levels down (teams under the province).
        teams = await kpi.figures_for(s, p, [row(t["T1a"]), row(t["T2a"])], 2, week, NOW, cfg)
        assert [u.figures["help_sessions"].value for u in teams] == [2.0, 0.0]


async def test_periods() -> None:
    assert kpi.parse_period("2026-W47").start.isoformat() == "2026-11-16"
    assert kpi.parse_period("2026-q4").key == "2026-Q4"
    assert kpi.parse_period("2026-02").days == 28
    assert kpi.period_of("week", WEEK).previous().key == "2026-W46"
    deadline = kpi.report_deadline(WEEK, settings_from({}))
    assert deadline == at(WEEK + timedelta(days=4), 17)


async def test_ranking_defaults_to_the_indicator_that_fits_the_level(app: App) -> None:
    from tests.support import demo_driver, seed_demo

    await seed_demo(app)
    province = await demo_driver(app, "tinh").send("/xephang")
    assert "Tỷ lệ hồ sơ trực tuyến — các đơn vị thuộc Thành phố Huế" in province.text
    commune = await demo_driver(app, "canbo").send("/xephang")
    assert "Số lượt người dân được hỗ trợ — các đơn vị thuộc Phường Thuận Hóa" in commune.text
    assert "chưa có số liệu" not in commune.text
    volunteer = await demo_driver(app, "tnv").send("/xephang")
    assert "chưa có quyền" in volunteer.text
