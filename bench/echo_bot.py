"""The baseline for bench/telegram_roundtrip.py: a bare python-telegram-bot 22 echo bot, wired like
tocns' Telegram channel (bot/channels/telegram/_channel.py make_application): same base URL, same
AIORateLimiter (30 messages/s overall, 20/min per group), polling with the same poll interval and
allowed updates, or a webhook on an aiohttp route that hands the update to PTB (PTB's documented
custom-webhook pattern) and answers 200. No database, no dialogs: what a Telegram bot costs at least.

    python bench/echo_bot.py --base-url URL --token T --mode polling|webhook [--port P --secret S]

Prints "READY" once it takes updates; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import os
import signal
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", default="")
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    base = args.base_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(args.token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .rate_limiter(AIORateLimiter(overall_max_rate=30, group_max_rate=20, group_time_period=60))
        .job_queue(None)
        .concurrent_updates(True)
    )
    if args.mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner: web.AppRunner | None = None
    async with application:
        await application.start()
        if args.mode == "webhook":

            async def hook(request: web.Request) -> web.Response:
                given = request.headers.get(SECRET_HEADER, "")
                if not hmac.compare_digest(given.encode(), args.secret.encode()):
                    return web.Response(status=403)
                data: Any = await request.json()
                await application.update_queue.put(Update.de_json(data, application.bot))
                return web.json_response({"ok": True})

            webapp = web.Application()
            webapp.router.add_post("/telegram/webhook", hook)
            runner = web.AppRunner(webapp, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", args.port).start()
            await application.bot.set_webhook(
                f"http://127.0.0.1:{args.port}/telegram/webhook",
                secret_token=args.secret,
                allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
            )
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0, allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY]
            )
        print("READY", flush=True)
        await stop.wait()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await application.stop()
    if runner is not None:
        with contextlib.suppress(Exception):
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
