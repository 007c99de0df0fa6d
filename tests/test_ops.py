"""Run it like a service: /healthz, /readyz, /metrics (parsed by prometheus-client's own parser), and
the watchdog that tells admins — once — when pushes die, jobs fail, stop half-way or do not run, and
again when it clears. Everything is produced by the product's flows with an injected clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot import scheduler
from bot.assemble import build
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram import build_channel as build_telegram
from bot.kernel import App, DeliveryError
from bot.serve import READINESS, build_channels
from bot.watchdog import Watchdog
from db import crypto
from db.models import Incident, JobAttempt, OutboxMessage
from db.repositories import zalo as zalo_repo
from handlers import jobs
from handlers.core import Reply
from tests.fakes.bot_api import FakeBotApi
from tests.support import ChatDriver, Clock, make_settings, seed_demo

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 16:00 in Huế, after every Monday job


class Refusing:
    """A channel whose platform refuses every message for good (a bad chat id, say)."""

    channel = "console"
    supports_buttons = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        raise DeliveryError("chat not found", permanent=True)


class Recording:
    channel = "console"
    supports_buttons = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply.text))


@pytest.fixture
async def client(seeded_app: App) -> AsyncIterator[TestClient[Any, Any]]:
    _, webapp = build_channels(seeded_app)
    async with TestClient(TestServer(webapp)) as c:
        yield c


async def alerts(app: App) -> list[OutboxMessage]:
    async with app.sessions() as session:
        stmt = select(OutboxMessage).where(OutboxMessage.kind == "ops_alert").order_by(OutboxMessage.id)
        return list((await session.execute(stmt)).scalars())


async def test_metrics_are_prometheus_text_with_what_happened(
    client: TestClient[Any, Any], as_user: Callable[..., ChatDriver]
) -> None:
    dan = as_user("dan")
    await dan.send("/help")
    await dan.send("/toi")
    resp = await client.get("/metrics")
    assert resp.status == 200
    families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    updates = families["tocns_updates"]
    routes = {
        (s.labels["channel"], s.labels["route"]): s.value
        for s in updates.samples
        if s.name.endswith("_total")
    }
    assert routes[("console", "command:help")] == 1
    assert routes[("console", "command:toi")] == 1
    assert "tocns_update_seconds" in families and "tocns_deliveries" in families


async def test_metrics_can_require_a_token(db_url: str) -> None:
    app = build(make_settings(db_url, TOCNS_METRICS_TOKEN="s3cret"))
    try:
        settings = app.settings.model_copy(
            update={"ops": app.settings.ops.model_copy(update={"metrics": "token"})}
        )
        app.settings = settings
        _, webapp = build_channels(app)
        async with TestClient(TestServer(webapp)) as c:
            assert (await c.get("/metrics")).status == 401
            assert (await c.get("/metrics", headers={"Authorization": "Bearer nope"})).status == 401
            ok = await c.get("/metrics", headers={"Authorization": "Bearer s3cret"})
            assert ok.status == 200 and "tocns_updates" in await ok.text()
    finally:
        await app.close()


async def test_ready_only_when_database_migrations_and_channels_are(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/healthz")).status == 200
    starting = await client.get("/readyz")
    assert starting.status == 503 and (await starting.json())["channels"] == "starting"
    client.server.app[READINESS].channels_started = True
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["ready"] is True


async def test_not_ready_on_an_old_schema(tmp_path: Any) -> None:
    app = build(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    try:
        _, webapp = build_channels(app)
        webapp[READINESS].channels_started = True
        async with TestClient(TestServer(webapp)) as c:
            resp = await c.get("/readyz")
            body = await resp.json()
            assert resp.status == 503 and "tocns db upgrade" in body["migrations"]
    finally:
        await app.close()


async def test_dead_pushes_alert_the_admins_once_then_resolve(seeded_app: App) -> None:
    app = seeded_app
    clock = Clock(datetime.now(UTC))  # outbox rows are stamped with the real time
    result = await scheduler.run_job(app, "weekly_digest", clock())
    assert result.status == "done" and result.messages > 0
    app.add_sender(Refusing())  # every console push is refused for good
    while await app.dispatcher.drain_once():
        pass
    watchdog = Watchdog(app, clock=clock)
    change = await watchdog.check_once()
    assert "outbox.dead" in [p.key for p in change.opened]
    first = await alerts(app)
    assert any("thất bại hẳn" in m.payload["text"] for m in first)
    assert {m.chat_id for m in first} == {"demo-admin"}  # the demo admin's console account
    await watchdog.check_once()
    assert len(await alerts(app)) == len(first)  # once per incident, not once per check
    clock.advance(hours=25)
    change = await watchdog.check_once()
    assert "outbox.dead" in [k for k, _ in change.resolved]
    resolved = (await alerts(app))[len(first) :]
    assert any(
        "Đã trở lại bình thường" in m.payload["text"] and "thất bại" in m.payload["text"] for m in resolved
    )


async def test_a_failing_job_alerts_and_a_good_rerun_clears_it(
    seeded_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = seeded_app
    clock = Clock(MONDAY)
    real_run = jobs.run

    async def broken(*args: Any) -> int:
        raise RuntimeError("digest template broken")

    monkeypatch.setattr(jobs, "run", broken)
    with pytest.raises(RuntimeError):
        await scheduler.run_job(app, "weekly_digest", MONDAY)
    watchdog = Watchdog(app, clock=clock)
    change = await watchdog.check_once()
    assert "job.failed:weekly_digest" in [p.key for p in change.opened]
    assert any(
        "weekly_digest" in m.payload["text"] and "bị lỗi" in m.payload["text"] for m in await alerts(app)
    )
    monkeypatch.setattr(jobs, "run", real_run)
    assert (await scheduler.run_job(app, "weekly_digest", MONDAY)).status == "done"
    change = await watchdog.check_once()
    assert "job.failed:weekly_digest" in [k for k, _ in change.resolved]


async def test_a_job_killed_half_way_is_reported(seeded_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    app = seeded_app
    # The job body runs in a thread with its own event loop (bot/scheduler.py): thread-safe events.
    started, release = threading.Event(), threading.Event()

    async def slow(*args: Any) -> int:
        started.set()
        await asyncio.to_thread(release.wait, 30)
        return 0

    monkeypatch.setattr(jobs, "run", slow)
    task = asyncio.create_task(scheduler.run_job(app, "weekly_digest", MONDAY))
    try:
        assert await asyncio.to_thread(started.wait, 30)
        task.cancel()  # the process dies here: nothing after this line of the job runs
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        release.set()  # let the job's thread end (a killed process would take it along)
    async with app.sessions() as session:
        attempt = (await session.execute(select(JobAttempt))).scalars().one()
    assert attempt.status == "running" and attempt.finished_at is None
    clock = Clock(datetime.now(UTC) + timedelta(minutes=31))
    change = await Watchdog(app, clock=clock).check_once()
    assert "job.interrupted:weekly_digest" in [p.key for p in change.opened]


async def test_a_job_that_did_not_run_at_its_time_is_reported(seeded_app: App) -> None:
    app = seeded_app
    now = datetime.now(UTC)
    await scheduler.run_job(app, "due_alert", now)  # the schedule has run on this installation
    clock = Clock(now + timedelta(days=7, hours=2))  # a week on: nothing ran in between
    change = await Watchdog(app, clock=clock).check_once()
    keys = [p.key for p in change.opened]
    assert "job.missed:weekly_digest" in keys and "job.missed:due_alert" in keys
    await scheduler.run_job(app, "weekly_digest", clock())
    change = await Watchdog(app, clock=clock).check_once()
    assert "job.missed:weekly_digest" in [k for k, _ in change.resolved]
    async with app.sessions() as session:
        still = [i.key for i in (await session.execute(select(Incident))).scalars() if i.resolved_at is None]
    assert "job.missed:due_alert" in still


async def test_database_down_is_told_straight_through_the_channel_once(seeded_app: App) -> None:
    app = seeded_app
    recording = Recording()
    app.add_sender(recording)
    clock = Clock(MONDAY)
    watchdog = Watchdog(app, clock=clock)
    await watchdog.check_once()  # learns who the admins are while the database answers
    await watchdog.database_unreachable(ConnectionError("refused"))
    assert recording.sent == []  # not yet: a blip is not an incident
    clock.advance(seconds=61)
    await watchdog.database_unreachable(ConnectionError("refused"))
    clock.advance(seconds=30)
    await watchdog.database_unreachable(ConnectionError("refused"))
    assert len(recording.sent) == 1 and "cơ sở dữ liệu" in recording.sent[0][1]
    await watchdog.database_back()
    assert any("Đã trở lại bình thường" in m.payload["text"] for m in await alerts(app))


async def test_telegram_webhook_errors_reported_by_telegram_alert_the_admins(db_url: str) -> None:
    async with FakeBotApi(username="tocns_ops_bot") as api:
        settings = make_settings(
            db_url,
            TOCNS_TELEGRAM_TOKEN=api.token,
            TOCNS_TELEGRAM_BASE_URL=api.base_url,
            TOCNS_TELEGRAM_MODE="webhook",
            TOCNS_TELEGRAM_WEBHOOK_SECRET="ops-secret",
            TOCNS_WEBHOOK_PUBLIC_URL="https://bot.example.vn",
        )
        app = build(settings)
        channel = build_telegram(app, web.Application())
        assert isinstance(channel, TelegramChannel)
        await channel.start()
        try:
            await seed_demo(app)
            watchdog = Watchdog(app, [channel])
            assert "telegram.webhook" not in [p.key for p in (await watchdog.check_once()).opened]
            now = datetime.now(UTC)
            api.webhook_error = (
                int(now.timestamp()) - 60,
                "Wrong response from the webhook: 502 Bad Gateway",
            )
            api.pending_updates = 240
            change = await watchdog.check_once()
            assert "telegram.webhook" in [p.key for p in change.opened]
            assert any("502 Bad Gateway" in m.payload["text"] for m in await alerts(app))
            api.webhook_error, api.pending_updates = None, 0
            change = await watchdog.check_once()
            assert "telegram.webhook" in [k for k, _ in change.resolved]
        finally:
            await channel.stop()
            await app.close()


async def test_a_zalo_token_that_could_not_be_refreshed_or_is_expiring_alerts(seeded_app: App) -> None:
    app = seeded_app
    now = datetime.now(UTC)
    crypto.use_key("ops-test-secret")  # what bot/ does when it reads the Zalo OA settings
    async with app.sessions() as session, session.begin():  # as `tocns zalo oa-login` stores a pair
        await zalo_repo.save_tokens(session, "4321", "access", "refresh", now + timedelta(hours=25))
    watchdog = Watchdog(app, clock=Clock(now))
    assert not [p for p in (await watchdog.check_once()).opened if p.key.startswith("zalo_oa")]
    watchdog.clock = Clock(now + timedelta(days=2))  # the access token lapsed: refreshing failed
    change = await watchdog.check_once()
    assert "zalo_oa.token:4321" in [p.key for p in change.opened]
    async with app.sessions() as session, session.begin():  # a refresh finally worked
        await zalo_repo.save_tokens(session, "4321", "access2", "refresh2", now + timedelta(days=2, hours=25))
    assert "zalo_oa.token:4321" in [k for k, _ in (await watchdog.check_once()).resolved]
    # Refresh tokens rotate with every refresh (90 days each): one about to end means refreshing has
    # stopped for weeks, and the admins hear of it.
    watchdog.clock = Clock(now + timedelta(days=85))
    change = await watchdog.check_once()
    assert "zalo_oa.token:4321" in [p.key for p in change.opened]


async def test_a_zalo_webhook_gone_quiet_alerts(seeded_app: App, as_user: Callable[..., ChatDriver]) -> None:
    app = seeded_app

    class ZaloOA(Recording):
        channel = "zalo_oa"

    app.add_sender(ZaloOA())
    citizen = ChatDriver(app, "8800123", "Người dân Zalo", channel="zalo_oa", supports_buttons=False)
    await citizen.send("xin chao", update_key="zalo_oa:user_send_text:m-1")  # events used to arrive
    now = datetime.now(UTC)
    assert "zalo_oa.silent" not in [
        p.key for p in (await Watchdog(app, clock=Clock(now)).check_once()).opened
    ]
    change = await Watchdog(app, clock=Clock(now + timedelta(hours=25))).check_once()
    assert "zalo_oa.silent" in [p.key for p in change.opened]
