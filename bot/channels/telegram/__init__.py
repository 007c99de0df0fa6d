"""Telegram channel (python-telegram-bot 22): polling for development, webhook for production.

`build_channel(app, webapp)` is what `tocns run` calls; it returns None when no
TOCNS_TELEGRAM_TOKEN is configured. See docs/telegram.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.telegram._channel import SECRET_HEADER, SECRET_RE, TelegramChannel, make_application
from bot.channels.telegram._send import TelegramSender, delivery_error, keyboard, split_text
from bot.channels.telegram._translate import to_incoming
from bot.kernel import StartupError

if TYPE_CHECKING:
    from aiohttp import web

    from bot.kernel import App

__all__ = [
    "SECRET_HEADER",
    "TelegramChannel",
    "TelegramSender",
    "build_channel",
    "delivery_error",
    "keyboard",
    "make_application",
    "split_text",
    "to_incoming",
]


def build_channel(app: App, webapp: web.Application) -> TelegramChannel | None:
    """The Telegram channel from settings (None without a token); webhook mode adds its route."""

    settings = app.settings.telegram
    if not settings.configured:
        return None
    if settings.mode == "webhook":
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        if not secret:
            raise StartupError("telegram.mode is webhook but TOCNS_TELEGRAM_WEBHOOK_SECRET is not set")
        if not SECRET_RE.match(secret):
            raise StartupError("TOCNS_TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if not settings.webhook_public_url.startswith(("https://", "http://")):
            raise StartupError(
                "telegram.webhook_public_url (TOCNS_WEBHOOK_PUBLIC_URL) must be set in webhook mode"
            )
    channel = TelegramChannel(app, settings)
    if channel.webhook:
        webapp.router.add_post(settings.webhook_path, channel.webhook_view)
    app.add_sender(channel.sender)
    return channel
