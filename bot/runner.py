"""`tocns run`: start the configured channels, the web server (when a webhook needs it), the
outbox dispatcher and the scheduler; stop them cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import App, Channel

log = logging.getLogger("tocns")

# Each builder looks at the settings and returns a started-able channel, or None when that
# channel is not configured. Builders may add routes (webhooks) to the web application.
ChannelBuilder = Callable[[App, web.Application], Channel | None]
CHANNEL_BUILDERS: list[ChannelBuilder] = []
# Background services started beside the channels (the scheduler registers itself here).
BackgroundStarter = Callable[[App], Awaitable[Callable[[], Awaitable[None]]]]
BACKGROUND: list[BackgroundStarter] = []


def _register_builtin() -> None:
    # Imported lazily so `tocns chat` does not pay for python-telegram-bot's import.
    from bot import channels_enabled

    channels_enabled.register(CHANNEL_BUILDERS, BACKGROUND)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_channels(app: App) -> tuple[list[Channel], web.Application]:
    if not CHANNEL_BUILDERS:
        _register_builtin()
    webapp = web.Application()
    webapp.router.add_get("/healthz", health)
    channels = [c for builder in CHANNEL_BUILDERS if (c := builder(app, webapp)) is not None]
    return channels, webapp


async def serve(app: App, channels: list[Channel], webapp: web.Application) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    runner: web.AppRunner | None = None
    if len(webapp.router.routes()) > 1:
        runner = web.AppRunner(webapp, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, app.settings.web.host, app.settings.web.port)
        await site.start()
        log.info("web server on %s:%s", app.settings.web.host, app.settings.web.port)

    started: list[Channel] = []
    stoppers: list[Callable[[], Awaitable[None]]] = []
    dispatcher_task = asyncio.create_task(app.dispatcher.run(), name="outbox")
    try:
        for channel in channels:
            await channel.start()
            started.append(channel)
            log.info("channel %s started", channel.name)
        for starter in BACKGROUND:
            stoppers.append(await starter(app))
        log.info("tocns is running; Ctrl-C to stop")
        await stop.wait()
    finally:
        log.info("stopping")
        for stopper in reversed(stoppers):
            await stopper()
        for channel in reversed(started):
            with contextlib.suppress(Exception):
                await channel.stop()
        app.dispatcher.stop()
        await dispatcher_task
        if runner is not None:
            await runner.cleanup()
