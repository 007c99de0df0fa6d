"""APScheduler 3 jobs inside the bot process: times from the `kpi.schedules` config, each run
exactly once per (job, period) — job_runs rows, a per-job lock across processes (bot/joblock.py),
and outbox idempotency keys — and a run missed while the bot was down is made up once at start-up.

A run never holds the database nor the event loop for long: the job body computes in a read-only
session (on SQLite it does not take the write lock), renders each unit's chart once outside any
transaction, and hands back the messages; they are written to the outbox in short transactions (one
multi-row INSERT of at most WRITE_BATCH rows each), queued behind people's updates on the same write
gate, and the job_runs mark comes last. Inside the bot the body runs in a child process
(bot/jobchild.py), so its garbage collections and its hold on the GIL are not the loop's; elsewhere
(`tocns jobs run`, which is its own process, and tests) in a thread with its own event loop. A crash
midway is safe: the next run writes what is missing and the idempotency keys skip what was queued."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobchild
from bot.joblock import job_lock
from bot.kernel import App
from db.base import utcnow
from db.engine import read_session_factory
from handlers import handoff_desk, job_env, jobs
from services import kpi, ops, outbox, people, upkeep, web_auth
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
    longest_write_ms: float = 0.0  # the longest write transaction of the run
    writes: int = 0  # write transactions of the run


WRITE_BATCH = 100  # outbox rows per write transaction (one INSERT … VALUES statement)
WRITE_BYTES = 2_000_000  # …or about this much attachment data (charts)


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
    app: App,
    job: str,
    now: datetime,
    *,
    week: Period | None = None,
    force: bool = False,
    in_child: bool = False,
    preview: bool = False,
) -> RunResult:
    """Run one job for the period `now` falls in — the same path for the scheduler, the start-up
    catch-up and `tocns jobs run`. Outbox rows go in short batches (their idempotency keys make a
    re-run add only what is missing), the job_runs mark last; the attempt is recorded around it.
    `in_child`: compute in a child process (the scheduler inside the bot). `preview`: a week under
    way (`jobs run --partial`) — messages labelled as such, with keys of their own, and the run not
    recorded, so the week's real run still sends once the week is over."""
    cfg = kpi_settings(app)
    tz = app.settings.tz
    period = job_env.period_for(job, now, cfg, tz, week)
    if period is None:
        return RunResult(job, None, "idle")
    started = utcnow()
    # The attempt is recorded in its own short transaction: if this process dies or the job fails,
    # the row stays behind as `running`/`failed` and the watchdog tells the admins.
    async with app.intake.write_gate.hold(), app.sessions() as session, session.begin():
        attempt = await ops.start_attempt(session, job, period, WORKER, started)
    try:
        result = await _run_locked(
            app, job, now, period, started, force=force, in_child=in_child, preview=preview
        )
    except Exception as exc:
        async with app.intake.write_gate.hold(), app.sessions() as session, session.begin():
            await ops.finish_attempt(session, attempt, utcnow(), error=f"{type(exc).__name__}: {exc}")
        app.metrics.observe_job(job, "failed", (utcnow() - started).total_seconds())
        raise
    async with app.intake.write_gate.hold(), app.sessions() as session, session.begin():
        await ops.finish_attempt(session, attempt, utcnow())
    app.metrics.observe_job(job, result.status, (utcnow() - started).total_seconds())
    return result


async def _run_locked(
    app: App,
    job: str,
    now: datetime,
    period: str,
    started: datetime,
    *,
    force: bool,
    in_child: bool,
    preview: bool = False,
) -> RunResult:
    """Compute off the loop on a read-only session, write the outbox rows in short batches, mark the
    run done — under the (job, period) lock, so two workers never run it twice."""
    async with job_lock(app.engine, job, period):
        async with read_session_factory(app.engine)() as session:
            if not force and await kpi.job_done(session, job, period):
                return RunResult(job, period, "skipped")
        out = await compute_off_loop(app, job, now, period, in_child=in_child, preview=preview)
        added, longest, writes = await write_messages(app, out)
        if not preview:  # a preview is not the period's run: that one is still due
            async with app.intake.write_gate.hold(), app.sessions() as session, session.begin():
                t0 = await _begun(session)
                await kpi.record_job(session, job, period, started, utcnow(), added)
            longest = max(longest, (time.perf_counter() - t0) * 1000)
            writes += 1
    app.dispatcher.wake()
    log.info(
        "job %s period=%s queued=%d writes=%d longest_write_ms=%.0f", job, period, added, writes, longest
    )
    return RunResult(job, period, "preview" if preview else "done", added, longest, writes)


def job_spec(app: App, job: str, now: datetime, period: str, preview: bool = False) -> jobchild.JobSpec:
    s = app.settings
    return jobchild.JobSpec(
        job, now, period, app.catalog, kpi_settings(app), s.tz, s.app.locale, s.log, preview
    )


async def compute_off_loop(
    app: App, job: str, now: datetime, period: str, *, in_child: bool = False, preview: bool = False
) -> list[job_env.Queued]:
    """Run the job body off the bot's event loop: a national digest's Python work (figures for
    thousands of units, text, charts) never holds it. In a child process (`in_child`: inside the
    bot, where a thread would share the GIL and the garbage collector's full passes with the loop),
    or in a thread with its own event loop and engine (`tocns jobs run`, tests)."""
    url = app.engine.url
    spec = job_spec(app, job, now, period, preview)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return await jobchild.compute(app.engine, spec)  # a private in-memory database
    if in_child:
        return await jobchild.run(spec, url)
    rendered = url.render_as_string(hide_password=False)
    return await asyncio.to_thread(asyncio.run, jobchild.compute_with_own_engine(rendered, spec))


