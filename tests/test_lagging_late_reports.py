"""A weekly report filed after the deadline is named as filed late (not as on time, not as
missing) by the Monday findings and the digest; a report dated after the job's clock is not filed yet."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.kernel import App
from handlers import job_env, jobs
from services import digest, kpi, lagging, reports
from services.kpi.periods import period_of
from services.kpi.settings import settings_from
from tests import kpi_helpers as h
from tests.kpi_helpers import FRIDAY, NOW, TZ, WEEK


def rules(found: dict[int, list[kpi.Finding]], unit_id: int) -> set[str]:
    return {f.rule for f in found.get(unit_id, [])}


async def test_late_report_is_named_late_and_future_reports_are_not_filed(app: App) -> None:
    cfg = settings_from({})
    week = period_of("week", WEEK)
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        off = {c: await h.person(s, f"Cán bộ {c}", "officer", t[c]) for c in ("C1", "C2", "C3")}
        await h.person(s, "Lãnh đạo tỉnh", "leader", t["P"])
    saturday = FRIDAY + timedelta(days=1)  # after Friday 17:00, before the week ends
    await h.baocao(app, off["C1"].id, FRIDAY, "10 5 2 8 8 0 40 6")  # on time
    await h.baocao(app, off["C2"].id, saturday, "10 5 2 8 8 0 40 6")  # late
    # C3 files on Monday at 10:00, an hour after the 09:00 digest run.
    after_run = NOW + timedelta(hours=1)
    await h.baocao(app, off["C3"].id, after_run, f"tuan {int(week.key[-2:])} 10 5 2 8 8 0 40 6")
    async with app.sessions() as s:
        found = await kpi.commune_findings(s, week, NOW, cfg, TZ)
        late = [f for f in found[t["C2"].id] if f.rule == "report_late"]
        assert late and late[0].at == saturday
        assert "report_missing" not in rules(found, t["C2"].id)
        assert not {"report_late", "report_missing"} & rules(found, t["C1"].id)
        # At 09:00 C3's report (dated 10:00) is not filed yet: missing; after it, late.
        assert "report_missing" in rules(found, t["C3"].id)
        later = await kpi.commune_findings(s, week, after_run + timedelta(minutes=1), cfg, TZ)
        assert "report_late" in rules(later, t["C3"].id) and "report_missing" not in rules(later, t["C3"].id)
        # The digest (everywhere's findings) and a subtree's own computation agree.
        under = await lagging.under(s, h.row(t["P"]), week, NOW, cfg, TZ)
        assert {lg.unit.id: {f.rule for f in lg.findings} for lg in under} == {
            uid: {f.rule for f in fs} for uid, fs in found.items()
        }
        d = await digest.build(s, h.row(t["P"]), week, NOW, cfg, TZ)
        env = job_env.JobEnv(s, app.catalog, cfg, TZ, "vi", NOW)
        text = jobs.render_digest(d, env, "vi")
        c2_line = next(line for line in text.splitlines() if "Xã Hai" in line and "báo cáo" in line)
        assert "Nộp báo cáo tuần muộn" in c2_line
        c3_line = next(line for line in text.splitlines() if "Xã Ba" in line and "báo cáo" in line)
        assert "Chưa nộp báo cáo tuần đúng hạn" in c3_line
        assert "Nộp báo cáo tuần muộn" in jobs.reason_text(late[0], env, "vi")
        assert f"{saturday.astimezone(TZ):%d/%m}" in jobs.reason_text(late[0], env, "vi")  # when it came
        assert "submitted late" in jobs.reason_text(late[0], env, "en")


async def test_correction_after_the_window_counts_late(app: App) -> None:
    """docs/kpi.md: a correction sent after keeps_on_time_until is dated when sent, so it is late."""
    cfg = settings_from({})
    week = period_of("week", WEEK)
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        off = await h.person(s, "Cán bộ C1", "officer", t["C1"])
    await h.baocao(app, off.id, FRIDAY, "10 5 2 8 8 0 40 6")
    monday_early = NOW - timedelta(hours=1)
    cal = cfg.calendar(TZ)
    async with app.sessions() as s, s.begin():
        counts = reports.Counts(10, 6, 2, 8, 8, 0, 40, 6)
        await reports.file(s, t["C1"].id, WEEK, counts, monday_early, cal, person_id=off.id, replace=True)
    async with app.sessions() as s:
        found = await kpi.commune_findings(s, week, NOW, cfg, TZ)
    late = [f for f in found[t["C1"].id] if f.rule == "report_late"]
    assert late and late[0].at == monday_early
    assert isinstance(late[0].at, datetime)
