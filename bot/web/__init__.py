"""The web dashboard for leaders and officers, mounted under /web on the aiohttp server that
`tocns run` starts: server-rendered pages (aiohttp-jinja2), charts as inline SVG, every asset
shipped in this package. Each request reloads the signed-in person's roles and every page goes
through the same service calls (and scope checks) as the chat."""

from __future__ import annotations

from bot.web.app import WEB_PREFIX
from bot.web.routes import mount
from handlers.web import link_url

__all__ = ["WEB_PREFIX", "link_url", "mount"]
