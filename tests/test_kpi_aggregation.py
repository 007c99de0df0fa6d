"""A province's figures add up only what its communes owe and have: service coverage from the
communes with data in the period (not every commune that ever said how many services it offers),
and weekly reports due only for the weeks that began after a commune was created (none from a
closed commune). Units through `tocns units import-csv` under libfaketime, reports through
/baocao with a frozen clock; the figures through the services /kpi, the digest, `tocns kpi show` and
the web dashboard call."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.kernel import App
from db.models import Unit
from db.repositories import kpi as krepo
from db.repositories.kpi.base import UnitRow
from services import kpi, people
from services.kpi.figures import UnitFigures
from services.kpi.periods import Period, period_of
from services.kpi.settings import settings_from
from tests import kpi_helpers as h
from tests.kpi_helpers import TZ, at
from tests.support import tocns_at

CFG = settings_from({})  # current_week, due Friday 17:00 of the week


def local(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=TZ).astimezone(UTC)


async def figures_of(app: App, code: str, period: Period, now: datetime) -> UnitFigures:
    """The unit's own figures, as /kpi, `tocns kpi show` and the dashboard's overview get them."""
    async with app.sessions() as s:
        unit = await krepo.unit_by_code(s, code)
        assert unit is not None
        return (await kpi.figures_for(s, unit, [unit], 0, period, now, CFG, with_previous=False))[0]


async def digest_total(app: App, code: str, period: Period, now: datetime) -> UnitFigures:
    """The unit's total in the digest and the web dashboard's table (one pass with its children)."""
    async with app.sessions() as s:
        unit = await krepo.unit_by_code(s, code)
        assert unit is not None
        total, _rows = await kpi.child_table_with_total(s, None, unit, period, now, CFG)
        return total


def same(a: UnitFigures, b: UnitFigures, indicator: str) -> None:
    fa, fb = a.figures[indicator], b.figures[indicator]
    assert (fa.value, fa.numerator, fa.denominator) == (fb.value, fb.numerator, fb.denominator)


# --- 1. service coverage -------------------------------------------------------------------------

W44 = date(2026, 10, 26)  # Monday of 2026-W44
W47 = date(2026, 11, 16)  # Monday of 2026-W47
AFTER_W47 = local(date(2026, 11, 23), 9)  # Monday 23/11 09:00: W47 complete


async def test_service_coverage_counts_only_communes_with_data(app: App) -> None:
    """W47: only C2 reports (2 of 30 services) and C3 has dossiers (3 procedures online, 50
    offered by its W44 report); C1 said 40 in W44 and has nothing in W47; C4 has an online dossier
    but never said how many services it offers."""
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        c4 = await h.unit(s, "C4", "Xã Bốn", "commune", t["P"])
        off = {c: await h.person(s, f"Cán bộ {c}", "officer", t[c]) for c in ("C1", "C2", "C3")}
        d = W47 + timedelta(days=1)
        for proc in ("Đăng ký khai sinh", "Đăng ký kết hôn", "Chứng thực bản sao"):
            await h.dossier(s, t["C3"], "full_online", at(d), procedure=proc)
        await h.dossier(s, t["C3"], "counter", at(d), procedure="Đăng ký khai tử")
        await h.dossier(s, c4, "partial_online", at(d), procedure="Đăng ký thường trú")
    # received online full resolved on-time overdue offered with-online
    w44_friday = local(W44 + timedelta(days=4), 14)
    await h.baocao(app, off["C1"].id, w44_friday, "10 5 2 8 8 0 40 6")
    await h.baocao(app, off["C3"].id, w44_friday, "10 5 2 8 8 0 50 7")
    await h.baocao(app, off["C2"].id, local(W47 + timedelta(days=4), 14), "10 4 2 8 6 0 30 2")

    week = period_of("week", W47)
    p = await figures_of(app, "P", week, AFTER_W47)
    cov = p.figures["service_coverage"]
    # C2 (weekly) 2 of 30 + C3 (dossiers) 3 of 50 = 5 / 80 = 6.25 %. C1 has no data in W47 (its 40
    # was the old bug's extra denominator: 5 / 120 = 4.2 %); C4's dossier service has no number of
    # services offered beside it, so it is in neither part.
    assert (cov.numerator, cov.denominator) == (5, 80)
    assert cov.value == pytest.approx(6.25)
    assert cov.source == "mixed"
    # Each commune's own figure is unchanged: C3 3/50, C2 2/30, C1 and C4 no data.
    c3 = (await figures_of(app, "C3", week, AFTER_W47)).figures["service_coverage"]
    assert (c3.numerator, c3.denominator) == (3, 50)
    assert (await figures_of(app, "C2", week, AFTER_W47)).figures["service_coverage"].value == pytest.approx(
        100 * 2 / 30
    )
    for code in ("C1", "C4"):
        assert (await figures_of(app, code, week, AFTER_W47)).figures["service_coverage"].value is None
    # The digest and the dashboard's table (total with its children) say the same as /kpi.
    same(p, await digest_total(app, "P", week, AFTER_W47), "service_coverage")

    # Quarter IV to date: distinct services do not add up across weeks, so weekly reports give no
    # coverage over a quarter; only C3's dossiers: 3 procedures online of its 50 = 6 %. (Before: the
    # 40 + 30 of C1 and C2 were in the denominator as well: 3 / 120.)
    quarter = period_of("quarter", W47)
    q = (await figures_of(app, "P", quarter, AFTER_W47)).figures["service_coverage"]
    assert (q.numerator, q.denominator) == (3, 50) and q.value == pytest.approx(6.0)
    same(
        await figures_of(app, "P", quarter, AFTER_W47),
        await digest_total(app, "P", quarter, AFTER_W47),
        "service_coverage",
    )


async def test_service_coverage_with_the_configured_default(app: App) -> None:
    """`services_offered_default` stands in for a commune with data that never said its number;
    still only the communes with data in the period."""
    cfg = settings_from({"kpi": {"services_offered_default": 40}})
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        d = W47 + timedelta(days=1)
        await h.dossier(s, t["C1"], "full_online", at(d), procedure="Đăng ký khai sinh")
        await h.dossier(s, t["C1"], "full_online", at(d), procedure="Đăng ký kết hôn")
    async with app.sessions() as s:
        p = await krepo.unit_by_code(s, "P")
        assert p is not None
        week = period_of("week", W47)
        f = (await kpi.figures_for(s, p, [p], 0, week, AFTER_W47, cfg))[0].figures["service_coverage"]
    # C1: 2 procedures of the default 40 = 5 %; C2 and C3 have no data: not 2 / (3 × 40).
    assert (f.numerator, f.denominator, f.value) == (2, 40, 5.0)


# --- 2. weekly reports due from the commune's creation ------------------------------------------

W48 = date(2026, 11, 23)
W49 = date(2026, 11, 30)  # N1 and N2 are created on Tuesday 01/12 of this week
W50, W51, W52 = (W49 + timedelta(weeks=k) for k in (1, 2, 3))
NOW = local(date(2026, 12, 28), 9)  # Monday of W53: W52's deadline (Fri 25/12 17:00) has passed


@pytest.mark.skipif(
    shutil.which("faketime") is None, reason="libfaketime not installed (apt-get install faketime)"
)
async def test_reports_are_due_only_from_the_communes_creation(app: App, db_url: str, tmp_path: Path) -> None:
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)  # P, C1-C3 created long before the quarter
    csv = tmp_path / "new.csv"
    csv.write_text(
        "code,name,kind,parent_code\nN1,Xã Mới,commune,P\nN2,Xã Mới Hai,commune,P\n", encoding="utf-8"
    )
    tocns_at("2026-12-01 13:00:00", db_url, "units", "import-csv", str(csv))  # Tuesday of W49
    async with app.sessions() as s, s.begin():
        n1 = await krepo.unit_by_code(s, "N1")
        assert n1 is not None and n1.path.startswith(t["P"].path)
        created = await s.get(Unit, n1.id)
        assert created is not None and timedelta(0) <= created.created_at - local(
            date(2026, 12, 1), 13
        ) < timedelta(minutes=2)
        officer = await h.person(s, "Cán bộ N1", "officer", created, since=local(date(2026, 12, 1), 14))
    # N1 files W49 (the week it was created in) on Thursday, skips W50, files W51 on Thursday, and
    # W52 on Saturday 26/12, after its deadline (Friday 17:00).
    for monday, day, hour in ((W49, 3, 14), (W51, 3, 14), (W52, 5, 10)):
        said = await h.baocao(app, officer.id, local(monday + timedelta(days=day), hour), "10 4 2 8 6 0 30 2")
        assert "Đã lưu" in said, said

    def on_time(uf: UnitFigures) -> tuple[float | None, float, float | None]:
        f = uf.figures["report_on_time"]
        return f.value, f.numerator, f.denominator

    wk = lambda d: period_of("week", d)  # noqa: E731
    # W48, before N1 existed: nothing due, nothing filed — no data, not 0 %.
    assert on_time(await figures_of(app, "N1", wk(W48), NOW)) == (None, 0, 0)
    # W49 began before N1 was created (Tuesday 13:00): not owed; the report it sent on time anyway
    # counts as expected and on time, 1 / 1 (as an early report does).
    assert on_time(await figures_of(app, "N1", wk(W49), NOW)) == (100.0, 1, 1)
    assert on_time(await figures_of(app, "N2", wk(W49), NOW)) == (None, 0, 0)
    # W50: owed and missing.
    assert on_time(await figures_of(app, "N1", wk(W50), NOW)) == (0.0, 0, 1)
    # Quarter IV to date (due weeks W41..W52, twelve; W53's deadline is ahead): N1 owes W50, W51,
    # W52 (3), plus its W49 report sent on time (1) = 4 expected; on time W49 and W51 = 2 → 50 %.
    # (The old figure: 12 weeks due from W41, 2 / 12 = 16.7 %.)
    quarter = period_of("quarter", W49)
    assert on_time(await figures_of(app, "N1", quarter, NOW)) == (50.0, 2, 4)
    assert on_time(await figures_of(app, "N2", quarter, NOW)) == (0.0, 0, 3)
    # The province: C1-C3 owe 12 weeks each (36) + N1 4 + N2 3 = 43 expected, 2 on time.
    p = await figures_of(app, "P", quarter, NOW)
    assert on_time(p)[1:] == (2, 43)
    same(p, await digest_total(app, "P", quarter, NOW), "report_on_time")

    # The Monday reminders: N2 is not named for the W49 report it never owed; for W50 it is.
    async with app.sessions() as s:
        w49 = await kpi.commune_findings(s, wk(W49), local(W50, 8), CFG)
        w50 = await kpi.commune_findings(s, wk(W50), local(W51, 8), CFG)
    n2 = await _row(app, "N2")
    assert "report_missing" not in {f.rule for f in w49.get(n2.id, [])}
    assert "report_missing" in {f.rule for f in w50.get(n2.id, [])}
    # C1, which existed, is named for W49.
    assert "report_missing" in {f.rule for f in w49.get(t["C1"].id, [])}

    # A commune closed since (no product flow closes a commune, and no closing date is kept: set as an
    # administrator would in the database) owes nothing; its reports sent on time still count, as
    # expected and on time, so they neither lower the rate nor take it past 100 %.
    async with app.sessions() as s, s.begin():
        await s.execute(update(Unit).where(Unit.id == n1.id).values(active=False))
    assert on_time(await figures_of(app, "N1", quarter, NOW)) == (100.0, 2, 2)
    # Province: 36 + N2's 3 + N1's 2 sent on time = 41 expected, 2 on time.
    assert on_time(await figures_of(app, "P", quarter, NOW))[1:] == (2, 41)


async def _row(app: App, code: str) -> UnitRow:
    async with app.sessions() as s:
        unit = await krepo.unit_by_code(s, code)
    assert unit is not None
    return unit


async def test_the_kpi_command_agrees_with_the_digest(app: App) -> None:
    """The leader's /kpi answer (the service it calls) and the digest's total: the same coverage."""
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        leader = await h.person(s, "Lãnh đạo tỉnh", "leader", t["P"])
        off = await h.person(s, "Cán bộ C2", "officer", t["C2"])
    await h.baocao(app, off.id, local(W44 + timedelta(days=4), 14), "10 5 2 8 8 0 40 6")
    await h.baocao(app, off.id, local(W47 + timedelta(days=4), 14), "10 4 2 8 6 0 30 2")
    async with app.sessions() as s:
        actor = await people.load_actor(s, leader.id)
        wk, _quarter = await kpi.unit_report(s, actor, "P", AFTER_W47, CFG, week=period_of("week", W47))
    f = wk.figures["service_coverage"]
    # C2's W47 report only: 2 / 30 (its W44 number, 40, is not this week's).
    assert (f.numerator, f.denominator) == (2, 30)
    same(wk, await digest_total(app, "P", period_of("week", W47), AFTER_W47), "service_coverage")