async def write_messages(app: App, items: Sequence[job_env.Queued]) -> tuple[int, float, int]:
    """Queue a job's messages; (rows added, longest write transaction ms, write transactions).
    Recipients' accounts are looked up first (no transaction held); then each write transaction is
    one multi-row INSERT … ON CONFLICT DO NOTHING of at most WRITE_BATCH rows (or about WRITE_BYTES
    of attachments)."""
    async with read_session_factory(app.engine)() as session:
        reach = await people.reach_many(session, sorted({q.person_id for q in items}))
    added, longest, writes = 0, 0.0, 0
    # Each batch's payloads (charts in base64) are built just before it is written, not all at once:
    # a national digest's thousands of charts would otherwise hold the loop in one go.
    for batch in _batches(items, reach):
        async with app.intake.write_gate.hold(), app.sessions() as session, session.begin():
            t0 = await _begun(session)
            added += await outbox.enqueue_many(session, batch)
        longest = max(longest, (time.perf_counter() - t0) * 1000)
        writes += 1
        app.dispatcher.wake()  # the first batches go out while the rest are written
    return added, longest, writes


def _batches(
    items: Sequence[job_env.Queued], reach: dict[int, list[people.AccountRef]]
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for q in items:
        refs = reach.get(q.person_id, [])
        if not refs:
            continue
        payload = q.reply.to_payload()
        weight = len(q.reply.attachment.data) if q.reply.attachment else 200
        for ref in refs:
            if len(batch) >= WRITE_BATCH or (batch and size + weight > WRITE_BYTES):
                yield batch
                batch, size = [], 0
            batch.append(
                {
                    "idempotency_key": f"{q.key}:{ref.channel}:{ref.chat_id}",
                    "kind": q.kind,
                    "channel": ref.channel,
                    "chat_id": ref.chat_id,
                    "person_id": q.person_id,
                    "payload": payload,
                }
            )
            size += weight
    if batch:
        yield batch


async def _begun(session: AsyncSession) -> float:
    """Begin now (BEGIN IMMEDIATE on SQLite: the write lock is ours from here); the clock at that."""
    await session.connection()
    return time.perf_counter()


async def catch_up(app: App, now: datetime, *, in_child: bool = False) -> list[RunResult]:
    """Make up, once, every run scheduled within the grace window that has not happened."""
    cfg = kpi_settings(app)
    grace = timedelta(minutes=cfg.grace_minutes)
    out: list[RunResult] = []
    for job in jobs.JOBS:
        fire = last_fire(cfg.schedules[job], app.settings.tz, now, grace)
        if fire is None:
            continue
        result = await run_job(app, job, fire, in_child=in_child)
        if result.status == "done":
            log.info("made up missed run of %s (%s)", job, result.period)
        out.append(result)
    return out


Clock = Callable[[], datetime]


def build(
    app: App, *, clock: Clock = utcnow, running: set[asyncio.Task[Any]] | None = None
) -> AsyncIOScheduler:
    """A scheduler with one cron job per configured job (not started); each run's body computes in
    a child process, and its task is kept in `running` while it lasts."""
    cfg = kpi_settings(app)
    tz = app.settings.tz
    scheduler = AsyncIOScheduler(timezone=tz)
    for job in jobs.JOBS:
        expr = cfg.schedules[job]

        async def fire(job: str = job, expr: str = expr) -> None:
            now = clock()
            # The period comes from the scheduled time, so a late (misfired) run covers the same one.
            when = last_fire(expr, tz, now, timedelta(minutes=cfg.grace_minutes)) or now
            task = asyncio.current_task()
            if running is not None and task is not None:
                running.add(task)
            try:
                await run_job(app, job, when, in_child=True)
            except Exception:
                log.exception("job %s failed", job)
            finally:
                if running is not None and task is not None:
                    running.discard(task)

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


def scheduled_run(app: App, job: str, period: Period) -> datetime | None:
    """When the scheduler runs `job` for the week `period`: the first time of its schedule whose run
    covers that week (the report reminder of the week under way: its Friday 15:00 by default)."""
    cfg = kpi_settings(app)
    tz = app.settings.tz
    trig = trigger(cfg.schedules[job], tz)
    since = datetime.combine(period.start - timedelta(days=7), datetime.min.time(), tzinfo=tz)
    fire = trig.get_next_fire_time(None, since)
    while fire is not None and fire < since + timedelta(days=35):
        if job_env.period_for(job, fire, cfg, tz) == period.key:
            found: datetime = fire
            return found
        fire = trig.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return None


async def start(app: App, *, clock: Clock = utcnow) -> Callable[[], Awaitable[None]]:
    """Start the scheduler in the running loop after making up missed runs; returns `stop`, which
    cancels a run in progress (its child process is killed) and waits for it to end."""
    try:
        await catch_up(app, clock(), in_child=True)
    except Exception:
        log.exception("catch-up of missed jobs failed")
    running: set[asyncio.Task[Any]] = set()
    scheduler = build(app, clock=clock, running=running)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(jobs.JOBS))

    async def stop() -> None:
        scheduler.shutdown(wait=False)  # cancels the runs in progress
        await asyncio.gather(*running, return_exceptions=True)

    return stop
