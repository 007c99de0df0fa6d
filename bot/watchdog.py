"""Nothing fails silently: checks what can stop working, tells the admins (and `ops.alert_chat`) once
when a problem starts and once when it clears, and keeps the metrics' gauges fresh.

Runs beside the scheduler, on the worker holding the scheduler lease, every `ops.check_seconds`.
The same checks print the picture for `tocns status`. When the database itself is unreachable for
longer than `ops.db_down_after_seconds`, the alert cannot go through the outbox: it is sent straight
through the channels to the admins known from the last good check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import App, DeliveryError
from bot.scheduler import kpi_settings, last_fire
from db.base import utcnow
from db.models import Lease, OutboxMessage, ProcessedUpdate, ZaloOAToken
from handlers import job_env, jobs
from handlers.core import Reply, push_reply
from services import kpi, ops, outbox, people
from services.ops import Problem

log = logging.getLogger("tocns.watchdog")
ZALO_REFRESH_TOKEN_DAYS = 90  # Zalo OA refresh tokens live three months (docs/zalo.md)
DEAD_WINDOW = timedelta(hours=24)
ZALO_CHANNELS = ("zalo_bot", "zalo_oa")


class HasProblems(Protocol):
    """A channel that can say what is wrong with it (Telegram's getWebhookInfo, for one)."""

    async def health_problems(self, now: datetime) -> list[Problem]: ...


@dataclass
class Picture:
    """What `tocns status` prints and the watchdog acts on."""

    problems: list[Problem] = field(default_factory=list)
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)
    lease_holder: str | None = None
    token_expiry: dict[str, datetime] = field(default_factory=dict)


async def look(
    app: App,
    session: AsyncSession,
    now: datetime,
    channels: Sequence[object] = (),
    watching_since: datetime | None = None,
) -> Picture:
    """Every check, read-only. A run is "missed" only if it was due after the schedule first ran here
    (the first job attempt) or after `watching_since`: a fresh install has missed nothing."""
    pic = Picture()
    pic.outbox = {
        (kind, status): n
        for kind, status, n in (
            await session.execute(
                select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
                    OutboxMessage.kind, OutboxMessage.status
                )
            )
        ).all()
    }
    lease = await session.get(Lease, "scheduler")
    pic.lease_holder = lease.holder if lease is not None and lease.expires_at > now else None
    pic.problems += await _dead_pushes(session, now)
    pic.problems += await _jobs(app, session, now, watching_since)
    pic.problems += await _zalo_tokens(app, session, now, pic)
    pic.problems += await _zalo_silence(app, session, now)
    for channel in channels:
        check = getattr(channel, "health_problems", None)
        if check is not None:
            try:
                pic.problems += await check(now)
            except Exception as exc:  # the platform did not answer: that is worth saying too
                name = getattr(channel, "name", "?")
                pic.problems.append(
                    Problem(f"{name}.unreachable", "ops.platform_unreachable", {"channel": name})
                )
                log.warning("health check of %s failed: %s", name, exc)
    return pic


async def _dead_pushes(session: AsyncSession, now: datetime) -> list[Problem]:
    rows = (
        await session.execute(
            select(OutboxMessage.kind, func.count())
            .where(OutboxMessage.status == "dead", OutboxMessage.created_at >= now - DEAD_WINDOW)
            .group_by(OutboxMessage.kind)
        )
    ).all()
    if not rows:
        return []
    kinds = ", ".join(f"{kind} ({n})" for kind, n in rows)
    return [Problem("outbox.dead", "ops.outbox_dead", {"count": sum(n for _, n in rows), "kinds": kinds})]


async def _jobs(app: App, session: AsyncSession, now: datetime, since: datetime | None) -> list[Problem]:
    """A job that failed, was cut short, or did not run at its time."""
    first = await ops.first_attempt_at(session)
    if first is not None:
        since = first if since is None else min(since, first)
    cfg = kpi_settings(app)
    grace = timedelta(minutes=app.settings.ops.job_grace_minutes)
    tz = app.settings.tz
    found: list[Problem] = []
    for job in jobs.JOBS:
        last = await ops.last_attempts(session, job)
        attempt = last[0] if last else None
        if attempt is not None and attempt.status == "failed":
            found.append(
                Problem(f"job.failed:{job}", "ops.job_failed", {"job": job, "period": attempt.period})
            )
            continue
        if attempt is not None and attempt.status == "running" and attempt.started_at < now - grace:
            found.append(
                Problem(
                    f"job.interrupted:{job}", "ops.job_interrupted", {"job": job, "period": attempt.period}
                )
            )
            continue
        # The latest time the job should have run, within the last eight days and past its grace.
        fire = last_fire(cfg.schedules[job], tz, now - grace, timedelta(days=8))
        if fire is None or since is None or fire < since:
            continue
        period = job_env.period_for(job, fire, cfg, tz)
        if period is None or await kpi.job_done(session, job, period):
            continue
        due = fire.astimezone(tz).strftime("%H:%M %d/%m")
        found.append(
            Problem(f"job.missed:{job}", "ops.job_missed", {"job": job, "period": period, "due": due})
        )
    return found


