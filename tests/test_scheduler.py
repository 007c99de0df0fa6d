"""The scheduler registers jobs at the configured times and makes up a missed run once; inside the
bot a job's body runs in a child process, which queues the same rows, and whose crash, timeout or
shutdown leaves a failed (or interrupted) attempt and nothing half-written."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from bot import jobchild, scheduler
from bot.assemble import build
from bot.kernel import App
from bot.watchdog import Watchdog
from db.models import JobAttempt, JobRun, OutboxMessage
from handlers.core import Reply
from services import kpi
from tests.kpi_helpers import NOW, TZ
from tests.support import Clock, make_settings, outbox_rows
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
    # A Monday 08:00 a week or more ahead (tickets are stamped with the real clock): the checks below
    # fall in the morning's working hours whatever time the suite runs (at 09:00 «+2 h» was lunch).
    day = (utcnow() + timedelta(days=7)).astimezone(TZ).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    opened = datetime(day.year, day.month, day.day, 8, 0, tzinfo=TZ).astimezone(UTC)
    assert handoff.is_open(cfg.working_hours, opened)
    async with seeded_app.sessions() as s, s.begin():
        citizen, _ = await people.resolve(s, "telegram", "esc-1", "esc-1", "Người dân")
        commune = await units.get(s, "19786")
        await handoff.create(s, citizen, commune.id, "Tôi cần hỗ trợ làm căn cước cho con", opened)
    assert await scheduler.escalate_tickets(seeded_app, opened + timedelta(minutes=5)) == 0  # not yet due
    later = opened + timedelta(minutes=cfg.claim_timeout_minutes + 1)
    while not handoff.is_open(cfg.working_hours, later):
        later += timedelta(minutes=15)
    assert await scheduler.escalate_tickets(seeded_app, later + timedelta(hours=1)) == 1
    assert await scheduler.escalate_tickets(seeded_app, later + timedelta(hours=2)) == 0  # once


# --- inside the bot, the job body runs in a child process (bot/jobchild.py) ---------------------


class Console:
    """The console channel's platform: records every push."""

    channel = "console"
    supports_buttons = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply.text))


def rows_by_key(rows: list[Any]) -> dict[str, tuple[Any, ...]]:
    return {r.idempotency_key: (r.kind, r.channel, r.chat_id, r.person_id, r.payload) for r in rows}


async def test_in_bot_jobs_computed_in_a_child_queue_the_same_rows_sent_once(db_url: str) -> None:
    app = build(make_settings(db_url))
    try:
        await seed(app)
        stop = await scheduler.start(app, clock=lambda: NOW)  # the bot starts at 09:00 Monday
        await stop()
        in_child = rows_by_key(await outbox_rows(app))
        assert sum(1 for kind, *_ in in_child.values() if kind == "weekly_digest") == 4
        async with app.sessions() as s:
            attempts = (await s.execute(select(JobAttempt))).scalars().all()
        assert attempts and {a.status for a in attempts} == {"done"}
        restarted = await scheduler.start(app, clock=lambda: NOW + timedelta(minutes=5))
        await restarted()  # made up once: nothing more
        assert rows_by_key(await outbox_rows(app)) == in_child
        console = Console()
        app.add_sender(console)
        while await app.dispatcher.drain_once():
            pass
        assert sorted(chat for chat, _ in console.sent) == sorted(row[2] for row in in_child.values())
        # The same runs computed in this process (as `tocns jobs run` does) give the very same rows.
        async with app.sessions() as s, s.begin():
            await s.execute(delete(OutboxMessage))
            await s.execute(delete(JobRun))
        await scheduler.catch_up(app, NOW)
        assert rows_by_key(await outbox_rows(app)) == in_child
    finally:
        await app.close()


# Stand-ins for the child: the real one, made to fail after its first messages went out.
RAISES = """
from handlers import jobs
async def broken(*args):
    raise RuntimeError("digest template broken")
jobs.run = broken
from bot import jobchild
jobchild._main()
"""
KILLED = """
import os, signal
from bot import jobchild
jobchild.FRAME_MESSAGES = 1
real = jobchild._frame
def frame(kind, body):
    if kind == jobchild.DONE:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(kind, body)
jobchild._frame = frame
jobchild._main()
"""


@pytest.mark.parametrize(
    ("stand_in", "error"), [(RAISES, "digest template broken"), (KILLED, "exit code -9")]
)
async def test_a_failing_child_is_a_failed_attempt_and_writes_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch, stand_in: str, error: str
) -> None:
    await seed(app)
    monkeypatch.setattr(jobchild, "COMMAND", (sys.executable, "-c", stand_in))
    with pytest.raises(jobchild.JobChildFailed, match=error):
        await scheduler.run_job(app, "weekly_digest", NOW, in_child=True)
    assert [r for r in await outbox_rows(app) if r.kind == "weekly_digest"] == []
    async with app.sessions() as s:
        attempt = (await s.execute(select(JobAttempt))).scalars().one()
        assert not await kpi.job_done(s, "weekly_digest", "2026-W47")
    assert attempt.status == "failed" and attempt.error is not None and error in attempt.error
    change = await Watchdog(app, clock=Clock(NOW)).check_once()
    assert "job.failed:weekly_digest" in [p.key for p in change.opened]
    monkeypatch.undo()
    again = await scheduler.run_job(app, "weekly_digest", NOW, in_child=True)
    assert again.status == "done" and again.messages == 4


def sleeper(pidfile: Path) -> tuple[str, ...]:
    return (
        sys.executable,
        "-c",
        f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)",
    )


def read_pid(pidfile: Path) -> int | None:
    text = pidfile.read_text() if pidfile.exists() else ""
    return int(text) if text else None


async def started(pidfile: Path) -> int:
    for _ in range(600):
        if (pid := read_pid(pidfile)) is not None:
            return pid
        await asyncio.sleep(0.05)
    raise AssertionError("the job's process did not start")


def gone(pid: int) -> bool:
    """Ended and reaped (a zombie still answers signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_child_past_its_time_is_stopped_and_the_attempt_failed(
    app: App, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await seed(app)
    monkeypatch.setattr(jobchild, "COMMAND", sleeper(tmp_path / "pid"))
    monkeypatch.setattr(jobchild, "TIMEOUT_SECONDS", 3.0)
    with pytest.raises(jobchild.JobChildFailed, match="no result after 3 s"):
        await scheduler.run_job(app, "weekly_digest", NOW, in_child=True)
    assert gone(await started(tmp_path / "pid"))
    async with app.sessions() as s:
        attempt = (await s.execute(select(JobAttempt))).scalars().one()
    assert attempt.status == "failed" and await outbox_rows(app) == []


async def test_the_bot_stopping_kills_the_jobs_child(
    app: App, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await seed(app)
    monkeypatch.setattr(jobchild, "COMMAND", sleeper(tmp_path / "pid"))
    starting = asyncio.create_task(scheduler.start(app, clock=lambda: NOW))  # making up the digest
    pid = await started(tmp_path / "pid")
    starting.cancel()  # the bot stops (asyncio.run cancels what is left)
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert gone(pid)
    assert await outbox_rows(app) == []
