"""`tocns run`: start the configured channels, the web server (when a webhook needs it), the
outbox dispatcher and the scheduler; stop them cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot import scheduler
from bot.channels.zalo import bot as zalo_bot
from bot.channels.zalo import oa as zalo_oa
from bot.channels.zalo import oa_send
from bot.config import Settings
from bot.health import Readiness
from bot.kernel import App, Channel, WebPortError
from bot.leader import Leadership
from bot.loopwatch import LoopWatch
from bot.metrics import metrics_handler
from bot.watchdog import Watchdog
from bot.web import routes as dashboard
from handlers.core import ATTACHMENT_REACH, AttachmentReach, FileLimits

log = logging.getLogger("tocns")

# Each builder looks at the settings and returns a started-able channel, or None when that
# channel is not configured. Builders may add routes (webhooks) to the web application.
ChannelBuilder = Callable[[App, web.Application], Channel | None]


def telegram_channel(app: App, webapp: web.Application) -> Channel | None:
    """The Telegram channel, importing python-telegram-bot (and httpx) only when a token is set:
    they were ~15 % of the start-up's imports, which the console channel of a first start waited
    for (docs/benchmarks.md, "First answer")."""
    if not app.settings.telegram.configured:
        return None
    from bot.channels.telegram import build_channel

    return build_channel(app, webapp)


CHANNEL_BUILDERS: tuple[ChannelBuilder, ...] = (
    telegram_channel,
    zalo_bot.build_channel,
    zalo_oa.build_channel,
)
# The channels that may not hand on every attachment, each with its adapter's own rule (Telegram
# carries every photo and document the hand-off relays).
ATTACHMENT_LIMITS: tuple[tuple[str, Callable[[Settings], FileLimits | None]], ...] = (
    (zalo_bot.CHANNEL, zalo_bot.attachment_limits),
    (oa_send.CHANNEL, zalo_oa.attachment_limits),
)
SCHEDULER_LEASE = "scheduler"
# Dashboard uploads (the one-stop export) need more than aiohttp's 1 MiB default.
MAX_REQUEST_BYTES = 25 * 1024 * 1024
SCHEDULER_LEASE_TTL = 30.0


READINESS: web.AppKey[Readiness] = web.AppKey("readiness", Readiness)


def attachment_reach(settings: Settings) -> AttachmentReach:
    """Which attachments each channel hands on, from the adapters' rules: a hand-off relay tells the
    sender when a file reaches none of the recipient's accounts."""
    limited = {name: limits for name, rule in ATTACHMENT_LIMITS if (limits := rule(settings)) is not None}
    return AttachmentReach(limited)


def set_attachment_reach(app: App) -> None:
    """Give the app's hand-off the channels' attachment reach (before any update is handled)."""
    app.resources[ATTACHMENT_REACH] = attachment_reach(app.settings)


def build_channels(app: App) -> tuple[list[Channel], web.Application]:
    """The web application (health, readiness, metrics, webhooks) and every configured channel."""
    set_attachment_reach(app)
    webapp = web.Application(client_max_size=MAX_REQUEST_BYTES)
    readiness = Readiness(app)
    webapp[READINESS] = readiness
    webapp.router.add_get("/healthz", readiness.healthz)
    webapp.router.add_get("/readyz", readiness.readyz)
    ops = app.settings.ops
    token = ops.metrics_token.get_secret_value() if ops.metrics_token else ""
    webapp.router.add_get("/metrics", metrics_handler(app.metrics, mode=ops.metrics, token=token))
    if app.settings.web.dashboard:
        dashboard.mount(app, webapp)
    channels = [c for builder in CHANNEL_BUILDERS if (c := builder(app, webapp)) is not None]
    return channels, webapp


async def serve(app: App, channels: list[Channel], webapp: web.Application) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    # Always served: health and readiness for the proxy, metrics, the dashboard and the webhooks.
    runner = await start_web(app, webapp)

    started: list[Channel] = []
    stoppers: list[Callable[[], Awaitable[None]]] = []
    dispatcher_task = asyncio.create_task(app.dispatcher.run(), name="outbox")
    watch = LoopWatch()
    watch_task = asyncio.create_task(watch.run(), name="loopwatch")
    try:
        for channel in channels:
            await channel.start()
            started.append(channel)
            log.info("channel %s started", channel.name)
        webapp[READINESS].channels_started = True
        stoppers.append(await start_scheduler_when_leader(app, channels))
        # Everything loaded at start-up (modules, catalog, FAQ index) lives as long as the process:
        # take it out of the garbage collector's full passes, which would otherwise walk it all and
        # block the loop for tens of milliseconds now and then. (No gc.collect() first: that one
        # pass would itself block the loop for ~70 ms.)
        gc.freeze()
        log.info("tocns is running; Ctrl-C to stop")
        await stop.wait()
    finally:
        log.info("stopping")
        for stopper in reversed(stoppers):
            await stopper()
        # The dispatcher before the channels: its send in flight goes through a channel's client.
        # With the channel stopped first, that send hung until its HTTP timeout (30 s), past the
        # grace period of `docker stop` (10 s): the SIGKILL then cost a push its "sent" mark, and
        # it went out twice after the restart.
        app.dispatcher.stop()
        await dispatcher_task
        for channel in reversed(started):
            with contextlib.suppress(Exception):
                await channel.stop()
        watch.stop()
        await watch_task
        log.info(watch.summary())
        if runner is not None:
            await runner.cleanup()


async def start_web(app: App, webapp: web.Application) -> web.AppRunner | None:
    """Serve health, readiness, metrics, the dashboard and the webhooks; the bound address is logged
    (`web.port: 0` picks a free one)."""
    ops_paths = {"/healthz", "/readyz", "/metrics"}
    webhooks = any(
        not isinstance(r, web.PrefixedSubAppResource) and r.canonical not in ops_paths
        for r in webapp.router.resources()
    )
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, app.settings.web.host, app.settings.web.port)
    try:
        await site.start()
    except OSError as exc:
        if webhooks:  # Telegram or Zalo would post to nobody: stop, saying which port and setting
            await runner.cleanup()
            raise WebPortError(app.settings.web.host, app.settings.web.port, exc) from None
        # Without webhooks the bot still works: it says so loudly instead of stopping.
        log.warning("web server not started on %s:%s: %s", app.settings.web.host, app.settings.web.port, exc)
        await runner.cleanup()
        return None
    bound = ", ".join(f"{a[0]}:{a[1]}" for a in runner.addresses if isinstance(a, tuple))
    log.info("web server on %s", bound)
    return runner


async def start_scheduler_when_leader(
    app: App, channels: Sequence[Channel] = ()
) -> Callable[[], Awaitable[None]]:
    """Every worker competes for the scheduler lease; only the holder runs the jobs and the watchdog."""
    stopper: Callable[[], Awaitable[None]] | None = None
    watchdog = Watchdog(app, channels)

    async def elected() -> None:
        nonlocal stopper
        stopper = await scheduler.start(app)
        watchdog.start()

    async def deposed() -> None:
        nonlocal stopper
        await watchdog.stop()
        if stopper is not None:
            await stopper()
            stopper = None

    lead = Leadership(app.sessions, SCHEDULER_LEASE, elected, deposed, ttl=SCHEDULER_LEASE_TTL)
    lead.start()
    return lead.stop