async def _zalo_tokens(app: App, session: AsyncSession, now: datetime, pic: Picture) -> list[Problem]:
    warn = timedelta(days=app.settings.ops.token_warn_days)
    found = []
    for row in (await session.execute(select(ZaloOAToken))).scalars():
        if row.refresh_token is None and row.access_token is None:
            continue  # a login started but not finished
        expiry = row.updated_at + timedelta(days=ZALO_REFRESH_TOKEN_DAYS)
        pic.token_expiry[row.app_id] = expiry
        if row.access_expires_at is not None and row.access_expires_at < now:
            found.append(
                Problem(f"zalo_oa.token:{row.app_id}", "ops.zalo_token_expired", {"app_id": row.app_id})
            )
        elif expiry - now < warn:
            days = max(0, (expiry - now).days)
            found.append(
                Problem(
                    f"zalo_oa.token:{row.app_id}",
                    "ops.zalo_token_expiring",
                    {"app_id": row.app_id, "days": days},
                )
            )
    return found


async def _zalo_silence(app: App, session: AsyncSession, now: datetime) -> list[Problem]:
    """A Zalo webhook that used to receive events and has gone quiet (disabled after failed retries)."""
    quiet = timedelta(hours=app.settings.ops.zalo_silence_hours)
    found = []
    for channel in ZALO_CHANNELS:
        if channel not in app.senders:
            continue
        latest = await session.scalar(
            select(func.max(ProcessedUpdate.processed_at)).where(
                ProcessedUpdate.key.startswith(channel + ":")
            )
        )
        if latest is not None and latest < now - quiet:
            hours = int((now - latest).total_seconds() // 3600)
            found.append(
                Problem(f"{channel}.silent", "ops.zalo_silent", {"channel": channel, "hours": hours})
            )
    return found


class Watchdog:
    def __init__(
        self, app: App, channels: Sequence[object] = (), clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.app = app
        self.channels = list(channels)
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._admin_addresses: list[tuple[str, str, str]] = []  # (channel, chat_id, locale) for DB-down
        self._db_down_since: datetime | None = None
        self._db_down_told = False
        self._since = clock()

    async def check_once(self) -> ops.Change:
        """One round: look, reconcile incidents, queue the alerts, refresh gauges."""
        now = self.clock()
        async with self.app.sessions() as session:
            pic = await look(self.app, session, now, self.channels, self._since)
        async with self.app.sessions() as session, session.begin():
            change = await ops.reconcile(session, pic.problems, now)
            admins = await ops.admins(session)
            await self._remember_admins(session, admins)
            for problem in change.opened:
                await self._tell(
                    session, admins, f"incident:{problem.key}:{now.isoformat()}", "ops.alert", problem
                )
            for key, details in change.resolved:
                what = Problem(key, str(details.get("what", "ops.unknown")), details)
                await self._tell(session, admins, f"resolved:{key}:{now.isoformat()}", "ops.resolved", what)
        if change.opened or change.resolved:
            self.app.dispatcher.wake()
            log.warning(
                "incidents opened=%s resolved=%s",
                [p.key for p in change.opened],
                [k for k, _ in change.resolved],
            )
        self._gauges(pic)
        return change

    async def _tell(
        self, session: AsyncSession, admins: list[int], key: str, frame: str, problem: Problem
    ) -> None:
        catalog = self.app.catalog
        for person_id in admins:
            actor = await people.load_actor(session, person_id)
            lang = actor.locale or self.app.settings.app.locale
            text = catalog.text(lang, frame, what=catalog.text(lang, problem.what, **problem.params))
            await push_reply(session, person_id, Reply(text), kind="ops_alert", idempotency=key)
        chat = self.app.settings.ops.alert_chat
        if chat:
            channel, chat_id = chat.split(":", 1)
            lang = self.app.settings.app.locale
            text = catalog.text(lang, frame, what=catalog.text(lang, problem.what, **problem.params))
            await outbox.enqueue(
                session,
                key=f"{key}:chat",
                kind="ops_alert",
                channel=channel,
                chat_id=chat_id,
                payload=Reply(text).to_payload(),
            )

    async def _remember_admins(self, session: AsyncSession, admins: list[int]) -> None:
        addresses = []
        for person_id in admins:
            actor = await people.load_actor(session, person_id)
            for ref in await people.reach(session, person_id):
                addresses.append((ref.channel, ref.chat_id, actor.locale or self.app.settings.app.locale))
        if self.app.settings.ops.alert_chat:
            channel, chat_id = self.app.settings.ops.alert_chat.split(":", 1)
            addresses.append((channel, chat_id, self.app.settings.app.locale))
        self._admin_addresses = addresses

    def _gauges(self, pic: Picture) -> None:
        m = self.app.metrics
        m.outbox.clear()
        for (kind, status), n in pic.outbox.items():
            m.outbox.labels(kind, status).set(n)
        m.lease_holder.clear()
        if pic.lease_holder:
            m.lease_holder.labels(pic.lease_holder).set(1)
        for app_id, expiry in pic.token_expiry.items():
            m.zalo_token_expiry.labels(app_id).set(expiry.timestamp())
        m.open_incidents.set(len({p.key for p in pic.problems}))

    async def database_unreachable(self, exc: BaseException) -> None:
        """Called when a round could not reach the database: alert straight through the channels once
        it has lasted `ops.db_down_after_seconds`."""
        now = self.clock()
        if self._db_down_since is None:
            self._db_down_since = now
        elapsed = (now - self._db_down_since).total_seconds()
        if self._db_down_told or elapsed < self.app.settings.ops.db_down_after_seconds:
            return
        self._db_down_told = True
        log.error("database unreachable for %.0f s: %s", elapsed, exc)
        for channel, chat_id, lang in self._admin_addresses:
            sender = self.app.senders.get(channel)
            if sender is None:
                continue
            text = self.app.catalog.text(
                lang, "ops.alert", what=self.app.catalog.text(lang, "ops.db_down", seconds=int(elapsed))
            )
            with contextlib.suppress(DeliveryError, OSError, asyncio.TimeoutError):
                await sender.send(chat_id, Reply(text))

    async def database_back(self) -> None:
        if self._db_down_since is None:
            return
        since, told = self._db_down_since, self._db_down_told
        self._db_down_since, self._db_down_told = None, False
        if not told:
            return
        now = self.clock()
        async with self.app.sessions() as session, session.begin():
            await ops.reconcile(session, [Problem("database.down", "ops.db_down", {"seconds": 0})], since)
            change = await ops.reconcile(session, [], now, scope="database.down")
            admins = await ops.admins(session)
            for key, _ in change.resolved:
                what = Problem(key, "ops.db_down", {"seconds": int((now - since).total_seconds())})
                await self._tell(session, admins, f"resolved:{key}:{now.isoformat()}", "ops.resolved", what)
        self.app.dispatcher.wake()

    async def run(self) -> None:
        interval = self.app.settings.ops.check_seconds
        while True:
            try:
                await self.check_once()
                await self.database_back()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _is_database_error(exc):
                    await self.database_unreachable(exc)
                else:
                    log.exception("watchdog round failed")
            await asyncio.sleep(interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="watchdog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _is_database_error(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, DBAPIError, OSError, ConnectionError, asyncio.TimeoutError))


def describe(app: App, pic: Picture, lang: str) -> list[str]:
    """The picture as lines of text (for `tocns status`)."""
    t = app.catalog.text
    lines = [t(lang, "ops.status.lease", holder=pic.lease_holder or "—")]
    pending = sum(n for (_, status), n in pic.outbox.items() if status == "pending")
    dead = sum(n for (_, status), n in pic.outbox.items() if status == "dead")
    lines.append(t(lang, "ops.status.outbox", pending=pending, dead=dead))
    for app_id, expiry in pic.token_expiry.items():
        lines.append(
            t(
                lang,
                "ops.status.zalo_token",
                app_id=app_id,
                date=expiry.astimezone(app.settings.tz).strftime("%d/%m/%Y"),
            )
        )
    if not pic.problems:
        lines.append(t(lang, "ops.status.all_good"))
    for p in pic.problems:
        lines.append("⚠ " + t(lang, p.what, **p.params))
    return lines
