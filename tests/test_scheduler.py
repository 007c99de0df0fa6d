"""The scheduler registers jobs at the configured times and makes up a missed run once."""

from __future__ import annotations

from datetime import timedelta

from bot import scheduler
from bot.assemble import build
from bot.kernel import App
from tests.kpi_helpers import NOW, TZ
from tests.support import make_settings, outbox_rows
from tests.test_jobs import seed


async def test_jobs_registered_at_configured_times(db_url: str) -> None:
    settings = make_settings(db_url)
    extra = {**settings.extra, "kpi": {"schedules": {"weekly_digest": "15 6 * * tue"}}}
    app = build(settings.model_copy(update={"extra": extra}))
    try:
        sched = scheduler.build(app)
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {
            "weekly_digest",
            "lagging_reminders",
            "report_reminder",
            "due_alert",
            "quarter_end",
            "handoff_escalation",
            "prune_processed_updates",
        }
        nxt = jobs["weekly_digest"].trigger.get_next_fire_time(None, NOW).astimezone(TZ)
        assert (nxt.weekday(), nxt.hour, nxt.minute) == (1, 6, 15)
        rem = jobs["report_reminder"].trigger.get_next_fire_time(None, NOW).astimezone(TZ)
        assert (rem.weekday(), rem.hour, rem.minute) == (4, 15, 0)
        assert jobs["weekly_digest"].coalesce and jobs["weekly_digest"].misfire_grace_time == 12 * 3600
        listed = scheduler.next_runs(app, NOW)
        assert listed[0][0] == "weekly_digest" and listed[0][2] == nxt
    finally:
        await app.close()


async def test_missed_run_made_up_once_within_grace(app: App) -> None:
    await seed(app)
    # Outside the grace window (digest was at 07:30 Monday; now is Tuesday 09:00): nothing.
    late = await scheduler.catch_up(app, NOW + timedelta(days=1))
    assert not any(r.job == "weekly_digest" for r in late)
    # Within it: once, however many times the bot restarts.
    for _ in range(3):
        await scheduler.catch_up(app, NOW)
    rows = [r for r in await outbox_rows(app) if r.kind == "weekly_digest"]
    assert len(rows) == 4


async def test_last_fire_time() -> None:
    fire = scheduler.last_fire("30 7 * * mon", TZ, NOW, timedelta(hours=12))
    assert fire is not None and fire.astimezone(TZ).hour == 7 and fire.astimezone(TZ).minute == 30
    assert scheduler.last_fire("30 7 * * mon", TZ, NOW, timedelta(hours=1)) is None


async def test_ticket_escalation_is_scheduled_and_runs(seeded_app: App) -> None:
    from db.base import utcnow
    from services import handoff, people, units

    sched = scheduler.build(seeded_app)
    job = sched.get_job("handoff_escalation")
    assert job is not None and job.trigger.interval == timedelta(minutes=scheduler.ESCALATION_EVERY_MINUTES)
    cfg = handoff.settings_from(seeded_app.settings.extra)
    opened = utcnow() + timedelta(days=7)
    while not handoff.is_open(cfg.working_hours, opened):
        opened += timedelta(minutes=15)
    async with seeded_app.sessions() as s, s.begin():
        citizen, _ = await people.resolve(s, "telegram", "esc-1", "esc-1", "Người dân")
        commune = await units.get(s, "19786")
        await handoff.create(s, citizen, commune.id, "Tôi cần hỗ trợ làm căn cước cho con", opened)
    assert await scheduler.escalate_tickets(seeded_app, opened + timedelta(minutes=5)) == 0  # not yet due
    later = opened + timedelta(minutes=cfg.claim_timeout_minutes + 1)
    while not handoff.is_open(cfg.working_hours, later):
        later += timedelta(minutes=15)
    assert await scheduler.escalate_tickets(seeded_app, later + timedelta(hours=2)) == 1
    assert await scheduler.escalate_tickets(seeded_app, later + timedelta(hours=3)) == 0  # once
