"""APScheduler 3 jobs inside the bot process: times from the `kpi.schedules` config, each run
exactly once per (job, period) — job_runs rows, an advisory lock on PostgreSQL, and outbox
idempotency keys — and a run missed while the bot was down is made up once at start-up."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.kernel import App
from db.base import utcnow
from handlers import handoff_desk, jobs
from services import kpi, ops, upkeep, web_auth
from services.kpi.periods import Period
from services.kpi.settings import KpiSettings

log = logging.getLogger("tocns.scheduler")
WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class RunResult:
    job: str
    period: str | None
    status: str  # "done", "skipped" (already done), "idle" (nothing due)
    messages: int = 0


def kpi_settings(app: App) -> KpiSettings:
    return app.features.kpi  # validated once at start-up (bot/config.py)


def trigger(expr: str, tz: tzinfo) -> CronTrigger:
    return CronTrigger.from_crontab(expr, timezone=tz)


def last_fire(expr: str, tz: tzinfo, now: datetime, grace: timedelta) -> datetime | None:
    """The latest scheduled time in (now - grace, now], if any."""
    trig = trigger(expr, tz)
    fire = trig.get_next_fire_time(None, now - grace)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trig.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


async def run_job(
    app: App, job: str, now: datetime, *, week: Period | None = None, force: bool = False
) -> RunResult:
    """Run one job for the period `now` falls in — the same path for the scheduler, the start-up
    catch-up and `tocns jobs run`. One transaction: outbox rows and the job_runs mark together."""
    cfg = kpi_settings(app)
    tz = app.settings.tz
    period = jobs.period_for(job, now, cfg, tz, week)
    if period is None:
        return RunResult(job, None, "idle")
    started = utcnow()
    # The attempt is recorded in its own short transaction: if this process dies or the job fails,
    # the row stays behind as `running`/`failed` and the watchdog tells the admins.
    async with app.sessions() as session, session.begin():
        attempt = await ops.start_attempt(session, job, period, WORKER, started)
    try:
        async with app.sessions() as session, session.begin():
            await kpi.lock_job(session, job, period)
            if not force and await kpi.job_done(session, job, period):
                result = RunResult(job, period, "skipped")
            else:
                env = jobs.JobEnv(session, app.catalog, cfg, tz, app.settings.app.locale, now)
                added = await jobs.run(job, env, period)
                await kpi.record_job(session, job, period, started, utcnow(), added)
                result = RunResult(job, period, "done", added)
    except Exception as exc:
        async with app.sessions() as session, session.begin():
            await ops.finish_attempt(session, attempt, utcnow(), error=f"{type(exc).__name__}: {exc}")
        app.metrics.observe_job(job, "failed", (utcnow() - started).total_seconds())
        raise
    async with app.sessions() as session, session.begin():
        await ops.finish_attempt(session, attempt, utcnow())
    app.metrics.observe_job(job, result.status, (utcnow() - started).total_seconds())
    if result.status == "skipped":
        return result
    app.dispatcher.wake()
    log.info("job %s period=%s queued=%d", job, period, result.messages)
    return result


async def catch_up(app: App, now: datetime) -> list[RunResult]:
    """Make up, once, every run scheduled within the grace window that has not happened."""
    cfg = kpi_settings(app)
    grace = timedelta(minutes=cfg.grace_minutes)
    out: list[RunResult] = []
    for job in jobs.JOBS:
        fire = last_fire(cfg.schedules[job], app.settings.tz, now, grace)
        if fire is None:
            continue
        result = await run_job(app, job, fire)
        if result.status == "done":
            log.info("made up missed run of %s (%s)", job, result.period)
        out.append(result)
    return out


def build(app: App) -> AsyncIOScheduler:
    """A scheduler with one cron job per configured job (not started)."""
    cfg = kpi_settings(app)
    tz = app.settings.tz
    scheduler = AsyncIOScheduler(timezone=tz)
    for job in jobs.JOBS:
        expr = cfg.schedules[job]

        async def fire(job: str = job, expr: str = expr) -> None:
            now = utcnow()
            # The period comes from the scheduled time, so a late (misfired) run covers the same one.
            when = last_fire(expr, tz, now, timedelta(minutes=cfg.grace_minutes)) or now
            try:
                await run_job(app, job, when)
            except Exception:
                log.exception("job %s failed", job)

        scheduler.add_job(
            fire,
            trigger(expr, tz),
            id=job,
            name=job,
            misfire_grace_time=cfg.grace_minutes * 60 or None,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    scheduler.add_job(
        escalate_tickets,
        "interval",
        args=[app],
        minutes=ESCALATION_EVERY_MINUTES,
        id="handoff_escalation",
        name="handoff_escalation",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
    scheduler.add_job(
        prune_updates,
        "interval",
        args=[app],
        hours=PRUNE_EVERY_HOURS,
        id="prune_processed_updates",
        name="prune_processed_updates",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
    return scheduler


ESCALATION_EVERY_MINUTES = 5
PRUNE_EVERY_HOURS = 6


async def prune_updates(app: App, now: datetime | None = None) -> int:
    """Old dedupe marks go (the window of possible redeliveries stays), so do spent web sign-ins."""
    try:
        idle = timedelta(minutes=app.settings.web.session_idle_minutes)
        async with app.sessions() as session, session.begin():
            count = await upkeep.prune_processed_updates(session, now or utcnow())
            count += await web_auth.prune(session, now or utcnow(), idle)
    except Exception:
        log.exception("pruning processed updates failed")
        return 0
    if count:
        log.info("pruned %d processed-update marks", count)
    return count


async def escalate_tickets(app: App, now: datetime | None = None) -> int:
    """Hand unclaimed help tickets to the commune's officers (idempotent: escalated once)."""
    try:
        async with app.sessions() as session, session.begin():
            count = await handoff_desk.escalate_due(
                session,
                app.catalog,
                now or utcnow(),
                config=app.settings.extra,
                default_locale=app.settings.app.locale,
            )
    except Exception:
        log.exception("ticket escalation failed")
        return 0
    if count:
        app.dispatcher.wake()
        log.info("escalated %d unclaimed tickets", count)
    return count


def next_runs(app: App, now: datetime) -> list[tuple[str, str, datetime | None]]:
    """(job, schedule, next run) for `tocns jobs list`."""
    cfg = kpi_settings(app)
    return [
        (job, cfg.schedules[job], trigger(cfg.schedules[job], app.settings.tz).get_next_fire_time(None, now))
        for job in jobs.JOBS
    ]


async def start(app: App) -> Callable[[], Awaitable[None]]:
    """Start the scheduler in the running loop after making up missed runs; returns `stop`."""
    try:
        await catch_up(app, utcnow())
    except Exception:
        log.exception("catch-up of missed jobs failed")
    scheduler = build(app)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(jobs.JOBS))

    async def stop() -> None:
        scheduler.shutdown(wait=False)

    return stop
