"""Jobs with a frozen clock: the digest after downtime is sent once; two apps send once; a
lagging unit gets exactly the reminders its rules produce."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot import scheduler
from bot.assemble import build
from bot.kernel import App
from services import kpi
from tests import kpi_helpers as h
from tests.kpi_helpers import FRIDAY, NOW, WEEK, at
from tests.support import make_settings, outbox_rows


async def seed(app: App) -> dict[str, Any]:
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        d1 = WEEK + timedelta(days=1)
        for mode in ("full_online", "partial_online", "partial_online", "counter"):
            await h.dossier(s, t["C1"], mode, at(d1))
        from db.repositories import kpi as krepo

        await krepo.upsert_target(s, t["P"].id, "online_rate", "2026-Q4", 60.0, None)
        people = {
            "lead_p": await h.person(s, "Lãnh đạo tỉnh", "leader", t["P"]),
            "lead_p_en": await h.person(s, "Provincial leader", "leader", t["P"], locale="en"),
            "off_c1": await h.person(s, "Cán bộ C1", "officer", t["C1"]),
            "off_c2": await h.person(s, "Cán bộ C2", "officer", t["C2"]),
            "tl_c2": await h.person(s, "Tổ trưởng C2", "team_leader", t["T2a"]),
            "off_c3": await h.person(s, "Cán bộ C3", "officer", t["C3"]),
        }
    ids = {k: p.id for k, p in people.items()}
    # Weekly reports as officers file them: C1 and C2 on Friday of W47 (C2 with no online
    # dossier at all), C2 also on Friday of W46. C3 never reports (lagging every week).
    assert "đúng hạn" in await h.baocao(app, ids["off_c1"], FRIDAY, "10 5 2 8 6 1 20 4")
    assert "đúng hạn" in await h.baocao(app, ids["off_c2"], FRIDAY, "12 0 0 8 6 1 20 4")
    assert "đúng hạn" in await h.baocao(app, ids["off_c2"], FRIDAY - timedelta(7), "12 10 2 8 6 1 20 4")
    return {"t": t, **ids}


async def test_digest_after_downtime_is_sent_once(app: App) -> None:
    ids = await seed(app)
    # The bot was down at 07:30; it starts at 09:00 (within the grace window): one make-up run.
    first = await scheduler.catch_up(app, NOW)
    digest_run = next(r for r in first if r.job == "weekly_digest")
    assert digest_run.status == "done" and digest_run.period == "2026-W47"
    again = await scheduler.catch_up(app, NOW + timedelta(minutes=5))
    assert all(r.status in ("skipped", "idle") for r in again)
    rows = [r for r in await outbox_rows(app) if r.kind == "weekly_digest"]
    assert len(rows) == 4  # two leaders × (text + chart)
    vi_text = next(r for r in rows if r.person_id == ids["lead_p"] and "attachment" not in r.payload)
    text = vi_text.payload["text"]
    assert "Tổng hợp tuần 47/2026 (16/11–22/11)" in text and "Xã Một" in text and "Xã Hai" in text
    assert "Cả tuần không có hồ sơ trực tuyến nào" in text
    assert vi_text.payload["buttons"][0][0][1] == "kpx:P:2026-W47"
    chart = next(r for r in rows if r.person_id == ids["lead_p"] and "attachment" in r.payload)
    assert chart.payload["attachment"]["kind"] == "photo"
    en = next(r for r in rows if r.person_id == ids["lead_p_en"] and "attachment" not in r.payload)
    assert "Weekly digest" in en.payload["text"]
    # `tocns jobs run` (forced) uses the same path: the idempotency keys stop duplicates.
    forced = await scheduler.run_job(app, "weekly_digest", NOW, force=True)
    assert forced.status == "done" and forced.messages == 0


async def test_two_apps_send_once(app: App, db_url: str) -> None:
    await seed(app)
    other = build(make_settings(db_url))
    try:
        results = await asyncio.gather(
            scheduler.run_job(app, "weekly_digest", NOW), scheduler.run_job(other, "weekly_digest", NOW)
        )
    finally:
        await other.close()
    assert sorted(r.status for r in results) == ["done", "skipped"]
    rows = [r for r in await outbox_rows(app) if r.kind == "weekly_digest"]
    assert len(rows) == 4
    assert len({r.idempotency_key for r in rows}) == 4


async def test_lagging_reminders_follow_the_rules(app: App) -> None:
    ids = await seed(app)
    result = await scheduler.run_job(app, "lagging_reminders", NOW)
    assert result.period == "2026-W47"
    rows = [r for r in await outbox_rows(app) if r.kind == "lagging_reminders"]
    to = {}
    for r in rows:
        to.setdefault(r.person_id, []).append(r.payload["text"])
    # C1 is at 75 % (target 60): no reminder. C2: no online dossier. C3: no weekly report.
    assert set(to) == {ids["off_c2"], ids["tl_c2"], ids["off_c3"], ids["lead_p"], ids["lead_p_en"]}
    c2 = to[ids["off_c2"]][0]
    assert (
        "Cả tuần không có hồ sơ trực tuyến nào" in c2 and "Gợi ý" in c2 and "báo cáo" not in c2.split("\n")[1]
    )
    assert to[ids["tl_c2"]] == [c2]
    c3 = to[ids["off_c3"]][0]
    assert "Chưa nộp báo cáo tuần" in c3 and "Gợi ý" in c3
    # C3 lagged three weeks in a row: its province's leaders are told once each.
    assert len(to[ids["lead_p"]]) == 1 and "3 tuần liên tiếp" in to[ids["lead_p"]][0]
    assert "3 or more weeks in a row" in to[ids["lead_p_en"]][0]


async def test_report_reminder_and_due_alert(app: App) -> None:
    ids = await seed(app)
    t = ids["t"]
    async with app.sessions() as s, s.begin():
        today = kpi.local_day(NOW)
        await h.dossier(s, t["C1"], "counter", at(today - timedelta(10)), due=at(today + timedelta(1), 15))
        await h.dossier(s, t["C1"], "counter", at(today - timedelta(10)), due=at(today - timedelta(1)))
        await h.dossier(s, t["C1"], "counter", at(today - timedelta(10)), due=at(today + timedelta(5)))
    friday = NOW + timedelta(days=4, hours=6)  # Friday 15:00 of W48
    await scheduler.run_job(app, "report_reminder", friday)
    await scheduler.run_job(app, "due_alert", NOW)
    rows = await outbox_rows(app)
    reminded = {r.person_id for r in rows if r.kind == "report_reminder"}
    assert reminded == {ids["off_c1"], ids["off_c2"], ids["off_c3"]}  # nobody has reported W48 yet
    due = [r for r in rows if r.kind == "due_alert"]
    assert [r.person_id for r in due] == [ids["off_c1"]]
    text = due[0].payload["text"]
    assert "1 hồ sơ đã quá hạn; 1 hồ sơ đến hạn ngày mai." in text and "hôm nay" not in text


async def test_quarter_end_notice_only_near_the_end(app: App) -> None:
    await seed(app)
    assert (await scheduler.run_job(app, "quarter_end", NOW)).status == "idle"  # 38 days left
    late = NOW + timedelta(days=28)
    result = await scheduler.run_job(app, "quarter_end", late)
    assert result.period == "2026-Q4" and result.messages == 2
    assert (await scheduler.run_job(app, "quarter_end", late + timedelta(days=1))).status == "skipped"


async def test_due_alert_separates_overdue_today_tomorrow_and_counts_the_rest(app: App) -> None:
    ids = await seed(app)
    t = ids["t"]
    today = kpi.local_day(NOW)
    async with app.sessions() as s, s.begin():
        received = at(today - timedelta(10))
        await h.dossier(s, t["C2"], "counter", received, due=at(today - timedelta(2)))
        for hour in (13, 15, 16):
            await h.dossier(s, t["C2"], "counter", received, due=at(today, hour))
        for hour in (8, 9, 10):
            await h.dossier(s, t["C2"], "counter", received, due=at(today + timedelta(1), hour))
        await h.dossier(s, t["C2"], "counter", received, due=at(today + timedelta(1), 11), finished=at(today))
    await scheduler.run_job(app, "due_alert", NOW)
    (alert,) = [r.payload["text"] for r in await outbox_rows(app) if r.kind == "due_alert"]
    assert "Xã Hai: 1 hồ sơ đã quá hạn; 3 hồ sơ đến hạn hôm nay; 3 hồ sơ đến hạn ngày mai." in alert
    assert "và 2 hồ sơ khác" in alert  # 7 open dossiers, 5 codes shown
